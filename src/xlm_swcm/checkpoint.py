# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""The one loader check of "a local checkpoint folder or a Hub id", shared by `xlm-swcm-convert` (its source),
`xlm-swcm-train` (its model) and `xlm-swcm-push` (the folder it uploads): the path, config.json and the completeness
of the weights files, read from their headers in milliseconds, so that a bad path or a truncated file is refused in
one line before anything heavy (or any network call) runs.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huggingface_hub.errors import StrictDataclassError
from safetensors import safe_open
from transformers import AutoConfig

from .errors import XLMSWCMError

__all__ = [
    "IncompleteCheckpointError",
    "check_checkpoint_files",
    "checkpoint_folder",
    "checkpoint_problems",
    "is_local",
    "load_config",
    "weight_files",
]

SAFETENSORS, SAFETENSORS_INDEX = "model.safetensors", "model.safetensors.index.json"
PYTORCH, PYTORCH_INDEX = "pytorch_model.bin", "pytorch_model.bin.index.json"
# A Hub model id: `owner/name` (anything else that does not exist locally is a mistyped path, not a Hub id).
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
IncompleteCheckpointError = XLMSWCMError  # the name of earlier releases
GIVE_FOLDER = "give the folder that holds config.json and the weights"


def is_local(path: str, what: str) -> bool:
    """True for an existing file or folder, False for a Hub id (`owner/name`); anything else is a mistyped path
    and fails here, before any network call (a Hub lookup would spend half a minute on retries)."""
    if os.path.exists(path):
        return True
    if HUB_ID.fullmatch(path) and not os.path.isabs(path):
        return False
    raise XLMSWCMError(
        f"{what} {path!r}: no such folder (it does not exist here and is not a Hub id of the form owner/name); "
        "check the path, or give a Hub id with its owner (e.g. FacebookAI/xlm-roberta-base, not xlm-roberta-base)."
    )


def checkpoint_folder(
    path: str | os.PathLike, what: str, hub_ids: bool = True, give: str = GIVE_FOLDER
) -> bool:
    """True when `path` is a local checkpoint folder (a folder with config.json), False for a Hub id (when
    `hub_ids`); otherwise an `XLMSWCMError` that names `what` (e.g. `--model`) and ends with `give`."""
    path = os.fspath(path)
    if hub_ids and not is_local(path, what):
        return False
    if not os.path.exists(path):
        raise XLMSWCMError(f"{what} {path!r} does not exist: {give}.")
    if not os.path.isdir(path):
        raise XLMSWCMError(f"{what} {path!r} is a file: {give}.")
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise XLMSWCMError(f"{what} {path!r} is not a model checkpoint (no config.json in it): {give}.")
    return True


def load_config(
    path: str | os.PathLike, what: str, check: Callable[[Any], None] | None = None, give: str = GIVE_FOLDER
) -> Any:
    """The config of the checkpoint at `path` (a local folder or a Hub id) after the checks that need no weights
    loaded: `checkpoint_folder`, the config itself, `check(config)` (the caller's: the model type), and for a local
    folder `check_checkpoint_files` (every weights file present and readable)."""
    path = os.fspath(path)
    local = checkpoint_folder(path, what, give=give)
    try:
        config = AutoConfig.from_pretrained(path)
    # StrictDataclassError: a field of the wrong type; its message spans lines
    except (OSError, ValueError, KeyError, StrictDataclassError) as error:
        reason = " ".join(str(error).split()).rstrip(".")
        fix = (
            "Fix its config.json or save the model again"
            if local
            else "A Hub id must be reachable, or cached"
        )
        raise XLMSWCMError(f"Cannot read a transformers config from {path!r}: {reason}. {fix}.") from error
    if check is not None:
        check(config)
    if local:
        check_checkpoint_files(path, what)
    return config


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
    folder with none of them gets `model.safetensors` (reported missing). A ValueError for an unreadable index."""
    folder = Path(folder)
    if (folder / SAFETENSORS_INDEX).is_file():
        return _index_shards(folder / SAFETENSORS_INDEX)
    if (folder / SAFETENSORS).is_file() or safetensors_only:
        return [SAFETENSORS]
    if (folder / PYTORCH_INDEX).is_file():
        return _index_shards(folder / PYTORCH_INDEX)
    return [PYTORCH] if (folder / PYTORCH).is_file() else [SAFETENSORS]


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
    """What keeps the weights of `folder` from loading (its config.json is the loaders' first check): a weights
    index that does not parse, a weights file (or a shard the index names) missing, empty, truncated or corrupt.
    [] when complete."""
    try:
        names = weight_files(folder, safetensors_only)
    except ValueError as err:
        return [str(err)]
    problems = []
    for name in names:
        path = Path(folder) / name
        if not path.is_file():
            problems.append(f"weights file {name} is missing")
        elif (reason := _unreadable(path)) is not None:
            problems.append(f"{name} {reason}")
    return problems


def check_checkpoint_files(folder: str | os.PathLike, what: str = "checkpoint") -> None:
    """Raises `XLMSWCMError` (one line, every problem listed) unless `checkpoint_problems` is empty."""
    problems = checkpoint_problems(folder)
    if problems:
        raise XLMSWCMError(
            f"{what} {os.fspath(folder)} is not a complete checkpoint: {'; '.join(problems)}. Copy, download or "
            "save it again (a full disk or an interrupted copy leaves such folders)."
        )
