# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Initialisation recipes: where each decoder tensor of an XLM-SWCM seed starts, as one declarative plan.

`init_plan(config, init)` maps every decoder parameter (names relative to `XLMSWCMModel`) to an encoder parameter
name (a copy of it, or in tie mode the very same tensor), `IDENTITY` (a LayerNorm at gain 1, bias 0), `RANDOM`
(normal(0, `initializer_range`), biases 0) or a `Folded` entry (an encoder projection with the affine part of an
encoder LayerNorm folded in). It is built on the model's own encoder -> decoder table
(`modeling_xlm_swcm.custom_layer_mapping`). What each recipe copies, folds, draws or sets to identity, and why:
the conversion guide, `conversion/README.md`, "Initialisation recipes".

Example:

```python
>>> from xlm_swcm import XLMSWCMConfig
>>> plan = init_plan(XLMSWCMConfig(num_hidden_layers=2, hidden_size=8, num_attention_heads=2), "ffn-only")
>>> plan["decoder.layers.0.ffn1.fc1.weight"], plan["decoder.layers.0.self_attn.qkv.weight"]
('encoder.layers.0.ffn.fc1.weight', 'random')

```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from .configuration_xlm_swcm import XLMSWCMConfig
from .errors import XLMSWCMError
from .modeling_xlm_swcm import (
    BLOCK_LAYER_NORMS,
    BLOCK_PROJECTIONS,
    CUSTOM_LAYER_BLOCKS,
    custom_layer_mapping,
    sharing_map,
)

INIT_RECIPES = ("paper", "fresh-ln", "folded-ln", "ffn-only", "random")
# The defaults of `build_seed` and `xlm-swcm-convert`, chosen by measurement: see
# experiments/RESULTS.md and the conversion guide (conversion/README.md, "Initialisation recipes"). Tie mode shares
# whole sublayers, so its default is the best of the recipes it can take.
DEFAULT_INIT = "paper"
DEFAULT_TIE_INIT = "paper"
# Recipes whose custom layers are exact copies of encoder tensors: the only ones tie mode can share.
TIEABLE_RECIPES = ("paper", "fresh-ln")
# With a pre-LayerNorm encoder tie mode also shares the LayerNorms (see above): only `paper` leaves them as they are.
PRE_LN_TIEABLE_RECIPES = ("paper",)
IDENTITY = "identity"
RANDOM = "random"

_FIRST = {"attention": "qkv", "ffn": "fc1"}  # the projection that reads the LayerNorm's output


@dataclass(frozen=True)
class Folded:
    """Encoder projection `source` (`.weight` or `.bias`) with LayerNorm `norm`'s gain and bias folded in, over the
    output rows `[0, rows)` (all rows when `rows` is None)."""

    source: str
    norm: str
    rows: int | None = None


def _norm_before(i: int, block: str, encoder_layer_norm: str = "post") -> str:
    """The encoder LayerNorm whose output encoder layer i's `block` read in pretraining (post-LN: the previous
    sublayer's LayerNorm; pre-LN: the block's own, in front of it)."""
    if encoder_layer_norm == "pre":
        return f"encoder.layers.{i}.{BLOCK_LAYER_NORMS[block]}"
    if block == "ffn":
        return f"encoder.layers.{i}.attention_layer_norm"
    return "encoder.embeddings.LayerNorm" if i == 0 else f"encoder.layers.{i - 1}.ffn_layer_norm"


def default_init(weight_sharing: str) -> str:
    """The default recipe for a sharing mode.

    >>> default_init("tie") in TIEABLE_RECIPES
    True
    """
    return DEFAULT_TIE_INIT if weight_sharing == "tie" else DEFAULT_INIT


def init_plan(config: XLMSWCMConfig, init: str | None = None) -> dict[str, str | Folded]:
    """`{decoder parameter: where it starts}` for every decoder parameter: the embedding block, the layers and the
    final LayerNorm.

    Raises XLMSWCMError (a ValueError) for an unknown recipe, or a recipe tie mode cannot share: the one recipe
    check of the package.
    """
    init = init or default_init(config.weight_sharing)
    if init not in INIT_RECIPES:
        raise XLMSWCMError(f"init={init!r} is not a recipe; choose one of {', '.join(INIT_RECIPES)}.")
    if config.weight_sharing == "tie" and init not in TIEABLE_RECIPES:
        raise XLMSWCMError(
            f"init={init!r} changes or replaces the shared tensors, so it needs weight_sharing='copy' "
            f"(tie mode takes {' or '.join(TIEABLE_RECIPES)})."
        )
    if (
        config.weight_sharing == "tie"
        and config.encoder_layer_norm == "pre"
        and init not in PRE_LN_TIEABLE_RECIPES
    ):
        raise XLMSWCMError(
            f"init={init!r} sets the decoder's LayerNorms to identity, but with a pre-LayerNorm encoder tie mode "
            "shares them with the encoder (each sublayer with the LayerNorm in front of it): use init='paper', or "
            "weight_sharing='copy'."
        )
    mapping = custom_layer_mapping(config)
    # The embedding block is always the encoder's (tied); it heads the plan so that the plan names every decoder
    # tensor that starts from the encoder.
    plan: dict[str, str | Folded] = {
        t: s for t, s in sharing_map(config).items() if t.startswith("decoder.emb")
    }
    for j, (kind, i) in enumerate(zip(config.decoder_layer_types, config.decoder_layer_sources, strict=True)):
        layer = f"decoder.layers.{j}"
        if kind == "normal":
            for block in ("self_attn", "cross_attn", "ffn"):
                for leaf in BLOCK_PROJECTIONS["ffn" if block == "ffn" else "attention"]:
                    plan[f"{layer}.{block}.{leaf}.weight"] = plan[f"{layer}.{block}.{leaf}.bias"] = RANDOM
                plan[f"{layer}.{block}_layer_norm.weight"] = plan[f"{layer}.{block}_layer_norm.bias"] = (
                    IDENTITY
                )
            continue
        for block, encoder_block in CUSTOM_LAYER_BLOCKS.items():
            copied = init in ("paper", "fresh-ln", "folded-ln") or (
                init == "ffn-only" and encoder_block == "ffn"
            )
            norm = _norm_before(i, encoder_block, config.encoder_layer_norm)
            for leaf in BLOCK_PROJECTIONS[encoder_block]:
                for part in ("weight", "bias"):
                    target = f"{layer}.{block}.{leaf}.{part}"
                    if not copied:
                        plan[target] = RANDOM
                    elif init == "folded-ln" and leaf == _FIRST[encoder_block]:
                        rows = config.hidden_size if block == "cross_attn" else None  # cross: query rows only
                        plan[target] = Folded(mapping[target], norm, rows)
                    else:
                        plan[target] = mapping[target]
            for part in ("weight", "bias"):
                plan[f"{layer}.{block}_layer_norm.{part}"] = f"{norm}.{part}" if init == "paper" else IDENTITY
    plan["decoder.layer_norm.weight"] = plan["decoder.layer_norm.bias"] = IDENTITY
    return plan


def folded_value(entry: Folded, params: dict[str, torch.Tensor]) -> torch.Tensor:
    """The value of a `Folded` entry from the (model-relative) parameters `params`.

    LN(x) = g * x_hat + b, so W LN(x) + c = (W diag(g)) x_hat + (W b + c): the weight's columns scale by g, the
    bias gains W b. Only rows `[0, rows)` read that LayerNorm's output; the others are left as they are.
    """
    base = entry.source.rsplit(".", 1)[0]
    # each tensor read once: `params` may read them from disk (xlm_swcm.streaming)
    read = {
        name: params[name]
        for name in {entry.source, f"{base}.weight", f"{entry.norm}.weight", f"{entry.norm}.bias"}
    }
    weight, gain, shift = read[f"{base}.weight"], read[f"{entry.norm}.weight"], read[f"{entry.norm}.bias"]
    rows = slice(0, entry.rows)
    value = read[entry.source].detach().clone()
    if entry.source.endswith(".weight"):
        value[rows] = weight[rows] * gain
    else:
        # In float64 and as a plain sum: a BLAS matrix-vector product may round differently for another memory
        # alignment, and `--verify` recomputes this on the reloaded checkpoint and compares with torch.equal.
        shifted = (weight[rows].double() * shift.double()).sum(-1)
        value[rows] = (value[rows].double() + shifted).to(value.dtype)
    return value


def seeded_generators(seed: int) -> dict[str, torch.Generator]:
    """The random draws of a seed, by decoder layer kind: normal layers from `seed` alone, the custom layers' random
    tensors (recipes `ffn-only`, `random`) from `10_000 + seed`, so the normal layers are the same in every recipe.
    Each generator is drawn from in the plan's order."""
    return {
        "normal": torch.Generator().manual_seed(seed),
        "custom": torch.Generator().manual_seed(10_000 + seed),
    }


def initial_value(
    target: str,
    entry: str | Folded,
    params: Mapping[str, torch.Tensor],
    config: XLMSWCMConfig,
    shape: torch.Size,
    dtype: torch.dtype,
    generators: dict[str, torch.Generator],
) -> torch.Tensor:
    """The value where decoder tensor `target` starts, by its plan `entry`; `params` gives the (model-relative)
    encoder tensors. Random weights of half-precision seeds are drawn in float32 and rounded, so that they are the
    float32 seed's, rounded."""
    if entry == RANDOM:
        if target.endswith(".bias"):
            return torch.zeros(shape, dtype=dtype)
        generator = generators[config.decoder_layer_types[int(target.split(".")[2])]]
        value = torch.empty(shape, dtype=torch.float32 if dtype in (torch.bfloat16, torch.float16) else dtype)
        return value.normal_(0.0, config.initializer_range, generator=generator).to(dtype)
    if entry == IDENTITY:
        return torch.full(shape, 1.0 if target.endswith("weight") else 0.0, dtype=dtype)
    return folded_value(entry, params) if isinstance(entry, Folded) else params[entry]
