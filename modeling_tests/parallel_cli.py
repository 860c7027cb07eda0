"""Command lines that tests run at once: each Python process pays a few seconds of imports, so they overlap."""

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run_at_once(runs: dict, cwd: str | os.PathLike) -> dict:
    """Starts `python ARGV` for every name -> ARGV of `runs` (offline, `src/` importable) and waits for all;
    returns name -> (exit code, stdout, stderr). A process still running after 300 s is killed."""
    env = {**os.environ, "PYTHONPATH": SRC, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    procs = {
        name: subprocess.Popen(
            [sys.executable, *map(str, argv)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, argv in runs.items()
    }
    results = {}
    try:
        for name, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=300)
            results[name] = (proc.returncode, stdout, stderr)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results
