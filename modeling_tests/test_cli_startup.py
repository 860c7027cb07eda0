"""What every console script does before its own code runs (the entry module `xlm_swcm_cli`): a Ctrl-C while torch
is still being imported ends it with one line, and OpenMP threads wait passively (README, "Shared machines"). A
library import (`import xlm_swcm`) does neither: it changes nothing in the process."""

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
from xlm_swcm_cli import convert
sys.exit(convert())
"""


def test_ctrl_c_while_importing_is_one_line():
    proc = run_python(CTRL_C_AT_IMPORT)
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert proc.stderr.strip() == "xlm-swcm-convert: interrupted while starting; nothing was done."


WAIT_POLICY = r"""
import os, sys
sys.argv = [ARGV0, "--help"]
import xlm_swcm_cli
assert "torch" not in sys.modules
try:
    getattr(xlm_swcm_cli, COMMAND)()
except SystemExit:  # --help
    pass
assert "torch" in sys.modules
print(os.environ.get("OMP_WAIT_POLICY"))
"""


@pytest.mark.parametrize(
    "command, preset, expected",
    [
        ("demo", None, "PASSIVE"),  # a console script: passive by default, set before torch loads
        ("train", None, "PASSIVE"),
        ("finetune", "ACTIVE", "ACTIVE"),  # the user's choice is kept
    ],
)
def test_console_scripts_wait_passively(command, preset, expected):
    code = WAIT_POLICY.replace("ARGV0", repr(f"xlm-swcm-{command}")).replace("COMMAND", repr(command))
    proc = run_python(code, OMP_WAIT_POLICY=preset)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == expected


LIBRARY_IMPORT = r"""
import os, signal, sys
sys.argv = [ARGV0]
before_env, before_int = dict(os.environ), signal.getsignal(signal.SIGINT)
import xlm_swcm
# torch's own variable, set when its compiler config loads (transformers' modules import it), is not ours
changed = {k for k in set(os.environ) | set(before_env) if os.environ.get(k) != before_env.get(k)}
print(sorted(changed - {"TORCHINDUCTOR_CACHE_DIR"}), signal.getsignal(signal.SIGINT) is before_int)
"""


@pytest.mark.parametrize("argv0", ["my_script.py", "xlm-swcm-train", "-m"])
def test_import_xlm_swcm_changes_nothing_in_the_process(argv0):
    """Not the environment (OMP_WAIT_POLICY, ...) nor the Ctrl-C handler, whatever the program is called."""
    proc = run_python(LIBRARY_IMPORT.replace("ARGV0", repr(argv0)), OMP_WAIT_POLICY=None)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[] True"


def test_ctrl_c_while_a_library_imports_is_the_callers():
    """A script or notebook that imports xlm_swcm gets the KeyboardInterrupt, not an exit."""
    code = CTRL_C_AT_IMPORT.replace(
        "from xlm_swcm_cli import convert\nsys.exit(convert())",
        "try:\n    import xlm_swcm\nexcept KeyboardInterrupt:\n    print('caught')",
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "caught"
