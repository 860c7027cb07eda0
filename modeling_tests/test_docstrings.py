"""The docstring examples of the library and the demo run as written (examples that need files or the network are
marked `# doctest: +SKIP`)."""

import doctest
import importlib
import pkgutil

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
