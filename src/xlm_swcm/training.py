# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""`xlm-swcm-train`: fine-tunes XLM-SWCM on translation pairs, or continues its pretraining (mBART denoising of
monolingual text mixed with the pairs), with `transformers.Seq2SeqTrainer`. The options are `TrainOptions` and
`TrainingArguments` (`--help`); use: README.md, "Use it like any transformers model"; torchrun, FSDP, DeepSpeed:
docs/distributed.md. `xlm-swcm-finetune` is `--objective translate` with its earlier spellings (`finetune_main`).
"""

import csv
import itertools
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Any, Literal

import datasets
import evaluate
import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import (
    DataCollatorForSeq2Seq,
    HfArgumentParser,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
    set_seed,
)
from transformers.trainer_utils import IntervalStrategy, get_last_checkpoint
from transformers.utils import is_torch_bf16_gpu_available
from transformers.utils import logging as hf_logging

from .checkpoint import load_config
from .conversion import load_tokenizer
from .data import (
    DataCollatorForMixedPretraining,
    language_token,
    language_token_id,
    mix_translation_pairs,
    tokenize_pairs,
)
from .errors import XLMSWCMError
from .metrics import METRIC_PATH
from .modeling_xlm_swcm import XLMSWCMForConditionalGeneration
from .options import option
from .outputs import check_output, check_writable
from .vocab import SPECIAL_TOKEN_ROLES, check_language_codes

__all__ = [
    "TrainOptions",
    "TrainingArguments",
    "TrainingError",
    "build_compute_metrics",
    "build_parser",
    "build_trainer",
    "check_fsdp_sharing",
    "check_text_file",
    "finetune_main",
    "format_eval_table",
    "load_checkpoint",
    "load_pairs",
    "main",
    "stream_text",
    "train",
]

# File suffixes read with the `datasets` packaged builder of that name.
_DATA_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}
ROW_LANGUAGE = "target_lang"  # optional column of the pairs: each row's target language
# Split names tried, in order, for evaluation when the data comes with splits and no --eval_data is given.
_EVAL_SPLITS = ("validation", "dev", "valid", "test")
_JSON_LINE = 'each line must be one {"source": ..., "target": ...} object.'

TrainingError = XLMSWCMError  # this module's error before the library had one


@dataclass
class TrainOptions:
    """What to train and on what; how (steps, batch size, ...) is in `TrainingArguments`.

    >>> TrainOptions(model="seed", data="pairs.jsonl", target_lang="bo").objective
    'translate'
    """

    model: str = option(MISSING, "checkpoint folder (xlm-swcm-convert or save_pretrained) or cached Hub id")
    data: str = option(MISSING, "pairs: JSONL/JSON/CSV/TSV/Parquet file, save_to_disk folder, dataset name")
    objective: Literal["translate", "denoise+translate"] = option(
        "translate",
        "translate: fine-tune on the pairs; denoise+translate: continued pretraining, mBART denoising of "
        "--text_files mixed with the pairs",
    )
    text_files: list[str] | None = option(
        None, "plain-text files, a document or sentence a line (denoise+translate)"
    )
    translation_probability: float = option(0.5, "share of pairs among the examples (denoise+translate)")
    eval_data: str | None = option(
        None, "evaluation pairs; unset: a validation split of --data, or --eval_fraction of it"
    )
    eval_fraction: float = option(0.1, "share of --data held out for evaluation")
    source_column: str = option("source", "column with the source text (or dict.field)")
    target_column: str = option("target", "column with the target text (or dict.field)")
    source_lang: str | None = option(None, "language code whose token is put after <s> in the source")
    target_lang: str | None = option(None, "language code (e.g. bo) whose token starts the target")
    tokenizer: str | None = option(None, "tokenizer folder or tokenizer.json; unset: the checkpoint's")
    max_length: int = option(256, "truncate sources, targets and text lines to N tokens")
    max_train_samples: int | None = option(None, "use only the first N training pairs")
    max_eval_samples: int | None = option(None, "use only the first N evaluation pairs")
    overwrite_output_dir: bool = option(
        False, "write into a non-empty --output_dir (its files are kept or replaced)"
    )


@dataclass
class TrainingArguments(Seq2SeqTrainingArguments):
    """`Seq2SeqTrainingArguments` with the defaults of `xlm-swcm-train` where they differ from transformers'.

    >>> TrainingArguments(output_dir="ft", eval_steps=100).save_steps  # checkpoints where the scores are
    100
    """

    weight_decay: float = option(0.01, "AdamW weight decay (transformers: 0; BART/mBART fine-tuning: 0.01)")
    eval_strategy: IntervalStrategy | str = option("steps", "evaluate: no, steps, epoch (transformers: no)")
    eval_steps: float | None = option(500, "evaluate every N steps")
    save_steps: float | None = option(
        None, "save a checkpoint every N steps; unset: every --eval_steps, so each is scored"
    )
    save_total_limit: int | None = option(2, "checkpoints kept (transformers: all)")
    logging_steps: float = option(50, "log the loss every N steps (transformers: 500)")
    predict_with_generate: bool = option(True, "score generated text: ROUGE-L and chrF (transformers: no)")

    def __post_init__(self) -> None:
        if self.save_steps is None:
            self.save_steps = self.eval_steps or 500
        if (
            self.bf16
            and not self.use_cpu
            and not (torch.cuda.is_available() and is_torch_bf16_gpu_available())
        ):
            self.use_cpu = True  # bf16 autocast on the CPU rather than an error
        if self.use_cpu or not torch.cuda.is_available():
            self.dataloader_pin_memory = False  # pinning needs an accelerator (torch warns otherwise)
        super().__post_init__()


def _load_config(path: str) -> Any:
    """The config of the checkpoint `path` (a folder or a Hub id) after the checks that need no weights loaded
    (`xlm_swcm.checkpoint.load_config`: config.json, complete weights files), an XLM-SWCM model."""

    def check(config: Any) -> None:
        if config.model_type != "xlm-swcm":
            raise XLMSWCMError(
                f"{path} holds a {config.model_type!r} model, not XLM-SWCM: convert the encoder into a seed first, "
                f"e.g. `xlm-swcm-convert {path} seed`, and fine-tune the seed."
            )

    give = (
        "give a folder written by xlm-swcm-convert (e.g. `xlm-swcm-convert path/to/xlm-roberta-base seed`) or "
        "by save_pretrained"
    )
    return load_config(path, "--model", check, give)


def _load_tokenizer(source: str, config: Any) -> Any:
    """The tokenizer of `source` (a folder, tokenizer.json or Hub id), checked against the model's vocabulary."""
    tokenizer = load_tokenizer(source)
    if len(tokenizer) > config.vocab_size:
        raise XLMSWCMError(
            f"The tokenizer has {len(tokenizer)} tokens but the model only {config.vocab_size} embedding rows: "
            "the tokenizer does not belong to this checkpoint (or tokens were added without resizing the model)."
        )
    return tokenizer


def _load_model(path: str) -> XLMSWCMForConditionalGeneration:
    """`from_pretrained` of a checked folder; what transformers still refuses (weights that do not fit the config,
    say) becomes one line."""
    try:
        return XLMSWCMForConditionalGeneration.from_pretrained(path)
    except (OSError, ValueError, RuntimeError) as error:
        reason = " ".join(str(error).split())
        raise XLMSWCMError(f"Could not load the model {path}: {type(error).__name__}: {reason}") from error


def load_checkpoint(
    path: str | os.PathLike, tokenizer_path: str | os.PathLike | None = None
) -> tuple[Any, Any]:
    """Loads an XLM-SWCM model and its tokenizer from a folder (or a cached Hub id); clear errors otherwise. The
    config, the weights files and the tokenizer are checked before the weights load."""
    path = str(path)
    config = _load_config(path)
    tokenizer = _load_tokenizer(str(tokenizer_path) if tokenizer_path is not None else path, config)
    return _load_model(path), tokenizer


def check_text_file(path: str | os.PathLike, what: str, json_lines: bool = False) -> int:
    """Reads `path` once, line by line (flat memory, exact line numbers), and refuses bytes that are not UTF-8 and,
    with `json_lines`, a non-blank line that is not one JSON object, naming the file, the 1-based line and the fix.
    Returns the number of non-blank lines."""
    path = Path(path)
    count = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise TrainingError(
                    f"{what} {path}, line {number}: not UTF-8 text (byte 0x{raw[error.start]:02x}): save the file as "
                    "UTF-8 (an editor's Save As, encoding UTF-8; or `iconv -f cp1252 -t utf-8 FILE > NEW_FILE`)."
                ) from error
            if line.strip():
                count += 1
                if json_lines:
                    _check_json_object(line, f"{what} {path}, line {number}")
    return count


def _check_json_object(line: str, where: str) -> None:
    try:
        row = json.loads(line)
    except ValueError as error:
        reason = getattr(error, "msg", str(error))
        raise TrainingError(f"{where}: not valid JSON ({reason}); {_JSON_LINE}") from error
    if not isinstance(row, dict):
        raise TrainingError(f"{where}: a JSON {type(row).__name__}, not an object; {_JSON_LINE}")


def _load_file(spec: str, what: str) -> Any:
    """A data file as a `datasets.Dataset`; a text file is checked first (`check_text_file`), so that encoding
    errors and broken JSON lines are named by file and line, not left to the builder's generic errors."""
    path = Path(spec)
    suffix = path.suffix.lower()
    builder = _DATA_BUILDERS.get(suffix)
    if builder is None:
        raise TrainingError(
            f"Cannot read {spec}: use a .jsonl/.json, .csv/.tsv or .parquet file (one pair per row)."
        )
    if path.stat().st_size == 0 or (
        builder != "parquet" and not check_text_file(path, what, suffix == ".jsonl")
    ):
        raise TrainingError(f"{spec} is empty: it must hold one source/target pair per row.")
    kwargs = {"delimiter": "\t"} if suffix == ".tsv" else {}
    return datasets.load_dataset(builder, data_files=str(path), split="train", **kwargs)


def _load_any(spec: str | os.PathLike, what: str = "--data") -> Any:
    """A `datasets.Dataset` or `DatasetDict` from a data file, a saved dataset folder or a (cached) dataset name."""
    spec = str(spec)
    path = Path(spec)
    try:
        if path.is_file():
            return _load_file(spec, what)
        if path.is_dir():
            saved = ("dataset_dict.json", "dataset_info.json", "state.json")
            if any((path / name).is_file() for name in saved):
                return datasets.load_from_disk(str(path))
            return datasets.load_dataset(str(path))
        if path.suffix.lower() in _DATA_BUILDERS or path.is_absolute() or spec.startswith("."):
            raise TrainingError(
                f"{what} {spec} does not exist: check the path (a .jsonl, .csv, .tsv or .parquet file)."
            )
        return datasets.load_dataset(spec)
    except TrainingError:
        raise
    except Exception as error:  # datasets raises many types (DatasetGenerationError, FileNotFoundError, ...)
        # DatasetGenerationError says only "An error occurred while generating the dataset": the cause says what
        cause = f" ({type(error.__cause__).__name__}: {error.__cause__})" if error.__cause__ else ""
        reason = " ".join(f"{type(error).__name__}: {error}{cause}".split())
        raise TrainingError(
            f"Could not load the data {spec!r}: {reason}. Give a JSON-lines file with one "
            '{"source": ..., "target": ...} object per line, a folder written by Dataset.save_to_disk, or a '
            "dataset name that is in the local cache (offline runs: HF_DATASETS_OFFLINE=1)."
        ) from error


def _row_place(spec: str, index: int) -> str:
    """Where row `index` (0-based, as `datasets` counts) of the data `spec` is for the user: the 1-based line of a
    JSON-lines or CSV/TSV file (as an editor numbers it: blank lines and the CSV header counted), else `row N`."""
    path = Path(spec)
    suffix = path.suffix.lower()
    if path.is_file() and suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            rows = (number for number, line in enumerate(handle, 1) if line.strip())
            return f"line {next(itertools.islice(rows, index, None), index + 1)}"
    if path.is_file() and suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ",")
            end = 0
            for record, _ in enumerate(reader, -1):  # -1: the header
                if record == index:
                    return f"line {end + 1}"
                end = reader.line_num
    return f"row {index + 1}"


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
        raise TrainingError(f"Column {base!r} has no field {key!r}; its fields are {fields}.")
    raise TrainingError(
        f"The data has no column {column!r}; its columns are {names}. Name the right ones with --source_column "
        "and --target_column (a field of a dict column as `translation.bo`)."
    )


def _pairs_only(dataset: Any, where: str, source_column: str, target_column: str) -> Any:
    """`dataset` reduced to string `source` and `target` columns (and `target_lang`, empty -> None); a row without
    text is refused with its place in the file."""
    if len(dataset) == 0:
        raise TrainingError(f"{where} has no rows.")
    columns = {"source": source_column, "target": target_column}
    keys = {name: _column_keys(dataset, column) for name, column in columns.items()}

    def select(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
        out = {}
        for name, (base, key) in keys.items():
            out[name] = batch[base] if key is None else [row[key] if row else None for row in batch[base]]
            for index, value in zip(indices, out[name], strict=True):
                if not isinstance(value, str):
                    raise TrainingError(
                        f"{where}, {_row_place(where, index)}: column {columns[name]!r} holds {value!r}, not a "
                        "string. Drop or fix rows without text."
                    )
        if ROW_LANGUAGE in batch:  # optional per-row target language (multilingual data)
            out[ROW_LANGUAGE] = [lang or None for lang in batch[ROW_LANGUAGE]]
        return out

    return dataset.map(
        select, batched=True, with_indices=True, remove_columns=dataset.column_names, desc="Reading pairs"
    )


def load_pairs(
    data: str | os.PathLike,
    source_column: str = "source",
    target_column: str = "target",
    eval_data: str | os.PathLike | None = None,
    eval_fraction: float = 0.1,
    seed: int = 42,
) -> tuple[Any, Any]:
    """Train and eval `datasets.Dataset`s with two string columns, `source` and `target`, plus `target_lang` when
    the data has one (each row's target language, for data with several; empty or null: `--target_lang`).

    The eval split is `eval_data` if given, else a `validation`/`dev`/`valid`/`test` split of `data`, else
    `eval_fraction` of the rows (at least one) split off with `seed`, else (`eval_fraction=0`) None."""
    loaded = _load_any(data)
    train, evaluation = loaded, None
    if isinstance(loaded, datasets.DatasetDict):
        if "train" not in loaded:
            raise TrainingError(f"{data} has no 'train' split (splits: {list(loaded)}).")
        train = loaded["train"]
        evaluation = next((loaded[name] for name in _EVAL_SPLITS if name in loaded), None)
    if eval_data is not None:
        evaluation = _load_any(eval_data, "--eval_data")
        if isinstance(evaluation, datasets.DatasetDict):
            name = next((name for name in (*_EVAL_SPLITS, "train") if name in evaluation), None)
            if name is None:
                raise TrainingError(f"{eval_data} has none of the splits {_EVAL_SPLITS}.")
            evaluation = evaluation[name]
    train = _pairs_only(train, str(data), source_column, target_column)
    if evaluation is not None:
        return train, _pairs_only(evaluation, str(eval_data or data), source_column, target_column)
    if eval_fraction <= 0:
        return train, None
    if len(train) < 2:
        raise TrainingError(
            f"{data} has {len(train)} row: need at least 2 to split off an evaluation set, or pass --eval_data."
        )
    if not 0.0 < eval_fraction < 1.0:
        raise TrainingError(f"--eval_fraction must be between 0 and 1, got {eval_fraction}.")
    split = train.train_test_split(test_size=max(1, round(eval_fraction * len(train))), seed=seed)
    return split["train"], split["test"]


def _fast_vocabulary(source: str) -> Any | None:
    """The `tokenizers.Tokenizer` of the tokenizer.json at `source` (the file, or in the folder), or None. It loads
    in a fraction of the time of transformers' tokenizer (XLM-R's 250k pieces on a busy 2-core machine: 2 s, not
    6-9 s), so that a mistyped language code is refused at once; the full tokenizer, loaded next, checks again."""
    path = Path(source)
    file = path if path.is_file() else path / "tokenizer.json"
    try:
        return Tokenizer.from_file(str(file)) if file.is_file() else None
    except Exception:  # not a tokenizer.json after all: the full load says what it is
        return None


def _language_lookup(tokenizer: Any) -> tuple[Callable[[str], bool], list[str]]:
    """(whether a token is in the vocabulary, the language tokens) of a transformers tokenizer or of a
    `tokenizers.Tokenizer`; language tokens are the special tokens that name no special role (<s>, <pad>, ...)."""
    if isinstance(tokenizer, Tokenizer):
        added = [t.content for t in tokenizer.get_added_tokens_decoder().values() if t.special]

        def has(token: str) -> bool:
            return tokenizer.token_to_id(token) is not None
    else:
        added = [str(t) for t in getattr(tokenizer, "extra_special_tokens", None) or []]

        def has(token: str) -> bool:
            token_id = tokenizer.convert_tokens_to_ids(token)
            return token_id is not None and token_id != tokenizer.unk_token_id

    return has, [token for token in added if token.strip("<>/").lower() not in SPECIAL_TOKEN_ROLES]


def _is_language_code(lang: str) -> bool:
    """False for a special token's name (`unk`, `pad`) or what is not a code at all."""
    try:
        check_language_codes(None, [lang])
    except ValueError:
        return False
    return True


def _check_languages(
    tokenizer: Any, source_lang: str | None, target_lang: str | None, pairs: Sequence[Any]
) -> set[str | None]:
    """Refuses a --source_lang/--target_lang, or a `target_lang` of the rows, whose token the tokenizer lacks or
    that names a special token (`pad`: every translation would start with <pad>); a typo once trained a whole run
    without a language token. Returns the target languages the rows use (a row without one: `target_lang`)."""
    has, known = _language_lookup(tokenizer)
    tokens = f"its language tokens are {', '.join(known)}" if known else "it has no language tokens"
    for flag, lang in (("--source_lang", source_lang), ("--target_lang", target_lang)):
        if not lang:
            continue
        try:
            check_language_codes(None, [lang])  # syntax and special-token names: `pad`, `unk`, `s`, ...
        except ValueError as error:
            raise TrainingError(f"{flag}: {error}") from error
        if not has(language_token(lang)):
            raise TrainingError(
                f"{flag} {lang}: the tokenizer has no {language_token(lang)} token ({tokens}). Fix the code, leave "
                f"the option out, or add the token when converting (`xlm-swcm-convert ... --add-language-tokens {lang}`)."
            )
    used = {
        lang or target_lang
        for dataset in pairs
        if dataset is not None
        for lang in (dataset[ROW_LANGUAGE] if ROW_LANGUAGE in dataset.column_names else [None])
    }
    special = sorted(str(lang) for lang in used if lang is not None and not _is_language_code(lang))
    if special:
        raise TrainingError(
            f"Rows ask for target languages {special}, which name special tokens or are not language codes: fix "
            f"the `{ROW_LANGUAGE}` column (ISO 639 codes such as bo, ug, kk, mn, zh)."
        )
    missing = sorted(lang for lang in used if lang is not None and not has(language_token(lang)))
    if missing:
        raise TrainingError(
            f"Rows ask for target languages {missing} whose tokens ({', '.join(map(language_token, missing))}) the "
            f"tokenizer lacks ({tokens}): fix the `{ROW_LANGUAGE}` column, or add them when converting "
            f"(`xlm-swcm-convert ... --add-language-tokens {','.join(missing)}`)."
        )
    return used


def _tokenize(
    dataset: Any, tokenizer: Any, max_length: int, source_lang: str | None, target_lang: str | None
) -> Any:
    """`source`/`target` rows -> `input_ids`, `attention_mask`, `labels` with `xlm_swcm.data.tokenize_pairs`."""

    def tokenize(batch: dict[str, list[str]]) -> dict[str, list[list[int]]]:
        pairs = list(zip(batch["source"], batch["target"], strict=True))
        if ROW_LANGUAGE in batch:  # the rows' own target languages: one tokenize_pairs call per row
            features = [
                tokenize_pairs(tokenizer, [pair], source_lang, lang or target_lang, max_length)[0]
                for pair, lang in zip(pairs, batch[ROW_LANGUAGE], strict=True)
            ]
        else:
            features = tokenize_pairs(tokenizer, pairs, source_lang, target_lang, max_length)
        return {key: [f[key] for f in features] for key in ("input_ids", "attention_mask", "labels")}

    return dataset.map(tokenize, batched=True, remove_columns=dataset.column_names, desc="Tokenizing")


def build_compute_metrics(tokenizer: Any) -> Callable[[Any], dict[str, float]]:
    """A `compute_metrics` for `Seq2SeqTrainer(predict_with_generate=True)`: script-aware ROUGE-L (F1, precision,
    recall) and corpus chrF from `xlm_swcm.metrics`, plus the mean generated length in tokens (`gen_len`)."""
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

    >>> print(format_eval_table([{"step": 10, "eval_loss": 3.2, "eval_rougeL": 0.1, "eval_chrf": 9.5}]))
    step | eval_loss | rougeL | chrF | gen_len
    -----+-----------+--------+------+--------
      10 |    3.2000 | 0.1000 | 9.50 |       -
    """
    rows = [entry for entry in log_history if "eval_loss" in entry or "eval_chrf" in entry]
    titles = ["step", "eval_loss", "rougeL", "chrF", "gen_len"]
    keys = ["step", "eval_loss", "eval_rougeL", "eval_chrf", "eval_gen_len"]
    formats = dict(zip(keys, ["{:d}", "{:.4f}", "{:.4f}", "{:.2f}", "{:.1f}"], strict=True))
    cells = [titles] + [[formats[k].format(entry[k]) if k in entry else "-" for k in keys] for entry in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(titles))]
    lines = [" | ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def check_fsdp_sharing(trainer: Any, config: Any) -> None:
    """Refuses FSDP layer-wise wrapping of a `weight_sharing="tie"` model: encoder layer i and the decoder layer
    built from it hold the same tensors, and one FSDP unit per layer fails or silently unties them
    (docs/distributed.md, "Tie mode and FSDP"). One unit for the whole model (`NO_WRAP`) keeps the ties."""
    if getattr(config, "weight_sharing", "copy") != "tie" or not getattr(trainer, "is_fsdp_enabled", False):
        return
    plugin = getattr(getattr(trainer, "accelerator", None), "state", None)
    if getattr(getattr(plugin, "fsdp_plugin", None), "auto_wrap_policy", None) is None:
        return
    raise TrainingError(
        "This checkpoint uses weight_sharing='tie' (encoder and decoder layers share tensors), and FSDP is set to "
        "wrap layers separately, which fails or silently unties them. Use a copy-mode checkpoint "
        "(`xlm-swcm-convert ... --weight-sharing copy`, the default), or set `fsdp_auto_wrap_policy: NO_WRAP`, "
        "or DeepSpeed ZeRO-2. See docs/distributed.md."
    )


def _check_text_files_exist(files: Sequence[str]) -> None:
    missing = [name for name in files if not Path(name).is_file()]
    if missing:
        raise TrainingError(
            f"Text file(s) {missing} do not exist: give plain-text files, one document a line."
        )


def stream_text(files: Sequence[str | os.PathLike], tokenizer: Any, max_length: int) -> Any:
    """The non-blank lines of plain-text `files` as a streamed `datasets.IterableDataset` of `input_ids`, read lazily
    as training consumes them (a 10 GB file is never held in memory)."""
    files = [str(name) for name in files]
    _check_text_files_exist(files)
    text = datasets.load_dataset("text", data_files=files, split="train", streaming=True)
    text = text.filter(lambda row: bool(row["text"].strip()))
    return text.map(
        lambda batch: {
            "input_ids": tokenizer(batch["text"], truncation=True, max_length=max_length).input_ids
        },
        batched=True,
        remove_columns=["text"],
        # int32 ids, as `datasets` stores `input_ids` of tokenized pairs: interleaving needs one type per column
        features=datasets.Features({"input_ids": datasets.List(datasets.Value("int32"))}),
    )


def build_trainer(
    model: Any, args: TrainingArguments, train_dataset: Any, **trainer_kwargs: Any
) -> Seq2SeqTrainer:
    """The `Seq2SeqTrainer` that `train` runs, also for a model and data the caller built (`experiments/ablation.py`):
    `trainer_kwargs` go to `Seq2SeqTrainer`. Refuses FSDP layer-wise wrapping of a tie-mode model."""
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=train_dataset, **trainer_kwargs)
    check_fsdp_sharing(trainer, model.config)
    return trainer


def _check_resume(args: TrainingArguments, overwrite: bool) -> str | None:
    """The checkpoint to resume from (`last`: the newest in --output_dir) or None; refuses a non-empty --output_dir
    that is neither resumed nor overwritten."""
    output_dir, resume = Path(args.output_dir), args.resume_from_checkpoint
    if resume == "last":
        resume = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
        if resume is None:
            raise TrainingError(f"--resume_from_checkpoint last: {output_dir} holds no checkpoint-* folder.")
    elif resume is not None and not Path(resume).is_dir():
        raise TrainingError(
            f"--resume_from_checkpoint {resume} is not a folder: give a checkpoint-* folder, or `last` for the "
            "newest one in --output_dir."
        )
    elif resume is None and not overwrite and output_dir.is_dir() and any(output_dir.iterdir()):
        raise TrainingError(
            f"{output_dir} already exists and is not empty: choose another --output_dir, pass "
            "--overwrite_output_dir to write into it, or --resume_from_checkpoint last to continue its last checkpoint."
        )
    return resume


def _check_steps(args: TrainingArguments, denoise: bool) -> None:
    # transformers reads max_steps -1 (its default) as "not set": 0 or another negative number is a mistake, which
    # it would run as 0 steps (a "trained" copy of the seed) or as epochs
    if args.max_steps == 0 or args.max_steps < -1:
        raise TrainingError(
            f"--max_steps must be at least 1, got {args.max_steps}; leave it out to train --num_train_epochs epochs."
        )
    if denoise and args.max_steps <= 0:
        raise TrainingError(
            "--objective denoise+translate streams --text_files, so an epoch's length is unknown: set --max_steps."
        )
    if args.max_steps < 0 and not args.num_train_epochs > 0:
        raise TrainingError(f"--num_train_epochs must be more than 0, got {args.num_train_epochs}.")


def _check_options(options: TrainOptions, args: TrainingArguments) -> str | None:
    """Refuses options that cannot work, from the options alone (no file is read); returns the checkpoint to resume
    from (`_check_resume`)."""
    resume = _check_resume(args, options.overwrite_output_dir)
    # The Trainer writes the model into --output_dir and deletes old checkpoint-* folders there: no input may live in it.
    inputs = {"--model": options.model, "--tokenizer": options.tokenizer, "--data": options.data}
    check_output(args.output_dir, {**inputs, "--eval_data": options.eval_data})
    for name in options.text_files or []:
        check_output(args.output_dir, {"--text_files": name})
    check_writable(args.output_dir)
    denoise = options.objective == "denoise+translate"
    if denoise and not options.text_files:
        raise TrainingError("--objective denoise+translate needs --text_files: monolingual plain-text files.")
    _check_steps(args, denoise)
    if options.text_files and not denoise:
        raise TrainingError("--text_files are only read by --objective denoise+translate.")
    if options.max_length < 3:
        raise TrainingError(f"--max_length must be >= 3 (<s>, a token, </s>), got {options.max_length}.")
    at_least_one = {
        "--max_train_samples": options.max_train_samples,
        "--max_eval_samples": options.max_eval_samples,
        "--per_device_train_batch_size": args.per_device_train_batch_size,
        "--per_device_eval_batch_size": args.per_device_eval_batch_size,
        "--gradient_accumulation_steps": args.gradient_accumulation_steps,
        "--generation_num_beams": args.generation_num_beams,
        "--generation_max_length": args.generation_max_length,
    }
    for name, value in at_least_one.items():
        if value is not None and value < 1:
            raise TrainingError(f"{name} must be at least 1, got {value}.")
    evaluating = args.eval_strategy != IntervalStrategy.NO
    if evaluating and options.eval_data is None and not 0.0 <= options.eval_fraction < 1.0:
        raise TrainingError(
            f"--eval_fraction must be between 0 and 1, got {options.eval_fraction}; or give --eval_data."
        )
    if denoise and not 0.0 <= options.translation_probability <= 1.0:
        raise TrainingError(
            f"--translation_probability must be between 0 and 1, got {options.translation_probability}."
        )
    return resume


def _check_inputs(
    options: TrainOptions, args: TrainingArguments, log: Callable[[str], None]
) -> tuple[Any, int]:
    """The checks that read the inputs but load no weights: the model's config and files, the text files (read in
    full: an encoding error deep in a large file would otherwise stop training hours in). Returns the config and
    the --max_length that fits the model's positions (--generation_max_length is capped too)."""
    config = _load_config(options.model)
    _check_text_files_exist(options.text_files or [])
    for name in options.text_files or []:
        if not check_text_file(name, "--text_files"):
            raise TrainingError(
                f"--text_files {name} is empty (no non-blank line): give plain-text files, one document or "
                "sentence a line, or leave it out."
            )
    limit = config.max_position_embeddings - config.position_offset
    if options.max_length > limit:
        log(f"--max_length {options.max_length} is more than the model's {limit} positions: using {limit}.")
    max_length = min(options.max_length, limit)
    args.generation_max_length = min(args.generation_max_length or max_length, limit)
    return config, max_length


def _load_data(
    options: TrainOptions, args: TrainingArguments, config: Any, max_length: int
) -> tuple[Any, Any, Any, set[str | None]]:
    """The tokenizer, the tokenized train and eval pairs (eval: None when nothing is evaluated) and the target
    languages of the rows. Language codes are checked in tokenizer.json first, before the slower full load."""
    # without evaluation no pairs are held out (a validation split of --data is then read but not used)
    evaluating = args.eval_strategy != IntervalStrategy.NO
    held_out = (options.eval_data, options.eval_fraction) if evaluating else (None, 0.0)
    pairs = list(load_pairs(options.data, options.source_column, options.target_column, *held_out, args.seed))
    for index, limit in enumerate((options.max_train_samples, options.max_eval_samples)):
        if limit is not None and pairs[index] is not None:
            pairs[index] = pairs[index].select(range(min(limit, len(pairs[index]))))
    codes = options.source_lang, options.target_lang
    vocabulary = _fast_vocabulary(options.tokenizer or options.model)
    if vocabulary is not None:
        _check_languages(vocabulary, *codes, pairs)
    tokenizer = _load_tokenizer(options.tokenizer or options.model, config)
    row_langs = _check_languages(tokenizer, *codes, pairs)
    codes = tuple(code or None for code in codes)  # an empty code: no language token
    train_data, eval_data = (p if p is None else _tokenize(p, tokenizer, max_length, *codes) for p in pairs)
    return tokenizer, train_data, eval_data, row_langs


def _objective_data(
    options: TrainOptions, args: TrainingArguments, model: Any, tokenizer: Any, pairs: Any, max_length: int
) -> tuple[Any, Any]:
    """The training data and the collator of `options.objective`: the tokenized pairs, or the text files streamed,
    noised and mixed with the pairs (denoise+translate)."""
    if options.objective != "denoise+translate":
        return pairs, DataCollatorForSeq2Seq(tokenizer, model=model)
    # Both sides cycle until each has been read once: one pass over the text, the pairs repeated as needed. A
    # stream gets no sampler from the Trainer: the pairs are shuffled, and a buffer mixes neighbouring lines.
    data = mix_translation_pairs(
        stream_text(options.text_files, tokenizer, max_length),
        pairs.shuffle(seed=args.seed),
        translation_probability=options.translation_probability,
        seed=args.seed,
        stopping_strategy="all_exhausted",
    ).shuffle(seed=args.seed, buffer_size=10_000)
    # Each rank reads the stream, keeps its own examples of every global batch (accelerate's IterableDatasetShard)
    # and collates them. accelerate's default for a stream, the main process collating every rank's batch and
    # concatenating them, fails on their different padding.
    if args.accelerator_config.dispatch_batches is None:
        args.accelerator_config.dispatch_batches = False
    return data, DataCollatorForMixedPretraining(
        tokenizer, model=model, max_length=max_length, seed=args.seed
    )


def _final_evaluation(trainer: Seq2SeqTrainer, log: Callable[[str], None]) -> None:
    """Scores the final weights into eval_results.json and logs the table of every evaluation of the run."""
    last = next((entry for entry in reversed(trainer.state.log_history) if "eval_loss" in entry), None)
    if last is not None and last.get("step") == trainer.state.global_step:
        # The periodic evaluation already scored the final weights: reuse it rather than generate again.
        metrics = {key: value for key, value in last.items() if key.startswith("eval_") or key == "epoch"}
    else:
        metrics = trainer.evaluate()
    trainer.log_metrics("eval", metrics)
    trainer.save_metrics("eval", metrics)
    if trainer.is_world_process_zero():
        log("\nevaluations (ROUGE-L F1 and chrF on the generated translations, script-aware):")
        log(format_eval_table(trainer.state.log_history))
        log(f"\nsaved the trained model to {Path(trainer.args.output_dir)}")


def train(
    options: TrainOptions, args: TrainingArguments, log: Callable[[str], None] = print
) -> Seq2SeqTrainer:
    """Trains `options.model` as `options.objective` says, every input checked before the model loads. Saves the
    model, tokenizer, generation config and `train_results.json` (and `eval_results.json`) to `args.output_dir`;
    returns the `Seq2SeqTrainer` (`trainer.state.log_history`: its losses and scores)."""
    resume = _check_options(options, args)
    config, max_length = _check_inputs(options, args, log)
    tokenizer, train_pairs, eval_data, row_langs = _load_data(options, args, config, max_length)
    set_seed(args.seed)
    model = _load_model(options.model)
    # Saved with the model, so that generate() on the result starts with the language token and stops in time.
    model.generation_config.max_length = args.generation_max_length
    model.generation_config.num_beams = args.generation_num_beams or 1
    # several target languages: the model generates the language token itself (each label starts with it)
    if len(row_langs) == 1 and None not in row_langs:
        model.generation_config.forced_bos_token_id = language_token_id(tokenizer, row_langs.pop())
    train_data, collator = _objective_data(options, args, model, tokenizer, train_pairs, max_length)
    scored = eval_data is not None and args.predict_with_generate
    trainer = build_trainer(
        model,
        args,
        train_data,
        eval_dataset=eval_data,
        data_collator=collator,
        processing_class=tokenizer,
        compute_metrics=build_compute_metrics(tokenizer) if scored else None,
    )
    if trainer.is_world_process_zero():
        text = f" and the lines of {options.text_files}" if options.text_files else ""
        log(
            f"{options.objective}: {options.model} ({model.num_parameters():,} parameters), {len(train_pairs)} pairs{text}"
        )
    result = trainer.train(resume_from_checkpoint=resume)
    trainer.save_model()  # model, generation config and tokenizer (the processing class) into output_dir
    trainer.log_metrics("train", result.metrics)
    trainer.save_metrics("train", result.metrics)
    trainer.save_state()
    if eval_data is not None:
        _final_evaluation(trainer, log)
    return trainer


def build_parser(prog: str = "xlm-swcm-train") -> HfArgumentParser:
    """The `xlm-swcm-train` parser: `TrainOptions` and `TrainingArguments` fields as `--name` (or `--na-me`)."""
    return HfArgumentParser(
        (TrainOptions, TrainingArguments),
        prog=prog,
        # one line, not argparse's 120-line listing of every option, above a usage error
        usage="%(prog)s --model MODEL --data DATA --output_dir DIR [options] (all options: --help)",
        description="Train XLM-SWCM with Seq2SeqTrainer: fine-tuning on pairs, or denoising + translation.",
    )


def _parse(parser: HfArgumentParser, argv: Sequence[str] | None) -> tuple[TrainOptions, TrainingArguments]:
    """The options of a command line; `xlm-swcm-finetune`'s positional MODEL and DATA (parsed into a third,
    leftover namespace by `HfArgumentParser`) stand for --model and --data, which it takes as well."""
    known, unknown = parser.parse_known_args(argv)
    if unknown:  # argparse's line, not HfArgumentParser's "Some specified arguments are not used by ..."
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    options, args, *rest = parser.parse_args_into_dataclasses(args=argv)
    positional = vars(rest[0]) if rest else {}
    for name in ("model", "data"):
        given = positional.get(f"{name}_positional")
        if given is not None and getattr(options, name) not in (None, given):
            raise TrainingError(
                f"{name.upper()} {given} and --{name} {getattr(options, name)}: give one of them."
            )
        if given is not None:
            setattr(options, name, given)
        if getattr(options, name) is None:
            raise TrainingError(
                f"the {name} is missing: give --{name} {name.upper()} (or {name.upper()} positionally)."
            )
    if known.output_dir is None:  # transformers would write to ./trainer_output
        alias = " (or -o DIR)" if parser.prog == "xlm-swcm-finetune" else ""
        raise TrainingError(f"the output folder is missing: give --output_dir DIR{alias}.")
    words = sys.argv[1:] if argv is None else argv
    if args.max_steps == -1 and any(w.split("=")[0] in ("--max_steps", "--max-steps") for w in words):
        # -1 is transformers' "not set"; typed out, it is a mistake like any other number below 1
        raise TrainingError(
            "--max_steps must be at least 1, got -1; leave it out to train --num_train_epochs epochs."
        )
    return options, args


def main(argv: Sequence[str] | None = None, parser: HfArgumentParser | None = None) -> int:
    """Console entry point `xlm-swcm-train` (`python -m xlm_swcm.training`)."""
    parser = parser or build_parser()
    bars = hf_logging.is_progress_bar_enabled()
    try:
        options, args = _parse(parser, argv)
        # disable_tqdm hides the Trainer's bar; the loading and saving bars are transformers' own
        if args.disable_tqdm:
            hf_logging.disable_progress_bar()
        train(options, args)
    except ValueError as error:  # XLMSWCMError, and transformers' checks of the arguments
        message = " ".join(str(error).split())  # one line, whatever the message (transformers' span several)
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return getattr(error, "exit_code", 2)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; continue with --resume_from_checkpoint last.", file=sys.stderr)
        return 130
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    return 0


# xlm-swcm-finetune's own spellings -> xlm-swcm-train's; its other options are spelled the same in both.
_FINETUNE_SPELLINGS = {
    "-o": ["--output_dir"],
    "--epochs": ["--num_train_epochs"],
    "--batch-size": ["--per_device_train_batch_size"],
    "--eval-batch-size": ["--per_device_eval_batch_size"],
    "--lr-scheduler": ["--lr_scheduler_type"],
    "--num-beams": ["--generation_num_beams"],
    "--gradient-checkpointing": ["--activation_checkpointing"],
    "--cpu": ["--use_cpu"],
    "--resume": ["--resume_from_checkpoint", "last"],
    "--overwrite": ["--overwrite_output_dir"],
    "--no-progress": ["--disable_tqdm", "true"],
}


def finetune_main(argv: Sequence[str] | None = None) -> int:
    """Console entry point `xlm-swcm-finetune`: `xlm-swcm-train --objective translate`, which also takes the model
    and the data as positional arguments and the spellings of `_FINETUNE_SPELLINGS`."""
    renamed = []
    for arg in sys.argv[1:] if argv is None else argv:
        name, equals, value = arg.partition("=")
        spelling = _FINETUNE_SPELLINGS.get(name)
        renamed += [arg] if spelling is None else [*spelling[:-1], spelling[-1] + equals + value]
    parser = build_parser("xlm-swcm-finetune")
    parser.usage = "%(prog)s MODEL DATA -o DIR [options], or --model MODEL --data DATA (all options: --help)"
    for name in ("model", "data"):
        # either spelling, as --help shows both: `_parse` takes the positional one and checks that one is given
        parser._option_string_actions[f"--{name}"].required = False
        parser.add_argument(
            f"{name}_positional", nargs="?", metavar=name.upper(), help=f"the same as --{name}"
        )
    return main(["--objective", "translate", *renamed], parser)


if __name__ == "__main__":
    # Run the package's module, not this __main__ copy: checkpoints pickle `xlm_swcm.training.TrainingArguments`.
    from xlm_swcm.training import main as package_main

    sys.exit(package_main())
