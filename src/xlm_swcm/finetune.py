# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Fine-tune an XLM-SWCM checkpoint on parallel text with `transformers.Seq2SeqTrainer`.

The checkpoint is a seed folder written by `xlm-swcm-convert` or any saved XLM-SWCM model (folder or cached Hub
id) with its tokenizer. The data is a JSON-lines / JSON / CSV / Parquet file, a folder written by
`Dataset.save_to_disk`, or a `datasets` name already in the local cache, with a source and a target column
(`--source-column` / `--target-column`; a dotted name such as `translation.bo` reads a field of a dict column, the
layout of the WMT/OPUS datasets). Every `--eval-steps` steps the model generates translations for the evaluation
split and is scored with the script-aware ROUGE-L and chrF of `xlm_swcm.metrics` (the usual ROUGE tokenizer deletes
Tibetan, Uyghur, Mongolian and Chinese text). The final model, tokenizer and generation config go to `OUTPUT_DIR`,
with `eval_results.json` / `train_results.json` (Trainer's `save_metrics`), and a table of the evaluations is
printed.

With `--target-lang bo` the labels start with the language token `<bo>` (it replaces `<s>`, see
`xlm_swcm.data.tokenize_pairs`) and generation is forced to start with it, when the tokenizer has that token
(`xlm-swcm-convert --add-language-tokens bo` adds it); otherwise a warning is printed and no token is used.

Distributed runs need nothing special: launch the same command with `torchrun --nproc_per_node N -m
xlm_swcm.finetune ...` or `accelerate launch -m xlm_swcm.finetune ...`, or add `--deepspeed
docs/deepspeed_zero2.json` (see docs/distributed.md). A `weight_sharing="tie"` checkpoint is refused under FSDP
with per-layer wrapping, which breaks its parameter sharing.

Example:

```bash
xlm-swcm-convert path/to/xlm-roberta-base seed --add-language-tokens bo
xlm-swcm-finetune seed train.jsonl --output-dir ft --target-lang bo --eval-steps 500 --epochs 3
```

or from Python:

```python
>>> from xlm_swcm.finetune import finetune
>>> metrics = finetune("seed", "train.jsonl", "ft", target_lang="bo", max_steps=100)  # doctest: +SKIP
>>> sorted(metrics["eval"])[:3]  # doctest: +SKIP
['eval_chrf', 'eval_gen_len', 'eval_loss']
```
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FinetuneError",
    "build_compute_metrics",
    "check_fsdp_sharing",
    "finetune",
    "format_eval_table",
    "load_checkpoint",
    "load_pairs",
    "main",
    "tokenize_dataset",
]

# File suffixes read with the `datasets` packaged builder of that name.
_DATA_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}
# Split names tried, in order, for evaluation when the data comes with splits and no --eval-data is given.
_EVAL_SPLITS = ("validation", "dev", "valid", "test")


class FinetuneError(Exception):
    """A problem with the inputs of a fine-tuning run, with a message that says what to do."""


# ----------------------------------------------------------------------------------------------------------------
# checkpoint
# ----------------------------------------------------------------------------------------------------------------
def load_checkpoint(
    path: str | os.PathLike, tokenizer_path: str | os.PathLike | None = None
) -> tuple[Any, Any]:
    """Loads an XLM-SWCM model and its tokenizer from a folder (or a cached Hub id); clear errors otherwise.

    Example:

    ```python
    >>> model, tokenizer = load_checkpoint("seed")  # doctest: +SKIP
    >>> model.config.model_type  # doctest: +SKIP
    'xlm-swcm'
    ```
    """
    from transformers import AutoConfig, AutoTokenizer

    from .modeling_xlm_swcm import XLMSWCMForConditionalGeneration

    path = str(path)
    local = Path(path)
    if local.exists():
        if not local.is_dir():
            raise FinetuneError(
                f"{path} is a file, not a checkpoint folder: give the folder written by xlm-swcm-convert or "
                "save_pretrained (it holds config.json and model.safetensors)."
            )
        if not (local / "config.json").is_file():
            raise FinetuneError(
                f"{path} is not a model checkpoint (no config.json in it): give a folder written by "
                "xlm-swcm-convert (e.g. `xlm-swcm-convert path/to/xlm-roberta-base seed`) or by save_pretrained."
            )
    elif local.is_absolute() or path.startswith(".") or path.count("/") > 1:
        raise FinetuneError(f"Checkpoint folder {path} does not exist.")
    try:
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as error:
        raise FinetuneError(
            f"Could not load a model config from {path!r} ({error}). Give a local checkpoint folder, or a Hub id "
            "that is already in the local cache when offline."
        ) from error
    if config.model_type != "xlm-swcm":
        raise FinetuneError(
            f"{path} holds a {config.model_type!r} model, not XLM-SWCM: convert the encoder into a seed first, "
            f"e.g. `xlm-swcm-convert {path} seed`, and fine-tune the seed."
        )
    model = XLMSWCMForConditionalGeneration.from_pretrained(path)
    source = str(tokenizer_path) if tokenizer_path is not None else path
    try:
        if source.endswith(".json") and Path(source).is_file():
            from transformers import XLMRobertaTokenizerFast

            tokenizer = XLMRobertaTokenizerFast(tokenizer_file=source)
        else:
            tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError, TypeError) as error:
        raise FinetuneError(
            f"No tokenizer found at {source!r} ({error}): pass --tokenizer (a tokenizer folder or tokenizer.json)."
        ) from error
    if len(tokenizer) > model.config.vocab_size:
        raise FinetuneError(
            f"The tokenizer has {len(tokenizer)} tokens but the model only {model.config.vocab_size} embedding rows: "
            "the tokenizer does not belong to this checkpoint (or tokens were added without resizing the model)."
        )
    return model, tokenizer


# ----------------------------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------------------------
def _load_any(spec: str | os.PathLike) -> Any:
    """A `datasets.Dataset` or `DatasetDict` from a data file, a saved dataset folder or a (cached) dataset name."""
    import datasets

    spec = str(spec)
    path = Path(spec)
    try:
        if path.is_file():
            builder = _DATA_BUILDERS.get(path.suffix.lower())
            if builder is None:
                raise FinetuneError(
                    f"Cannot read {spec}: use a .jsonl/.json, .csv/.tsv or .parquet file (one pair per row)."
                )
            if path.stat().st_size == 0:
                raise FinetuneError(f"{spec} is empty: it must hold one source/target pair per row.")
            kwargs = {"delimiter": "\t"} if path.suffix.lower() == ".tsv" else {}
            return datasets.load_dataset(builder, data_files=str(path), split="train", **kwargs)
        if path.is_dir():
            if any(
                (path / name).is_file() for name in ("dataset_dict.json", "dataset_info.json", "state.json")
            ):
                return datasets.load_from_disk(str(path))
            return datasets.load_dataset(str(path))
        if path.suffix.lower() in _DATA_BUILDERS or path.is_absolute() or spec.startswith("."):
            raise FinetuneError(f"Data file {spec} does not exist.")
        return datasets.load_dataset(spec)
    except FinetuneError:
        raise
    except Exception as error:  # datasets raises many types (DatasetGenerationError, FileNotFoundError, ...)
        raise FinetuneError(
            f"Could not load the data {spec!r}: {type(error).__name__}: {error}. Give a JSON-lines file with one "
            '{"source": ..., "target": ...} object per line, a folder written by Dataset.save_to_disk, or a '
            "dataset name that is in the local cache (offline runs: HF_DATASETS_OFFLINE=1)."
        ) from error


def _column_keys(dataset: Any, column: str) -> tuple[str, str | None]:
    """Splits `translation.bo` into (`translation`, `bo`) when `translation` is a dict column; checks presence."""
    names = dataset.column_names
    if column in names:
        return column, None
    base, _, key = column.partition(".")
    if key and base in names:
        feature = dataset.features[base]
        fields = (
            list(feature.keys()) if isinstance(feature, dict) else list(getattr(feature, "languages", []))
        )
        if key in fields:
            return base, key
        raise FinetuneError(f"Column {base!r} has no field {key!r}; its fields are {fields}.")
    raise FinetuneError(
        f"The data has no column {column!r}; its columns are {names}. Name the right ones with --source-column "
        "and --target-column (a field of a dict column as `translation.bo`)."
    )


def load_pairs(
    data: str | os.PathLike,
    source_column: str = "source",
    target_column: str = "target",
    eval_data: str | os.PathLike | None = None,
    eval_fraction: float = 0.1,
    seed: int = 42,
) -> tuple[Any, Any]:
    """Train and eval `datasets.Dataset`s with exactly two string columns, `source` and `target`.

    The eval split is `eval_data` if given, else a `validation`/`dev`/`valid`/`test` split of `data`, else
    `eval_fraction` of the rows (at least one) split off with `seed`.

    Example:

    ```python
    >>> train, evaluation = load_pairs("pairs.jsonl", "en", "ug")  # doctest: +SKIP
    >>> train.column_names  # doctest: +SKIP
    ['source', 'target']
    ```
    """
    import datasets

    loaded = _load_any(data)
    evaluation = None
    if isinstance(loaded, datasets.DatasetDict):
        if "train" not in loaded:
            raise FinetuneError(f"{data} has no 'train' split (splits: {list(loaded)}).")
        train = loaded["train"]
        evaluation = next((loaded[name] for name in _EVAL_SPLITS if name in loaded), None)
    else:
        train = loaded
    if eval_data is not None:
        evaluation = _load_any(eval_data)
        if isinstance(evaluation, datasets.DatasetDict):
            name = next((n for n in _EVAL_SPLITS + ("train",) if n in evaluation), None)
            if name is None:
                raise FinetuneError(f"{eval_data} has none of the splits {_EVAL_SPLITS}.")
            evaluation = evaluation[name]

    def pairs_only(dataset: Any, where: str) -> Any:
        if len(dataset) == 0:
            raise FinetuneError(f"{where} has no rows.")
        keys = [_column_keys(dataset, source_column), _column_keys(dataset, target_column)]

        def select(batch: dict[str, list], indices: list[int]) -> dict[str, list[str]]:
            out = {}
            for name, column, (base, key) in zip(
                ("source", "target"), (source_column, target_column), keys, strict=True
            ):
                values = batch[base] if key is None else [row[key] if row else None for row in batch[base]]
                for index, value in zip(indices, values, strict=True):
                    if not isinstance(value, str):
                        raise FinetuneError(
                            f"{where}, row {index}: column {column!r} holds {value!r}, not a string. Drop or fix "
                            "rows without text."
                        )
                out[name] = values
            return out

        return dataset.map(
            select, batched=True, with_indices=True, remove_columns=dataset.column_names, desc="Reading pairs"
        )

    train = pairs_only(train, str(data))
    if evaluation is not None:
        evaluation = pairs_only(evaluation, str(eval_data or data))
    else:
        if len(train) < 2:
            raise FinetuneError(
                f"{data} has {len(train)} row: need at least 2 to split off an evaluation set, or pass --eval-data."
            )
        if not 0.0 < eval_fraction < 1.0:
            raise FinetuneError(f"--eval-fraction must be between 0 and 1, got {eval_fraction}.")
        size = max(1, int(round(eval_fraction * len(train))))
        split = train.train_test_split(test_size=size, seed=seed, shuffle=True)
        train, evaluation = split["train"], split["test"]
    return train, evaluation


def _language_id(tokenizer: Any, lang: str | None, role: str, log: Callable[[str], None]) -> str | None:
    """`lang` when the tokenizer has its token, else None after a warning (the run goes on without the token)."""
    if not lang:
        return None
    from .data import language_token, language_token_id

    try:
        language_token_id(tokenizer, lang)
    except ValueError:
        log(
            f"warning: the tokenizer has no {language_token(lang)} token, so {role} texts get no language token. "
            f"Add it when converting (`xlm-swcm-convert ... --add-language-tokens {lang}`) to use one."
        )
        return None
    return lang


def tokenize_dataset(
    dataset: Any,
    tokenizer: Any,
    max_length: int,
    source_lang: str | None = None,
    target_lang: str | None = None,
) -> Any:
    """`source`/`target` rows -> `input_ids`, `attention_mask`, `labels` with `xlm_swcm.data.tokenize_pairs`.

    Example:

    ```python
    >>> features = tokenize_dataset(train, tokenizer, max_length=128, target_lang="bo")  # doctest: +SKIP
    ```
    """
    from .data import tokenize_pairs

    def tokenize(batch: dict[str, list[str]]) -> dict[str, list[list[int]]]:
        features = tokenize_pairs(
            tokenizer,
            zip(batch["source"], batch["target"], strict=True),
            src_lang=source_lang,
            tgt_lang=target_lang,
            max_length=max_length,
        )
        return {key: [f[key] for f in features] for key in ("input_ids", "attention_mask", "labels")}

    return dataset.map(tokenize, batched=True, remove_columns=dataset.column_names, desc="Tokenizing")


# ----------------------------------------------------------------------------------------------------------------
# metrics
# ----------------------------------------------------------------------------------------------------------------
def build_compute_metrics(tokenizer: Any) -> Callable[[Any], dict[str, float]]:
    """A `compute_metrics` for `Seq2SeqTrainer(predict_with_generate=True)`: script-aware ROUGE-L (F1, precision,
    recall) and corpus chrF from `xlm_swcm.metrics`, plus the mean generated length in tokens (`gen_len`).

    Example:

    ```python
    >>> trainer = Seq2SeqTrainer(..., compute_metrics=build_compute_metrics(tokenizer))  # doctest: +SKIP
    >>> trainer.evaluate()["eval_chrf"]  # doctest: +SKIP
    12.5
    ```
    """
    import evaluate

    from .metrics import METRIC_PATH

    metric = evaluate.load(METRIC_PATH)
    pad = tokenizer.pad_token_id

    def compute_metrics(eval_prediction: Any) -> dict[str, float]:
        predictions, labels = eval_prediction.predictions, eval_prediction.label_ids
        if isinstance(predictions, tuple):
            predictions = predictions[0]
        # The evaluation loop pads across batches with -100 (labels and generated ids alike): make it padding.
        predictions = np.where(predictions < 0, pad, predictions)
        labels = np.where(labels < 0, pad, labels)
        decoded = [text.strip() for text in tokenizer.batch_decode(predictions, skip_special_tokens=True)]
        references = [text.strip() for text in tokenizer.batch_decode(labels, skip_special_tokens=True)]
        scores = metric.compute(predictions=decoded, references=references)
        special = np.isin(predictions, tokenizer.all_special_ids)
        scores["gen_len"] = float(np.mean(np.sum(~special, axis=1)))
        return {key: float(value) for key, value in scores.items()}

    return compute_metrics


def format_eval_table(log_history: Sequence[dict[str, Any]]) -> str:
    """The evaluations of a run (Trainer `log_history`) as a text table, one row per evaluation.

    Example:

    ```python
    >>> print(format_eval_table([{"step": 10, "eval_loss": 3.2, "eval_rougeL": 0.1, "eval_chrf": 9.5}]))
    step | eval_loss | rougeL | chrF | gen_len
    -----+-----------+--------+------+--------
      10 |    3.2000 | 0.1000 | 9.50 |       -

    ```
    """
    rows = [entry for entry in log_history if "eval_loss" in entry or "eval_chrf" in entry]
    columns = [
        ("step", "step", "{:d}"),
        ("eval_loss", "eval_loss", "{:.4f}"),
        ("rougeL", "eval_rougeL", "{:.4f}"),
    ]
    columns += [("chrF", "eval_chrf", "{:.2f}"), ("gen_len", "eval_gen_len", "{:.1f}")]
    cells = [[title for title, _, _ in columns]]
    cells += [[fmt.format(entry[key]) if key in entry else "-" for _, key, fmt in columns] for entry in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [" | ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------------------------
def check_fsdp_sharing(trainer: Any, config: Any) -> None:
    """Refuses FSDP layer-wise wrapping of a `weight_sharing="tie"` model, which breaks its parameter sharing.

    In tie mode encoder layer i and the custom decoder layer built from it hold the SAME attention and feed-forward
    tensors. Wrapping each layer in its own FSDP unit either fails (FSDP2: "shared with a parameter already managed
    by another FSDP group"; FSDP1 with use_orig_params=True: a shape error) or, worse, silently unties and trains
    two diverging copies (FSDP1 with use_orig_params=False); docs/fsdp_tie_check.py shows all three. A model
    wrapped as one unit (`fsdp_auto_wrap_policy: NO_WRAP`) keeps the ties and is allowed.

    Example:

    ```python
    >>> check_fsdp_sharing(trainer, model.config)  # doctest: +SKIP
    ```
    """
    if getattr(config, "weight_sharing", "copy") != "tie" or not getattr(trainer, "is_fsdp_enabled", False):
        return
    plugin = getattr(getattr(trainer, "accelerator", None), "state", None)
    plugin = getattr(plugin, "fsdp_plugin", None)
    if getattr(plugin, "auto_wrap_policy", None) is None:
        return
    raise FinetuneError(
        "This checkpoint uses weight_sharing='tie' (encoder and decoder layers share tensors), and FSDP is set to "
        "wrap layers separately, which fails or silently unties them. Use a copy-mode checkpoint "
        "(`xlm-swcm-convert ... --weight-sharing copy`, the default), or set `fsdp_auto_wrap_policy: NO_WRAP`, "
        "or DeepSpeed ZeRO-2. See docs/distributed.md."
    )


def finetune(
    model_path: str | os.PathLike,
    data: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    eval_data: str | os.PathLike | None = None,
    source_column: str = "source",
    target_column: str = "target",
    source_lang: str | None = None,
    target_lang: str | None = None,
    tokenizer_path: str | os.PathLike | None = None,
    max_length: int = 256,
    generation_max_length: int | None = None,
    num_beams: int = 1,
    eval_fraction: float = 0.1,
    max_train_samples: int | None = None,
    max_eval_samples: int | None = None,
    epochs: float = 3.0,
    max_steps: int = -1,
    batch_size: int = 8,
    eval_batch_size: int | None = None,
    gradient_accumulation_steps: int = 1,
    learning_rate: float = 5e-5,
    weight_decay: float = 0.01,
    warmup_steps: int = 0,
    lr_scheduler_type: str = "linear",
    eval_steps: int = 500,
    save_steps: int | None = None,
    save_total_limit: int | None = 2,
    logging_steps: int = 50,
    seed: int = 42,
    bf16: bool = False,
    gradient_checkpointing: bool = False,
    use_cpu: bool = False,
    deepspeed: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    disable_tqdm: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, float]]:
    """Fine-tunes `model_path` on `data`, saves model + tokenizer to `output_dir`; returns `{"train": ..., "eval":
    ...}` metrics (the final evaluation's keys: `eval_loss`, `eval_rougeL`, `eval_rougeL_precision`,
    `eval_rougeL_recall`, `eval_chrf`, `eval_gen_len`, ...). The arguments are those of `xlm-swcm-finetune --help`.

    Example:

    ```python
    >>> finetune("seed", "train.jsonl", "ft", max_steps=200, eval_steps=50)["eval"]["eval_chrf"]  # doctest: +SKIP
    31.4
    ```
    """
    import torch
    from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments, set_seed
    from transformers.trainer_utils import get_last_checkpoint
    from transformers.utils import is_torch_bf16_gpu_available

    output_dir = Path(output_dir)
    resume_from = None
    if resume:
        resume_from = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
        if resume_from is None:
            raise FinetuneError(f"--resume: {output_dir} holds no checkpoint-* folder to resume from.")
    elif output_dir.is_dir() and any(output_dir.iterdir()) and not overwrite:
        raise FinetuneError(
            f"{output_dir} already exists and is not empty: choose another --output-dir, pass --overwrite to write "
            "into it, or --resume to continue from its last checkpoint."
        )
    for name, value in (
        ("batch size", batch_size),
        ("--eval-steps", eval_steps),
        ("--max-length", max_length),
    ):
        if value < 1:
            raise FinetuneError(f"{name} must be >= 1, got {value}.")

    set_seed(seed)
    model, tokenizer = load_checkpoint(model_path, tokenizer_path)
    model_limit = model.config.max_position_embeddings - model.config.position_offset
    if max_length > model_limit:
        log(
            f"--max-length {max_length} is more than the model's {model_limit} positions: using {model_limit}."
        )
        max_length = model_limit
    generation_max_length = min(generation_max_length or max_length, model_limit)

    train, evaluation = load_pairs(data, source_column, target_column, eval_data, eval_fraction, seed)
    if max_train_samples is not None:
        train = train.select(range(min(max_train_samples, len(train))))
    if max_eval_samples is not None:
        evaluation = evaluation.select(range(min(max_eval_samples, len(evaluation))))
    source_lang = _language_id(tokenizer, source_lang, "source", log)
    target_lang = _language_id(tokenizer, target_lang, "target", log)
    train_features = tokenize_dataset(train, tokenizer, max_length, source_lang, target_lang)
    eval_features = tokenize_dataset(evaluation, tokenizer, max_length, source_lang, target_lang)

    # Saved with the model, so that generate() on the result starts with the language token and stops in time.
    generation_config = model.generation_config
    generation_config.max_length = generation_max_length
    generation_config.num_beams = num_beams
    if target_lang is not None:
        from .data import language_token_id

        generation_config.forced_bos_token_id = language_token_id(tokenizer, target_lang)

    if bf16 and not use_cpu and not (torch.cuda.is_available() and is_torch_bf16_gpu_available()):
        log("--bf16 without a bf16-capable GPU: training on the CPU with bf16 autocast.")
        use_cpu = True
    # transformers 5.24 renamed `gradient_checkpointing` to `activation_checkpointing` (the old name warns).
    names = {field.name for field in dataclasses.fields(Seq2SeqTrainingArguments)}
    checkpointing = (
        "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"
    )
    args = Seq2SeqTrainingArguments(
        **{checkpointing: gradient_checkpointing},
        output_dir=str(output_dir),
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=eval_batch_size or batch_size,
        gradient_accumulation_steps=gradient_accumulation_steps,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        warmup_steps=warmup_steps,
        lr_scheduler_type=lr_scheduler_type,
        num_train_epochs=epochs,
        max_steps=max_steps,
        eval_strategy="steps",
        eval_steps=eval_steps,
        save_strategy="steps",
        save_steps=save_steps or eval_steps,
        save_total_limit=save_total_limit,
        logging_steps=logging_steps,
        predict_with_generate=True,
        generation_max_length=generation_max_length,
        generation_num_beams=num_beams,
        bf16=bf16,
        use_cpu=use_cpu,
        dataloader_pin_memory=torch.cuda.is_available() and not use_cpu,
        deepspeed=str(deepspeed) if deepspeed is not None else None,
        seed=seed,
        report_to="none",
        disable_tqdm=disable_tqdm,
    )
    trainer = Seq2SeqTrainer(
        model=model,
        args=args,
        train_dataset=train_features,
        eval_dataset=eval_features,
        data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
        processing_class=tokenizer,
        compute_metrics=build_compute_metrics(tokenizer),
    )
    check_fsdp_sharing(trainer, model.config)
    main_process = trainer.is_world_process_zero()
    if main_process:
        log(
            f"fine-tuning {model_path} ({model.num_parameters():,} parameters) on {len(train_features)} pairs, "
            f"evaluating on {len(eval_features)} every {eval_steps} steps"
            + (f"; target language token <{target_lang}>" if target_lang else "")
        )
    train_result = trainer.train(resume_from_checkpoint=resume_from)
    trainer.save_model()  # model, generation config and tokenizer (the processing class) into output_dir
    train_metrics = dict(train_result.metrics)
    trainer.log_metrics("train", train_metrics)
    trainer.save_metrics("train", train_metrics)
    trainer.save_state()

    last = next((entry for entry in reversed(trainer.state.log_history) if "eval_loss" in entry), None)
    if last is not None and last.get("step") == trainer.state.global_step:
        # The periodic evaluation already scored the final weights: reuse it rather than generate again.
        eval_metrics = {
            key: value for key, value in last.items() if key.startswith("eval_") or key == "epoch"
        }
    else:
        eval_metrics = trainer.evaluate()
    trainer.log_metrics("eval", eval_metrics)
    trainer.save_metrics("eval", eval_metrics)
    if main_process:
        log("\nevaluations (ROUGE-L F1 and chrF on the generated translations, script-aware):")
        log(format_eval_table(trainer.state.log_history))
        loss = eval_metrics.get("eval_loss", math.nan)
        log(f"\nsaved the fine-tuned model to {output_dir} (final eval loss {loss:.4f})")
    return {"train": train_metrics, "eval": eval_metrics}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlm-swcm-finetune",
        description="Fine-tune an XLM-SWCM checkpoint on parallel text (Seq2SeqTrainer; script-aware ROUGE-L/chrF).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "model", help="checkpoint folder (from xlm-swcm-convert or save_pretrained) or cached Hub id"
    )
    parser.add_argument(
        "data", help="JSON-lines/JSON/CSV/Parquet file, save_to_disk folder, or cached dataset name"
    )
    parser.add_argument("--output-dir", "-o", required=True, help="where checkpoints and the final model go")
    parser.add_argument(
        "--eval-data", help="evaluation data (default: a validation split or --eval-fraction)"
    )
    parser.add_argument(
        "--eval-fraction", type=float, default=0.1, help="share of rows held out for evaluation"
    )
    parser.add_argument(
        "--source-column", default="source", help="column with the source text (or dict.field)"
    )
    parser.add_argument(
        "--target-column", default="target", help="column with the target text (or dict.field)"
    )
    parser.add_argument("--source-lang", help="language code whose token is put after <s> in the source")
    parser.add_argument("--target-lang", help="language code (e.g. bo) whose token starts the target")
    parser.add_argument("--tokenizer", help="tokenizer folder or tokenizer.json (default: the checkpoint's)")
    parser.add_argument("--max-length", type=int, default=256, help="truncate source and target to N tokens")
    parser.add_argument(
        "--generation-max-length", type=int, help="max generated tokens (default: --max-length)"
    )
    parser.add_argument("--num-beams", type=int, default=1, help="beam size for evaluation")
    parser.add_argument("--max-train-samples", type=int, help="use only the first N training pairs")
    parser.add_argument("--max-eval-samples", type=int, help="use only the first N evaluation pairs")
    parser.add_argument("--epochs", type=float, default=3.0, help="passes over the training data")
    parser.add_argument(
        "--max-steps", type=int, default=-1, help="number of optimizer steps (overrides --epochs)"
    )
    parser.add_argument("--batch-size", type=int, default=8, help="per device")
    parser.add_argument("--eval-batch-size", type=int, help="per device (default: --batch-size)")
    parser.add_argument(
        "--gradient-accumulation-steps", type=int, default=1, help="batches summed per optimizer step"
    )
    parser.add_argument("--learning-rate", type=float, default=5e-5, help="peak learning rate")
    parser.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    parser.add_argument("--warmup-steps", type=int, default=0, help="linear warm-up steps")
    parser.add_argument(
        "--lr-scheduler", default="linear", help="transformers scheduler name (linear, cosine...)"
    )
    parser.add_argument("--eval-steps", type=int, default=500, help="evaluate (and save) every N steps")
    parser.add_argument(
        "--save-steps", type=int, help="save a checkpoint every N steps (default: --eval-steps)"
    )
    parser.add_argument("--save-total-limit", type=int, default=2, help="checkpoints kept")
    parser.add_argument("--logging-steps", type=int, default=50, help="log the loss every N steps")
    parser.add_argument("--seed", type=int, default=42, help="seed of data order, dropout and init")
    parser.add_argument("--bf16", action="store_true", help="bf16 mixed precision (CPU: autocast)")
    parser.add_argument(
        "--gradient-checkpointing", action="store_true", help="recompute activations to save memory"
    )
    parser.add_argument("--cpu", action="store_true", help="train on the CPU even if a GPU is present")
    parser.add_argument(
        "--deepspeed", metavar="JSON", help="DeepSpeed config, e.g. docs/deepspeed_zero2.json"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from the last checkpoint in --output-dir"
    )
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty --output-dir")
    parser.add_argument(
        "--no-progress", action="store_true", help="hide every progress bar (training, loading, saving)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point `xlm-swcm-finetune` (`python -m xlm_swcm.finetune`)."""
    from transformers.utils import logging as hf_logging

    args = build_parser().parse_args(argv)
    bars = hf_logging.is_progress_bar_enabled()
    if args.no_progress:  # the Trainer's bar is disable_tqdm; loading and saving bars are transformers' own
        hf_logging.disable_progress_bar()
    try:
        finetune(
            args.model,
            args.data,
            args.output_dir,
            eval_data=args.eval_data,
            source_column=args.source_column,
            target_column=args.target_column,
            source_lang=args.source_lang,
            target_lang=args.target_lang,
            tokenizer_path=args.tokenizer,
            max_length=args.max_length,
            generation_max_length=args.generation_max_length,
            num_beams=args.num_beams,
            eval_fraction=args.eval_fraction,
            max_train_samples=args.max_train_samples,
            max_eval_samples=args.max_eval_samples,
            epochs=args.epochs,
            max_steps=args.max_steps,
            batch_size=args.batch_size,
            eval_batch_size=args.eval_batch_size,
            gradient_accumulation_steps=args.gradient_accumulation_steps,
            learning_rate=args.learning_rate,
            weight_decay=args.weight_decay,
            warmup_steps=args.warmup_steps,
            lr_scheduler_type=args.lr_scheduler,
            eval_steps=args.eval_steps,
            save_steps=args.save_steps,
            save_total_limit=args.save_total_limit,
            logging_steps=args.logging_steps,
            seed=args.seed,
            bf16=args.bf16,
            gradient_checkpointing=args.gradient_checkpointing,
            use_cpu=args.cpu,
            deepspeed=args.deepspeed,
            resume=args.resume,
            overwrite=args.overwrite,
            disable_tqdm=args.no_progress,
        )
    except (FinetuneError, ValueError) as error:
        print(f"xlm-swcm-finetune: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "xlm-swcm-finetune: interrupted; the last saved checkpoint can be resumed with --resume.",
            file=sys.stderr,
        )
        return 130
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    return 0


if __name__ == "__main__":
    sys.exit(main())
