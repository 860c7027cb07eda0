"""The vendored copy of transformers' common tests that matches the installed transformers: one folder per
supported minor release (`v5_24/`, `v5_25/`, ...), written by `tools/vendor_transformers_tests.py`.

    >>> from transformers_common import installed
    >>> installed.load("test_modeling_common").ModelTesterMixin  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import transformers
from packaging.version import Version

HERE = Path(__file__).resolve().parent
SUPPORTED = tuple(
    sorted(
        (
            f"{p.name[1:].replace('_', '.')}"
            for p in HERE.glob("v*_*")
            if (p / "test_modeling_common.py").exists()
        ),
        key=Version,
    )
)


class VendoredTestsUnavailable(Exception):
    """No usable vendored copy for the installed transformers; the message says what to do."""


def folder(version: str = transformers.__version__) -> str:
    """The package holding `version`'s copy, e.g. `v5_25` for 5.25.0 (or a 5.25.0.dev0 build)."""
    release = Version(version).release
    minor = f"{release[0]}.{release[1]}"
    if minor not in SUPPORTED:
        raise VendoredTestsUnavailable(
            f"transformers {version} is not supported by this checkout (supported: {', '.join(SUPPORTED)}): "
            f"install a supported one (`bash .ci/run` pins them) or check the new release with "
            f"`python tools/check_transformers.py {version}`"
        )
    return "v" + minor.replace(".", "_")


def load(module: str) -> ModuleType:
    """`module` (`test_modeling_common` or `test_configuration_common`) of the installed version's copy."""
    name = f"transformers_common.{folder()}.{module}"
    try:
        return importlib.import_module(name)
    except Exception as error:  # any import failure of transformers' internals, reported as one line
        raise VendoredTestsUnavailable(
            f"{name} (transformers {transformers.__version__}) does not import: {type(error).__name__}: {error}"
        ) from error
