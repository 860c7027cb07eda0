# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Where the commands write: never over one of their inputs, never half a folder, and never over anything but an earlier
output. Used by `xlm-swcm-convert` (the seed folder), `xlm-swcm-train` (`--output_dir`) and the demo.

```python
>>> import tempfile
>>> from pathlib import Path
>>> out = Path(tempfile.mkdtemp()) / "seed"
>>> write_atomically(out, overwrite=False, fill=lambda tmp: (tmp / "config.json").write_text("{}"))
>>> sorted(p.name for p in out.iterdir())
['config.json']
>>> check_output(out.parent, {"--data": out / "config.json"})
Traceback (most recent call last):
...
xlm_swcm.errors.XLMSWCMError: The output folder ... contains the --data ...: writing it would destroy the --data; choose an output folder outside it.

```
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .configuration_xlm_swcm import XLMSWCMConfig
from .errors import XLMSWCMError

OutputError = XLMSWCMError  # the former error class of this module


def check_output(out: str | os.PathLike, inputs: dict[str, str | os.PathLike | None]) -> None:
    """Refuses an output folder that would destroy an input: OUT that is an input or contains one (replacing OUT
    deletes it, whatever the flags), or OUT inside the source folder. `inputs`: option name -> local path."""
    out = Path(out)
    for name, value in inputs.items():
        if value is None or not os.path.exists(value):
            continue  # a Hub id, or an option not given
        inner = Path(value)
        if _overlaps(out, inner):
            same = out.exists() and inner.exists() and os.path.samefile(out, inner)
            what = "is" if os.path.abspath(out) == os.path.abspath(inner) or same else "contains"
            raise XLMSWCMError(
                f"The output folder {out} {what} the {name} {os.fspath(value)}: writing it would destroy the "
                f"{name}; choose an output folder outside it."
            )
        if name == "source" and inner.is_dir() and _overlaps(inner, out):
            raise XLMSWCMError(
                f"The output folder {out} is inside the source folder {os.fspath(value)}: choose an output folder "
                "outside it."
            )


def check_overwrite(out: Path, overwrite: bool) -> None:
    """Refuses to replace `out` unless `overwrite` is set and `out` is an empty folder or an earlier XLM-SWCM
    checkpoint: replacing a folder deletes all it holds, and a mistyped OUT (a project folder, the home folder)
    must not cost its files."""
    if not os.path.lexists(out):
        return
    # What --overwrite would refuse is refused first, so that the message never suggests an option that fails too.
    if not out.is_dir():
        raise XLMSWCMError(
            f"{out} already exists and is a file, not an output folder: choose another output folder "
            "(--overwrite only replaces an earlier XLM-SWCM checkpoint folder)."
        )
    entries = sorted(entry.name for entry in out.iterdir())
    try:
        model_type = json.loads((out / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        model_type = None
    if entries and model_type != XLMSWCMConfig.model_type:
        raise XLMSWCMError(
            f"{out} already exists and is not an XLM-SWCM checkpoint (it holds {len(entries)} entries, e.g. "
            f"{entries[0]!r}); replacing it would delete them: choose a new folder (e.g. {out / 'seed'}) or move "
            f"{out} away yourself."
        )
    if not overwrite:
        raise XLMSWCMError(f"{out} already exists: choose another output folder or pass --overwrite.")


def check_writable(out: str | os.PathLike) -> None:
    """Refuses an output folder that cannot be written, before any work rather than when saving: OUT or a folder
    above it is a file, or the nearest existing folder does not take a new entry (permissions, a read-only disk).
    The test is a real one: an empty temporary folder is made there and removed at once."""
    out = Path(out)
    existing = next(path for path in (out, *out.parents) if os.path.lexists(path))
    if not existing.is_dir():
        what = f"{out} already exists and is" if existing == out else f"{out} cannot be made: {existing} is"
        raise XLMSWCMError(f"{what} a file, not a folder; choose another output folder.")
    try:
        tempfile.TemporaryDirectory(prefix=f".{out.name}.check-", dir=existing).cleanup()
    except OSError as error:
        raise XLMSWCMError(
            f"Cannot write {out}: {existing} does not take new files ({error.strerror}); choose an output folder "
            "you can write to."
        ) from error


def write_atomically(
    out: str | os.PathLike,
    overwrite: bool,
    fill: Callable[[Path], None],
    on_done: Callable[[], Any] | None = None,
) -> None:
    """Calls `fill(tmp_folder)` and moves the folder to `out` only when it returns; never leaves half a folder at
    `out` (nor a temporary folder next to it), and replaces an existing `out` only with `overwrite`.

    Ctrl-C / SIGTERM are held back while the folders are swapped (and `on_done`, told that `out` is complete, is
    called): an interruption then takes effect just after, with `out` complete.
    """
    out = Path(out)
    check_overwrite(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    # A sibling of `out`, so the final move is a rename on the same file system (atomic, no copy).
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private (0700); OUT gets the usual permissions
    old = None
    try:
        fill(tmp)
        with _signals_held():
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
                os.replace(out, old / out.name)
                try:
                    os.replace(tmp, out)
                except BaseException:
                    os.replace(old / out.name, out)  # put the previous output back
                    raise
            else:
                os.replace(tmp, out)
            if on_done is not None:
                on_done()
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists():
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Holds SIGINT and SIGTERM back for the duration: a signal that arrives meanwhile is recorded and raised again
    (to the handlers of before) when the block ends. Only the main thread can install handlers; elsewhere this
    does nothing. (A signal mask would not do: the kernel gives a process-wide signal to any thread that does not
    block it, and Python then runs the handler in the main thread at once.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        received.append(signum)

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not None:  # None: a handler installed from C, which cannot be restored
            previous[sig] = signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            signal.raise_signal(received[0])


def _overlaps(out: Path, inner: Path) -> bool:
    """Whether `inner` is `out` or lies below it: by path (symlinks not followed, so a link inside OUT counts),
    by resolved path (a symlinked OUT or SOURCE), and by file identity (hard links, case-insensitive file
    systems, bind mounts)."""
    for a, b in (
        (Path(os.path.abspath(out)), Path(os.path.abspath(inner))),
        (out.resolve(), inner.resolve()),
    ):
        if a == b or a in b.parents:
            return True
    if not out.exists():
        return False
    return any(p.exists() and os.path.samefile(p, out) for p in (inner.resolve(), *inner.resolve().parents))
