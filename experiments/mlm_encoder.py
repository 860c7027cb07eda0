# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Trains a small masked-LM encoder (XLM-R architecture: post-LayerNorm RoBERTa layers) on all the multilingual text
the offline assets hold, and saves it as an `XLMRobertaForMaskedLM` folder that `xlm-swcm-convert` takes like any
XLM-R checkpoint. It stands in for XLM-R / CINO in the ablation (`experiments/ablation.py`): an encoder whose every
layer was trained to predict tokens, which multilingual-e5-small (a contrastive embedding model) is not.

    python experiments/mlm_encoder.py                   # -> runs/mlm-encoder/encoder (reused when present)
    python experiments/mlm_encoder.py --steps 20 --quick  # a smoke run

Text: every usable translation in every Django locale (106 catalogues) plus the English source strings, and the
UDHR samples (Tibetan, Uyghur, Kazakh, Mongolian, Chinese, English). Left out: every string of the ablation's
held-out groups (the first `--exclude-groups` groups of its dev split order, in every locale), and 2% of the
remaining source strings (all their translations) as this script's own held-out set for masked accuracy.

Vocabulary: the XLM-R tokenizer, extended with pieces for scripts it turns into `<unk>` (Tibetan, traditional
Mongolian), with the project's language tokens, then trimmed to the `--keep-top` pieces the text uses most (10,000:
the text holds 365k tokens, too few to train 45k embedding rows). Word embeddings start from multilingual-e5-small's
rows for the same pieces, reduced to the encoder's width by principal components (`--embeddings e5`): the encoder
body, the MLM head and the embeddings are then all trained with masked-LM, as CINO continued XLM-R's pretraining.
A first try with random embeddings over all 45k pieces learned too slowly for the budget (held-out masked-token
accuracy 0.045 after 400 of 2000 steps, at 2-3 s per step).

Training: strings of one locale packed into sequences of `--max-length` tokens, 15% of tokens masked (80% `<mask>`,
10% random, 10% kept), logits computed only at masked positions. Data order and masks depend on `--seed` and the step
only, so a run interrupted and resumed from its checkpoint (every `--checkpoint-every` steps) continues the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

import torch
from torch import nn
from transformers import (
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    XLMRobertaModel,
    get_linear_schedule_with_warmup,
)

from xlm_swcm import vocab
from xlm_swcm_demo import assets, demo

HELD_OUT_PERCENT = 2  # of the source strings (with all their translations), for masked accuracy
LANGUAGES = ("bo", "ug", "kk", "mn", "zh", "en")


def held_out_strings(groups: int) -> dict[str, set[str]]:
    """Every string of the ablation's first `groups` held-out groups (its dev split takes a prefix of this order,
    so any dev set of up to `groups` groups is covered): `{"english": ..., "targets": ...}`."""
    _, held = demo.split_pairs(demo.default_pairs(), groups, seed=0)
    english = {r["source"] for r in held if r["task"] == "en-ug"}
    return {
        "english": english,
        "targets": {r["target"] for r in held} | {r["source"] for r in held} - english,
    }


def django_texts(excluded_english: set[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """`(locale, text)` for training and for the held-out set. A source string and all its translations go to the
    same side; strings whose English is in `excluded_english` go nowhere."""
    train, held_out = [], []
    english = set()
    for locale in assets.django_locales():
        for source, translation in assets.django_parallel(locale):
            if source in excluded_english:
                continue
            side = held_out if zlib.crc32(source.encode()) % 100 < HELD_OUT_PERCENT else train
            side.append((locale, translation))
            english.add(source)
    for text in sorted(english):
        side = held_out if zlib.crc32(text.encode()) % 100 < HELD_OUT_PERCENT else train
        side.append(("en", text))
    return train, held_out


def build_corpus(exclude_groups: int) -> dict:
    excluded = held_out_strings(exclude_groups)
    train, held_out = django_texts(excluded["english"])
    train = [(loc, t) for loc, t in train if t not in excluded["targets"]]
    held_out = [(loc, t) for loc, t in held_out if t not in excluded["targets"]]
    for lang, text in assets.udhr_samples(LANGUAGES).items():
        train += [(lang, s) for s in assets.split_sentences(text, lang) if s.strip()]
    return {"train": train, "held_out": held_out}


def build_vocabulary(texts: list[str], keep_top: int | None, embeddings: str):
    """XLM-R's tokenizer extended for uncovered scripts, with language tokens, trimmed to the `keep_top` pieces
    `texts` use most. The vocabulary functions resize a model's embedding alongside: multilingual-e5-small's with
    `embeddings="e5"` (its rows, 384 wide, end up as the start of the new encoder's, see `pca_rows`), else a
    throwaway 4-wide stand-in. Returns the tokenizer, the embedding rows (or None) and notes."""
    tokenizer = assets.load_xlmr_tokenizer(model_max_length=512)
    if embeddings == "e5":
        stand_in = assets.load_e5_small()
    else:
        shape = dict(hidden_size=4, num_hidden_layers=1, num_attention_heads=1, intermediate_size=4)
        stand_in = XLMRobertaModel(XLMRobertaConfig(vocab_size=len(tokenizer), **shape))
    report = vocab.extend_vocabulary(tokenizer, stand_in, texts, new_pieces=1000)
    vocab.add_language_tokens(tokenizer, stand_in, list(LANGUAGES))
    tokenizer, kept = vocab.trim_vocabulary(tokenizer, stand_in, texts, keep_top=keep_top)
    rows = stand_in.get_input_embeddings().weight.detach()[: len(kept)] if embeddings == "e5" else None
    return tokenizer, rows, {"pieces_added": report["pieces_added"], "vocab_size": len(kept)}


def pca_rows(rows: torch.Tensor, width: int, std: float) -> torch.Tensor:
    """The `width` principal components of embedding `rows` (centred), scaled to standard deviation `std`: the
    pretrained rows' geometry (which pieces are alike) in the new encoder's width."""
    centred = rows.double() - rows.double().mean(0)
    u, s, _ = torch.linalg.svd(centred, full_matrices=False)
    projected = u[:, :width] * s[:width]
    return (projected * (std / projected.std())).float()


def pack(tokenizer, rows: list[tuple[str, str]], max_length: int, seed: int) -> list[list[int]]:
    """`<s> a </s> b </s> ...` sequences of at most `max_length` tokens, each from strings of one locale."""
    by_locale: dict[str, list[str]] = {}
    for locale, text in rows:
        by_locale.setdefault(locale, []).append(text)
    rng = random.Random(seed)
    sequences = []
    for locale in sorted(by_locale):
        texts = by_locale[locale]
        rng.shuffle(texts)
        ids = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=max_length - 2)[
            "input_ids"
        ]
        current = [tokenizer.bos_token_id]
        for piece in ids:
            if len(current) + len(piece) + 1 > max_length:
                sequences.append(current)
                current = [tokenizer.bos_token_id]
            current += piece + [tokenizer.eos_token_id]
        if len(current) > 1:
            sequences.append(current)
    return sequences


def collate(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq)
    return ids, (ids != pad_id).long()


def mask_tokens(ids: torch.Tensor, tokenizer, generator: torch.Generator, special: torch.Tensor):
    """BERT masking: 15% of the non-special tokens are targets; of those 80% -> `<mask>`, 10% random, 10% kept."""
    eligible = ~torch.isin(ids, special)
    targets = (torch.rand(ids.shape, generator=generator) < 0.15) & eligible
    roll = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[targets & (roll < 0.8)] = tokenizer.mask_token_id
    random_ids = torch.randint(len(tokenizer), ids.shape, generator=generator)
    swap = targets & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = random_ids[swap]
    return inputs, targets


def masked_loss(model: XLMRobertaForMaskedLM, inputs, attention_mask, ids, targets):
    """Cross-entropy and correct count at the masked positions only (the LM head never sees the others)."""
    hidden = model.roberta(input_ids=inputs, attention_mask=attention_mask).last_hidden_state
    logits = model.lm_head(hidden[targets])
    labels = ids[targets]
    loss = nn.functional.cross_entropy(logits.float(), labels)
    return loss, int((logits.argmax(-1) == labels).sum()), int(labels.numel())


def evaluate(model, batches) -> dict:
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for inputs, attention_mask, ids, targets in batches:
            loss, right, n = masked_loss(model, inputs, attention_mask, ids, targets)
            total, correct, count = total + loss.item() * n, correct + right, count + n
    model.train()
    return {"loss": total / count, "accuracy": correct / count, "masked_tokens": count}


def unigram_baseline(train: list[list[int]], batches, special: set[int]) -> dict:
    """What token frequencies alone achieve on the same masked positions: always predicting the most frequent
    training token (accuracy) and the add-one-smoothed unigram distribution (cross-entropy)."""
    counts = Counter(t for seq in train for t in seq if t not in special)
    total, size = sum(counts.values()), len(counts) + 1
    top = counts.most_common(1)[0][0]
    nll, right, n = 0.0, 0, 0
    for _, _, ids, targets in batches:
        for token in ids[targets].tolist():
            nll -= math.log((counts.get(token, 0) + 1) / (total + size))
            right += token == top
            n += 1
    return {"loss": nll / n, "accuracy": right / n, "most_frequent_token": top}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--cache", default="runs/mlm-encoder", help="folder for the checkpoint and the encoder"
    )
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--intermediate", type=int, default=512)
    parser.add_argument("--max-length", type=int, default=64, help="tokens per packed sequence")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--exclude-groups", type=int, default=256, help="ablation dev-order groups left out")
    parser.add_argument(
        "--keep-top", type=int, default=10_000, help="vocabulary: the most frequent pieces kept"
    )
    parser.add_argument(
        "--embeddings",
        choices=["e5", "random"],
        default="e5",
        help="word embeddings start from multilingual-e5-small's (principal components) or at random",
    )
    parser.add_argument("--quick", action="store_true", help="a tiny model and corpus, for the smoke test")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cache = Path(args.cache)
    final = cache / "encoder"
    if (final / "mlm_report.json").exists():
        print(
            f"{final} exists (delete it to retrain): {json.loads((final / 'mlm_report.json').read_text())['held_out']}"
        )
        return 0
    cache.mkdir(parents=True, exist_ok=True)
    began_cpu, began = time.process_time(), time.time()

    corpus = build_corpus(args.exclude_groups)
    if args.quick:
        corpus = {k: v[:: 40 if k == "train" else 10] for k, v in corpus.items()}
    texts = [t for _, t in corpus["train"] + corpus["held_out"]]
    tokenizer, rows, vocab_notes = build_vocabulary(texts, args.keep_top, args.embeddings)
    train = pack(tokenizer, corpus["train"], args.max_length, args.seed)
    held_out = pack(tokenizer, corpus["held_out"], args.max_length, args.seed)
    special = torch.tensor(sorted(set(tokenizer.all_special_ids)))
    generator = torch.Generator().manual_seed(10_000)  # one fixed masking of the held-out set
    eval_batches = []
    for k in range(0, len(held_out), args.batch_size):
        ids, attention_mask = collate(held_out[k : k + args.batch_size], tokenizer.pad_token_id)
        inputs, targets = mask_tokens(ids, tokenizer, generator, special)
        eval_batches.append((inputs, attention_mask, ids, targets))
    print(
        f"corpus: {len(corpus['train']):,} train strings -> {len(train):,} sequences, "
        f"{sum(map(len, train)):,} tokens; held out {len(held_out):,} sequences; vocabulary {vocab_notes}",
        flush=True,
    )

    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=args.intermediate,
        max_position_embeddings=args.max_length
        + 66,  # positions start at pad_id + 1; room for longer decoding
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(args.seed)
    model = XLMRobertaForMaskedLM(config)
    if rows is not None:
        with torch.no_grad():
            model.get_input_embeddings().weight.copy_(pca_rows(rows, args.hidden, config.initializer_range))
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=args.learning_rate, betas=(0.9, 0.98), weight_decay=0.01
    )
    scheduler = get_linear_schedule_with_warmup(optimizer, args.warmup, args.steps)
    state_path = cache / "checkpoint.pt"
    log = {"train_loss": [], "held_out": []}
    start = 0
    if state_path.exists():
        state = torch.load(state_path, weights_only=False)
        if state["args"] != {k: v for k, v in vars(args).items() if k != "threads"}:
            raise SystemExit(f"{state_path} was made with other settings; delete it or use another --cache.")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start, log = state["step"], state["log"]
        began_cpu -= state["cpu_seconds"]
        print(f"resumed at step {start}", flush=True)

    def batch_for(step: int):
        epoch, index = divmod(step * args.batch_size, len(train))
        order = list(range(len(train)))
        random.Random(args.seed * 1_000 + epoch).shuffle(order)
        picked = [train[order[(index + k) % len(train)]] for k in range(args.batch_size)]
        ids, attention_mask = collate(picked, tokenizer.pad_token_id)
        inputs, targets = mask_tokens(
            ids, tokenizer, torch.Generator().manual_seed(args.seed * 1_000_003 + step), special
        )
        return inputs, attention_mask, ids, targets

    model.train()
    for step in range(start, args.steps):
        loss, _, _ = masked_loss(model, *batch_for(step))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        log["train_loss"].append(round(loss.item(), 4))
        done = step + 1
        if done == start + 20:
            print(f"{(time.time() - began):.0f} s at step {done}", flush=True)
        if done % args.eval_every == 0 or done == args.steps:
            result = evaluate(model, eval_batches)
            log["held_out"].append({"step": done, **result})
            recent = sum(log["train_loss"][-50:]) / len(log["train_loss"][-50:])
            print(
                f"step {done}: train loss {recent:.3f}, held-out masked loss {result['loss']:.3f}, "
                f"accuracy {result['accuracy']:.3f} ({time.time() - began:.0f} s)",
                flush=True,
            )
        if done % args.checkpoint_every == 0 and done < args.steps:
            state = {
                "args": {k: v for k, v in vars(args).items() if k != "threads"},
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": done,
                "log": log,
                "cpu_seconds": time.process_time() - began_cpu,
            }
            torch.save(state, state_path.with_suffix(".tmp"))
            os.replace(state_path.with_suffix(".tmp"), state_path)

    baseline = unigram_baseline(train, eval_batches, set(special.tolist()))
    report = {
        "command": "python experiments/mlm_encoder.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "settings": vars(args),
        "corpus": {
            "train_strings": len(corpus["train"]),
            "train_sequences": len(train),
            "train_tokens": sum(map(len, train)),
            "held_out_sequences": len(held_out),
            **vocab_notes,
        },
        "parameters": sum(p.numel() for p in model.parameters()),
        "held_out": log["held_out"][-1],
        "unigram_baseline": baseline,
        "curve": log["held_out"],
        "train_loss": log["train_loss"],
        "cpu_seconds": time.process_time() - began_cpu,
        "wall_seconds": time.time() - began,
    }
    staging = cache / "encoder.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    model.eval().save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / "mlm_report.json").write_text(json.dumps(report, indent=1))
    os.replace(staging, final)
    state_path.unlink(missing_ok=True)
    print(
        f"held-out masked accuracy {report['held_out']['accuracy']:.3f} (unigram {baseline['accuracy']:.3f}), "
        f"loss {report['held_out']['loss']:.3f} (unigram {baseline['loss']:.3f}) -> {final}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
