# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Vendors transformers' common model and configuration tests for one release, from its sdist on PyPI.

    python tools/vendor_transformers_tests.py 5.25.0

Writes `modeling_tests/transformers_common/v5_25/` (the two files, with the import edits below) and records the
sdist's and each file's sha256 in `modeling_tests/transformers_common/provenance.json`. The suite picks the folder
that matches the installed transformers (`modeling_tests/transformers_common/installed.py`).

The edits touch imports only, and each must match exactly once, so a release that moves them stops this script
instead of vendoring a file that fails later:
- `tests/exporters/` and `tests/utils/` are not in the sdist: `ExportTesterMixin` falls back to `object` (no export
  tests) and `config_common_kwargs` to `None` (`check_config_arguments_init` cannot run);
- `GenerationTesterMixin` comes from the one shared copy `transformers_common/generation/test_utils.py` (the sdist has
  no `tests/generation/`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMON = ROOT / "modeling_tests" / "transformers_common"
PROVENANCE = COMMON / "provenance.json"
MARK = "# xlm-swcm local edit (imports only, tools/vendor_transformers_tests.py):"

EDITS = {
    "test_modeling_common.py": [
        (
            "from .exporters.test_export import ExportTesterMixin\n",
            f"{MARK} tests/exporters/ is not in the sdist.\n"
            "try:\n"
            "    from .exporters.test_export import ExportTesterMixin\n"
            "except ImportError:\n"
            "    ExportTesterMixin = object\n",
        ),
        (
            "from .generation.test_utils import GenerationTesterMixin\n",
            f"{MARK} the shared copy of tests/generation/ (not in the sdist).\n"
            "from ..generation.test_utils import GenerationTesterMixin\n",
        ),
    ],
    "test_configuration_common.py": [
        (
            "from .utils.test_configuration_utils import config_common_kwargs\n",
            f"{MARK} tests/utils/ is not in the sdist.\n"
            "try:\n"
            "    from .utils.test_configuration_utils import config_common_kwargs\n"
            "except ImportError:\n"
            "    config_common_kwargs = None\n",
        ),
    ],
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def folder_name(version: str) -> str:
    """`5.25.0` -> `v5_25`: one copy per minor release (patch releases do not change the test files' API)."""
    major, minor = version.split(".")[:2]
    return f"v{major}_{minor}"


def download_sdist(version: str, into: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
         f"transformers=={version}", "-d", str(into)],
        check=True,
    )  # fmt: skip
    return next(into.glob("transformers-*.tar.gz"))


def apply_edits(name: str, text: str) -> str:
    for old, new in EDITS[name]:
        if text.count(old) != 1:
            raise SystemExit(
                f"error: {name}: expected exactly one `{old.strip()}`; update EDITS in {__file__}"
            )
        text = text.replace(old, new)
    return text


def vendor(version: str, sdist: Path | None = None) -> Path:
    """Writes the edited files of `version` and their provenance; returns the folder."""
    with tempfile.TemporaryDirectory() as scratch:
        sdist = sdist or download_sdist(version, Path(scratch))
        target = COMMON / folder_name(version)
        target.mkdir(exist_ok=True)
        (target / "__init__.py").write_text(
            f'"""transformers {version}\'s common tests (see ../README.md)."""\n'
        )
        record = {"sdist": sdist.name, "sdist_sha256": sha256(sdist.read_bytes()), "files": {}}
        with tarfile.open(sdist) as archive:
            for name in EDITS:
                member = archive.extractfile(f"transformers-{version}/tests/{name}")
                upstream = member.read()
                edited = apply_edits(name, upstream.decode()).encode()
                (target / name).write_bytes(edited)
                record["files"][name] = {
                    "upstream_sha256": sha256(upstream),
                    "vendored_sha256": sha256(edited),
                }
    provenance = json.loads(PROVENANCE.read_text()) if PROVENANCE.exists() else {}
    provenance[folder_name(version)] = {"version": version, **record}
    PROVENANCE.write_text(json.dumps(dict(sorted(provenance.items())), indent=2) + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="a transformers release on PyPI, e.g. 5.25.0")
    parser.add_argument("--sdist", type=Path, help="use this downloaded sdist instead of fetching it")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d+\.\d+\.\d+\w*", args.version):
        parser.error(f"{args.version!r} is not a version number such as 5.25.0")
    print(
        f"vendored transformers {args.version} common tests into {vendor(args.version, args.sdist).relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
