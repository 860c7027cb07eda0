# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Streaming conversion (`xlm-swcm-convert --stream`): the seed is written tensor by tensor, never held whole.

Each seed tensor is computed from the source tensors it starts from (read with safetensors' `safe_open`, plain copies
in blocks of rows), exactly as `build_seed` computes it, written into its shard and freed; the layout comes from the
model on PyTorch's meta device. How, and what it costs: the conversion guide, `conversion/README.md`, "--stream".
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from safetensors import safe_open
from transformers.dynamic_module_utils import custom_object_save

from .configuration_xlm_swcm import XLMSWCMConfig
from .conversion import (
    SEED_DTYPES,
    ConvertOptions,
    conversion_report,
    encoder_sources,
    fuse,
    load_source_config,
)
from .errors import XLMSWCMError
from .initialization import Folded, default_init, init_plan, initial_value, seeded_generators
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


StreamingError = XLMSWCMError  # the name of earlier releases


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
            raise XLMSWCMError(
                f"--stream reads safetensors weights (model.safetensors or model.safetensors.index.json), and "
                f"{os.fspath(folder)!r} has none: convert without --stream."
            )
        prefixes = {m.group(1) for key in self.files if (m := _WORD_EMBEDDINGS.match(key))}
        if len(prefixes) != 1:
            raise XLMSWCMError(
                f"{os.fspath(folder)!r} holds {len(prefixes)} sets of word embeddings; --stream needs one encoder: "
                "convert without --stream."
            )
        prefix = prefixes.pop()
        self.prefix = f"{prefix}." if prefix else ""

    def _read(self, name: str, read: Callable[[Any], Any]) -> Any:
        """`read(slice)` of tensor `name` (the base model's name), its file closed again after the read."""
        key = self.prefix + name
        if key not in self.files:
            raise XLMSWCMError(
                f"The weights of {os.fspath(self.folder)!r} lack {key!r}: the checkpoint is incomplete or belongs "
                "to another architecture; download or export it again."
            )
        with safe_open(self.folder / self.files[key], framework="pt") as handle:
            return read(handle.get_slice(key))

    def get(self, name: str) -> torch.Tensor:
        return self._read(name, lambda tensor: tensor[:])

    def get_rows(self, name: str, start: int, stop: int) -> torch.Tensor:
        return self._read(name, lambda tensor: tensor[start:stop])

    def shape(self, name: str) -> list[int]:
        return self._read(name, lambda tensor: tensor.get_shape())

    def first_float_dtype(self) -> torch.dtype:
        for key, file in self.files.items():
            with safe_open(self.folder / file, framework="pt") as handle:
                dtype = handle.get_slice(key).get_dtype()
            if dtype in ("F32", "F16", "BF16", "F64"):
                return {v: k for k, v in SAFETENSORS_DTYPES.items()}[dtype]
        return torch.float32


class _SeedTensors:
    """Computes seed tensors one at a time, as `build_seed` would set them, by the names `save_pretrained` gives."""

    def __init__(
        self,
        reader: SourceReader,
        model: XLMSWCMForConditionalGeneration,
        plan: dict[str, str | Folded],
        seed: int,
        source_config: Any,
    ):
        self.reader, self.config, self.dtype, self.plan = reader, model.config, model.dtype, plan
        self.sources = {f"model.encoder.{n}": theirs for n, theirs in encoder_sources(source_config).items()}
        # an untied LM head starts as a copy of the word embeddings
        self.sources["lm_head.weight"] = self.sources["model.encoder.embeddings.word_embeddings.weight"]
        self.generators = seeded_generators(seed)  # drawn in the plan's order, as build_seed draws them

    def encoder(self, key: str) -> torch.Tensor:
        return fuse([self.reader.get(source).to(self.dtype) for source in self.sources[key]])

    def __getitem__(self, name: str) -> torch.Tensor:
        """The encoder tensor `name` (model-relative) that `initial_value` reads: a copy, or a part of a fold."""
        return self.encoder(f"model.{name}")

    def copied_from(self, key: str) -> str | None:
        """The one source tensor that seed tensor `key` is a plain copy of (None when it is made otherwise)."""
        entry = self.plan.get(key.removeprefix("model."))
        sources = self.sources.get(f"model.{entry}" if isinstance(entry, str) else key, [])
        return sources[0] if len(sources) == 1 else None

    def blocks(self, key: str, shape: torch.Size) -> Iterator[torch.Tensor]:
        """Seed tensor `key` as consecutive blocks of rows (one block when it is not a plain copy)."""
        source = self.copied_from(key)
        if source is None:
            yield self(key, shape)
            return
        if list(self.reader.shape(source)) != list(shape):
            raise XLMSWCMError(
                f"{self.reader.prefix}{source} has shape {tuple(self.reader.shape(source))} in the weights of "
                f"{os.fspath(self.reader.folder)!r} but {tuple(shape)} by its config.json: fix config.json (e.g. "
                "vocab_size, hidden_size, intermediate_size) to match the weights."
            )
        step = max(1, STREAM_BLOCK_BYTES // max(1, shape[1:].numel() * self.dtype.itemsize))  # rows per block
        for start in range(0, shape[0], step):
            yield self.reader.get_rows(source, start, min(start + step, shape[0])).to(self.dtype)

    def __call__(self, key: str, shape: torch.Size) -> torch.Tensor:
        if key in self.sources:
            return self.encoder(key)
        name = key.removeprefix("model.")
        return initial_value(name, self.plan[name], self, self.config, shape, self.dtype, self.generators)


def stored_tensors(
    model: XLMSWCMForConditionalGeneration, plan: dict[str, str | Folded]
) -> dict[str, torch.Tensor]:
    """The (meta) tensors `save_pretrained` stores, tied ones once under their source's name, in the order they are
    written: the encoder, the decoder in the order of the init `plan` (its random draws happen in that order), the
    LM head when it is not tied."""
    state = model.state_dict()
    tied = set(model.all_tied_weights_keys or {})
    plan_order = {f"model.{name}": n for n, name in enumerate(plan)}

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
                    raise XLMSWCMError(
                        f"{key}: the source gives shape {tuple(block.shape)} ({block.dtype}) but the seed needs "
                        f"{tuple(shape)} ({meta[key].dtype}): the weights do not fit config.json; fix it."
                    )
                handle.write(memoryview(block.view(torch.uint8).reshape(-1).numpy()))
                rows += block.shape[0]
                del block
            if rows != shape[0]:
                raise XLMSWCMError(f"{key}: {rows} rows written instead of {shape[0]}.")
    return offset


def seed_dtype(dtype: str, source_config: Any, reader: SourceReader) -> torch.dtype:
    """The seed's dtype for `--dtype` (`xlm_swcm.conversion.SEED_DTYPES`); `"auto"` reads it as transformers'
    `from_pretrained(dtype="auto")` does: the config's `dtype`, else the first floating-point tensor's."""
    if dtype != "auto":
        return SEED_DTYPES[dtype]
    declared = getattr(source_config, "dtype", None)
    if isinstance(declared, str):
        declared = getattr(torch, declared, None)
    return declared if isinstance(declared, torch.dtype) else reader.first_float_dtype()


def seed_layout(
    options: ConvertOptions, source_config: Any, reader: SourceReader, **config_overrides: Any
) -> XLMSWCMForConditionalGeneration:
    """The seed `options` make of the encoder (`source_config`), on the meta device: its layout, no data."""
    args = {k: v for k, v in options.seed_arguments().items() if k not in ("seed", "init")}
    config = XLMSWCMConfig.from_encoder_config(source_config, **args, **config_overrides)
    with torch.device("meta"):
        model = XLMSWCMForConditionalGeneration(config).to(seed_dtype(options.dtype, source_config, reader))
    return model.eval()


def seed_bytes(options: ConvertOptions, source_config: Any, **config_overrides: Any) -> int:
    """The bytes of the seed's tensors (a shared tensor counted once): what a full disk lacked."""
    model = seed_layout(options, source_config, SourceReader(options.source), **config_overrides)
    return sum(t.numel() * t.element_size() for t in stored_tensors(model, {}).values())


def stream_seed(
    options: ConvertOptions,
    folder: str | os.PathLike,
    max_shard_bytes: int | None = None,
    **config_overrides: Any,
) -> tuple[XLMSWCMForConditionalGeneration, dict]:
    """Writes the seed that `build_seed` would build from the encoder folder `options.source` (`convert`'s options;
    the vocabulary ones do not stream) into the existing folder `folder`: weights as shards of at most
    `max_shard_bytes` (default `STREAM_SHARD_BYTES`) with an index, config, generation config, code files; one
    tensor held at a time. Returns the model on the meta device (its layout, no data) and the report.
    `config_overrides` are other `XLMSWCMConfig` arguments (the tokenizer's special token ids).
    """
    source_config = load_source_config(options.source)
    reader = SourceReader(options.source)
    model = seed_layout(options, source_config, reader, **config_overrides)
    init = options.init or default_init(options.weight_sharing)
    plan = init_plan(model.config, init)  # refuses a recipe the sharing mode cannot take, before any work
    meta = stored_tensors(model, plan)
    produce = _SeedTensors(reader, model, plan, options.seed, source_config)
    shards = _shards(meta, max_shard_bytes or STREAM_SHARD_BYTES)
    folder = Path(folder)
    names = [f"model-{n + 1:05d}-of-{len(shards):05d}.safetensors" for n in range(len(shards))]
    names = names if len(shards) > 1 else ["model.safetensors"]
    total = sum(
        _write_shard(folder / name, keys, meta, produce) for name, keys in zip(names, shards, strict=True)
    )
    if len(shards) > 1:
        weight_map = {key: name for name, keys in zip(names, shards, strict=True) for key in keys}
        index = {"metadata": {"total_size": total}, "weight_map": weight_map}
        (folder / "model.safetensors.index.json").write_text(
            json.dumps(index, indent=2, sort_keys=True) + "\n"
        )
    # What save_pretrained writes next to the weights: the code files (and auto_map), the config with the dtype
    # and architecture, the generation config.
    model.config.dtype = str(model.dtype).removeprefix("torch.")
    model.config.architectures = [type(model).__name__]
    custom_object_save(model, folder, config=model.config)
    model.config.save_pretrained(folder)
    model.generation_config.save_pretrained(folder)
    return model, conversion_report(model, SimpleNamespace(config=source_config), init, plan)
