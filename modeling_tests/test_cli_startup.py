"""What every console script does before its own code runs (xlm_swcm/__init__.py): a Ctrl-C while torch is still
being imported ends it with one line, and OpenMP threads wait passively (shared machines, issue 12 items 9, 13)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def run_python(code: str, **env_changes: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


# Simulates Ctrl-C while the command is still importing torch / transformers: a finder sends SIGINT when
# transformers is first imported, then lets the import go on.
CTRL_C_AT_IMPORT = r"""
import os, signal, sys
# as in a terminal: SIGINT unblocked and handled (a child inherits the test process's mask and ignored signals)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.argv = ["xlm-swcm-convert", "--help"]

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "transformers":
            sys.meta_path.remove(self)
            signal.raise_signal(signal.SIGINT)  # to this thread, like the terminal's Ctrl-C
        return None

sys.meta_path.insert(0, CtrlC())
from xlm_swcm.conversion import main
sys.exit(main())
"""


def test_ctrl_c_while_importing_is_one_line():
    proc = run_python(CTRL_C_AT_IMPORT)
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert proc.stderr.strip() == "xlm-swcm-convert: interrupted while starting; nothing was done."


WAIT_POLICY = r"""
import os, sys
sys.argv = [ARGV0]
import xlm_swcm
print(os.environ.get("OMP_WAIT_POLICY"))
"""


@pytest.mark.parametrize(
    "argv0, preset, expected",
    [
        ("xlm-swcm-demo", None, "PASSIVE"),  # a console script: passive by default
        ("/usr/local/bin/xlm-swcm-train", None, "PASSIVE"),
        ("/usr/bin/xlm-swcm-finetune", "ACTIVE", "ACTIVE"),  # the user's choice is kept
        ("my_script.py", None, "None"),  # a library import: the environment is left alone
    ],
)
def test_console_scripts_wait_passively(argv0, preset, expected):
    proc = run_python(WAIT_POLICY.replace("ARGV0", repr(argv0)), OMP_WAIT_POLICY=preset)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == expected
