"""Size of a Python tree as issue #23 counts it: physical lines per file by kind, and the longest functions.

    python tools/code_size.py src/xlm_swcm              # lines per file, totals, the 10 longest functions
    python tools/code_size.py src/xlm_swcm --top 40     # more functions
    python tools/code_size.py src/xlm_swcm --span vocab.py:trim_vocabulary,_kept_ids   # lines of some definitions

Kinds: docstring (a module, class or function docstring), comment (a line that starts with `#`), blank, code (the
rest). A function's length counts its code lines only: docstring, comment and blank lines excluded.
"""

import argparse
import ast
import statistics
from pathlib import Path

KINDS = ("code", "docstring", "comment", "blank")


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def line_kinds(path: Path) -> dict[str, int]:
    """`{kind: number of lines}` of one file."""
    text = path.read_text(encoding="utf-8")
    docstrings = _docstring_lines(ast.parse(text))
    counts = dict.fromkeys(KINDS, 0)
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        kind = "blank" if not stripped else "docstring" if number in docstrings else "code"
        counts["comment" if kind == "code" and stripped.startswith("#") else kind] += 1
    return counts


def function_lengths(path: Path) -> list[tuple[int, str]]:
    """`(code lines, "file:line name")` of every function and method of one file."""
    text = path.read_text(encoding="utf-8")
    tree, lines = ast.parse(text), text.splitlines()
    docstrings = _docstring_lines(tree)
    result = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = range(node.body[0].lineno, node.end_lineno + 1)
            code = [n for n in body if n not in docstrings and lines[n - 1].strip()[:1] not in ("", "#")]
            result.append((len(code), f"{path}:{node.lineno} {node.name}"))
    return result


def span(path: Path, names: set[str]) -> int:
    """Physical lines of the top-level definitions of `path` named in `names`, decorators and docstrings included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    total = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in names:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            total += node.end_lineno - start + 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--top", type=int, default=10, help="longest functions to list")
    parser.add_argument("--span", action="append", default=[], metavar="FILE:NAME,NAME")
    args = parser.parse_args()
    if args.span:
        for spec in args.span:
            file, names = spec.split(":")
            print(f"{span(args.root / file, set(names.split(','))):6}  {spec}")
        return
    files = sorted(args.root.rglob("*.py"))
    totals = dict.fromkeys(KINDS, 0)
    print(f"{'lines':>6} " + " ".join(f"{kind:>9}" for kind in KINDS) + "  file")
    for path in files:
        counts = line_kinds(path)
        totals = {kind: totals[kind] + counts[kind] for kind in KINDS}
        print(f"{sum(counts.values()):6} " + " ".join(f"{counts[k]:9}" for k in KINDS) + f"  {path}")
    print(f"{sum(totals.values()):6} " + " ".join(f"{totals[k]:9}" for k in KINDS) + "  total")
    functions = sorted((f for path in files for f in function_lengths(path)), reverse=True)
    print(
        f"\n{len(functions)} functions, median {statistics.median(n for n, _ in functions)} code lines, "
        f"{sum(n > 60 for n, _ in functions)} over 60; the longest:"
    )
    for n, where in functions[: args.top]:
        print(f"{n:6}  {where}")


if __name__ == "__main__":
    main()
