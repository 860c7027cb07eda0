# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Turn an XLM-R-family encoder (XLM-R, CINO, RoBERTa, BERT, ...) into an XLM-SWCM seed checkpoint.

The decoder starts from the encoder. Custom decoder layer j, built from encoder layer i, gets:

| decoder (layer j)                   | encoder (layer i)                                  |
|-------------------------------------|----------------------------------------------------|
| `self_attn.qkv`, `cross_attn.qkv`   | `attention.self.{query,key,value}` (fused Q, K, V) |
| `self_attn.o_proj`, `cross_attn.o_proj` | `attention.output.dense`                       |
| `ffn1.fc1`, `ffn2.fc1`              | `intermediate.dense`                               |
| `ffn1.fc2`, `ffn2.fc2`              | `output.dense`                                     |

LayerNorms. The encoder is post-LayerNorm, the decoder pre-LayerNorm, so no LayerNorm has a twin; each decoder
LayerNorm is initialised so that the sublayer behind it sees inputs with the affine transform it was trained on.
Encoder attention i reads the output of the LayerNorm before it (the embedding LayerNorm for i = 0, else the FFN
LayerNorm of layer i - 1): that one initialises `self_attn_layer_norm` and `cross_attn_layer_norm`. Encoder FFN i reads
the output of attention LayerNorm i: it initialises `ffn1_layer_norm` and `ffn2_layer_norm`. The decoder's final
LayerNorm starts as the encoder's last one, whose outputs the (tied) word embeddings were trained to score.
Normal layers are random (normal(0, initializer_range), LayerNorms at identity), reproducible with `seed`.

Example:

```python
>>> from transformers import XLMRobertaConfig, XLMRobertaModel
>>> from xlm_swcm.conversion import build_seed
>>> source = XLMRobertaModel(XLMRobertaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=3,
...                                           num_attention_heads=4, intermediate_size=37), add_pooling_layer=False)
>>> model, report = build_seed(source, insert_every=3)
>>> report["parameters"]["total"] > 0
True
```
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedModel

from .configuration_xlm_swcm import ENCODER_POSITION_STYLES, XLMSWCMConfig
from .modeling_xlm_swcm import XLMSWCMForConditionalGeneration, custom_layer_mapping

REPORT_FILE = "swcm_conversion.json"


class ConversionError(Exception):
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
_EMBEDDINGS = ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm")


def encoder_state_dict(source: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The weights of a BERT-family encoder renamed (and Q/K/V fused) for `XLMSWCMEncoder`.

    `source` is an `XLMRobertaModel`, `RobertaModel`, `BertModel` or any model whose `base_model` is one (for
    example `XLMRobertaForMaskedLM`); the pooler and task heads are not used.
    """
    base = source.base_model
    state = base.state_dict()
    out = {}
    for name in _EMBEDDINGS:
        for kind in ("weight", "bias"):
            key = f"embeddings.{name}.{kind}"
            if key in state:
                out[key] = state[key]
    for i in range(base.config.num_hidden_layers):
        for ours, theirs in _LAYER_MAP.items():
            for kind in ("weight", "bias"):
                parts = [state[f"encoder.layer.{i}.{t}.{kind}"] for t in theirs]
                out[f"layers.{i}.{ours}.{kind}"] = torch.cat(parts, dim=0) if len(parts) > 1 else parts[0]
    return out


def _layer_norm_sources(config: XLMSWCMConfig) -> dict[str, str]:
    """`{decoder LayerNorm: encoder LayerNorm}` as explained in the module docstring (model-relative names)."""
    sources = {}
    for j, i in enumerate(config.decoder_layer_sources):
        if i is None:
            continue
        before_attention = (
            "encoder.embeddings.LayerNorm" if i == 0 else f"encoder.layers.{i - 1}.ffn_layer_norm"
        )
        before_ffn = f"encoder.layers.{i}.attention_layer_norm"
        for norm, source in (
            ("self_attn_layer_norm", before_attention),
            ("cross_attn_layer_norm", before_attention),
            ("ffn1_layer_norm", before_ffn),
            ("ffn2_layer_norm", before_ffn),
        ):
            sources[f"decoder.layers.{j}.{norm}"] = source
    sources["decoder.layer_norm"] = f"encoder.layers.{config.num_hidden_layers - 1}.ffn_layer_norm"
    return {f"{t}.{kind}": f"{s}.{kind}" for t, s in sources.items() for kind in ("weight", "bias")}


def build_seed(
    source: PreTrainedModel | str | os.PathLike,
    insert_every: int = 3,
    trailing_normal_layer: bool = False,
    weight_sharing: str = "copy",
    seed: int = 0,
    tie_word_embeddings: bool = True,
    **config_overrides: Any,
) -> tuple[XLMSWCMForConditionalGeneration, dict]:
    """Builds an XLM-SWCM seed from an encoder; returns the model and a report of what was copied, tied or random.

    Args:
        source: an encoder model, or a local folder / Hub id that `AutoModel` loads as one.
        insert_every: X, a normal layer after every X custom layers.
        trailing_normal_layer: also put a normal layer after the last custom layer (paper's n + floor(n / X)).
        weight_sharing: `"copy"` (independent copies, the paper) or `"tie"` (the decoder uses the encoder's tensors).
        seed: seed of the random initialisation of the normal layers.
        tie_word_embeddings: tie the LM head to the word embeddings (else it starts as a copy of them).
        config_overrides: other `XLMSWCMConfig` arguments (dropout, decoder_start_token_id, ...).

    Example:

    ```python
    >>> model, report = build_seed("path/to/xlm-roberta-base", weight_sharing="tie")  # doctest: +SKIP
    ```
    """
    if not isinstance(source, PreTrainedModel):
        source = load_encoder(source)
    config = XLMSWCMConfig.from_encoder_config(
        source.base_model.config,
        insert_every=insert_every,
        trailing_normal_layer=trailing_normal_layer,
        weight_sharing=weight_sharing,
        tie_word_embeddings=tie_word_embeddings,
        **config_overrides,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(
            seed
        )  # the random part (normal layers) is reproducible and leaves the caller's RNG alone
        model = XLMSWCMForConditionalGeneration(config)
    model.to(source.dtype)
    swcm = model.model
    try:
        swcm.encoder.load_state_dict(encoder_state_dict(source), strict=True)
    except RuntimeError as error:  # a missing key or a shape mismatch must never pass silently
        raise ConversionError(f"The source encoder's weights do not fit its config: {error}") from error

    params = dict(swcm.named_parameters(remove_duplicate=False))
    mapping = custom_layer_mapping(config)
    with torch.no_grad():
        for target, src in {**mapping, **_layer_norm_sources(config)}.items():
            if params[target] is not params[src]:  # in tie mode the mapped tensors are already the same
                params[target].copy_(params[src])
        if not tie_word_embeddings:
            model.lm_head.weight.copy_(swcm.encoder.embeddings.word_embeddings.weight)
    return model, conversion_report(model, source)


def conversion_report(model: XLMSWCMForConditionalGeneration, source: PreTrainedModel | None = None) -> dict:
    """What each decoder tensor starts from, and parameter counts (shared tensors counted once)."""
    config = model.config
    mode = "tied" if config.weight_sharing == "tie" else "copied"
    mapping = [
        {"decoder": f"model.{t}", "encoder": f"model.{s}", "mode": mode}
        for t, s in custom_layer_mapping(config).items()
    ]
    mapping += [
        {"decoder": f"model.{t}", "encoder": f"model.{s}", "mode": "copied"}
        for t, s in _layer_norm_sources(config).items()
    ]
    mapping.append(
        {
            "decoder": "lm_head.weight",
            "encoder": "model.encoder.embeddings.word_embeddings.weight",
            "mode": "tied" if config.tie_word_embeddings else "copied",
        }
    )
    random = [
        f"model.decoder.layers.{j}.{name}"
        for j, kind in enumerate(config.decoder_layer_types)
        if kind == "normal"
        for name, _ in model.model.decoder.layers[j].named_parameters()
    ]
    encoder_ids = {id(p) for p in model.model.encoder.parameters()}
    embedding_ids = {id(p) for p in model.model.encoder.embeddings.parameters()}
    unique = {id(p): p for p in model.parameters()}
    source_name = getattr(getattr(source, "config", None), "_name_or_path", None) or type(source).__name__
    return {
        "source": str(source_name),
        "source_model_type": getattr(getattr(source, "config", None), "model_type", None),
        "insert_every": config.insert_every,
        "trailing_normal_layer": config.trailing_normal_layer,
        "weight_sharing": config.weight_sharing,
        "decoder_layer_types": config.decoder_layer_types,
        "mapping": mapping,
        "random": random,
        "parameters": {
            "total": sum(p.numel() for p in unique.values()),
            "encoder": sum(p.numel() for k, p in unique.items() if k in encoder_ids),
            "decoder": sum(p.numel() for k, p in unique.items() if k not in encoder_ids),
            "embeddings": sum(p.numel() for k, p in unique.items() if k in embedding_ids),
        },
    }


def load_encoder(path_or_name: str | os.PathLike) -> PreTrainedModel:
    """Loads a BERT-family encoder with `AutoModel`, turning the usual failures into `ConversionError`s."""
    path = str(path_or_name)
    looks_local = os.path.sep in path or path.startswith(".") or os.path.exists(path)
    if looks_local and not os.path.isdir(path):
        raise ConversionError(
            f"Source {path!r} is not a folder: give a folder with config.json and the weights."
        )
    try:
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as error:
        raise ConversionError(f"Cannot read a transformers config from {path!r}: {error}") from error
    if config.model_type not in ENCODER_POSITION_STYLES:
        raise ConversionError(
            f"{path!r} is a {config.model_type!r} model; XLM-SWCM starts from a BERT-family encoder "
            f"({', '.join(sorted(ENCODER_POSITION_STYLES))}), e.g. xlm-roberta-base or CINO."
        )
    try:
        return AutoModel.from_pretrained(path, add_pooling_layer=False)
    except Exception as error:  # corrupt or truncated weights surface as many exception types
        raise ConversionError(
            f"Cannot load the weights of {path!r} ({type(error).__name__}: {error}). The file may be corrupt or "
            "truncated: download or export it again."
        ) from error


def _probe_ids(tokenizer, vocab_size: int) -> torch.Tensor:
    if tokenizer is not None:
        text = ["Shared weights for low-resource languages.", "བོད་ཡིག ئۇيغۇرچە 中文"]
        return tokenizer(text, padding=True, return_tensors="pt")
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(3, vocab_size, (2, 12), generator=generator)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def verify_encoder(source: PreTrainedModel, model: XLMSWCMForConditionalGeneration, tokenizer=None) -> float:
    """Max abs difference between the source encoder's and the converted encoder's outputs on probe text."""
    batch = _probe_ids(tokenizer, model.config.vocab_size)
    batch = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask")}
    source.eval()
    model.eval()
    with torch.no_grad():
        expected = source.base_model(**batch).last_hidden_state
        actual = model.get_encoder()(**batch).last_hidden_state
    mask = batch["attention_mask"].bool()
    return (expected[mask] - actual[mask]).abs().max().item()


def write_atomically(out: Path, overwrite: bool, fill) -> None:
    """Calls `fill(tmp_folder)` and moves the folder to `out` only when it returns; never leaves half a folder at
    `out`, and replaces an existing `out` only with `overwrite`."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise ConversionError(f"{out} already exists: choose another output folder or pass --overwrite.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        fill(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def format_report(report: dict) -> str:
    """Human-readable conversion report."""
    lines = [
        f"source: {report['source']} ({report.get('source_model_type')})",
        f"layout: insert_every={report['insert_every']} trailing_normal_layer={report['trailing_normal_layer']} "
        f"-> {len(report['decoder_layer_types'])} decoder layers "
        f"({report['decoder_layer_types'].count('normal')} normal)",
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
        else:
            group, block = target, ""
        groups.setdefault(group, {})[block] = f"{source} [{row['mode']}]"
    lines.append("mapping (decoder <- encoder):")
    for group, blocks in groups.items():
        lines.append(f"  {group}: " + ", ".join(f"{b} <- {s}" if b else f"<- {s}" for b, s in blocks.items()))
    lines.append(f"random: {len(report['random'])} tensors (normal layers)")
    p = report["parameters"]
    lines.append(
        f"parameters: total {p['total']:,} (encoder {p['encoder']:,} incl. embeddings {p['embeddings']:,}; "
        f"decoder-only {p['decoder']:,})"
    )
    if "file_size_bytes" in report:
        lines.append(f"weights file: {report['file_size_bytes'] / 2**20:.1f} MiB")
    return "\n".join(lines)


def _read_corpus(path: str) -> list[str]:
    if not os.path.isfile(path):
        raise ConversionError(
            f"Corpus {path!r} does not exist: give a UTF-8 text file, one sentence per line."
        )
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    if not lines:
        raise ConversionError(f"Corpus {path!r} is empty.")
    return lines


def convert(
    source: str,
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
    log=print,
) -> dict:
    """Converts the encoder at `source` into a seed checkpoint folder `out` (weights, config, code files for
    `trust_remote_code`, tokenizer, `swcm_conversion.json`); returns the report. See `xlm-swcm-convert --help`."""
    out = Path(out)
    if out.exists() and not overwrite:  # checked first, so a refused run costs nothing
        raise ConversionError(f"{out} already exists: choose another output folder or pass --overwrite.")
    encoder = load_encoder(source)
    tokenizer = _load_tokenizer(
        tokenizer_path or source, required=bool(language_tokens or extend_vocab or trim_vocab)
    )
    overrides = {}
    if tokenizer is not None:
        overrides = {
            name: getattr(tokenizer, name)
            for name in ("pad_token_id", "bos_token_id", "eos_token_id")
            if getattr(tokenizer, name, None) is not None
        }
        start = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
        overrides["decoder_start_token_id"] = start
    model, _ = build_seed(
        encoder,
        insert_every=insert_every,
        trailing_normal_layer=trailing_normal_layer,
        weight_sharing=weight_sharing,
        seed=seed,
        tie_word_embeddings=tie_word_embeddings,
        **overrides,
    )
    if verify:
        diff = verify_encoder(encoder, model, tokenizer)
        log(f"verify: encoder max abs difference vs source = {diff:.3g}")
        if not diff <= 1e-4:
            raise ConversionError(
                f"--verify failed: converted encoder differs from the source by {diff:.3g}."
            )

    vocab_notes = {}
    if language_tokens or extend_vocab or trim_vocab:
        from . import vocab  # tokenizer surgery is only needed for these options

        if extend_vocab:
            vocab_notes["extend_vocab"] = vocab.extend_vocabulary(
                tokenizer, model, _read_corpus(extend_vocab), new_pieces=new_pieces
            )
            tokenizer = vocab_notes["extend_vocab"].pop("tokenizer", tokenizer)
        if language_tokens:
            vocab_notes["language_tokens"] = dict(
                zip(
                    language_tokens,
                    vocab.add_language_tokens(tokenizer, model, list(language_tokens)),
                    strict=True,
                )
            )
        if trim_vocab:
            tokenizer, kept = vocab.trim_vocabulary(
                tokenizer, model, _read_corpus(trim_vocab), keep_top=keep_top
            )
            vocab_notes["trim_vocab"] = {"kept_tokens": len(kept)}

    report = conversion_report(model, encoder)
    report["source"] = str(source)
    report.update(vocab_notes)
    if language_tokens:
        report["languages"] = list(language_tokens)

    def fill(folder: Path) -> None:
        model.save_pretrained(folder)
        if tokenizer is not None:
            tokenizer.save_pretrained(folder)
        report["file_size_bytes"] = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
        (folder / REPORT_FILE).write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if verify:  # what was written, not what is in memory, must reproduce the source encoder
            reloaded = XLMSWCMForConditionalGeneration.from_pretrained(folder)
            if not (language_tokens or extend_vocab or trim_vocab):
                diff = verify_encoder(encoder, reloaded, tokenizer)
                if not diff <= 1e-4:
                    raise ConversionError(f"--verify failed after saving: encoder differs by {diff:.3g}.")

    write_atomically(out, overwrite, fill)
    log(format_report(report))
    log(f"saved to {out}")
    return report


def _load_tokenizer(path: str, required: bool):
    try:
        if os.path.isfile(path) and path.endswith(".json"):
            from transformers import XLMRobertaTokenizerFast

            return XLMRobertaTokenizerFast(tokenizer_file=path)
        return AutoTokenizer.from_pretrained(path)
    except Exception as error:
        if required:
            raise ConversionError(
                f"No tokenizer found at {path!r} ({error}); vocabulary options need one: pass --tokenizer "
                "(a folder or a tokenizer.json)."
            ) from error
        return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlm-swcm-convert",
        description="Convert an XLM-R-family encoder (XLM-R, CINO, RoBERTa, BERT) into an XLM-SWCM seed checkpoint.",
    )
    parser.add_argument("source", help="encoder folder (or Hub id) loadable with transformers.AutoModel")
    parser.add_argument("out", help="output folder (must not exist unless --overwrite)")
    parser.add_argument(
        "--insert-every", type=int, default=3, help="X: a normal layer after every X custom layers"
    )
    parser.add_argument(
        "--trailing-normal-layer", action="store_true", help="also a normal layer after the last"
    )
    parser.add_argument("--weight-sharing", choices=["copy", "tie"], default="copy")
    parser.add_argument(
        "--untie-lm-head", action="store_true", help="LM head as a copy of, not tied to, embeddings"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the normal layers' random initialisation"
    )
    parser.add_argument("--tokenizer", help="tokenizer folder or tokenizer.json (default: the source folder)")
    parser.add_argument(
        "--add-language-tokens", default="", help="comma-separated codes, e.g. bo,ug,kk,mn,zh"
    )
    parser.add_argument(
        "--extend-vocab", metavar="CORPUS", help="learn new pieces for text the vocabulary misses"
    )
    parser.add_argument("--new-pieces", type=int, default=2000, help="with --extend-vocab: pieces to learn")
    parser.add_argument(
        "--trim-vocab", metavar="CORPUS", help="keep only the tokens CORPUS uses (+ specials)"
    )
    parser.add_argument(
        "--keep-top", type=int, help="with --trim-vocab: keep only the N most frequent tokens"
    )
    parser.add_argument(
        "--verify", action="store_true", help="check the converted encoder reproduces the source"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point `xlm-swcm-convert`."""
    args = build_parser().parse_args(argv)
    try:
        convert(
            args.source,
            args.out,
            insert_every=args.insert_every,
            trailing_normal_layer=args.trailing_normal_layer,
            weight_sharing=args.weight_sharing,
            seed=args.seed,
            tie_word_embeddings=not args.untie_lm_head,
            tokenizer_path=args.tokenizer,
            language_tokens=[code.strip() for code in args.add_language_tokens.split(",") if code.strip()],
            extend_vocab=args.extend_vocab,
            new_pieces=args.new_pieces,
            trim_vocab=args.trim_vocab,
            keep_top=args.keep_top,
            verify=args.verify,
            overwrite=args.overwrite,
        )
    except (ConversionError, ValueError) as error:
        print(f"xlm-swcm-convert: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xlm-swcm-convert: interrupted; nothing was written to the output folder.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
