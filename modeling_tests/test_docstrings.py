"""The docstring examples of the library and the demo run as written; the library has no skipped examples (an example
that needs files or the network is not an example a reader can run)."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import xlm_swcm
import xlm_swcm_demo

MODULES = sorted(
    info.name
    for package in (xlm_swcm, xlm_swcm_demo)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    # finetune only forwards to training (its module body runs the command)
    if not info.name.endswith(".finetune")
) + ["xlm_swcm"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} docstring examples of {name} failed (above)"
    )


def test_library_examples_are_never_skipped():
    skipped = [
        f"{path.name}:{number}"
        for path in sorted(Path(xlm_swcm.__file__).parent.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "doctest: +SKIP" in line
    ]
    assert not skipped, (
        f"docstring examples marked +SKIP (make them run or remove them): {', '.join(skipped)}"
    )
