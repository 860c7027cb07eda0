"""The private names the library takes from transformers, torch and the standard library are exactly those listed,
with their reasons, in docs/transformers_internals.md: a new one is a deliberate act."""

import argparse
import ast
import re
from pathlib import Path

import torch
from torch import nn
from transformers import GenerationMixin, Pipeline, PreTrainedConfig, PreTrainedModel
from transformers.tokenization_utils_tokenizers import TokenizersBackend

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "transformers_internals.md"
OWNERS = (
    PreTrainedModel,
    PreTrainedConfig(),
    GenerationMixin,
    Pipeline,
    TokenizersBackend,
    nn.Module(),
    torch.ops.mkldnn,
    argparse.ArgumentParser(),
)


def underscore_names(source: str) -> set[str]:
    """Single-underscore names a module reads, sets, overrides or looks up by string (getattr and friends)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
            "getattr",
            "hasattr",
            "setattr",
        ):
            found.update(arg.value for arg in node.args[1:2] if isinstance(arg, ast.Constant))
    return {n for n in found if isinstance(n, str) and n.startswith("_") and not n.startswith("__")}


def foreign_names() -> set[str]:
    """Those of the library's underscore names that belong to transformers, torch or argparse objects."""
    names = set()
    for path in (ROOT / "src" / "xlm_swcm").rglob("*.py"):
        names |= underscore_names(path.read_text())
    return {n for n in names if any(hasattr(owner, n) for owner in OWNERS)}


def documented_names() -> set[str]:
    table = DOC.read_text().split("## Underscore names", 1)[1].split("\n## ", 1)[0]
    first_cells = [row.split("|")[1] for row in table.splitlines() if row.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)}


def test_private_names_are_the_documented_ones():
    assert foreign_names() == documented_names(), (
        "private names used but not in docs/transformers_internals.md: "
        f"{sorted(foreign_names() - documented_names())}; listed but no longer used: "
        f"{sorted(documented_names() - foreign_names())}"
    )


def test_the_scan_sees_reads_overrides_and_string_lookups():
    source = (
        "class P:\n    def _sanitize_parameters(self): ...\n"
        "x = config._attn_implementation\ngetattr(c, '_post_init_done', False)\ndef _ours(): ...\n"
    )
    names = underscore_names(source)
    assert {"_sanitize_parameters", "_attn_implementation", "_post_init_done", "_ours"} <= names
    assert not any(hasattr(owner, "_ours") for owner in OWNERS)
