# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""The one completeness check of a checkpoint folder, shared by `xlm-swcm-convert` (its source encoder),
`xlm-swcm-train` (its model) and `xlm-swcm-push` (the folder it uploads).

It reads only `config.json`, the safetensors index and the safetensors headers (or the zip directory of a
`pytorch_model.bin`), so it takes milliseconds where loading the weights takes seconds, and a truncated or missing
weights file is refused in one line before anything heavy runs.

Example:
    >>> from xlm_swcm.checkpoint import checkpoint_problems
    >>> checkpoint_problems("seed")  # doctest: +SKIP
    []
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from safetensors import safe_open

__all__ = ["IncompleteCheckpointError", "check_checkpoint_files", "checkpoint_problems", "weight_files"]

SAFETENSORS, SAFETENSORS_INDEX = "model.safetensors", "model.safetensors.index.json"
PYTORCH, PYTORCH_INDEX = "pytorch_model.bin", "pytorch_model.bin.index.json"


class IncompleteCheckpointError(ValueError):
    """A checkpoint folder misses a file or holds an unreadable one; the message is one line."""


def _index_shards(index: Path) -> list[str]:
    """The shard names a `*.index.json` names; a ValueError when the index itself is unreadable."""
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        return sorted(set(weight_map.values()))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"{index.name} is not a valid weights index ({type(err).__name__}: {err})") from err


def weight_files(folder: str | os.PathLike, safetensors_only: bool = False) -> list[str]:
    """The weights files the checkpoint needs, as transformers' `from_pretrained` looks for them: the safetensors
    file or the shards its index names; else (unless `safetensors_only`) `pytorch_model.bin` or its shards. A
    folder with none of them gets `model.safetensors` (reported missing). A ValueError for an unreadable index.

    Example:
        >>> weight_files("seed")  # doctest: +SKIP
        ['model.safetensors']
    """
    folder = Path(folder)
    if (folder / SAFETENSORS_INDEX).is_file():
        return _index_shards(folder / SAFETENSORS_INDEX)
    if (folder / SAFETENSORS).is_file() or safetensors_only:
        return [SAFETENSORS]
    if (folder / PYTORCH_INDEX).is_file():
        return _index_shards(folder / PYTORCH_INDEX)
    if (folder / PYTORCH).is_file():
        return [PYTORCH]
    return [SAFETENSORS]


def _unreadable(path: Path) -> str | None:
    """Why a weights file cannot be loaded (truncated, corrupt, empty), or None. Reads the header only."""
    if path.suffix == ".safetensors":
        try:
            # safe_open checks the header against the file size: a truncated file fails here
            with safe_open(str(path), framework="pt") as handle:
                return None if list(handle.keys()) else "holds no tensors"
        except Exception as err:  # safetensors raises its own error types for truncated/corrupt headers
            return f"is not a readable safetensors file, corrupt or truncated ({' '.join(str(err).split())})"
    # torch.save writes a zip archive, whose directory sits at the end: a truncated file has none
    if zipfile.is_zipfile(path):
        return None
    with open(path, "rb") as handle:
        legacy = handle.read(1) == b"\x80"  # torch < 1.6 wrote a bare pickle (protocol 2+ starts with 0x80)
    return None if legacy else "is not a readable PyTorch weights file, corrupt or truncated"


def checkpoint_problems(folder: str | os.PathLike, safetensors_only: bool = False) -> list[str]:
    """What keeps `folder` from loading: `config.json` missing or not a JSON object, a weights index that does not
    parse, a weights file (or a shard the index names) missing, empty, truncated or corrupt. [] when complete.

    Example:
        >>> checkpoint_problems("seed")  # doctest: +SKIP
        ['model.safetensors is not a readable safetensors file, corrupt or truncated (...)']
    """
    folder = Path(folder)
    problems = []
    config = folder / "config.json"
    if not config.is_file():
        problems.append("config.json is missing")
    else:
        try:
            if not isinstance(json.loads(config.read_text(encoding="utf-8")), dict):
                problems.append("config.json is not a JSON object")
        except (OSError, UnicodeDecodeError, ValueError) as err:
            problems.append(f"config.json is not valid JSON ({' '.join(str(err).split())})")
    try:
        names = weight_files(folder, safetensors_only)
    except ValueError as err:
        return [*problems, str(err)]
    for name in names:
        path = folder / name
        if not path.is_file():
            problems.append(f"weights file {name} is missing")
        elif (reason := _unreadable(path)) is not None:
            problems.append(f"{name} {reason}")
    return problems


def check_checkpoint_files(folder: str | os.PathLike, what: str = "checkpoint") -> None:
    """Raises `IncompleteCheckpointError` (one line, every problem listed) unless `checkpoint_problems` is empty.

    Example:
        >>> check_checkpoint_files("seed", "--model")  # doctest: +SKIP
    """
    problems = checkpoint_problems(folder)
    if problems:
        raise IncompleteCheckpointError(
            f"{what} {os.fspath(folder)} is not a complete checkpoint: {'; '.join(problems)}. Copy, download or "
            "save it again (a full disk or an interrupted copy leaves such folders)."
        )
