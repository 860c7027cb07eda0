"""The supported transformers versions: the vendored common tests match their provenance, the suite picks the
copy for the installed release, and an unsupported release is one clear line rather than a collection error."""

import configparser
import hashlib
import json
from pathlib import Path

import pytest
import transformers
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from transformers_common import installed

ROOT = Path(__file__).resolve().parent.parent
COMMON = ROOT / "modeling_tests" / "transformers_common"


def declared_requirements() -> list[Requirement]:
    """setup.cfg's install_requires and its `assets` and `test` extras (what CI installs)."""
    options = configparser.ConfigParser()
    options.read(ROOT / "setup.cfg")
    extras = options["options.extras_require"]
    lines = "\n".join([options["options"]["install_requires"], extras["assets"], extras["test"]])
    return [
        Requirement(line) for line in lines.splitlines() if line.strip() and not line.strip().startswith("#")
    ]


def declared_range() -> tuple[Version, Version]:
    """transformers' floor and cap in setup.cfg."""
    (requirement,) = [r for r in declared_requirements() if r.name == "transformers"]
    bounds = {spec.operator: Version(spec.version) for spec in requirement.specifier}
    return bounds[">="], bounds["<"]


def locked(name: str) -> dict[str, Version]:
    """A lock file's pins, by normalised package name."""
    pins = [line.split("==") for line in (ROOT / ".ci" / name).read_text().splitlines() if "==" in line]
    return {canonicalize_name(package): Version(version) for package, version in pins}


def test_locks_test_both_ends_of_every_declared_range():
    """Every floor in setup.cfg is the version the floor lock pins (CI's compatibility stage runs it) and both locks
    lie inside every declared range: no version is declared whose end CI does not run."""
    floor_lock, newest_lock = locked("constraints-floor.txt"), locked("constraints.txt")
    for requirement in declared_requirements():
        name = canonicalize_name(requirement.name)
        for lock in (floor_lock, newest_lock):
            assert lock[name] in requirement.specifier, f"{requirement}: a lock pins {lock[name]}"
        floors = [Version(spec.version) for spec in requirement.specifier if spec.operator in (">=", "==")]
        assert floors == [floor_lock[name]], f"{requirement}: the floor lock pins {floor_lock[name]}"


def test_vendored_files_are_the_recorded_ones():
    provenance = json.loads((COMMON / "provenance.json").read_text())
    assert sorted(provenance) == sorted(p.name for p in COMMON.glob("v*_*") if p.is_dir())
    for folder, record in provenance.items():
        assert installed.folder(record["version"]) == folder
        for name, hashes in record["files"].items():
            data = (COMMON / folder / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == hashes["vendored_sha256"], (
                f"{folder}/{name} was edited by hand"
            )


def test_declared_range_is_the_vendored_set():
    """setup.cfg admits exactly the minor releases that have a vendored copy (and so were tested)."""
    floor, cap = declared_range()
    supported = [Version(v) for v in installed.SUPPORTED]
    assert supported[0] == floor
    assert Version(f"{supported[-1].major}.{supported[-1].minor + 1}") == cap
    minors = [(v.major, v.minor) for v in supported]
    assert minors == [(floor.major, m) for m in range(floor.minor, cap.minor)], (
        "a minor in the range is missing"
    )


def test_installed_release_is_supported():
    assert Version(transformers.__version__).release[:2] in [
        Version(v).release[:2] for v in installed.SUPPORTED
    ]
    assert installed.load("test_modeling_common").__name__.startswith(
        f"transformers_common.{installed.folder()}."
    )


@pytest.mark.parametrize("version", ["5.99.0", "4.57.1", "6.0.0.dev0"])
def test_unsupported_release_is_one_line_naming_the_supported_ones(version):
    with pytest.raises(installed.VendoredTestsUnavailable) as caught:
        installed.folder(version)
    message = str(caught.value)
    assert "\n" not in message
    assert f"transformers {version} is not supported" in message
    assert all(v in message for v in installed.SUPPORTED)
    assert f"python tools/check_transformers.py {version}" in message


def test_dev_and_patch_builds_use_their_minor_copy():
    supported = installed.SUPPORTED[-1]
    assert installed.folder(f"{supported}.dev0") == installed.folder(f"{supported}.3")
