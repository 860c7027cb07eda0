# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Streaming conversion (`xlm-swcm-convert --stream`): the seed is written tensor by tensor, never held whole.

The source (a folder of safetensors weights, one file or sharded with `model.safetensors.index.json`) is read one
tensor (or block of rows of a tensor) at a time with safetensors' `safe_open`, the file closed after each read. The seed's layout (names, shapes,
which tensors are tied and so stored once) comes from the model built on PyTorch's meta device, which holds no
data; each seed tensor is computed from the source tensors it starts from, exactly as `build_seed` computes it
(same initialisation plan, same random draws in the same order, same dtype), written into its shard, and freed. The
shards' headers are known in advance from the shapes, so a shard is written as a plain safetensors file, tensor after
tensor. A tensor copied from one source tensor (the word embeddings, the projections) is copied in blocks of rows
(`STREAM_BLOCK_BYTES`); the others (a fused Q/K/V, a folded projection, a random one) are made whole. Peak memory is
the largest of those and the source tensors it is made from, plus the interpreter: not the model, not a shard, not
the word embeddings.

Example:

```python
>>> model, report = stream_seed("path/to/xlm-roberta-large", "seed-out", weight_sharing="copy")  # doctest: +SKIP
```
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from safetensors import safe_open
from transformers import AutoConfig
from transformers.dynamic_module_utils import custom_object_save

from .configuration_xlm_swcm import PRE_LAYER_NORM_ENCODERS, XLMSWCMConfig
from .initialization import IDENTITY, RANDOM, Folded, default_init, folded_value, init_plan
from .modeling_xlm_swcm import XLMSWCMForConditionalGeneration

# A shard holds at most this many bytes of tensor data (a single larger tensor gets a shard of its own).
STREAM_SHARD_BYTES = 2 * 1024**3
# A seed tensor copied from one source tensor (the word embeddings, most projections) is read and written in blocks
# of rows of at most this many bytes, so that not even the largest tensor is held whole.
STREAM_BLOCK_BYTES = 64 * 1024**2
SAFETENSORS_DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
}
_WORD_EMBEDDINGS = re.compile(r"^(?:(.+)\.)?embeddings\.word_embeddings\.weight$")


class StreamingError(ValueError):
    """A source that cannot be streamed, with a message that says what to do."""


class SourceReader:
    """A safetensors checkpoint folder read one tensor at a time, by the base model's names (a `roberta.` or
    `bert.` prefix of a task model, e.g. `XLMRobertaForMaskedLM`, is found and added)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        index = self.folder / "model.safetensors.index.json"
        single = self.folder / "model.safetensors"
        if index.is_file():
            self.files = json.loads(index.read_text())["weight_map"]
        elif single.is_file():
            with safe_open(single, framework="pt") as handle:
                self.files = dict.fromkeys(handle.keys(), single.name)
        else:
            raise StreamingError(
                f"--stream reads safetensors weights (model.safetensors or model.safetensors.index.json), and "
                f"{os.fspath(folder)!r} has none: convert without --stream."
            )
        prefixes = {m.group(1) for key in self.files if (m := _WORD_EMBEDDINGS.match(key))}
        if len(prefixes) != 1:
            raise StreamingError(
                f"{os.fspath(folder)!r} holds {len(prefixes)} sets of word embeddings; --stream needs one encoder: "
                "convert without --stream."
            )
        prefix = prefixes.pop()
        self.prefix = f"{prefix}." if prefix else ""

    def has(self, name: str) -> bool:
        return self.prefix + name in self.files

    def get(self, name: str) -> torch.Tensor:
        """The tensor `name` (base model's name), read from its file, which is closed again."""
        key = self.get_key(name)
        with safe_open(self.folder / self.files[key], framework="pt") as handle:
            return handle.get_tensor(key)

    def shape(self, name: str) -> list[int]:
        self.get_key(name)
        with safe_open(self.folder / self.files[self.prefix + name], framework="pt") as handle:
            return handle.get_slice(self.prefix + name).get_shape()

    def get_rows(self, name: str, start: int, stop: int) -> torch.Tensor:
        """Rows `[start, stop)` of tensor `name`."""
        key = self.get_key(name)
        with safe_open(self.folder / self.files[key], framework="pt") as handle:
            return handle.get_slice(key)[start:stop]

    def get_key(self, name: str) -> str:
        key = self.prefix + name
        if key not in self.files:
            raise StreamingError(
                f"The weights of {os.fspath(self.folder)!r} lack {key!r}: the checkpoint is incomplete or belongs "
                "to another architecture; download or export it again."
            )
        return key

    def first_float_dtype(self) -> torch.dtype:
        for key, file in self.files.items():
            with safe_open(self.folder / file, framework="pt") as handle:
                dtype = handle.get_slice(key).get_dtype()
            if dtype in ("F32", "F16", "BF16", "F64"):
                return {v: k for k, v in SAFETENSORS_DTYPES.items()}[dtype]
        return torch.float32


def encoder_sources(config: XLMSWCMConfig, model_type: str) -> dict[str, list[str]]:
    """`{seed encoder parameter (model-relative): [source tensor names, concatenated along dim 0]}`: the renaming
    of `xlm_swcm.conversion.encoder_state_dict`, by name only."""
    from .conversion import _EMBEDDINGS, _LAYER_MAP, _PRE_LN_FINAL, _PRE_LN_LAYER_MAP

    pre = model_type in PRE_LAYER_NORM_ENCODERS
    sources = {}
    for name in _EMBEDDINGS:
        kinds = ("weight",) if name != "LayerNorm" else (() if pre else ("weight", "bias"))
        for kind in kinds:
            sources[f"encoder.embeddings.{name}.{kind}"] = [f"embeddings.{name}.{kind}"]
    for i in range(config.num_hidden_layers):
        for ours, theirs in (_PRE_LN_LAYER_MAP if pre else _LAYER_MAP).items():
            for kind in ("weight", "bias"):
                sources[f"encoder.layers.{i}.{ours}.{kind}"] = [
                    f"encoder.layer.{i}.{t}.{kind}" for t in theirs
                ]
    if pre:
        for ours, theirs in _PRE_LN_FINAL.items():
            for kind in ("weight", "bias"):
                sources[f"encoder.{ours}.{kind}"] = [f"{theirs}.{kind}"]
    return sources


class _SeedTensors:
    """Computes seed tensors one at a time, as `build_seed` would set them."""

    def __init__(self, reader: SourceReader, model: XLMSWCMForConditionalGeneration, init: str, seed: int,
                 dtype: torch.dtype, model_type: str):  # fmt: skip
        self.reader, self.config, self.dtype = reader, model.config, dtype
        self.plan = init_plan(model.config, init)
        self.sources = encoder_sources(model.config, model_type)
        # build_seed: normal layers from `seed`, custom layers' random tensors from `10_000 + seed`, each drawn in
        # the plan's order (`xlm_swcm.conversion.apply_init_plan`).
        self.generators = {
            "normal": torch.Generator().manual_seed(seed),
            "custom": torch.Generator().manual_seed(10_000 + seed),
        }

    def encoder(self, name: str) -> torch.Tensor:
        parts = [self.reader.get(source).to(self.dtype) for source in self.sources[name]]
        return torch.cat(parts, dim=0) if len(parts) > 1 else parts[0]

    def copied_from(self, key: str) -> str | None:
        """The one source tensor that seed tensor `key` is a plain copy of (None when it is made otherwise)."""
        name = key.removeprefix("model.")
        if key == "lm_head.weight":
            name = "encoder.embeddings.word_embeddings.weight"
        elif name not in self.sources:
            name = self.plan.get(name)
            if not isinstance(name, str) or name not in self.sources:
                return None
        sources = self.sources[name]
        return sources[0] if len(sources) == 1 else None

    def blocks(self, key: str, shape: torch.Size) -> Iterator[torch.Tensor]:
        """Seed tensor `key` as consecutive blocks of rows (one block when it is not a plain copy)."""
        source = self.copied_from(key)
        if source is None:
            yield self(key, shape)
            return
        if list(self.reader.shape(source)) != list(shape):
            raise StreamingError(
                f"{self.reader.prefix}{source} has shape {tuple(self.reader.shape(source))} in the weights of "
                f"{os.fspath(self.reader.folder)!r} but {tuple(shape)} by its config.json: fix config.json (e.g. "
                "vocab_size, hidden_size, intermediate_size) to match the weights."
            )
        row_bytes = max(1, shape[1:].numel() * self.dtype.itemsize)
        step = max(1, STREAM_BLOCK_BYTES // row_bytes)
        for start in range(0, shape[0], step):
            yield self.reader.get_rows(source, start, min(start + step, shape[0])).to(self.dtype)

    def __call__(self, key: str, shape: torch.Size) -> torch.Tensor:
        if key == "lm_head.weight":  # an untied LM head starts as a copy of the word embeddings
            return self.encoder("encoder.embeddings.word_embeddings.weight")
        name = key.removeprefix("model.")
        if name in self.sources:
            return self.encoder(name)
        entry = self.plan[name]
        if entry == IDENTITY:
            return torch.full(shape, 1.0 if name.endswith("weight") else 0.0, dtype=self.dtype)
        if entry == RANDOM:
            if name.endswith(".bias"):
                return torch.zeros(shape, dtype=self.dtype)
            kind = self.config.decoder_layer_types[int(name.split(".")[2])]
            half = self.dtype in (torch.bfloat16, torch.float16)  # drawn in float32, as `_init_random` does
            value = torch.empty(shape, dtype=torch.float32 if half else self.dtype)
            value.normal_(0.0, self.config.initializer_range, generator=self.generators[kind])
            return value.to(self.dtype)
        if isinstance(entry, Folded):
            base = entry.source.rsplit(".", 1)[0]
            needed = {entry.source, f"{base}.weight", f"{entry.norm}.weight", f"{entry.norm}.bias"}
            return folded_value(entry, {n: self.encoder(n) for n in needed})
        return self.encoder(entry)


def stored_tensors(model: XLMSWCMForConditionalGeneration, init: str) -> dict[str, torch.Tensor]:
    """The (meta) tensors `save_pretrained` stores, tied ones once under their source's name, in the order they are
    written: the encoder, the decoder in the order of `init_plan` (its random draws happen in that order), the LM
    head when it is not tied."""
    state = model.state_dict()
    tied = set(model.all_tied_weights_keys or {})
    plan_order = {f"model.{name}": n for n, name in enumerate(init_plan(model.config, init))}

    def order(key: str) -> tuple[int, int]:
        if key.startswith("model.encoder."):
            return (0, 0)
        return (1, plan_order[key]) if key in plan_order else (2, 0)

    return {key: state[key] for key in sorted((k for k in state if k not in tied), key=order)}


def _shards(tensors: dict[str, torch.Tensor], max_bytes: int) -> list[list[str]]:
    shards, size = [[]], 0
    for key, tensor in tensors.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > max_bytes:
            shards.append([])
            size = 0
        shards[-1].append(key)
        size += nbytes
    return shards


def _write_shard(path: Path, keys: list[str], meta: dict[str, torch.Tensor], produce: _SeedTensors) -> int:
    """Writes one safetensors file tensor by tensor (the header is known from the shapes); returns its data size."""
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for key in keys:
        nbytes = meta[key].numel() * meta[key].element_size()
        header[key] = {
            "dtype": SAFETENSORS_DTYPES[meta[key].dtype],
            "shape": list(meta[key].shape),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the data starts 8-byte aligned, as safetensors writes it
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)))
        handle.write(encoded)
        for key in keys:
            shape, rows = meta[key].shape, 0
            for block in produce.blocks(key, shape):
                block = block.contiguous()
                if block.shape[1:] != shape[1:] or block.dtype != meta[key].dtype:
                    raise StreamingError(
                        f"{key}: the source gives shape {tuple(block.shape)} ({block.dtype}) but the seed needs "
                        f"{tuple(shape)} ({meta[key].dtype}): the weights do not fit config.json; fix it."
                    )
                handle.write(memoryview(block.view(torch.uint8).reshape(-1).numpy()))
                rows += block.shape[0]
                del block
            if rows != shape[0]:
                raise StreamingError(f"{key}: {rows} rows written instead of {shape[0]}.")
    return offset


def seed_dtype(dtype: str, source_config: Any, reader: SourceReader) -> torch.dtype:
    """The seed's dtype for `--dtype` (`xlm_swcm.conversion.SEED_DTYPES`); `"auto"` reads it as transformers'
    `from_pretrained(dtype="auto")` does: the config's `dtype`, else the first floating-point tensor's."""
    from .conversion import SEED_DTYPES

    if dtype != "auto":
        return SEED_DTYPES[dtype]
    declared = getattr(source_config, "dtype", None)
    if isinstance(declared, str):
        declared = getattr(torch, declared, None)
    return declared if isinstance(declared, torch.dtype) else reader.first_float_dtype()


def stream_seed(
    source: str | os.PathLike,
    folder: str | os.PathLike,
    insert_every: int = 3,
    trailing_normal_layer: bool = False,
    weight_sharing: str = "copy",
    seed: int = 0,
    tie_word_embeddings: bool = True,
    init: str | None = None,
    dtype: str = "auto",
    max_shard_bytes: int | None = None,
    **config_overrides: Any,
) -> tuple[XLMSWCMForConditionalGeneration, dict]:
    """Writes the seed that `build_seed` would build from the encoder folder `source` into the existing folder
    `folder` (weights as shards of at most `max_shard_bytes` with an index, config, generation config, code files),
    holding one tensor at a time; returns the model on the meta device (its layout, no data) and the report.
    `max_shard_bytes` defaults to `STREAM_SHARD_BYTES`.

    The arguments are `build_seed`'s; `dtype` is a key of `xlm_swcm.conversion.SEED_DTYPES`. Raises `StreamingError`
    (a ValueError) for a source that is not a safetensors encoder folder or whose weights do not fit its config.
    """
    from .conversion import _check_source, conversion_report

    reader = SourceReader(source)
    source_config = AutoConfig.from_pretrained(source)
    _check_source(source_config, repr(os.fspath(source)))
    init = init or default_init(weight_sharing)
    config = XLMSWCMConfig.from_encoder_config(
        source_config,
        insert_every=insert_every,
        trailing_normal_layer=trailing_normal_layer,
        weight_sharing=weight_sharing,
        tie_word_embeddings=tie_word_embeddings,
        **config_overrides,
    )
    init_plan(config, init)  # refuses a recipe the sharing mode cannot take, before any work
    target_dtype = seed_dtype(dtype, source_config, reader)
    with torch.device("meta"):
        model = XLMSWCMForConditionalGeneration(config).to(target_dtype)
    model.eval()
    meta = stored_tensors(model, init)
    produce = _SeedTensors(reader, model, init, seed, target_dtype, source_config.model_type)
    shards = _shards(meta, max_shard_bytes or STREAM_SHARD_BYTES)
    folder = Path(folder)
    names = (
        ["model.safetensors"]
        if len(shards) == 1
        else [f"model-{n + 1:05d}-of-{len(shards):05d}.safetensors" for n in range(len(shards))]
    )
    total = sum(
        _write_shard(folder / name, keys, meta, produce) for name, keys in zip(names, shards, strict=True)
    )
    if len(shards) > 1:
        index = {
            "metadata": {"total_size": total},
            "weight_map": {key: name for name, keys in zip(names, shards, strict=True) for key in keys},
        }
        (folder / "model.safetensors.index.json").write_text(
            json.dumps(index, indent=2, sort_keys=True) + "\n"
        )
    # What save_pretrained writes next to the weights: the code files (and auto_map), the config with the dtype
    # and architecture, the generation config.
    config.dtype = str(target_dtype).removeprefix("torch.")
    config.architectures = [type(model).__name__]
    custom_object_save(model, folder, config=config)
    config.save_pretrained(folder)
    model.generation_config.save_pretrained(folder)
    source_like = SimpleNamespace(config=source_config)
    return model, conversion_report(model, source_like, init)
