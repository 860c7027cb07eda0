# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Turn an XLM-R-family encoder (XLM-R, CINO, RoBERTa, BERT, ...) into an XLM-SWCM seed checkpoint.

The encoder is copied as is (Q, K and V fused into one `qkv` projection); where each decoder tensor starts is the
initialisation plan (`xlm_swcm.initialization`), and what starts from what, with the LayerNorm choices and why, is in
the conversion guide, `conversion/README.md`. `build_seed` builds the model in memory; `convert` is the whole
`xlm-swcm-convert` command (tokenizer, vocabulary options, verification, atomic write).

Example:

```python
>>> from transformers import XLMRobertaConfig, XLMRobertaModel
>>> from xlm_swcm.conversion import build_seed
>>> source = XLMRobertaModel(XLMRobertaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=3,
...                                           num_attention_heads=4, intermediate_size=37), add_pooling_layer=False)
>>> model, report = build_seed(source, insert_every=2, weight_sharing="tie")
>>> model.config.decoder_layer_types
['custom', 'custom', 'normal', 'custom']
>>> model.model.decoder.layers[3].ffn2.fc1.weight is model.model.encoder.layers[2].ffn.fc1.weight
True

```
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from huggingface_hub.errors import StrictDataclassError
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedModel, XLMRobertaTokenizer
from transformers.utils import logging as hf_logging

from . import vocab
from .checkpoint import IncompleteCheckpointError, check_checkpoint_files
from .configuration_xlm_swcm import ENCODER_POSITION_STYLES, PRE_LAYER_NORM_ENCODERS, XLMSWCMConfig
from .initialization import (
    DEFAULT_INIT,
    DEFAULT_TIE_INIT,
    IDENTITY,
    INIT_RECIPES,
    RANDOM,
    Folded,
    default_init,
    folded_value,
    init_plan,
)
from .modeling_xlm_swcm import XLMSWCMForConditionalGeneration
from .outputs import check_output, check_overwrite, write_atomically
from .report import REPORT_FILE  # the report's schema is shared with xlm_swcm.hub (xlm_swcm/report.py)

# --verify: largest max-abs difference between source and converted encoder outputs, relative to the outputs' scale.
# Both compute the same function; only the accumulation order of the fused Q/K/V matmul can differ.
VERIFY_TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}
VERIFY_TOLERANCE_HALF = 2e-2
# --dtype: the seed's dtype. "auto" keeps the source's (its config.json's `dtype`, else its weights'), as
# transformers' `from_pretrained(dtype="auto")` reads it; the encoder is loaded in that dtype, so the seed is built in
# it and `--verify` compares like with like.
SEED_DTYPES = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# Files of which at least one is in a folder that holds a tokenizer. Without any, transformers v5 still returns a
# tokenizer (an empty 5-token one), which would map every word to <unk>: such a folder has no tokenizer.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "sentencepiece.bpe.model",
    "spiece.model",
    "vocab.txt",
    "vocab.json",
)
# A Hub model id: `owner/name` (anything else that does not exist locally is a mistyped path, not a Hub id).
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
# --keep-top: fewer kept corpus tokens than this leaves a model that cannot write text (special and language
# tokens are kept on top of them).
MIN_KEEP_TOP = 100


class ConversionError(ValueError):
    """A conversion input problem, with a message that says what to do."""


# Per encoder layer: our name -> the source's names (a list is concatenated along dim 0: the fused Q/K/V).
_LAYER_MAP = {
    "attention.qkv": ["attention.self.query", "attention.self.key", "attention.self.value"],
    "attention.o_proj": ["attention.output.dense"],
    "attention_layer_norm": ["attention.output.LayerNorm"],
    "ffn.fc1": ["intermediate.dense"],
    "ffn.fc2": ["output.dense"],
    "ffn_layer_norm": ["output.LayerNorm"],
}
# The same for a pre-LayerNorm encoder (`XLMRobertaXLModel`): each LayerNorm sits in front of its block.
_PRE_LN_LAYER_MAP = {
    **{name: theirs for name, theirs in _LAYER_MAP.items() if not name.endswith("layer_norm")},
    "attention_layer_norm": ["attention.self_attn_layer_norm"],
    "ffn_layer_norm": ["LayerNorm"],
}
# A pre-LayerNorm encoder's final LayerNorm: ours -> the source's.
_PRE_LN_FINAL = {"layer_norm": "encoder.LayerNorm"}
# An encoder layer's tensor in a BERT-family checkpoint (with or without the `roberta.` / `bert.` prefix).
_LAYER_KEY = re.compile(r"(?:^|\.)encoder\.layer\.(\d+)\.")
_EMBEDDINGS = ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm")


def encoder_state_dict(source: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The weights of a BERT-family encoder renamed (and Q/K/V fused) for `XLMSWCMEncoder`.

    `source` is an `XLMRobertaModel`, `XLMRobertaXLModel` (pre-LayerNorm), `RobertaModel`, `BertModel` or any model
    whose `base_model` is one (for example `XLMRobertaForMaskedLM`); the pooler and task heads are not used.

    Example:

    ```python
    >>> from transformers import BertConfig, BertModel
    >>> bert = BertModel(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
    ...                             intermediate_size=16))
    >>> tuple(encoder_state_dict(bert)["layers.0.attention.qkv.weight"].shape)
    (24, 8)

    ```
    """
    base = source.base_model
    state = base.state_dict()
    pre_layer_norm = getattr(base.config, "model_type", None) in PRE_LAYER_NORM_ENCODERS
    layer_map = _PRE_LN_LAYER_MAP if pre_layer_norm else _LAYER_MAP
    out = {}
    for name in _EMBEDDINGS:
        for kind in ("weight", "bias"):
            key = f"embeddings.{name}.{kind}"
            if key in state:
                out[key] = state[key]
    try:
        for i in range(base.config.num_hidden_layers):
            for ours, theirs in layer_map.items():
                for kind in ("weight", "bias"):
                    parts = [state[f"encoder.layer.{i}.{t}.{kind}"] for t in theirs]
                    out[f"layers.{i}.{ours}.{kind}"] = torch.cat(parts, dim=0) if len(parts) > 1 else parts[0]
        if pre_layer_norm:
            for ours, theirs in _PRE_LN_FINAL.items():
                for kind in ("weight", "bias"):
                    out[f"{ours}.{kind}"] = state[f"{theirs}.{kind}"]
    except KeyError as error:
        raise ConversionError(
            f"{type(base).__name__} has no weight {error.args[0]!r}: the source is not a BERT/RoBERTa-style "
            "encoder (expected encoder.layer.N.attention.self.query, ...)."
        ) from None
    return out


def _init_random(
    model: XLMSWCMForConditionalGeneration, names: list[str], generator: torch.Generator
) -> None:
    """Linear weights normal(0, initializer_range), biases 0, drawn from `generator` in the order of `names`.

    Half-precision (bf16/fp16) weights are drawn in float32 and rounded, so that a half-precision seed's random
    tensors are the float32 seed's, rounded."""
    params = dict(model.model.named_parameters(remove_duplicate=False))
    std = model.config.initializer_range
    with torch.no_grad():
        for name in names:
            param = params[name]
            if name.endswith(".bias"):
                param.zero_()
            elif param.dtype in (torch.bfloat16, torch.float16):
                param.copy_(
                    torch.empty(param.shape, dtype=torch.float32).normal_(0.0, std, generator=generator)
                )
            else:
                param.normal_(0.0, std, generator=generator)


def apply_init_plan(model: XLMSWCMForConditionalGeneration, init: str, seed: int) -> dict[str, str | Folded]:
    """Sets every decoder tensor as `init_plan(model.config, init)` says, the encoder already loaded; returns the
    plan. Random tensors of normal layers come from a generator seeded with `seed` alone, those of custom layers
    (recipes `ffn-only`, `random`) from a second one, so the normal layers are the same in every recipe."""
    plan = init_plan(model.config, init)
    params = dict(model.model.named_parameters(remove_duplicate=False))
    layer_types = model.config.decoder_layer_types
    random = [t for t, s in plan.items() if s == RANDOM]
    in_normal = [t for t in random if layer_types[int(t.split(".")[2])] == "normal"]
    _init_random(model, in_normal, torch.Generator().manual_seed(seed))
    _init_random(
        model, [t for t in random if t not in in_normal], torch.Generator().manual_seed(10_000 + seed)
    )
    with torch.no_grad():
        for target, source in plan.items():
            if source == IDENTITY:
                params[target].fill_(1.0 if target.endswith("weight") else 0.0)
            elif isinstance(source, Folded):
                params[target].copy_(folded_value(source, params))
            elif source != RANDOM and params[target] is not params[source]:  # tie mode: already the same
                params[target].copy_(params[source])
    return plan


def _check_source(config: Any, where: str) -> None:
    model_type = getattr(config, "model_type", None)
    if model_type not in ENCODER_POSITION_STYLES:
        raise ConversionError(
            f"{where} is a {model_type!r} model; XLM-SWCM starts from a BERT-family encoder "
            f"({', '.join(sorted(ENCODER_POSITION_STYLES))}), e.g. xlm-roberta-base, xlm-roberta-xl or CINO."
        )
    if getattr(config, "is_decoder", False):
        raise ConversionError(
            f"{where} is configured as a decoder (is_decoder=True); give the plain encoder."
        )
    position_type = getattr(config, "position_embedding_type", None)
    if position_type not in (None, "absolute"):
        raise ConversionError(
            f"{where} uses position_embedding_type={position_type!r}; XLM-SWCM supports absolute positions only."
        )


def build_seed(
    source: PreTrainedModel | str | os.PathLike,
    insert_every: int = 3,
    trailing_normal_layer: bool = False,
    weight_sharing: str = "copy",
    seed: int = 0,
    tie_word_embeddings: bool = True,
    init: str | None = None,
    **config_overrides: Any,
) -> tuple[XLMSWCMForConditionalGeneration, dict]:
    """Builds an XLM-SWCM seed from an encoder; returns the model and a report of what was copied, tied or random.

    Args:
        source: an encoder model (or a model whose `base_model` is one), or a local folder / Hub id that
            `AutoModel` loads as one.
        insert_every: X, a normal layer after every X custom layers.
        trailing_normal_layer: also put a normal layer after the last custom layer (paper's n + floor(n / X)).
        weight_sharing: `"copy"` (independent copies, the paper) or `"tie"` (the decoder uses the encoder's tensors).
        seed: seed of the random initialisation of the normal layers (and of any tensor the recipe draws).
        init: the initialisation recipe, one of `INIT_RECIPES` (see `xlm_swcm.initialization`); None: the
            measured default for the sharing mode (`default_init`).
        tie_word_embeddings: tie the LM head to the word embeddings (else it starts as a copy of them).
        config_overrides: other `XLMSWCMConfig` arguments (dropout, decoder_start_token_id, attn_implementation, ...).

    Example:

    ```python
    >>> model, report = build_seed("path/to/xlm-roberta-base", weight_sharing="tie")  # doctest: +SKIP
    >>> print(format_report(report))  # doctest: +SKIP
    ```
    """
    init = init or default_init(weight_sharing)
    if init not in INIT_RECIPES:
        raise ConversionError(f"init={init!r} is not a recipe; choose one of {', '.join(INIT_RECIPES)}.")
    if not isinstance(source, PreTrainedModel):
        source = load_encoder(source)
    _check_source(source.base_model.config, type(source).__name__)
    config = XLMSWCMConfig.from_encoder_config(
        source.base_model.config,
        insert_every=insert_every,
        trailing_normal_layer=trailing_normal_layer,
        weight_sharing=weight_sharing,
        tie_word_embeddings=tie_word_embeddings,
        **config_overrides,
    )
    try:
        init_plan(config, init)  # refuses a recipe the sharing mode cannot take, before any work
    except ValueError as error:
        raise ConversionError(str(error)) from None
    # Everything the model init draws comes from `seed`, and the caller's RNG is left as it was.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = XLMSWCMForConditionalGeneration(config)
    model.to(dtype=source.dtype, device=source.device)
    swcm = model.model
    try:
        swcm.encoder.load_state_dict(encoder_state_dict(source), strict=True)
    except RuntimeError as error:  # a missing key or a shape mismatch must never pass silently
        raise ConversionError(f"The source encoder's weights do not fit its config: {error}") from error
    apply_init_plan(model, init, seed)
    if not tie_word_embeddings:
        with torch.no_grad():
            model.lm_head.weight.copy_(swcm.encoder.embeddings.word_embeddings.weight)
    model.eval()
    return model, conversion_report(model, source, init)


def conversion_report(
    model: XLMSWCMForConditionalGeneration, source: PreTrainedModel | None = None, init: str | None = None
) -> dict:
    """What each tensor starts from under recipe `init`, how many tensors are copied / tied / folded / random /
    identity, and parameter counts (a shared tensor counted once).

    `mapping` lists every decoder tensor (and the LM head) that starts from an encoder tensor, with its mode
    (`"copied"` or `"tied"`); `folded` the projections with a LayerNorm folded in; `random` and `identity` the
    tensors drawn at random and the LayerNorms at identity. `tensors` counts them, and the encoder tensors taken
    from the source.

    Example:

    ```python
    >>> report = conversion_report(model, source)  # doctest: +SKIP
    >>> report["tensors"]  # doctest: +SKIP
    {'from_source': 53, 'copied': 98, 'tied': 6, 'folded': 0, 'random': 12, 'identity': 14}
    ```
    """
    config = model.config
    swcm = model.model
    params = dict(model.named_parameters(remove_duplicate=False))
    init = init or default_init(config.weight_sharing)
    plan = init_plan(config, init)

    def mode(target: str, src: str) -> str:
        return "tied" if params[target] is params[src] else "copied"

    rows = {t: s for t, s in plan.items() if isinstance(s, str) and s not in (IDENTITY, RANDOM)}
    mapping = [
        {"decoder": f"model.{t}", "encoder": f"model.{s}", "mode": mode(f"model.{t}", f"model.{s}")}
        for t, s in rows.items()
    ]
    embeddings = "model.encoder.embeddings.word_embeddings.weight"
    mapping.append(
        {"decoder": "lm_head.weight", "encoder": embeddings, "mode": mode("lm_head.weight", embeddings)}
    )
    folded = [
        {
            "decoder": f"model.{t}",
            "encoder": f"model.{s.source}",
            "layer_norm": f"model.{s.norm}",
            "rows": s.rows,
        }
        for t, s in plan.items()
        if isinstance(s, Folded)
    ]
    random = [f"model.{t}" for t, s in plan.items() if s == RANDOM]
    identity = [f"model.{t}" for t, s in plan.items() if s == IDENTITY]
    from_source = [name for name in params if name.startswith("model.encoder.")]
    modes = [row["mode"] for row in mapping]

    encoder_ids = {id(p) for p in swcm.encoder.parameters()}
    embedding_ids = {id(p) for p in swcm.encoder.embeddings.parameters()}
    unique = {id(p): p for p in model.parameters()}
    # Parameters that copy mode would store a second time for the custom decoder layers.
    shared = sum(
        params[f"model.{t}"].numel()
        for t, s in rows.items()
        if t.startswith("decoder.layers.") and mode(f"model.{t}", f"model.{s}") == "tied"
    )
    source_config = getattr(source, "config", None)
    source_name = getattr(source_config, "name_or_path", None) or type(source).__name__
    return {
        "source": str(source_name),
        "source_model_type": getattr(source_config, "model_type", None),
        "insert_every": config.insert_every,
        "trailing_normal_layer": config.trailing_normal_layer,
        "weight_sharing": config.weight_sharing,
        "tie_word_embeddings": config.tie_word_embeddings,
        "init": init,
        "decoder_layer_types": config.decoder_layer_types,
        "mapping": mapping,
        "folded": folded,
        "random": random,
        "identity": identity,
        "tensors": {
            "from_source": len(from_source),
            "copied": modes.count("copied"),
            "tied": modes.count("tied"),
            "folded": len(folded),
            "random": len(random),
            "identity": len(identity),
        },
        "parameters": {
            "total": sum(p.numel() for p in unique.values()),
            "encoder": sum(p.numel() for k, p in unique.items() if k in encoder_ids),
            "decoder": sum(p.numel() for k, p in unique.items() if k not in encoder_ids),
            "embeddings": sum(p.numel() for k, p in unique.items() if k in embedding_ids),
            "shared_with_encoder": shared,
        },
    }


def load_encoder(path_or_name: str | os.PathLike, dtype: str = "auto") -> PreTrainedModel:
    """Loads a BERT-family encoder with `AutoModel`, turning the usual failures into `ConversionError`s.

    `dtype` is a key of `SEED_DTYPES`: `"auto"` keeps the checkpoint's dtype, the others load in that dtype.

    Example:

    ```python
    >>> encoder = load_encoder("path/to/xlm-roberta-base")  # doctest: +SKIP
    ```
    """
    path = os.fspath(path_or_name)
    check_dtype(dtype)
    if is_local(path, "Source") and not os.path.isdir(path):
        raise ConversionError(
            f"Source {path!r} is a file: give the folder that holds config.json and the weights."
        )
    try:
        config = AutoConfig.from_pretrained(path)
    # StrictDataclassError: a field of the wrong type; its message spans lines
    except (OSError, ValueError, KeyError, StrictDataclassError) as error:
        reason = " ".join(str(error).split())
        raise ConversionError(f"Cannot read a transformers config from {path!r}: {reason}") from error
    _check_source(config, repr(path))
    if os.path.isdir(
        path
    ):  # a truncated or missing weights file: one line, before transformers loads anything
        try:
            check_checkpoint_files(path, "Source")
        except IncompleteCheckpointError as error:
            raise ConversionError(str(error)) from error
    try:
        # ignore_mismatched_sizes: a tensor whose shape differs from the config's is reported (below, by name and
        # shapes) instead of failing with transformers' pointer to a load report that is not shown.
        model, info = AutoModel.from_pretrained(
            path,
            add_pooling_layer=False,
            output_loading_info=True,
            ignore_mismatched_sizes=True,
            dtype=SEED_DTYPES[dtype],
        )
    except Exception as error:  # corrupt or truncated weights surface as many exception types
        raise ConversionError(
            f"Cannot load the weights of {path!r} ({type(error).__name__}: {error}). The file may be corrupt or "
            "truncated: download or export it again."
        ) from error
    _check_loading_info(path, config, info)
    return model


def check_dtype(dtype: str) -> None:
    """Refuses a `--dtype` that is not one of `SEED_DTYPES`."""
    if dtype not in SEED_DTYPES:
        raise ConversionError(f"--dtype {dtype!r} is not one of {', '.join(SEED_DTYPES)}.")


def is_local(path: str, what: str) -> bool:
    """True for an existing file or folder, False for a Hub id (`owner/name`); anything else is a mistyped path
    and fails here, before any network call (a Hub lookup would spend half a minute on retries)."""
    if os.path.exists(path):
        return True
    if HUB_ID.fullmatch(path) and not os.path.isabs(path):
        return False
    raise ConversionError(
        f"{what} {path!r}: no such folder (it does not exist here and is not a Hub id of the form owner/name); "
        "check the path, or give a Hub id with its owner (e.g. FacebookAI/xlm-roberta-base, not xlm-roberta-base)."
    )


def _check_loading_info(path: str, config: Any, info: dict) -> None:
    """Refuses weights that do not fit the config: shape mismatches, more layers than declared, missing tensors."""
    mismatched = info.get("mismatched_keys") or []
    if mismatched:
        name, in_file, in_config = min(mismatched, key=lambda row: row[0])
        more = f" (and {len(mismatched) - 1} more tensors)" if len(mismatched) > 1 else ""
        raise ConversionError(
            f"The weights of {path!r} do not fit its config.json: {name} has shape {tuple(in_file)} in the "
            f"weights but {tuple(in_config)} by the config{more}; fix config.json (e.g. hidden_size, "
            "intermediate_size, vocab_size) to match the weights."
        )
    layers = [int(m.group(1)) for k in info.get("unexpected_keys") or [] if (m := _LAYER_KEY.search(k))]
    if layers:
        declared = config.num_hidden_layers
        raise ConversionError(
            f"The weights of {path!r} hold {max(layers) + 1} encoder layers but its config.json declares "
            f"num_hidden_layers={declared}: converting would drop {max(layers) + 1 - declared} layers; fix "
            "num_hidden_layers in config.json."
        )
    missing = info.get("missing_keys") or []
    if missing:  # transformers would initialise them randomly: a seed built on that is silently broken
        names = ", ".join(sorted(missing)[:5]) + (", ..." if len(missing) > 5 else "")
        raise ConversionError(
            f"The weights of {path!r} lack {len(missing)} encoder tensors ({names}): the checkpoint is incomplete "
            "or belongs to another architecture; download or export it again."
        )


def _probe_batch(
    tokenizer: Any, vocab_size: int, allowed_ids: Sequence[int] | None = None
) -> dict[str, torch.Tensor]:
    """A padded batch of two rows: probe text through `tokenizer`, else random ids (from `allowed_ids` if given).

    The second row is shorter, so padding (and its masking) is part of every check."""
    if tokenizer is not None and allowed_ids is None:
        text = ["Shared weights for extremely low-resource languages.", "བོད་ཡིག ئۇيغۇرچە 中文"]
        batch = tokenizer(text, padding=True, return_tensors="pt")
        return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    generator = torch.Generator().manual_seed(0)
    pool = torch.tensor(list(allowed_ids) if allowed_ids is not None else range(vocab_size))
    pool = pool[pool >= 4] if (pool >= 4).any() else pool  # leave out <s> <pad> </s> <unk>-like low ids
    ids = pool[torch.randint(len(pool), (2, 12), generator=generator)]
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def verify_encoder(
    source: PreTrainedModel,
    model: XLMSWCMForConditionalGeneration,
    tokenizer: Any = None,
    kept_ids: Sequence[int] | None = None,
) -> tuple[float, float]:
    """Runs the source encoder and the converted one on the same probe batch; returns `(max abs difference over
    non-padding positions, allowed difference)`.

    `kept_ids` (after vocabulary trimming: the old id of each new id) makes the probe use kept tokens only and
    feeds the converted model the new ids. The source's pad id is used for padding.

    Example:

    ```python
    >>> diff, tolerance = verify_encoder(source, model)  # doctest: +SKIP
    >>> diff <= tolerance  # doctest: +SKIP
    True
    ```
    """
    source_pad = source.base_model.config.pad_token_id
    source_vocab = source.base_model.config.vocab_size
    allowed = None if kept_ids is None else [i for i in kept_ids if i < source_vocab]  # not the added tokens
    batch = _probe_batch(tokenizer, source_vocab, allowed)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    ids = ids.masked_fill(mask == 0, source_pad if source_pad is not None else 0)
    new_ids = ids
    if kept_ids is not None:
        lookup = {old: new for new, old in enumerate(kept_ids)}
        new_ids = ids.clone().apply_(lambda i: lookup[i])
    source_mode, model_mode = source.training, model.training
    source.eval()
    model.eval()
    try:
        with torch.no_grad():
            expected = source.base_model(
                input_ids=ids.to(source.device), attention_mask=mask.to(source.device)
            )
            actual = model.get_encoder()(
                input_ids=new_ids.to(model.device), attention_mask=mask.to(model.device)
            )
    finally:
        source.train(source_mode)
        model.train(model_mode)
    expected, actual = expected.last_hidden_state.float().cpu(), actual.last_hidden_state.float().cpu()
    keep = mask.bool()
    diff = (expected[keep] - actual[keep]).abs().max().item()
    dtype = model.get_encoder().embeddings.word_embeddings.weight.dtype
    scale = max(1.0, expected[keep].abs().max().item())
    return diff, VERIFY_TOLERANCE.get(dtype, VERIFY_TOLERANCE_HALF) * scale


def _verify_mapping(model: XLMSWCMForConditionalGeneration, init: str | None = None) -> list[str]:
    """Names of decoder tensors that do not start where recipe `init` says (should be none): copies and folds are
    recomputed from the encoder's tensors, identity LayerNorms checked."""
    params = dict(model.model.named_parameters(remove_duplicate=False))
    broken = []
    for target, source in init_plan(model.config, init).items():
        if source == RANDOM:
            continue
        if source == IDENTITY:
            expected = torch.full_like(params[target], 1.0 if target.endswith("weight") else 0.0)
        elif isinstance(source, Folded):
            expected = folded_value(source, params)
        else:
            expected = params[source]
        if not torch.equal(params[target], expected):
            broken.append(target)
    return broken


def _format_size(size: int) -> str:
    return f"{size:,} bytes ({size / 2**20:.1f} MiB)"


def format_report(report: dict) -> str:
    """Human-readable conversion report (what `xlm-swcm-convert` prints).

    Example:

    ```python
    >>> print(format_report(report))  # doctest: +SKIP
    source: path/to/xlm-roberta-base (xlm-roberta)
    ...
    ```
    """
    layer_types = report["decoder_layer_types"]
    lines = [
        f"source: {report['source']} ({report.get('source_model_type')})",
        f"layout: insert_every={report['insert_every']} trailing_normal_layer={report['trailing_normal_layer']} "
        f"-> {len(layer_types)} decoder layers ({layer_types.count('normal')} normal: "
        f"{[j for j, kind in enumerate(layer_types) if kind == 'normal']})",
        f"weight sharing: {report['weight_sharing']}",
    ]
    # One line per decoder layer: "decoder.layers.0: self_attn <- encoder.layers.0.attention [copied], ..."
    groups: dict[str, dict[str, str]] = {}
    for row in report["mapping"]:
        target, source = (row[k].removeprefix("model.").rsplit(".", 1)[0] for k in ("decoder", "encoder"))
        parts = target.split(".")
        if parts[:2] == ["decoder", "layers"]:
            group, block = ".".join(parts[:3]), parts[3]
            if not block.endswith("layer_norm"):
                source = source.rsplit(".", 1)[0]  # qkv/o_proj/fc1/fc2 -> their attention/ffn block
        elif parts[:2] == ["decoder", "embeddings"]:
            group, block, source = "decoder.embeddings", "", "encoder.embeddings"
        else:
            group, block = target, ""
        groups.setdefault(group, {})[block] = f"{source} [{row['mode']}]"
    lines.append("mapping (decoder <- encoder):")
    for group, blocks in groups.items():
        lines.append(f"  {group}: " + ", ".join(f"{b} <- {s}" if b else f"<- {s}" for b, s in blocks.items()))
    t = report["tensors"]
    lines.append(
        f"tensors: {t['from_source']} encoder tensors from the source; decoder/LM head: {t['copied']} copied, "
        f"{t['tied']} tied, {t['random']} random (normal layers)"
    )
    p = report["parameters"]
    lines.append(
        f"parameters: total {p['total']:,} (encoder {p['encoder']:,} incl. embeddings {p['embeddings']:,}; "
        f"decoder-only {p['decoder']:,})"
    )
    if p.get("shared_with_encoder"):
        lines.append(
            f"  tie mode: {p['shared_with_encoder']:,} decoder parameters are the encoder's (stored once); "
            f"copy mode would have {p['total'] + p['shared_with_encoder']:,}"
        )
    for key, label in (("language_tokens", "language tokens"), ("trim_vocab", "trimmed vocabulary")):
        if key in report:
            lines.append(f"{label}: {report[key]}")
    if "extend_vocab" in report:
        ext = report["extend_vocab"]
        lines.append(
            f"extended vocabulary: +{ext['pieces_added']} pieces ({ext['vocab_size_before']:,} -> "
            f"{ext['vocab_size_after']:,}); <unk> rate {ext['unk_rate_before']} -> {ext['unk_rate_after']}"
        )
    if "vocab_size" in report:
        lines.append(f"vocabulary: {report['vocab_size']:,} tokens")
    if "file_size_bytes" in report:
        lines.append(f"weights file: {_format_size(report['file_size_bytes'])}")
    return "\n".join(lines)


def _read_corpus(path: str) -> list[str]:
    if not os.path.isfile(path):
        raise ConversionError(
            f"Corpus {path!r} does not exist: give a UTF-8 text file, one sentence per line."
        )
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except UnicodeDecodeError as error:
        raise ConversionError(f"Corpus {path!r} is not UTF-8 text ({error}).") from error
    if not lines:
        raise ConversionError(f"Corpus {path!r} is empty: give a UTF-8 text file, one sentence per line.")
    return lines


def has_tokenizer_files(folder: str) -> bool:
    """Whether a local folder holds any tokenizer file (see TOKENIZER_FILES)."""
    return any(os.path.isfile(os.path.join(folder, name)) for name in TOKENIZER_FILES)


def load_tokenizer(path: str, model_type: str | None = None, required: bool = True) -> Any:
    """The one tokenizer loader of the package: a folder / Hub id (AutoTokenizer) or a single XLM-R tokenizer.json.
    None when there is none and it is not `required`; a `ConversionError` that says what to pass otherwise.
    `model_type` (of the model the tokenizer belongs to) refuses a bare tokenizer.json for a non-XLM-R model.

    Example:

    ```python
    >>> tokenizer = load_tokenizer("path/to/xlm-roberta-base")  # doctest: +SKIP
    ```
    """
    give = "give --tokenizer a tokenizer folder or an XLM-R tokenizer.json"
    if is_local(path, "Tokenizer") and os.path.isdir(path) and not has_tokenizer_files(path):
        if required:
            raise ConversionError(
                f"No tokenizer at {path!r} (none of {', '.join(TOKENIZER_FILES)}), and one is needed here: {give}."
            )
        return None
    if os.path.isfile(path):
        _check_tokenizer_json(path, give)
    try:
        if os.path.isfile(path):
            if model_type not in (None, "xlm-roberta", "camembert", "xlm-swcm"):
                raise ConversionError(
                    f"A bare tokenizer.json is read as an XLM-R (SentencePiece) tokenizer, but the source is "
                    f"{model_type!r}: pass a tokenizer folder (with tokenizer_config.json) instead."
                )
            return XLMRobertaTokenizer(tokenizer_file=path)
        return AutoTokenizer.from_pretrained(path)
    except ConversionError:
        raise
    except Exception as error:
        if required or os.path.isfile(path):
            reason = " ".join(str(error).split())
            raise ConversionError(
                f"No usable tokenizer at {path!r} ({type(error).__name__}: {reason}); {give}."
            ) from error
        return None


def _check_tokenizer_json(path: str, give: str) -> None:
    """A file given as the tokenizer must be a tokenizer.json: readable JSON with the tokenizers library's
    `model` entry. A config.json or tokenizer_config.json (valid JSON, but not a tokenizer) is named as such."""
    if not path.endswith(".json"):
        raise ConversionError(f"Tokenizer {path!r} is a file but not a tokenizer.json: {give}.")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ConversionError(f"Tokenizer {path!r} is not UTF-8 text ({error}): {give}.") from error
    except ValueError as error:
        raise ConversionError(f"Tokenizer {path!r} is not valid JSON ({error}): {give}.") from error
    if not isinstance(data, dict) or "model" not in data:
        folder = os.path.dirname(path) or "."
        hint = f" (such as {folder!r})" if has_tokenizer_files(folder) else ""
        raise ConversionError(
            f'Tokenizer {path!r} is a JSON file but not a tokenizer.json (it has no "model" entry)'
            f": give --tokenizer the folder that holds the tokenizer files{hint} or its tokenizer.json."
        )


def convert(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    insert_every: int = 3,
    trailing_normal_layer: bool = False,
    weight_sharing: str = "copy",
    seed: int = 0,
    tie_word_embeddings: bool = True,
    tokenizer_path: str | None = None,
    language_tokens: Sequence[str] = (),
    extend_vocab: str | None = None,
    new_pieces: int = 2000,
    trim_vocab: str | None = None,
    keep_top: int | None = None,
    verify: bool = False,
    overwrite: bool = False,
    log: Callable[[str], Any] = print,
    warn: Callable[[str], Any] | None = None,
    on_written: Callable[[], Any] | None = None,
    init: str | None = None,
    dtype: str = "auto",
    stream: bool = False,
) -> dict:
    """Converts the encoder at `source` into a seed checkpoint folder `out` (weights, config, code files for
    `trust_remote_code`, generation config, tokenizer, `swcm_conversion.json`); returns the report.

    Vocabulary options run in this order: `extend_vocab` (a corpus file: learn `new_pieces` pieces for text the
    vocabulary turns into <unk>), `language_tokens` (e.g. `["bo", "ug"]` -> `<bo>`, `<ug>`), `trim_vocab` (a corpus
    file: keep only the tokens it uses, at most `keep_top` of them, plus special and language tokens). `verify`
    checks that the converted encoder reproduces the source's outputs, before and after saving. `out` is written
    all at once: on any error or interruption nothing is left at `out`. `dtype` (`SEED_DTYPES`) is the seed's
    dtype: `"auto"` keeps the source's, `"bfloat16"` / `"float16"` halve a float32 source. `stream` writes the seed
    tensor by tensor from a local safetensors folder (`xlm_swcm.streaming`), never holding the model: no vocabulary
    options then, and `verify` loads the source and the seed in full after writing. `log` gets the progress
    lines and the report, `warn` (default: stderr) the warnings; `on_written` is called as soon as `out` is complete.

    Example:

    ```python
    >>> report = convert("FacebookAI/xlm-roberta-base", "seed", weight_sharing="tie", language_tokens=["bo", "ug"])  # doctest: +SKIP
    ```
    """
    out = Path(out)
    warn = warn or _print_stderr
    # Every check that needs no model comes first, so a refused run costs nothing.
    check_output(out, {"source": source, "--tokenizer": tokenizer_path, "--extend-vocab": extend_vocab,
                       "--trim-vocab": trim_vocab})  # fmt: skip
    check_overwrite(out, overwrite)
    check_arguments(
        insert_every=insert_every, new_pieces=new_pieces, keep_top=keep_top, trim_vocab=trim_vocab
    )
    try:  # codes such as `pad` are refused by name here; a clash with the vocabulary once the tokenizer is read
        vocab.check_language_codes(None, language_tokens)
    except ValueError as error:
        raise ConversionError(f"--add-language-tokens: {error}") from error
    check_dtype(dtype)
    if stream and (language_tokens or extend_vocab or trim_vocab):
        raise ConversionError(
            "--add-language-tokens, --extend-vocab and --trim-vocab change the whole model in memory and do not "
            "stream: drop --stream (the conversion then needs memory for the whole seed)."
        )
    is_local(os.fspath(source), "Source")  # a mistyped path fails here, not after a Hub lookup
    if tokenizer_path is not None:
        is_local(os.fspath(tokenizer_path), "Tokenizer")
    started = time.perf_counter()

    def stage(text: str) -> None:
        log(f"[{time.perf_counter() - started:6.1f}s] {text}")

    if stream:
        return _convert_streaming(
            source,
            out,
            stage,
            dict(
                insert_every=insert_every,
                trailing_normal_layer=trailing_normal_layer,
                weight_sharing=weight_sharing,
                seed=seed,
                tie_word_embeddings=tie_word_embeddings,
                init=init,
                dtype=dtype,
            ),
            tokenizer_path=tokenizer_path,
            verify=verify,
            overwrite=overwrite,
            log=log,
            warn=warn,
            on_written=on_written,
        )
    stage(f"loading the encoder from {os.fspath(source)} ...")
    encoder = load_encoder(source, dtype)
    stage(
        f"loaded {encoder.config.model_type} encoder: {encoder.num_parameters():,} parameters, "
        f"{str(encoder.dtype).removeprefix('torch.')}"
    )
    needs_tokenizer = bool(language_tokens or extend_vocab or trim_vocab)
    tokenizer = load_tokenizer(
        os.fspath(tokenizer_path or source), encoder.config.model_type, required=needs_tokenizer
    )
    if tokenizer is None:
        log(
            f"note: no tokenizer found at {os.fspath(tokenizer_path or source)!r}; {out} gets none "
            "(pass --tokenizer to add one)."
        )
    elif len(tokenizer) > encoder.config.vocab_size:
        raise ConversionError(
            f"The tokenizer has {len(tokenizer):,} tokens but the encoder's embedding only "
            f"{encoder.config.vocab_size:,} rows: pass the tokenizer that belongs to the source (--tokenizer)."
        )
    if tokenizer is not None and language_tokens:  # before the seed is built: <unk>, an existing piece, ...
        try:
            vocab.check_language_codes(tokenizer, language_tokens)
        except ValueError as error:
            raise ConversionError(f"--add-language-tokens: {error}") from error
    overrides = {} if tokenizer is None else special_token_ids(tokenizer)
    stage(f"building the seed (insert_every={insert_every}, weight_sharing={weight_sharing}) ...")
    model, seed_report = build_seed(
        encoder,
        insert_every=insert_every,
        trailing_normal_layer=trailing_normal_layer,
        weight_sharing=weight_sharing,
        seed=seed,
        tie_word_embeddings=tie_word_embeddings,
        init=init,
        **overrides,
    )
    init = seed_report["init"]  # the recipe actually used (the mode's default when none was given)
    if "normal" not in model.config.decoder_layer_types:
        warn(
            f"warning: --insert-every {insert_every} >= the encoder's {encoder.config.num_hidden_layers} layers: "
            "the decoder gets no normal (randomly initialised) layer; pass a smaller --insert-every or "
            "--trailing-normal-layer if you want one."
        )
    if tokenizer is not None and tokenizer.model_max_length > 10**8:
        # A bare tokenizer.json carries no length limit; the model's is its number of positions.
        tokenizer.model_max_length = model.config.max_position_embeddings - model.config.position_offset
    if verify:
        stage("verifying the converted encoder against the source ...")
        _verify_in_memory(encoder, model, tokenizer, log)

    vocab_notes: dict[str, Any] = {}
    if needs_tokenizer:
        stage("vocabulary options ...")
        tokenizer, vocab_notes = _vocabulary_options(
            tokenizer, model, language_tokens, extend_vocab, new_pieces, trim_vocab, keep_top
        )
    kept = vocab_notes.pop("kept_ids", None)

    report = conversion_report(model, encoder, init)
    report["source"] = os.fspath(source)
    report.update(vocab_notes)

    def fill(folder: Path) -> None:
        _save_checkpoint(folder, model, tokenizer, report)
        if verify:  # what was written, not what is in memory, must reproduce the source encoder
            _verify_saved(folder, encoder, init, kept, log)

    stage(f"writing {out} ...")
    write_atomically(out, overwrite, _explaining_full_disk(fill, out, model), on_done=on_written)
    log(format_report(report))
    stage(f"saved to {out}")
    return report


def _convert_streaming(
    source: str | os.PathLike,
    out: Path,
    stage: Callable[[str], None],
    seed_args: dict[str, Any],
    *,
    tokenizer_path: str | None,
    verify: bool,
    overwrite: bool,
    log: Callable[[str], Any],
    warn: Callable[[str], Any],
    on_written: Callable[[], Any] | None,
) -> dict:
    """`convert(..., stream=True)`: `xlm_swcm.streaming.stream_seed` into the temporary folder, then the tokenizer,
    the report and (with `verify`) the checks of the saved checkpoint, all written atomically."""
    from .streaming import SourceReader, StreamingError, seed_dtype, stream_seed

    path = os.fspath(source)
    if not os.path.isdir(path):
        raise ConversionError(
            f"--stream reads a local folder and {path!r} is not one: download it first (hf download {path} "
            "--local-dir DIR) or drop --stream."
        )
    try:
        source_config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError, KeyError, StrictDataclassError) as error:
        reason = " ".join(str(error).split())
        raise ConversionError(f"Cannot read a transformers config from {path!r}: {reason}") from error
    _check_source(source_config, repr(path))
    try:
        reader = SourceReader(path)  # refuses a folder without safetensors weights before anything is written
    except StreamingError as error:
        raise ConversionError(str(error)) from None
    tokenizer = load_tokenizer(os.fspath(tokenizer_path or source), source_config.model_type, required=False)
    if tokenizer is None:
        log(f"note: no tokenizer found at {os.fspath(tokenizer_path or source)!r}; {out} gets none.")
    elif len(tokenizer) > source_config.vocab_size:
        raise ConversionError(
            f"The tokenizer has {len(tokenizer):,} tokens but the encoder's embedding only "
            f"{source_config.vocab_size:,} rows: pass the tokenizer that belongs to the source (--tokenizer)."
        )
    overrides = {} if tokenizer is None else special_token_ids(tokenizer)
    config = XLMSWCMConfig.from_encoder_config(
        source_config,
        **{k: seed_args[k] for k in ("insert_every", "trailing_normal_layer", "weight_sharing")},
        **overrides,
    )
    with torch.device("meta"):  # the layout alone, for the size a full disk needs
        layout = XLMSWCMForConditionalGeneration(config).to(
            seed_dtype(seed_args["dtype"], source_config, reader)
        )
    report: dict[str, Any] = {}

    def fill(folder: Path) -> None:
        stage(f"streaming the seed into {out} (one tensor at a time) ...")
        try:
            model, seed_report = stream_seed(path, folder, **seed_args, **overrides)
        except StreamingError as error:
            raise ConversionError(str(error)) from None
        if "normal" not in model.config.decoder_layer_types:
            warn(
                f"warning: --insert-every {seed_args['insert_every']} >= the encoder's "
                f"{model.config.num_hidden_layers} layers: the decoder gets no normal (randomly initialised) layer; "
                "pass a smaller --insert-every or --trailing-normal-layer if you want one."
            )
        if tokenizer is not None:
            if tokenizer.model_max_length > 10**8:
                tokenizer.model_max_length = (
                    model.config.max_position_embeddings - model.config.position_offset
                )
            tokenizer.save_pretrained(folder)
        report.update(seed_report, source=path)
        report["file_size_bytes"] = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
        (folder / REPORT_FILE).write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if verify:
            stage(
                "verifying: loads the source and the saved seed in full (memory for both, unlike --stream) ..."
            )
            _verify_saved(folder, load_encoder(path, seed_args["dtype"]), seed_report["init"], None, log)

    write_atomically(out, overwrite, _explaining_full_disk(fill, out, layout), on_done=on_written)
    log(format_report(report))
    stage(f"saved to {out}")
    return report


def special_token_ids(tokenizer: Any) -> dict[str, int]:
    """A seed config's `pad/bos/eos/decoder_start_token_id` from the tokenizer, the authority on them (BERT configs,
    for one, carry no bos/eos); the decoder starts from `</s>` (or `[SEP]`). Ids the tokenizer lacks are left out.

    >>> special_token_ids(xlmr_tokenizer)  # doctest: +SKIP
    {'pad_token_id': 1, 'bos_token_id': 0, 'eos_token_id': 2, 'decoder_start_token_id': 2}
    """
    ids = {
        name: getattr(tokenizer, name)
        for name in ("pad_token_id", "bos_token_id", "eos_token_id")
        if getattr(tokenizer, name, None) is not None
    }
    start = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    if start is not None:
        ids["decoder_start_token_id"] = start
    return ids


def _verify_in_memory(
    encoder: PreTrainedModel,
    model: XLMSWCMForConditionalGeneration,
    tokenizer: Any,
    log: Callable[[str], Any],
) -> None:
    """--verify before saving: the converted encoder reproduces the source's outputs."""
    diff, tolerance = verify_encoder(encoder, model, tokenizer)
    log(f"verify: converted encoder vs source, max abs difference {diff:.3g} (allowed {tolerance:.3g})")
    if not diff <= tolerance:
        raise ConversionError(
            f"--verify failed: the converted encoder's outputs differ from the source's by {diff:.3g} "
            f"(allowed {tolerance:.3g}); the conversion is broken, nothing was written."
        )


def _vocabulary_options(
    tokenizer: Any,
    model: XLMSWCMForConditionalGeneration,
    language_tokens: Sequence[str],
    extend_vocab: str | None,
    new_pieces: int,
    trim_vocab: str | None,
    keep_top: int | None,
) -> tuple[Any, dict[str, Any]]:
    """--extend-vocab, --add-language-tokens and --trim-vocab through `vocab.adapt_vocabulary`; a failure of the
    surgery becomes a ConversionError."""
    try:
        return vocab.adapt_vocabulary(
            tokenizer,
            model,
            extend_corpus=_read_corpus(extend_vocab) if extend_vocab else None,
            languages=language_tokens,
            trim_corpus=_read_corpus(trim_vocab) if trim_vocab else None,
            new_pieces=new_pieces,
            keep_top=keep_top,
        )
    except ConversionError:
        raise
    except (TypeError, ValueError) as error:
        raise ConversionError(f"Vocabulary option failed: {error}") from error


def _save_checkpoint(
    folder: Path, model: XLMSWCMForConditionalGeneration, tokenizer: Any, report: dict
) -> None:
    """Weights, config, code files, tokenizer and the report (with the weights' size) into `folder`."""
    model.save_pretrained(folder)
    if tokenizer is not None:
        tokenizer.save_pretrained(folder)
    report["file_size_bytes"] = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
    (folder / REPORT_FILE).write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _verify_saved(
    folder: Path, encoder: PreTrainedModel, init: str, kept: Sequence[int] | None, log: Callable[[str], Any]
) -> None:
    """--verify after saving: the reloaded checkpoint starts where the plan says and reproduces the source."""
    reloaded = XLMSWCMForConditionalGeneration.from_pretrained(folder)
    broken = _verify_mapping(reloaded, init)
    if broken:
        raise ConversionError(
            f"--verify failed after saving: {len(broken)} decoder tensors differ from their encoder "
            f"source (first: {broken[0]})."
        )
    diff, tolerance = verify_encoder(encoder, reloaded, None, kept)
    log(f"verify: saved checkpoint vs source, max abs difference {diff:.3g} (allowed {tolerance:.3g})")
    if not diff <= tolerance:
        raise ConversionError(f"--verify failed after saving: encoder differs by {diff:.3g}.")


def _explaining_full_disk(
    fill: Callable[[Path], None], out: Path, model: XLMSWCMForConditionalGeneration
) -> Callable[[Path], None]:
    """`fill`, with a full disk reported as a DiskFullError that says how much space the checkpoint needs."""

    def fill_or_explain(folder: Path) -> None:
        try:
            fill(folder)
        except Exception as error:  # safetensors reports a full disk as its own SafetensorError
            if _is_disk_full(error):
                needed = sum(
                    p.numel() * p.element_size() for p in {id(p): p for p in model.parameters()}.values()
                )
                raise DiskFullError(
                    errno.ENOSPC,
                    f"no space left on {out} (needed ~{needed / 1e6:,.1f} MB); free some space or "
                    "choose another output folder. Nothing was written.",
                ) from error
            raise

    return fill_or_explain


class DiskFullError(OSError):
    """The output file system is full; the message says how much space the checkpoint needs."""


def _is_disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno == errno.ENOSPC
    text = str(error)
    return "No space left on device" in text or "StorageFull" in text or "os error 28" in text


def check_arguments(
    *, insert_every: int, new_pieces: int, keep_top: int | None, trim_vocab: str | None
) -> None:
    """Argument checks that need no model, done before the (slow) loading."""
    if not isinstance(insert_every, int) or insert_every < 1:
        raise ConversionError(
            f"--insert-every must be at least 1 (a normal layer after every X custom layers), got {insert_every}."
        )
    if not isinstance(new_pieces, int) or new_pieces < 1:
        raise ConversionError(f"--new-pieces must be at least 1, got {new_pieces}.")
    if keep_top is not None and not trim_vocab:
        raise ConversionError("--keep-top only applies with --trim-vocab CORPUS.")
    if keep_top is not None and keep_top < MIN_KEEP_TOP:
        raise ConversionError(
            f"--keep-top {keep_top} is too small: the model could not write text with fewer than {MIN_KEEP_TOP} "
            "tokens (special and language tokens are kept on top); give at least "
            f"{MIN_KEEP_TOP}, or leave it out to keep every token the corpus uses."
        )


def _print_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    """The `xlm-swcm-convert` argument parser."""
    parser = argparse.ArgumentParser(
        prog="xlm-swcm-convert",
        description="Convert an XLM-R-family encoder (XLM-R, CINO, RoBERTa, BERT) into an XLM-SWCM seed checkpoint.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "source", help="encoder folder (or Hub id owner/name) loadable with transformers.AutoModel"
    )
    parser.add_argument("out", help="output folder (must not exist unless --overwrite)")
    parser.add_argument(
        "--insert-every", type=int, default=3, help="X: a normal layer after every X custom layers"
    )
    parser.add_argument(
        "--trailing-normal-layer", action="store_true", help="also a normal layer after the last custom layer"
    )
    parser.add_argument(
        "--weight-sharing",
        choices=["copy", "tie"],
        default="copy",
        help="copy: the decoder gets independent copies (default); tie: it uses the encoder's tensors",
    )
    parser.add_argument(
        "--init",
        choices=INIT_RECIPES,
        default=None,
        help=f"where the custom decoder layers start (default: {DEFAULT_INIT} with copy, {DEFAULT_TIE_INIT} with tie; "
        "see the conversion guide, 'Initialisation recipes')",
    )
    parser.add_argument(
        "--untie-lm-head", action="store_true", help="LM head as a copy of, not tied to, embeddings"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the normal layers' random initialisation"
    )
    parser.add_argument(
        "--tokenizer", help="tokenizer folder or XLM-R tokenizer.json (default: the source folder)"
    )
    parser.add_argument(
        "--add-language-tokens", default="", help="comma-separated codes, e.g. bo,ug,kk,mn,zh"
    )
    parser.add_argument(
        "--extend-vocab", metavar="CORPUS", help="learn new pieces for text the vocabulary misses"
    )
    parser.add_argument("--new-pieces", type=int, default=2000, help="with --extend-vocab: pieces to learn")
    parser.add_argument(
        "--trim-vocab", metavar="CORPUS", help="keep only the tokens CORPUS uses (+ special tokens)"
    )
    parser.add_argument(
        "--keep-top",
        type=int,
        help=f"with --trim-vocab: keep only the N (>= {MIN_KEEP_TOP}) most frequent tokens (default: all used)",
    )
    parser.add_argument(
        "--dtype",
        choices=list(SEED_DTYPES),
        default="auto",
        help="dtype of the seed: auto keeps the source's (config.json's dtype, else its weights'); bfloat16 or "
        "float16 halve a float32 source",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="read the source (a local safetensors folder) and write the seed one tensor at a time, in shards with "
        "an index: memory for the largest tensor, not the model; no vocabulary options; --verify then loads both",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="check that the converted encoder reproduces the source's outputs",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors")
    output.add_argument(
        "--verbose", action="store_true", help="also show transformers' messages and progress bars"
    )
    return parser


def _print_flush(text: str) -> None:
    print(text, flush=True)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point `xlm-swcm-convert`; returns the exit status (0 ok, 2 bad input, 130 interrupted).

    Example:

    ```python
    >>> main(["path/to/xlm-roberta-base", "seed", "--weight-sharing", "tie", "--verify"])  # doctest: +SKIP
    0
    ```
    """
    args = build_parser().parse_args(argv)
    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    if args.verbose:
        hf_logging.enable_progress_bar()
        hf_logging.set_verbosity_info()
    else:
        # The report is the output: no shard-writing bars, and no load report about the source's unused MLM head
        # or pooler (real problems, such as missing weights, raise a ConversionError).
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    written: list[bool] = []  # set as soon as OUT is complete: an interruption after that loses nothing
    # SIGTERM (kill, a job scheduler) cleans up like Ctrl-C: the temporary folder is removed, OUT is untouched.
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        convert(
            args.source,
            args.out,
            insert_every=args.insert_every,
            trailing_normal_layer=args.trailing_normal_layer,
            weight_sharing=args.weight_sharing,
            seed=args.seed,
            tie_word_embeddings=not args.untie_lm_head,
            init=args.init,
            dtype=args.dtype,
            stream=args.stream,
            tokenizer_path=args.tokenizer,
            language_tokens=[code.strip() for code in args.add_language_tokens.split(",") if code.strip()],
            extend_vocab=args.extend_vocab,
            new_pieces=args.new_pieces,
            trim_vocab=args.trim_vocab,
            keep_top=args.keep_top,
            verify=args.verify,
            overwrite=args.overwrite,
            log=(lambda _text: None) if args.quiet else _print_flush,
            on_written=lambda: written.append(True),
        )
    except ValueError as error:  # ConversionError and the config's own checks
        print(f"xlm-swcm-convert: error: {error}", file=sys.stderr)
        return 2
    except DiskFullError as error:
        print(f"xlm-swcm-convert: error: {error.strerror}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"xlm-swcm-convert: error: cannot write {args.out}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if written:
            print(f"xlm-swcm-convert: interrupted after {args.out} was completely written.", file=sys.stderr)
            return 0
        print(f"xlm-swcm-convert: interrupted; nothing was written to {args.out}.", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    return 0


if __name__ == "__main__":
    sys.exit(main())
