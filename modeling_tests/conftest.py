"""Shared pytest setup: makes `src/` importable when the package is not pip-installed."""

import os
import sys
from types import SimpleNamespace

import pytest

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)

# Tests never reach the Hub: fail fast instead of hanging on a download attempt.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_configure(config):
    # Markers that transformers' vendored common tests use (registered by transformers' own conftest).
    for marker in (
        "accelerate_tests",
        "flash_attn_test",
        "flash_attn_3_test",
        "flash_attn_4_test",
        "generate",
        "torch_compile_test",
    ):
        config.addinivalue_line("markers", f"{marker}: transformers common-test marker")


@pytest.fixture
def refused_new_folders(monkeypatch):
    """The output check (`xlm_swcm.outputs.check_writable`) is refused a new folder, as a folder of another user or a
    read-only disk refuses it: the tests run as root, who may write anywhere else."""
    from xlm_swcm import outputs

    def refused(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs, "tempfile", SimpleNamespace(TemporaryDirectory=refused))
