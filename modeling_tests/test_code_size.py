"""tools/code_size.py, the line and function counts of issue #23, on a file whose counts are known."""

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = textwrap.dedent(
    '''\
    """Module docstring,
    two lines."""

    import os  # a code line with a comment


    # a comment line
    def short():
        """One-line docstring."""
        # comment inside
        x = 1

        return x


    class Box:
        def method(self):
            return os.sep
    '''
)


def _tool():
    spec = importlib.util.spec_from_file_location("code_size", ROOT / "tools" / "code_size.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_counts_lines_by_kind_and_functions_by_code_lines(tmp_path):
    tool, path = _tool(), tmp_path / "m.py"
    path.write_text(SOURCE)
    assert tool.line_kinds(path) == {"code": 7, "docstring": 3, "comment": 2, "blank": 6}
    assert sorted((n, where.split()[-1]) for n, where in tool.function_lengths(path)) == [
        (1, "method"),
        (2, "short"),
    ]
    assert tool.span(path, {"short", "Box"}) == 6 + 3


def test_command_prints_the_total_of_the_tree(tmp_path):
    (tmp_path / "m.py").write_text(SOURCE)
    out = subprocess.run(
        [sys.executable, ROOT / "tools" / "code_size.py", tmp_path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "    18         7         3         2         6  total" in out
    assert "2 functions, median 1.5 code lines, 0 over 60" in out
