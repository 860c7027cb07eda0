# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Turn an XLM-R-family encoder (XLM-R, CINO, RoBERTa, BERT, ...) into an XLM-SWCM seed checkpoint.

`build_seed` builds the seed in memory; `convert(ConvertOptions(...))` is the whole `xlm-swcm-convert` command
(tokenizer, vocabulary options, atomic write, verification). What starts from what, the options and the report are
described in the conversion guide, `conversion/README.md`; the recipes in `xlm_swcm.initialization`.

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

import errno
import functools
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, XLMRobertaTokenizer
from transformers.utils import logging as hf_logging

from . import vocab
from .checkpoint import is_local, load_config
from .configuration_xlm_swcm import ENCODER_POSITION_STYLES, PRE_LAYER_NORM_ENCODERS, XLMSWCMConfig
from .errors import XLMSWCMError
from .initialization import (
    IDENTITY,
    INIT_RECIPES,
    RANDOM,
    Folded,
    default_init,
    folded_value,
    init_plan,
    initial_value,
    seeded_generators,
)
from .modeling_xlm_swcm import XLMSWCMForConditionalGeneration
from .options import OptionsParser, option
from .outputs import check_output, check_overwrite, check_writable, write_atomically
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
TOKENIZER_FILES = tuple(
    "tokenizer.json tokenizer_config.json sentencepiece.bpe.model spiece.model vocab.txt vocab.json".split()
)
# --keep-top: fewer kept corpus tokens than this leaves a model that cannot write text (special and language
# tokens are kept on top of them).
MIN_KEEP_TOP = 100
# The names of earlier releases: every error of the command is an XLMSWCMError (a full disk has exit_code 1).
ConversionError = DiskFullError = XLMSWCMError

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
_EMBEDDINGS = ("word_embeddings", "position_embeddings", "token_type_embeddings")


@dataclass
class ConvertOptions:
    """The options of `xlm-swcm-convert`, one field each: `--insert-every` is `insert_every` (`--help` shows both
    spellings), SOURCE and OUT are the fields without a default. `convert(options)` runs the command.

    >>> options = ConvertOptions("FacebookAI/xlm-roberta-base", "seed", weight_sharing="tie")
    >>> options.insert_every, options.seed_arguments()["tie_word_embeddings"]
    (3, True)
    """

    source: str = option(MISSING, "encoder folder (or Hub id owner/name) loadable by transformers.AutoModel")
    out: str = option(MISSING, "output folder (must not exist unless --overwrite)")
    insert_every: int = option(3, "X: a normal layer after every X custom layers")
    trailing_normal_layer: bool = option(False, "also a normal layer after the last custom layer")
    weight_sharing: Literal["copy", "tie"] = option(
        "copy", "copy: the decoder gets independent copies (default); tie: it uses the encoder's tensors"
    )
    init: str | None = option(
        None,
        f"where the custom decoder layers start (default: {default_init('copy')} with copy, "
        f"{default_init('tie')} with tie; see the conversion guide, 'Initialisation recipes')",
        choices=INIT_RECIPES,
    )
    untie_lm_head: bool = option(False, "LM head as a copy of, not tied to, embeddings")
    seed: int = option(0, "seed of the normal layers' random initialisation")
    tokenizer: str | None = option(None, "tokenizer folder or XLM-R tokenizer.json (default: the source's)")
    add_language_tokens: str = option("", "comma-separated codes, e.g. bo,ug,kk,mn,zh")
    extend_vocab: str | None = option(
        None, "learn new pieces for text the vocabulary misses", metavar="CORPUS"
    )
    new_pieces: int = option(2000, "with --extend-vocab: pieces to learn")
    trim_vocab: str | None = option(
        None, "keep only the tokens CORPUS uses (+ special tokens)", metavar="CORPUS"
    )
    keep_top: int | None = option(
        None,
        f"with --trim-vocab: keep only the N (>= {MIN_KEEP_TOP}) most frequent tokens (default: all used)",
    )
    dtype: str = option(
        "auto",
        "dtype of the seed: auto keeps the source's (config.json's dtype, else its weights'); bfloat16 or "
        "float16 halve a float32 source",
        choices=list(SEED_DTYPES),
    )
    stream: bool = option(
        False,
        "read the source (a local safetensors folder) and write the seed one tensor at a time, in shards with "
        "an index: memory for the largest tensor, not the model; no vocabulary options; --verify then loads both",
    )
    verify: bool = option(False, "check that the converted encoder reproduces the source's outputs")
    overwrite: bool = option(False, "replace OUT if it exists")
    quiet: bool = option(False, "print nothing but warnings and errors")
    verbose: bool = option(False, "also show transformers' messages and progress bars")

    @property
    def language_tokens(self) -> list[str]:
        """The codes of `add_language_tokens` ("bo,ug" -> ["bo", "ug"])."""
        return [code.strip() for code in self.add_language_tokens.split(",") if code.strip()]

    @property
    def changes_vocabulary(self) -> bool:
        return bool(self.language_tokens or self.extend_vocab or self.trim_vocab)

    def seed_arguments(self) -> dict[str, Any]:
        """The arguments of `build_seed` (and `XLMSWCMConfig.from_encoder_config`) these options set."""
        names = ("insert_every", "trailing_normal_layer", "weight_sharing", "seed", "init")
        return {
            **{name: getattr(self, name) for name in names},
            "tie_word_embeddings": not self.untie_lm_head,
        }


def encoder_sources(config: Any) -> dict[str, list[str]]:
    """`{XLMSWCMEncoder parameter: [the source's tensors, concatenated along dim 0]}` for a BERT-family encoder
    `config` (post- or pre-LayerNorm): the one renaming of the conversion, in memory and streamed."""
    pre = getattr(config, "model_type", None) in PRE_LAYER_NORM_ENCODERS
    embeddings = [f"embeddings.{name}.weight" for name in _EMBEDDINGS]
    embeddings += [] if pre else ["embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
    sources = {name: [name] for name in embeddings}
    for i in range(config.num_hidden_layers):
        for ours, theirs in (_PRE_LN_LAYER_MAP if pre else _LAYER_MAP).items():
            for kind in ("weight", "bias"):
                sources[f"layers.{i}.{ours}.{kind}"] = [f"encoder.layer.{i}.{t}.{kind}" for t in theirs]
    for ours, theirs in _PRE_LN_FINAL.items() if pre else ():
        sources.update({f"{ours}.{kind}": [f"{theirs}.{kind}"] for kind in ("weight", "bias")})
    return sources


def fuse(parts: list[torch.Tensor]) -> torch.Tensor:
    """Source tensors concatenated along dim 0 (the fused Q/K/V); a single one as it is, not copied."""
    return torch.cat(parts, dim=0) if len(parts) > 1 else parts[0]


def encoder_state_dict(source: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The weights of a BERT-family encoder renamed (and Q/K/V fused) for `XLMSWCMEncoder`.

    `source` is an `XLMRobertaModel`, `XLMRobertaXLModel` (pre-LayerNorm), `RobertaModel`, `BertModel` or any model
    whose `base_model` is one (for example `XLMRobertaForMaskedLM`); the pooler and task heads are not used.

    >>> from transformers import BertConfig, BertModel
    >>> bert = BertModel(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
    ...                             intermediate_size=16))
    >>> tuple(encoder_state_dict(bert)["layers.0.attention.qkv.weight"].shape)
    (24, 8)
    """
    state = source.base_model.state_dict()
    try:  # the Q/K/V concatenated; the others as they are (no copy)
        return {
            ours: fuse([state[t] for t in theirs])
            for ours, theirs in encoder_sources(source.base_model.config).items()
        }
    except KeyError as error:
        raise XLMSWCMError(
            f"{type(source.base_model).__name__} has no weight {error.args[0]!r}: the source is not a BERT/RoBERTa-style "
            "encoder (expected encoder.layer.N.attention.self.query, ...)."
        ) from None


def apply_init_plan(model: XLMSWCMForConditionalGeneration, plan: dict[str, str | Folded], seed: int) -> None:
    """Sets every decoder tensor where `plan` (`init_plan(model.config, init)`) says it starts, the encoder already
    loaded; random tensors are drawn as `seeded_generators(seed)` says."""
    params = dict(model.model.named_parameters(remove_duplicate=False))
    generators = seeded_generators(seed)
    with torch.no_grad():
        for target, entry in plan.items():
            param = params[target]
            if isinstance(entry, str) and entry in params and param is params[entry]:
                continue  # tie mode: already the encoder's tensor
            param.copy_(
                initial_value(target, entry, params, model.config, param.shape, param.dtype, generators)
            )


def _check_source(config: Any, where: str) -> None:
    model_type = getattr(config, "model_type", None)
    if model_type not in ENCODER_POSITION_STYLES:
        raise XLMSWCMError(
            f"{where} is a {model_type!r} model; XLM-SWCM starts from a BERT-family encoder "
            f"({', '.join(sorted(ENCODER_POSITION_STYLES))}), e.g. xlm-roberta-base, xlm-roberta-xl or CINO."
        )
    if getattr(config, "is_decoder", False):
        raise XLMSWCMError(f"{where} is configured as a decoder (is_decoder=True); give the plain encoder.")
    position_type = getattr(config, "position_embedding_type", None)
    if position_type not in (None, "absolute"):
        raise XLMSWCMError(
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
    """
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
    init = init or default_init(weight_sharing)
    plan = init_plan(config, init)  # refuses a recipe the sharing mode cannot take, before any work
    # Everything the model init draws comes from `seed`, and the caller's RNG is left as it was.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = XLMSWCMForConditionalGeneration(config)
    model.to(dtype=source.dtype, device=source.device)
    try:
        model.model.encoder.load_state_dict(encoder_state_dict(source), strict=True)
    except RuntimeError as error:  # a missing key or a shape mismatch must never pass silently
        raise XLMSWCMError(f"The source encoder's weights do not fit its config: {error}") from error
    apply_init_plan(model, plan, seed)
    if not tie_word_embeddings:
        with torch.no_grad():
            model.lm_head.weight.copy_(model.model.encoder.embeddings.word_embeddings.weight)
    model.eval()
    return model, conversion_report(model, source, init, plan)


def conversion_report(
    model: XLMSWCMForConditionalGeneration,
    source: PreTrainedModel | None = None,
    init: str | None = None,
    plan: dict[str, str | Folded] | None = None,
) -> dict:
    """What each tensor starts from under recipe `init` (whose `plan` is computed when not given), how many tensors
    are copied / tied / folded / random / identity, and parameter counts (a shared tensor counted once).

    `mapping` lists every decoder tensor (and the LM head) that starts from an encoder tensor, with its mode
    (`"copied"` or `"tied"`); `folded` the projections with a LayerNorm folded in; `random` and `identity` the
    tensors drawn at random and the LayerNorms at identity. `tensors` counts them, and the encoder tensors taken
    from the source. The schema is `xlm_swcm.report`'s.
    """
    config = model.config
    init = init or default_init(config.weight_sharing)
    plan = plan or init_plan(config, init)
    params = dict(model.named_parameters(remove_duplicate=False))
    rows = [
        (f"model.{t}", f"model.{s}")
        for t, s in plan.items()
        if isinstance(s, str) and s not in (IDENTITY, RANDOM)
    ]
    rows.append(("lm_head.weight", "model.encoder.embeddings.word_embeddings.weight"))
    mapping = [
        {"decoder": t, "encoder": s, "mode": "tied" if params[t] is params[s] else "copied"} for t, s in rows
    ]
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
    modes = [row["mode"] for row in mapping]
    source_config = getattr(source, "config", None)
    return {
        "source": str(getattr(source_config, "name_or_path", None) or type(source).__name__),
        "source_model_type": getattr(source_config, "model_type", None),
        **{key: getattr(config, key) for key in ("insert_every", "trailing_normal_layer", "weight_sharing")},
        "tie_word_embeddings": config.tie_word_embeddings,
        "init": init,
        "decoder_layer_types": config.decoder_layer_types,
        "mapping": mapping,
        "folded": folded,
        "random": random,
        "identity": identity,
        "tensors": {
            "from_source": sum(name.startswith("model.encoder.") for name in params),
            "copied": modes.count("copied"),
            "tied": modes.count("tied"),
            "folded": len(folded),
            "random": len(random),
            "identity": len(identity),
        },
        "parameters": parameter_counts(model, mapping),
    }


def parameter_counts(model: XLMSWCMForConditionalGeneration, mapping: list[dict]) -> dict[str, int]:
    """The report's `parameters`: total, encoder (with embeddings), decoder-only, embeddings (a shared tensor
    counted once), and `shared_with_encoder`: what copy mode would store a second time for the custom layers."""
    params = dict(model.named_parameters(remove_duplicate=False))
    encoder_ids = {id(p) for p in model.model.encoder.parameters()}
    embedding_ids = {id(p) for p in model.model.encoder.embeddings.parameters()}
    unique = {id(p): p for p in model.parameters()}
    return {
        "total": sum(p.numel() for p in unique.values()),
        "encoder": sum(p.numel() for k, p in unique.items() if k in encoder_ids),
        "decoder": sum(p.numel() for k, p in unique.items() if k not in encoder_ids),
        "embeddings": sum(p.numel() for k, p in unique.items() if k in embedding_ids),
        "shared_with_encoder": sum(
            params[row["decoder"]].numel()
            for row in mapping
            if row["decoder"].startswith("model.decoder.layers.") and row["mode"] == "tied"
        ),
    }


def load_source_config(path: str | os.PathLike) -> Any:
    """The config of the encoder at `path` (a local folder or a Hub id), refused unless XLM-SWCM can start from it,
    and for a folder unless its weights files are complete (`xlm_swcm.checkpoint.load_config`)."""
    return load_config(path, "Source", check=lambda config: _check_source(config, repr(os.fspath(path))))


def load_encoder(path_or_name: str | os.PathLike, dtype: str = "auto") -> PreTrainedModel:
    """Loads a BERT-family encoder with `AutoModel`, turning the usual failures into `XLMSWCMError`s.
    `dtype` is a key of `SEED_DTYPES`: `"auto"` keeps the checkpoint's dtype, the others load in that dtype."""
    path = os.fspath(path_or_name)
    check_dtype(dtype)
    config = load_source_config(path)
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
        raise XLMSWCMError(
            f"Cannot load the weights of {path!r} ({type(error).__name__}: {error}). The file may be corrupt or "
            "truncated: download or export it again."
        ) from error
    _check_loading_info(path, config, info)
    return model


def check_dtype(dtype: str) -> None:
    """Refuses a `--dtype` that is not one of `SEED_DTYPES`."""
    if dtype not in SEED_DTYPES:
        raise XLMSWCMError(f"--dtype {dtype!r} is not one of {', '.join(SEED_DTYPES)}.")


def _check_loading_info(path: str, config: Any, info: dict) -> None:
    """Refuses weights that do not fit the config: shape mismatches, more layers than declared, missing tensors."""
    mismatched = info.get("mismatched_keys") or []
    if mismatched:
        name, in_file, in_config = min(mismatched, key=lambda row: row[0])
        more = f" (and {len(mismatched) - 1} more tensors)" if len(mismatched) > 1 else ""
        raise XLMSWCMError(
            f"The weights of {path!r} do not fit its config.json: {name} has shape {tuple(in_file)} in the "
            f"weights but {tuple(in_config)} by the config{more}; fix config.json (e.g. hidden_size, "
            "intermediate_size, vocab_size) to match the weights."
        )
    layers = [int(m.group(1)) for k in info.get("unexpected_keys") or [] if (m := _LAYER_KEY.search(k))]
    if layers:
        declared = config.num_hidden_layers
        raise XLMSWCMError(
            f"The weights of {path!r} hold {max(layers) + 1} encoder layers but its config.json declares "
            f"num_hidden_layers={declared}: converting would drop {max(layers) + 1 - declared} layers; fix "
            "num_hidden_layers in config.json."
        )
    missing = info.get("missing_keys") or []
    if missing:  # transformers would initialise them randomly: a seed built on that is silently broken
        names = ", ".join(sorted(missing)[:5]) + (", ..." if len(missing) > 5 else "")
        raise XLMSWCMError(
            f"The weights of {path!r} lack {len(missing)} encoder tensors ({names}): the checkpoint is incomplete "
            "or belongs to another architecture; download or export it again."
        )


def _probe_batch(
    tokenizer: Any, vocab_size: int, allowed_ids: Sequence[int] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """A padded batch of two rows, (ids, attention mask): probe text through `tokenizer`, else random ids (from
    `allowed_ids` if given). The second row is shorter, so padding (and its masking) is part of every check."""
    if tokenizer is not None and allowed_ids is None:
        text = ["Shared weights for extremely low-resource languages.", "བོད་ཡིག ئۇيغۇرچە 中文"]
        batch = tokenizer(text, padding=True, return_tensors="pt")
        return batch["input_ids"], batch["attention_mask"]
    generator = torch.Generator().manual_seed(0)
    pool = torch.tensor(list(allowed_ids) if allowed_ids is not None else range(vocab_size))
    pool = pool[pool >= 4] if (pool >= 4).any() else pool  # leave out <s> <pad> </s> <unk>-like low ids
    ids = pool[torch.randint(len(pool), (2, 12), generator=generator)]
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    return ids, mask


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
    """
    config = source.base_model.config
    # the probe's ids: kept tokens of the source's vocabulary (not the added ones) after trimming
    allowed = None if kept_ids is None else [i for i in kept_ids if i < config.vocab_size]
    ids, mask = _probe_batch(tokenizer, config.vocab_size, allowed)
    ids = ids.masked_fill(mask == 0, config.pad_token_id if config.pad_token_id is not None else 0)
    lookup = None if kept_ids is None else {old: new for new, old in enumerate(kept_ids)}.__getitem__
    new_ids = ids if lookup is None else ids.clone().apply_(lookup)
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


def _verify_mapping(model: XLMSWCMForConditionalGeneration, report: dict) -> list[str]:
    """Names of decoder tensors that do not start where the conversion `report` says (should be none): copies and
    folds are recomputed from the encoder's tensors, identity LayerNorms checked."""
    params = dict(model.named_parameters(remove_duplicate=False))
    expected = {
        row["decoder"]: params[row["encoder"]]
        for row in report["mapping"]
        if row["decoder"] != "lm_head.weight"
    }
    for row in report["folded"]:
        expected[row["decoder"]] = folded_value(
            Folded(row["encoder"], row["layer_norm"], row["rows"]), params
        )
    for name in report["identity"]:
        expected[name] = torch.full_like(params[name], 1.0 if name.endswith("weight") else 0.0)
    return [name for name, value in expected.items() if not torch.equal(params[name], value)]


def format_report(report: dict) -> str:
    """The conversion report as `xlm-swcm-convert` prints it (`conversion/README.md`, "The report")."""
    layer_types = report["decoder_layer_types"]
    lines = [
        f"source: {report['source']} ({report.get('source_model_type')})",
        f"layout: insert_every={report['insert_every']} trailing_normal_layer={report['trailing_normal_layer']} "
        f"-> {len(layer_types)} decoder layers ({layer_types.count('normal')} normal: "
        f"{[j for j, kind in enumerate(layer_types) if kind == 'normal']})",
        f"weight sharing: {report['weight_sharing']}",
        "mapping (decoder <- encoder):",
    ]
    for group, blocks in _mapping_groups(report["mapping"]).items():
        lines.append(f"  {group}: " + ", ".join(f"{b} <- {s}" if b else f"<- {s}" for b, s in blocks.items()))
    t, p = report["tensors"], report["parameters"]
    lines.append(
        f"tensors: {t['from_source']} encoder tensors from the source; decoder/LM head: {t['copied']} copied, "
        f"{t['tied']} tied, {t['random']} random (normal layers)"
    )
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
        size = report["file_size_bytes"]
        lines.append(f"weights file: {size:,} bytes ({size / 2**20:.1f} MiB)")
    return "\n".join(lines)


def _mapping_groups(mapping: list[dict]) -> dict[str, dict[str, str]]:
    """The report's mapping by decoder layer and block: `{"decoder.layers.0": {"self_attn": "encoder.layers.0.
    attention [copied]", ...}}`; the embedding block and the LM head are one group each."""
    groups: dict[str, dict[str, str]] = {}
    for row in mapping:
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
    return groups


_GIVE_CORPUS = "give a UTF-8 text file, one sentence per line"


def _check_corpus(path: str) -> None:
    """Refuses a corpus that is missing, a folder or an empty file: before the encoder loads."""
    if os.path.isdir(path):
        raise XLMSWCMError(f"Corpus {path!r} is a folder: {_GIVE_CORPUS}.")
    if not os.path.isfile(path):
        raise XLMSWCMError(f"Corpus {path!r} does not exist: {_GIVE_CORPUS}.")
    if os.path.getsize(path) == 0:
        raise XLMSWCMError(f"Corpus {path!r} is empty: {_GIVE_CORPUS}.")


def _read_corpus(path: str) -> list[str]:
    """The corpus's non-blank lines (`check_arguments` has checked the file with `_check_corpus`)."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except UnicodeDecodeError as error:
        raise XLMSWCMError(f"Corpus {path!r} is not UTF-8 text ({error}).") from error
    if not lines:
        raise XLMSWCMError(f"Corpus {path!r} is empty: {_GIVE_CORPUS}.")
    return lines


def has_tokenizer_files(folder: str) -> bool:
    """Whether a local folder holds any tokenizer file (see TOKENIZER_FILES)."""
    return any(os.path.isfile(os.path.join(folder, name)) for name in TOKENIZER_FILES)


def load_tokenizer(path: str, model_type: str | None = None, required: bool = True) -> Any:
    """The one tokenizer loader of the package: a folder / Hub id (AutoTokenizer) or a single XLM-R tokenizer.json.
    None when there is none and it is not `required`; an `XLMSWCMError` that says what to pass otherwise.
    `model_type` (of the model the tokenizer belongs to) refuses a bare tokenizer.json for a non-XLM-R model."""
    give = "give --tokenizer a tokenizer folder or an XLM-R tokenizer.json"
    if is_local(path, "Tokenizer") and os.path.isdir(path) and not has_tokenizer_files(path):
        if required:
            raise XLMSWCMError(
                f"No tokenizer at {path!r} (none of {', '.join(TOKENIZER_FILES)}), and one is needed here: {give}."
            )
        return None
    if os.path.isfile(path):
        _check_tokenizer_json(path, give)
        if model_type not in (None, "xlm-roberta", "camembert", "xlm-swcm"):
            raise XLMSWCMError(
                f"A bare tokenizer.json is read as an XLM-R (SentencePiece) tokenizer, but the source is "
                f"{model_type!r}: pass a tokenizer folder (with tokenizer_config.json) instead."
            )
    try:
        return (
            XLMRobertaTokenizer(tokenizer_file=path)
            if os.path.isfile(path)
            else AutoTokenizer.from_pretrained(path)
        )
    except Exception as error:
        if required or os.path.isfile(path):
            reason = " ".join(str(error).split())
            raise XLMSWCMError(
                f"No usable tokenizer at {path!r} ({type(error).__name__}: {reason}); {give}."
            ) from error
        return None


def _check_tokenizer_json(path: str, give: str) -> None:
    """A file given as the tokenizer must be a tokenizer.json: readable JSON with the tokenizers library's
    `model` entry. A config.json or tokenizer_config.json (valid JSON, but not a tokenizer) is named as such."""
    if not path.endswith(".json"):
        raise XLMSWCMError(f"Tokenizer {path!r} is a file but not a tokenizer.json: {give}.")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise XLMSWCMError(f"Tokenizer {path!r} is not UTF-8 text ({error}): {give}.") from error
    except ValueError as error:
        raise XLMSWCMError(f"Tokenizer {path!r} is not valid JSON ({error}): {give}.") from error
    if not isinstance(data, dict) or "model" not in data:
        folder = os.path.dirname(path) or "."
        hint = f" (such as {folder!r})" if has_tokenizer_files(folder) else ""
        raise XLMSWCMError(
            f'Tokenizer {path!r} is a JSON file but not a tokenizer.json (it has no "model" entry)'
            f": give --tokenizer the folder that holds the tokenizer files{hint} or its tokenizer.json."
        )


def special_token_ids(tokenizer: Any) -> dict[str, int]:
    """A seed config's `pad/bos/eos/decoder_start_token_id` from the tokenizer, the authority on them (BERT configs,
    for one, carry no bos/eos); the decoder starts from `</s>` (or `[SEP]`). Ids the tokenizer lacks are left out."""
    ids = {
        name: getattr(tokenizer, name)
        for name in ("pad_token_id", "bos_token_id", "eos_token_id")
        if getattr(tokenizer, name, None) is not None
    }
    start = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    if start is not None:
        ids["decoder_start_token_id"] = start
    return ids


def check_arguments(options: ConvertOptions) -> None:
    """Every check that needs no model, before the (slow) loading, in this order: the output folder, the numbers,
    the language codes, the dtype, what --stream cannot do, the corpus files, and the source and tokenizer paths (a
    mistyped path fails here, not after a Hub lookup)."""
    out = Path(options.out)
    check_output(
        out,
        {
            "source": options.source,
            "--tokenizer": options.tokenizer,
            "--extend-vocab": options.extend_vocab,
            "--trim-vocab": options.trim_vocab,
        },
    )
    check_overwrite(out, options.overwrite)
    check_writable(out)
    if not isinstance(options.insert_every, int) or options.insert_every < 1:
        raise XLMSWCMError(
            f"--insert-every must be at least 1 (a normal layer after every X custom layers), got {options.insert_every}."
        )
    if not isinstance(options.new_pieces, int) or options.new_pieces < 1:
        raise XLMSWCMError(f"--new-pieces must be at least 1, got {options.new_pieces}.")
    if options.keep_top is not None and not options.trim_vocab:
        raise XLMSWCMError("--keep-top only applies with --trim-vocab CORPUS.")
    if options.keep_top is not None and options.keep_top < MIN_KEEP_TOP:
        raise XLMSWCMError(
            f"--keep-top {options.keep_top} is too small: the model could not write text with fewer than "
            f"{MIN_KEEP_TOP} tokens (special and language tokens are kept on top); give at least {MIN_KEEP_TOP}, or "
            "leave it out to keep every token the corpus uses."
        )
    # the language codes by name; a clash with the vocabulary once it is read
    _check_language_codes(None, options.language_tokens)
    check_dtype(options.dtype)
    if options.stream and options.changes_vocabulary:
        raise XLMSWCMError(
            "--add-language-tokens, --extend-vocab and --trim-vocab change the whole model in memory and do not "
            "stream: drop --stream (the conversion then needs memory for the whole seed)."
        )
    for corpus in (options.extend_vocab, options.trim_vocab):
        if corpus:
            _check_corpus(corpus)
    is_local(os.fspath(options.source), "Source")
    if options.tokenizer is not None:
        tokenizer = os.fspath(options.tokenizer)
        # given, so refused, where a source folder without tokenizer files only gets a note
        local = is_local(tokenizer, "Tokenizer")
        if local and os.path.isdir(tokenizer) and not has_tokenizer_files(tokenizer):
            raise XLMSWCMError(
                f"No tokenizer at {tokenizer!r} (none of {', '.join(TOKENIZER_FILES)}): give --tokenizer a "
                "tokenizer folder or an XLM-R tokenizer.json."
            )


def _check_language_codes(tokenizer: Any, codes: Sequence[str]) -> None:
    try:  # codes such as `pad` are refused by name; <unk> or an existing piece once the tokenizer is known
        vocab.check_language_codes(tokenizer, codes)
    except ValueError as error:
        raise XLMSWCMError(f"--add-language-tokens: {error}") from error


def convert(
    options: ConvertOptions,
    *,
    log: Callable[[str], Any] | None = None,
    warn: Callable[[str], Any] | None = None,
    on_written: Callable[[], Any] | None = None,
) -> dict:
    """Converts the encoder at `options.source` into a seed checkpoint folder `options.out` (weights, config, code
    files for `trust_remote_code`, generation config, tokenizer, `swcm_conversion.json`); returns the report.

    The steps are load, build (with the vocabulary options), write (atomically: on any error or interruption nothing
    is left at `out`) and, with `options.verify`, verify the written checkpoint before it is moved into place.
    `log` gets the progress lines and the report (default: stdout, nothing with `options.quiet`), `warn` (default:
    stderr) the warnings; `on_written` is called as soon as `out` is complete.
    """
    check_arguments(options)
    log = log or ((lambda _text: None) if options.quiet else _print_flush)
    started = time.perf_counter()

    def stage(text: str) -> None:
        log(f"[{time.perf_counter() - started:6.1f}s] {text}")

    if options.stream:
        return _convert_streaming(options, stage, log, warn or _print_stderr, on_written)
    stage(f"loading the encoder from {os.fspath(options.source)} ...")
    encoder = load_encoder(options.source, options.dtype)
    dtype = str(encoder.dtype).removeprefix("torch.")
    stage(f"loaded {encoder.config.model_type} encoder: {encoder.num_parameters():,} parameters, {dtype}")
    tokenizer = _source_tokenizer(options, encoder.config, log)
    stage(
        f"building the seed (insert_every={options.insert_every}, weight_sharing={options.weight_sharing}) ..."
    )
    model, report = build_seed(encoder, **options.seed_arguments(), **_token_ids(tokenizer))
    _after_building(options, model.config, tokenizer, warn or _print_stderr)
    probe, kept = tokenizer, None
    if options.changes_vocabulary:
        stage("vocabulary options ...")
        tokenizer, notes = _vocabulary_options(tokenizer, model, options)
        probe, kept = None, notes.pop("kept_ids", None)  # the new vocabulary's ids: the probe is random ids
        report.update(notes, parameters=parameter_counts(model, report["mapping"]))
    report["source"] = os.fspath(options.source)

    def fill(folder: Path) -> None:
        model.save_pretrained(folder)
        _save_rest(folder, tokenizer, report)
        if options.verify:
            _verify_saved(folder, encoder, report, probe, kept, stage, log)

    _write(options, fill, lambda: _model_bytes(model), report, stage, log, on_written)
    return report


def _source_tokenizer(options: ConvertOptions, config: Any, log: Callable[[str], Any]) -> Any:
    """The tokenizer of `--tokenizer` or the source (None when there is none and no vocabulary option needs one),
    checked against the encoder's vocabulary and the language codes."""
    path = os.fspath(options.tokenizer or options.source)
    required = options.changes_vocabulary or options.tokenizer is not None
    tokenizer = load_tokenizer(path, config.model_type, required=required)
    if tokenizer is None:
        log(f"note: no tokenizer found at {path!r}; {options.out} gets none (pass --tokenizer to add one).")
    elif len(tokenizer) > config.vocab_size:
        raise XLMSWCMError(
            f"The tokenizer has {len(tokenizer):,} tokens but the encoder's embedding only "
            f"{config.vocab_size:,} rows: pass the tokenizer that belongs to the source (--tokenizer)."
        )
    elif options.language_tokens:  # before the seed is built: <unk>, an existing piece, ...
        _check_language_codes(tokenizer, options.language_tokens)
    return tokenizer


def _token_ids(tokenizer: Any) -> dict[str, int]:
    return {} if tokenizer is None else special_token_ids(tokenizer)


def _after_building(options: ConvertOptions, config: XLMSWCMConfig, tokenizer: Any, warn: Callable) -> None:
    """Warns of a decoder without a normal layer; gives a bare tokenizer.json the model's length limit."""
    if "normal" not in config.decoder_layer_types:
        warn(
            f"warning: --insert-every {options.insert_every} >= the encoder's {config.num_hidden_layers} layers: "
            "the decoder gets no normal (randomly initialised) layer; pass a smaller --insert-every or "
            "--trailing-normal-layer if you want one."
        )
    if tokenizer is not None and tokenizer.model_max_length > 10**8:  # a bare tokenizer.json carries no limit
        tokenizer.model_max_length = config.max_position_embeddings - config.position_offset


def _vocabulary_options(
    tokenizer: Any, model: XLMSWCMForConditionalGeneration, options: ConvertOptions
) -> tuple:
    """--extend-vocab, --add-language-tokens and --trim-vocab through `vocab.adapt_vocabulary`; a failure of the
    surgery becomes an XLMSWCMError."""
    try:
        return vocab.adapt_vocabulary(
            tokenizer,
            model,
            extend_corpus=_read_corpus(options.extend_vocab) if options.extend_vocab else None,
            languages=options.language_tokens,
            trim_corpus=_read_corpus(options.trim_vocab) if options.trim_vocab else None,
            new_pieces=options.new_pieces,
            keep_top=options.keep_top,
        )
    except XLMSWCMError:
        raise
    except (TypeError, ValueError) as error:
        raise XLMSWCMError(f"Vocabulary option failed: {error}") from error


def _save_rest(folder: Path, tokenizer: Any, report: dict) -> None:
    """The tokenizer and the report (with the size of the weights already in `folder`) into `folder`."""
    if tokenizer is not None:
        tokenizer.save_pretrained(folder)
    report["file_size_bytes"] = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
    (folder / REPORT_FILE).write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _verify_saved(
    folder: Path,
    encoder: PreTrainedModel,
    report: dict,
    tokenizer: Any,
    kept: Sequence[int] | None,
    stage: Callable,
    log: Callable,
) -> None:
    """--verify, on what was written (before it is moved to OUT): every decoder tensor starts where the report
    says, and the encoder reproduces the source's outputs."""
    stage("verifying the saved checkpoint against the source ...")
    reloaded = XLMSWCMForConditionalGeneration.from_pretrained(folder)
    broken = _verify_mapping(reloaded, report)
    if broken:
        raise XLMSWCMError(
            f"--verify failed: {len(broken)} decoder tensors of the saved checkpoint differ from their encoder "
            f"source (first: {broken[0]}); the conversion is broken, nothing was written."
        )
    diff, tolerance = verify_encoder(encoder, reloaded, tokenizer, kept)
    log(f"verify: saved checkpoint vs source, max abs difference {diff:.3g} (allowed {tolerance:.3g})")
    if not diff <= tolerance:
        raise XLMSWCMError(
            f"--verify failed: the saved encoder's outputs differ from the source's by {diff:.3g} "
            f"(allowed {tolerance:.3g}); the conversion is broken, nothing was written."
        )


def _write(
    options: ConvertOptions,
    fill: Callable[[Path], None],
    needed: Callable[[], int],
    report: dict,
    stage: Callable,
    log: Callable,
    on_written: Callable[[], Any] | None,
) -> None:
    """Runs `fill` on a temporary folder that becomes OUT when it succeeds (`write_atomically`), a full disk
    reported with the `needed` bytes; then prints the report."""
    out = Path(options.out)
    stage(f"writing {out} ...")

    def fill_or_explain(folder: Path) -> None:
        try:
            fill(folder)
        except Exception as error:  # safetensors reports a full disk as its own SafetensorError
            if not _is_disk_full(error):
                raise
            raise XLMSWCMError(
                f"no space left on {out} (needed ~{needed() / 1e6:,.1f} MB); free some space or choose another "
                "output folder. Nothing was written.",
                exit_code=1,
            ) from error

    write_atomically(out, options.overwrite, fill_or_explain, on_done=on_written)
    log(format_report(report))
    stage(f"saved to {out}")


def _model_bytes(model: torch.nn.Module) -> int:
    """The bytes of a model's parameters (`parameters()` yields a shared one once)."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def _is_disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno == errno.ENOSPC
    text = str(error)
    return "No space left on device" in text or "StorageFull" in text or "os error 28" in text


def _convert_streaming(
    options: ConvertOptions,
    stage: Callable,
    log: Callable,
    warn: Callable,
    on_written: Callable[[], Any] | None,
) -> dict:
    """`convert` with `--stream`: `xlm_swcm.streaming.stream_seed` into the temporary folder, then the tokenizer,
    the report and (with --verify) the checks of the saved checkpoint, all written atomically."""
    from .streaming import SourceReader, seed_bytes, stream_seed

    path = os.fspath(options.source)
    if not os.path.isdir(path):
        raise XLMSWCMError(
            f"--stream reads a local folder and {path!r} is not one: download it first (hf download {path} "
            "--local-dir DIR) or drop --stream."
        )
    source_config = load_source_config(path)
    SourceReader(path)  # refuses a folder without safetensors weights before anything is written
    tokenizer = _source_tokenizer(options, source_config, log)
    report: dict[str, Any] = {}

    def fill(folder: Path) -> None:
        stage(f"streaming the seed into {options.out} (one tensor at a time) ...")
        model, seed_report = stream_seed(options, folder, **_token_ids(tokenizer))
        _after_building(options, model.config, tokenizer, warn)
        report.update(seed_report, source=path)
        _save_rest(folder, tokenizer, report)
        if options.verify:
            stage("loading the source in full to verify (memory for both, unlike --stream) ...")
            _verify_saved(folder, load_encoder(path, options.dtype), report, None, None, stage, log)

    needed = lambda: seed_bytes(options, source_config, **_token_ids(tokenizer))  # noqa: E731
    _write(options, fill, needed, report, stage, log, on_written)
    return report


def build_parser() -> OptionsParser:
    """The `xlm-swcm-convert` argument parser: the fields of `ConvertOptions` (`--insert-every` or `--insert_every`)."""
    return OptionsParser(
        ConvertOptions,
        prog="xlm-swcm-convert",
        usage="%(prog)s [options] SOURCE OUT (all options: --help)",  # one line above a usage error
        description="Convert an XLM-R-family encoder (XLM-R, CINO, RoBERTa, BERT) into an XLM-SWCM seed checkpoint.",
    )


_print_flush = functools.partial(print, flush=True)


def _print_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)  # sys.stderr as it is now (a test may have replaced it)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point `xlm-swcm-convert`; returns the exit status (0 ok, 2 bad input, 1 a failed write, 130
    interrupted)."""
    parser = build_parser()
    options = parser.parse(argv)
    if options.quiet and options.verbose:
        parser.error("argument --verbose: not allowed with argument --quiet")
    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    # The report is the output: no shard-writing bars, and no load report about the source's unused MLM head or
    # pooler (real problems, such as missing weights, raise an XLMSWCMError); --verbose shows them.
    (hf_logging.enable_progress_bar if options.verbose else hf_logging.disable_progress_bar)()
    hf_logging.set_verbosity_info() if options.verbose else hf_logging.set_verbosity_error()
    written: list[bool] = []  # set as soon as OUT is complete: an interruption after that loses nothing
    # SIGTERM (kill, a job scheduler) cleans up like Ctrl-C: the temporary folder is removed, OUT is untouched.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main_thread else None
    try:
        convert(options, on_written=lambda: written.append(True))
    except ValueError as error:  # XLMSWCMError (exit_code 2 or 1) and the config's own checks
        _print_stderr(f"xlm-swcm-convert: error: {error}")
        return getattr(error, "exit_code", 2)
    except OSError as error:
        _print_stderr(f"xlm-swcm-convert: error: cannot write {options.out}: {error}")
        return 1
    except KeyboardInterrupt:
        if written:
            _print_stderr(f"xlm-swcm-convert: interrupted after {options.out} was completely written.")
            return 0
        _print_stderr(f"xlm-swcm-convert: interrupted; nothing was written to {options.out}.")
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
