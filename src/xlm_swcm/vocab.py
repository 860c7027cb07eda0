"""Tokenizer and vocabulary surgery for XLM-R-family tokenizers (a `tokenizers` SentencePiece Unigram backend):
language tokens, trimming to a corpus, Unigram pieces for text the vocabulary turns into ``<unk>``, all three in
their one order (:func:`adapt_vocabulary`), and ``<unk>`` rates per script. Guide: "Tokenizer and vocabulary" in
`conversion/README.md`.

The model's rows are resized with transformers' ``resize_token_embeddings`` (which re-ties tied weights and resizes
e.g. BART's ``final_logits_bias``), then filled explicitly: its ``mean_resizing`` *samples* around the mean instead
of using it. Only ``get_input_embeddings()`` (an ``nn.Embedding``), ``get_output_embeddings()`` (an ``nn.Linear``
or None) and vocabulary-sized biases are remapped; any other vocabulary-sized module must be tied to them. Special
tokens come first in XLM-R, so trimming never moves ``<pad>`` (attributes derived from ``config.pad_token_id`` at
construction, such as RoBERTa's position padding index, would not follow).
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch
from tokenizers import Encoding, Tokenizer
from tokenizers import models as tk_models
from tokenizers.trainers import UnigramTrainer
from torch import nn

from .scripts import SCRIPTS, find_script

__all__ = [
    "LANGUAGE_CODES",
    "SPECIAL_TOKEN_ROLES",
    "SCRIPT_RANGES",
    "adapt_vocabulary",
    "add_language_tokens",
    "check_language_codes",
    "extend_vocabulary",
    "language_token",
    "script_of",
    "trim_vocabulary",
    "unk_rate",
]

#: Languages of the paper; their tokens are ``<bo>``, ``<ug>``, ``<kk>``, ``<mn>``, ``<zh>``.
LANGUAGE_CODES: tuple[str, ...] = ("bo", "ug", "kk", "mn", "zh")

# The scripts script_of names, with their code point ranges (inclusive; xlm_swcm.scripts). Other letters and marks
# count as "Other"; other characters are ignored (spaces, digits, punctuation: "Common").
SCRIPT_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    s.name: s.ranges for s in SCRIPTS.values() if s.reported
}

COMMON = "Common"
OTHER = "Other"
_BATCH = 1024
# Config attributes whose names end like this hold token ids (pad_token_id, decoder_start_token_id, ...).
_CONFIG_ID_SUFFIX = "_token_id"


def script_of(char: str) -> str | None:
    """Script name of one character by Unicode block, ``"Other"`` for other letters, ``None`` for the rest.

    >>> script_of("ཀ"), script_of("ᠮ"), script_of("ئ"), script_of("中"), script_of("a"), script_of("7")
    ('Tibetan', 'Mongolian', 'Arabic', 'Han', 'Latin', None)
    """
    script = find_script(char)
    if script is not None and script.reported:
        return script.name
    return OTHER if unicodedata.category(char)[0] in "LM" else None


def _word_scripts(text: str) -> tuple[list[int], list[str]]:
    """For each character of ``text``: the index of its whitespace-separated word (-1 for spaces), and the
    majority script of each word (``"Common"`` when it holds no letters, e.g. a number)."""
    owner = [-1] * len(text)
    scripts: list[str] = []
    for w, match in enumerate(re.finditer(r"\S+", text)):
        start, end = match.span()
        owner[start:end] = [w] * (end - start)
        votes = Counter(s for s in map(script_of, match.group()) if s is not None)
        scripts.append(votes.most_common(1)[0][0] if votes else COMMON)
    return owner, scripts


def _token_words(text: str, offsets: Sequence[tuple[int, int]], owner: list[int]) -> list[int]:
    """Word index of each token. A token is anchored at its first non-space character; a bare ``▁`` token
    (its offsets point at the space) belongs to the word that follows it, as in SentencePiece's view."""
    n = len(text)
    result = []
    for start, _end in offsets:
        pos = start
        while pos < n and owner[pos] < 0:
            pos += 1
        result.append(owner[pos] if pos < n else -1)
    return result


def _as_texts(texts: str | Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    result = list(texts)
    bad = [type(t).__name__ for t in result if not isinstance(t, str)]
    if bad:
        raise TypeError(f"Expected texts as strings, got {bad[0]}: pass an iterable of str.")
    return result


def _unk_counts(tokenizer: Any, texts: list[str], level: str) -> tuple[Counter, Counter]:
    """Per script: the number of ``<unk>`` tokens (or characters) and the number of all, see :func:`unk_rate`."""
    unk_id = _unk_id(tokenizer)
    unknown: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for text, enc in _encodings(tokenizer, texts):
        if level == "token":
            owner, word_script = _word_scripts(text)
            for tok_id, w in zip(enc.ids, _token_words(text, enc.offsets, owner), strict=True):
                if w >= 0:
                    unknown[word_script[w]] += tok_id == unk_id
                    total[word_script[w]] += 1
            continue
        in_unk = [False] * len(text)
        for tok_id, (a, b) in zip(enc.ids, enc.offsets, strict=True):
            if tok_id == unk_id:
                in_unk[a:b] = [True] * (b - a)
        for pos, script in enumerate(map(script_of, text)):
            if script is not None:
                unknown[script] += in_unk[pos]
                total[script] += 1
    return unknown, total


def unk_rate(tokenizer: Any, texts: str | Iterable[str], level: str = "token") -> dict[str, float]:
    """Share of ``<unk>`` per script.

    ``level="token"`` (default): among the tokens of the words written in a script (a word is a run of
    non-spaces; its script is the majority script of its letters; a ``▁`` token belongs to the next word), the
    share that are ``<unk>``. With XLM-R, consecutive unknown characters fuse into one ``<unk>``, so this is the
    share of the *sequence* that is unknown: ``"Hello ༄༅། ᠮᠣᠩᠭᠣᠯ"`` -> ``▁Hello ▁ <unk> ▁ <unk> ᠭ <unk>`` gives
    ``{'Latin': 0.0, 'Mongolian': 0.5, 'Tibetan': 0.5}``. ``level="char"``: among the characters of a script, the
    share that end up inside an ``<unk>`` token. Scripts are found by Unicode block (:data:`SCRIPT_RANGES`); words
    without letters count as ``"Common"`` (token level only).
    """
    if level not in ("token", "char"):
        raise ValueError(f"level must be 'token' or 'char', got {level!r}.")
    unknown, total = _unk_counts(tokenizer, _as_texts(texts), level)
    return {script: unknown[script] / total[script] for script in sorted(total)}


def _backend(tokenizer: Any) -> Tokenizer:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if not isinstance(backend, Tokenizer):
        raise TypeError(
            f"{type(tokenizer).__name__} has no `tokenizers` backend: load the tokenizer from its tokenizer.json "
            "(e.g. transformers.XLMRobertaTokenizer(tokenizer_file=...) or AutoTokenizer.from_pretrained(...))."
        )
    return backend


def _unigram_json(tokenizer: Any) -> dict[str, Any]:
    data = json.loads(_backend(tokenizer).to_str())
    model_type = data["model"].get("type")
    if model_type != "Unigram":
        raise ValueError(
            f"Vocabulary surgery here needs a SentencePiece Unigram tokenizer (XLM-R family); this one's model is "
            f"{model_type!r}. Use the XLM-R tokenizer.json of the encoder you convert."
        )
    if data["model"].get("unk_id") is None:
        raise ValueError(
            "The Unigram model has no unk_id; an XLM-R tokenizer.json sets it to the id of <unk>."
        )
    return data


def _unk_id(tokenizer: Any) -> int:
    model = _backend(tokenizer).model
    unk_id = getattr(model, "unk_id", None)
    if unk_id is None:
        unk_id = tokenizer.unk_token_id
    if unk_id is None:
        raise ValueError("The tokenizer has no <unk> token id.")
    return int(unk_id)


def _materialize_added_tokens(data: dict[str, Any]) -> None:
    """Give every added token that lives past the Unigram vocabulary (e.g. ``<bo>`` from
    :func:`add_language_tokens`) its own Unigram entry, so that ids stay positions in one list.

    XLM-R already stores ``<mask>`` this way (score 0.0). Added tokens are matched on the raw text before the
    Unigram model runs, so the entry never changes segmentation; a 0.0 score keeps the model's minimum score
    (and hence its ``<unk>`` penalty) unchanged.
    """
    vocab = data["model"]["vocab"]
    extra = sorted((t for t in data["added_tokens"] if t["id"] >= len(vocab)), key=lambda t: t["id"])
    for token in extra:
        if token["id"] != len(vocab):
            raise ValueError(
                f"Added token {token['content']!r} has id {token['id']} but the vocabulary has {len(vocab)} "
                "entries: ids of added tokens must follow the vocabulary without gaps."
            )
        vocab.append([token["content"], 0.0])


def _remap_post_processor(proc: dict[str, Any] | None, mapping: dict[int, int]) -> None:
    if not proc:
        return
    kind = proc.get("type")
    try:
        if kind == "TemplateProcessing":
            for entry in proc.get("special_tokens", {}).values():
                entry["ids"] = [mapping[i] for i in entry["ids"]]
        elif kind in ("RobertaProcessing", "BertProcessing"):
            for key in ("sep", "cls"):
                proc[key] = [proc[key][0], mapping[proc[key][1]]]
        elif kind == "Sequence":
            for sub in proc.get("processors", []):
                _remap_post_processor(sub, mapping)
    except KeyError as err:
        raise ValueError(f"The post-processor uses token id {err} that is not kept.") from None


def _with_backend(tokenizer: Any, backend: Tokenizer, data: dict[str, Any], inplace: bool) -> Any:
    """Install a rebuilt backend: in place, or in a deep copy that does not copy the old backend."""
    backend.encode_special_tokens = tokenizer.backend_tokenizer.encode_special_tokens
    # A tokenizer built from a `vocab` list (e.g. XLMRobertaTokenizer.from_pretrained) keeps that list in
    # `_vocab` / init_kwargs; keep them in step with the backend.
    vocab = [tuple(v) for v in data["model"]["vocab"]]
    init_kwargs = getattr(tokenizer, "init_kwargs", None)
    stale = [getattr(tokenizer, "_vocab", None)]
    if isinstance(init_kwargs, dict):
        stale.append(init_kwargs.get("vocab"))
    if not inplace:
        # Deep copy everything but the old backend and vocabulary lists (250k entries: slow, and replaced anyway).
        memo = {id(tokenizer.backend_tokenizer): backend}
        memo.update((id(old), vocab) for old in stale if isinstance(old, list))
        tokenizer = copy.deepcopy(tokenizer, memo=memo)
        init_kwargs = getattr(tokenizer, "init_kwargs", None)
    # TokenizersBackend reads vocabulary, added tokens and special-token ids from `_tokenizer` on every call;
    # there is no public setter for it.
    tokenizer._tokenizer = backend
    if isinstance(getattr(tokenizer, "_vocab", None), list):
        tokenizer._vocab = vocab
    if isinstance(init_kwargs, dict) and isinstance(init_kwargs.get("vocab"), list):
        init_kwargs["vocab"] = vocab
    return tokenizer


def _special_ids(tokenizer: Any, data: dict[str, Any]) -> set[int]:
    ids = {int(t["id"]) for t in data["added_tokens"]}
    ids.update(int(i) for i in tokenizer.all_special_ids if i is not None)
    return ids


def _encodings(tokenizer: Any, texts: Iterable[str]) -> Iterator[tuple[str, Encoding]]:
    """Each text with its encoding (no special tokens), encoded in batches."""
    backend = _backend(tokenizer)
    batch: list[str] = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"Corpus items must be str, got {type(text).__name__}.")
        batch.append(text)
        if len(batch) == _BATCH:
            yield from zip(batch, backend.encode_batch(batch, add_special_tokens=False), strict=True)
            batch = []
    yield from zip(batch, backend.encode_batch(batch, add_special_tokens=False), strict=True)


def _configs(model: nn.Module) -> list[Any]:
    """The model's config, its text/encoder/decoder sub-configs and its generation config (if any)."""
    found: list[Any] = []

    def add(cfg: Any) -> None:
        if cfg is not None and all(cfg is not c for c in found):
            found.append(cfg)
            for value in list(vars(cfg).values()):
                if hasattr(value, "to_dict") and hasattr(value, "vocab_size"):
                    add(value)

    config = getattr(model, "config", None)
    add(config)
    if config is not None and hasattr(config, "get_text_config"):
        add(config.get_text_config())
    add(getattr(model, "generation_config", None))
    return found


def _config_token_ids(model: nn.Module) -> set[int]:
    ids: set[int] = set()
    for cfg in _configs(model):
        for name, value in vars(cfg).items():
            if name.endswith(_CONFIG_ID_SUFFIX):
                values = value if isinstance(value, (list, tuple)) else [value]
                ids.update(v for v in values if isinstance(v, int) and v >= 0)
    return ids


def _remap_config(model: nn.Module, mapping: dict[int, int], old_size: int, new_size: int) -> None:
    for cfg in _configs(model):
        for name, value in list(vars(cfg).items()):
            if name.endswith(_CONFIG_ID_SUFFIX):
                if isinstance(value, int) and value in mapping:
                    setattr(cfg, name, mapping[value])
                elif isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
                    setattr(cfg, name, type(value)(mapping.get(v, v) for v in value))
            elif name == "vocab_size" and value == old_size:
                setattr(cfg, name, new_size)


def _vocab_biases(model: nn.Module, size: int, skip: list[torch.Tensor]) -> list[str]:
    """Names of vocabulary-sized bias tensors (shape ``(V,)`` or ``(1, V)``) owned by model-specific modules,
    e.g. ``lm_head.bias`` (XLM-R) or ``final_logits_bias`` (BART). Tensors of torch.nn building blocks
    (LayerNorm, Linear, ...) are excluded so that a hidden size equal to V is never mistaken for a vocabulary.
    """
    names = []
    tensors = list(model.named_parameters()) + list(model.named_buffers())
    for name, tensor in tensors:
        if any(tensor is s for s in skip) or tuple(tensor.shape) not in ((size,), (1, size)):
            continue
        owner = model.get_submodule(name.rpartition(".")[0])
        if type(owner).__module__.startswith("torch.nn"):
            continue
        names.append(name)
    return names


def _get_tensor(model: nn.Module, name: str) -> torch.Tensor:
    parent, _, attr = name.rpartition(".")
    return getattr(model.get_submodule(parent), attr)


def _resize_vector(model: nn.Module, name: str, new_size: int) -> torch.Tensor:
    """Resizes the vocabulary-sized bias `name` to `new_size` entries if transformers did not (keeping the first
    entries, as transformers does); returns it."""
    tensor = _get_tensor(model, name)
    if tensor.shape[-1] == new_size:
        return tensor
    fresh = torch.zeros(*tensor.shape[:-1], new_size, dtype=tensor.dtype, device=tensor.device)
    keep = min(new_size, tensor.shape[-1])
    fresh[..., :keep] = tensor.detach()[..., :keep]
    parent, _, attr = name.rpartition(".")
    if isinstance(tensor, nn.Parameter):
        fresh = nn.Parameter(fresh, requires_grad=tensor.requires_grad)
    setattr(model.get_submodule(parent), attr, fresh)  # assigning to a registered buffer keeps it a buffer
    return fresh


def _check_model(model: nn.Module, n_tokens: int) -> tuple[nn.Embedding, nn.Linear | None]:
    if not hasattr(model, "resize_token_embeddings"):
        raise TypeError(f"{type(model).__name__} is not a transformers PreTrainedModel.")
    inp = model.get_input_embeddings()
    if not isinstance(inp, nn.Embedding):
        raise TypeError(f"model.get_input_embeddings() must be an nn.Embedding, got {type(inp).__name__}.")
    out = model.get_output_embeddings()
    if out is not None and not isinstance(out, nn.Linear):
        raise TypeError(
            f"model.get_output_embeddings() must be an nn.Linear or None, got {type(out).__name__}."
        )
    if inp.num_embeddings < n_tokens:
        raise ValueError(
            f"The tokenizer has {n_tokens} tokens but the model's input embedding only {inp.num_embeddings} rows: "
            "pass the tokenizer that belongs to this model (or resize the model to len(tokenizer) first)."
        )
    return inp, out


def _rows_from(weight: torch.Tensor, plan: dict[int, int | list[int]], mean_rows: int) -> torch.Tensor:
    """Rows for the targets of ``plan`` (sorted by target id), computed from the *old* ``weight``: an int copies
    that row, a list averages those rows, an empty list averages the first ``mean_rows`` rows."""
    data = weight.detach()
    targets = sorted(plan)
    rows = data.new_empty((len(targets), *data.shape[1:]))
    copies = [(k, plan[t]) for k, t in enumerate(targets) if isinstance(plan[t], int)]
    if copies:  # one gather for all copied rows (a trim copies every kept row)
        pos, src = zip(*copies, strict=True)
        rows[list(pos)] = data[torch.tensor(src, device=data.device)]
    global_mean = None
    for k, target in enumerate(targets):
        src = plan[target]
        if isinstance(src, int):
            continue
        if src:
            rows[k] = data[torch.tensor(src, device=data.device)].float().mean(0).to(data.dtype)
        else:
            if global_mean is None:
                global_mean = data[:mean_rows].float().mean(0).to(data.dtype)
            rows[k] = global_mean
    return rows


def _grow_model(model: nn.Module, n_old: int, n_new: int, plan: dict[int, int | list[int]]) -> None:
    """Grows the model to a tokenizer grown from ``n_old`` to ``n_new`` tokens (unless its embedding has the rows
    already) and fills the rows of ``plan``; a global mean is over the rows of real tokens (rows past the old
    tokenizer's length are padding, never trained)."""
    rows = model.get_input_embeddings().num_embeddings
    _resize_model(model, max(rows, n_new), plan, mean_rows=min(n_old, rows))


def _resize_model(
    model: nn.Module,
    new_size: int,
    plan: dict[int, int | list[int]],
    mean_rows: int,
    pad_mapping: dict[int, int] | None = None,
) -> None:
    """Resize the vocabulary of ``model`` to ``new_size`` rows and fill the rows named in ``plan`` (see
    :func:`_rows_from`) in the input embedding, the output layer (weight and bias, unless tied) and every
    vocabulary-sized bias. Rows not in ``plan`` keep their index and values (transformers' resize keeps the
    first rows). Tied weights stay tied; ``config.vocab_size`` is updated by transformers."""
    inp, out = model.get_input_embeddings(), model.get_output_embeddings()
    old_size, old_pad = inp.num_embeddings, inp.padding_idx
    tied = out is not None and out.weight is inp.weight
    text_config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    if out is not None and not tied and getattr(text_config, "tie_word_embeddings", False):
        # resize_token_embeddings re-ties by the config, which would overwrite the separate output rows.
        raise ValueError(
            "The output layer is not tied to the input embedding although config.tie_word_embeddings=True: "
            "set model.config.tie_word_embeddings = False (keep them separate) or call model.tie_weights() first."
        )
    # Every new row is read from the old tensors, before transformers replaces them.
    new_in = _rows_from(inp.weight, plan, mean_rows)
    new_out = _rows_from(out.weight, plan, mean_rows) if out is not None and not tied else None
    new_out_bias = _rows_from(out.bias, plan, mean_rows) if out is not None and out.bias is not None else None
    skip = [inp.weight] + ([out.weight, out.bias] if out is not None else [])
    new_biases = {
        name: _rows_from(_get_tensor(model, name).detach().reshape(-1), plan, mean_rows)
        for name in _vocab_biases(model, old_size, skip)
    }
    model.resize_token_embeddings(new_size, mean_resizing=False)

    inp, out = model.get_input_embeddings(), model.get_output_embeddings()
    if tied and out.weight is not inp.weight:
        out.weight = inp.weight
    if out is not None:
        out.out_features = new_size
    targets = sorted(plan)
    with torch.no_grad():
        outputs = [(getattr(out, "weight", None), new_out), (getattr(out, "bias", None), new_out_bias)]
        for tensor, rows in [(inp.weight, new_in), *outputs]:
            if rows is not None and targets:
                tensor[torch.tensor(targets, device=tensor.device)] = rows
        for name, rows in new_biases.items():
            tensor = _resize_vector(model, name, new_size)
            if targets:
                tensor.view(-1)[torch.tensor(targets, device=tensor.device)] = rows
    if old_pad is not None:
        new_pad = (pad_mapping or {}).get(old_pad, old_pad) if old_pad < old_size else None
        inp.padding_idx = new_pad if new_pad is not None and new_pad < new_size else None
    # transformers updates the text config; sub-configs (encoder/decoder) that repeat the size follow here.
    _remap_config(model, {}, old_size, new_size)


def language_token(lang: str) -> str:
    """``"bo"`` -> ``"<bo>"``; an already bracketed ``"<bo>"`` is returned unchanged.

    >>> language_token("bo"), language_token("<zh>")
    ('<bo>', '<zh>')
    """
    if not isinstance(lang, str) or not lang.strip() or any(c.isspace() for c in lang):
        raise ValueError(
            f"Language codes must be non-empty strings without spaces (e.g. 'bo'), got {lang!r}."
        )
    return lang if lang.startswith("<") and lang.endswith(">") else f"<{lang}>"


# Names of special-token roles: `<pad>`, `<mask>`, ... read as those tokens (to people, and to tokenizers of other
# families, e.g. Gemma's <bos>/<eos>), so none of them is a language code here, whatever this vocabulary holds.
SPECIAL_TOKEN_ROLES = ("s", "/s", "bos", "eos", "unk", "sep", "pad", "cls", "mask")


def check_language_codes(tokenizer: Any | None, langs: Sequence[str]) -> None:
    """Refuses language codes whose token would be a special token or an existing token that is not a language
    token: `unk` (`<unk>`) as a target language would make every translation start with the unknown token.
    `tokenizer=None` checks the codes alone (before a tokenizer is loaded); a ValueError says why.

    >>> check_language_codes(None, ["bo", "ug"])
    >>> check_language_codes(None, ["pad"])
    Traceback (most recent call last):
    ...
    ValueError: Language code 'pad' makes <pad>, the name of a special token (s, /s, bos, eos, unk, sep, pad, cls, mask), not a language: use ISO 639 codes such as bo, ug, kk, mn, zh (ISO 639-1 where one exists, e.g. bs for Bosnian).
    """
    if isinstance(langs, str):
        langs = [langs]
    hint = "use ISO 639 codes such as bo, ug, kk, mn, zh (ISO 639-1 where one exists, e.g. bs for Bosnian)"
    roles = {f"<{role}>" for role in SPECIAL_TOKEN_ROLES}
    for lang in langs:
        token = language_token(lang)
        if token.lower() in roles:
            raise ValueError(
                f"Language code {lang!r} makes {token}, the name of a special token "
                f"({', '.join(SPECIAL_TOKEN_ROLES)}), not a language: {hint}."
            )
    if tokenizer is None:
        return
    # Special tokens by role (bos_token: <s>, ...); language tokens are the extra special tokens this module adds.
    roles_of = {str(tok): role for role, tok in tokenizer.special_tokens_map.items() if isinstance(tok, str)}
    languages = {str(tok) for tok in getattr(tokenizer, "extra_special_tokens", None) or []} - set(roles_of)
    vocab = tokenizer.get_vocab()
    for lang in langs:
        token = language_token(lang)
        if token in roles_of:
            raise ValueError(
                f"Language code {lang!r} makes {token}, which is the tokenizer's {roles_of[token]}: {hint}."
            )
        if token in vocab and token not in languages:
            raise ValueError(
                f"Language code {lang!r} makes {token}, which is already token {vocab[token]} of the vocabulary "
                f"with another meaning (not a language token): {hint}."
            )


def add_language_tokens(
    tokenizer: Any, model: nn.Module | None, langs: Sequence[str] = LANGUAGE_CODES
) -> list[int]:
    """Add ``<lang>`` special tokens (e.g. ``<bo>``, ``<ug>``), in place, as extra special tokens (never split,
    skipped by ``decode(..., skip_special_tokens=True)``); each new one gets embedding and output rows equal to the
    mean of the existing rows. Idempotent: existing tokens and their rows are left alone. The model only grows when
    the tokenizer outgrows its embedding; ``model=None`` changes the tokenizer alone (for a model built later from
    ``len(tokenizer)``). Returns the ids of ``langs`` in order, e.g. ``[250002, 250003]`` for XLM-R.
    """
    if isinstance(langs, str):
        langs = [langs]
    check_language_codes(tokenizer, langs)  # <unk>, <pad>, an existing piece: refused, not made a language
    tokens = [language_token(lang) for lang in langs]
    n_old = len(tokenizer)
    if model is not None:
        _check_model(model, n_old)
    new_tokens = [t for t in dict.fromkeys(tokens) if _backend(tokenizer).token_to_id(t) is None]
    if new_tokens:
        tokenizer.add_special_tokens({"extra_special_tokens": new_tokens}, replace_extra_special_tokens=False)
    if new_tokens and model is not None:
        _grow_model(
            model, n_old, len(tokenizer), {i: [] for i in tokenizer.convert_tokens_to_ids(new_tokens)}
        )
    return tokenizer.convert_tokens_to_ids(tokens)


def trim_vocabulary(
    tokenizer: Any, model: nn.Module, corpus: Iterable[str], keep_top: int | None = None
) -> tuple[Any, list[int]]:
    """Keep only the vocabulary a corpus uses; return ``(new_tokenizer, kept_old_ids)``.

    Kept: every piece of the corpus's segmentation (or only the ``keep_top`` most frequent of them), every
    special/added token, every id named in the model's config (``pad/bos/eos/decoder_start_token_id`` ...) and the
    lowest-scoring Unigram piece. Kept pieces keep their order (new id = rank of the old id in ``kept_old_ids``), so
    ``<s> <pad> </s> <unk>`` stay first. The model (changed in place) gets the matching rows of its input embedding,
    output layer (+ bias) and vocabulary-sized biases; ``config.vocab_size`` and the config's token ids are remapped;
    tied weights stay tied. The given tokenizer is left unchanged.

    The corpus is segmented identically: the Unigram Viterbi picks, per word, the path of pieces with the highest
    total score, and removing pieces only removes paths, so the old best path (all of its pieces are kept) still
    wins. Where no single-character piece remains, the lattice gets an ``<unk>`` edge scored ``min_score - 10``;
    keeping the lowest-scoring piece keeps ``min_score``, so such an edge scores below the piece it replaces. An MLM
    then gives equal logits over kept tokens (``new_logits[..., new_id] == old_logits[..., old_id]``). With
    ``keep_top``, text whose pieces were dropped may be segmented differently (more ``<unk>``).
    """
    if keep_top is not None and (not isinstance(keep_top, int) or keep_top < 0):
        raise ValueError(f"keep_top must be a non-negative int or None, got {keep_top!r}.")
    data = _unigram_json(tokenizer)
    old_rows = _check_model(model, len(tokenizer))[0].num_embeddings
    counts = Counter(i for _, enc in _encodings(tokenizer, corpus) for i in enc.ids)
    if not counts:
        raise ValueError("The corpus produced no tokens: pass an iterable of non-empty texts.")
    kept = _kept_ids(tokenizer, model, data, counts, keep_top)
    mapping = {old: new for new, old in enumerate(kept)}
    new_tokenizer = _with_backend(tokenizer, _trimmed_backend(data, kept, mapping), data, inplace=False)
    plan: dict[int, int | list[int]] = {new: old for old, new in mapping.items() if old != new}
    _resize_model(model, len(kept), plan, mean_rows=old_rows, pad_mapping=mapping)
    _remap_config(model, mapping, old_rows, len(kept))
    return new_tokenizer, kept


def _kept_ids(
    tokenizer: Any, model: nn.Module, data: dict[str, Any], counts: Counter, keep_top: int | None
) -> list[int]:
    """The old ids a trim keeps, sorted: the used ones (the ``keep_top`` most frequent) and the required ones."""
    vocab = data["model"]["vocab"]
    min_score_id = min(range(len(vocab)), key=lambda i: vocab[i][1])
    required = _special_ids(tokenizer, data) | {int(data["model"]["unk_id"]), min_score_id}
    required |= {i for i in _config_token_ids(model) if i < len(tokenizer)}
    used = [i for i in counts if i not in required]
    if keep_top is not None:
        used = sorted(used, key=lambda i: (-counts[i], i))[:keep_top]
    return sorted(required | set(used))


def _trimmed_backend(data: dict[str, Any], kept: list[int], mapping: dict[int, int]) -> Tokenizer:
    """Keeps the pieces ``kept`` of the tokenizer.json ``data`` (changed in place), renumbered by ``mapping``."""
    _materialize_added_tokens(data)
    data["model"]["vocab"] = [data["model"]["vocab"][i] for i in kept]
    data["model"]["unk_id"] = mapping[data["model"]["unk_id"]]
    for token in data["added_tokens"]:
        token["id"] = mapping[token["id"]]
    _remap_post_processor(data.get("post_processor"), mapping)
    if data.get("padding") and data["padding"].get("pad_id") in mapping:
        data["padding"]["pad_id"] = mapping[data["padding"]["pad_id"]]
    return Tokenizer.from_str(json.dumps(data))


def _uncovered_words(tokenizer: Any, texts: list[str]) -> list[str]:
    """Every occurrence of a whitespace-separated word that contains an ``<unk>`` token."""
    unk_id = _unk_id(tokenizer)
    words = []
    for text, enc in _encodings(tokenizer, texts):
        owner, _ = _word_scripts(text)
        spans = [m.group() for m in re.finditer(r"\S+", text)]
        token_words = _token_words(text, enc.offsets, owner)
        hit = {w for i, w in zip(enc.ids, token_words, strict=True) if i == unk_id and w >= 0}
        words.extend(spans[w] for w in sorted(hit))
    return words


def _train_pieces(backend: Tokenizer, words: list[str], vocab_size: int) -> list[tuple[str, float]]:
    """Train a Unigram model with the tokenizer's own normalizer and pre-tokenizer (so pieces carry ``▁`` the
    same way) and return its pieces with their log-probability scores."""
    trainee = Tokenizer(tk_models.Unigram())
    trainee.normalizer = backend.normalizer
    trainee.pre_tokenizer = backend.pre_tokenizer
    trainer = UnigramTrainer(
        vocab_size=vocab_size, special_tokens=[], show_progress=False, max_piece_length=16
    )
    trainee.train_from_iterator(words, trainer=trainer)
    return [(p, float(s)) for p, s in json.loads(trainee.to_str())["model"]["vocab"]]


def _learn_pieces(
    backend: Tokenizer, data: dict[str, Any], words: list[str], new_pieces: int
) -> list[tuple[str, float]]:
    """At most ``new_pieces`` pieces learned from ``words`` that are not in the vocabulary and hold a character it
    cannot produce: single characters first (without them a new character would stay ``<unk>``), then by score."""
    unk_id = int(data["model"]["unk_id"])
    known = {p for p, _ in data["model"]["vocab"]} | {t["content"] for t in data["added_tokens"]}
    # The trainer refuses a size below its alphabet (every character of the words, plus "▁").
    normalizer = backend.normalizer
    alphabet = {c for w in set(words) for c in (normalizer.normalize_str(w) if normalizer else w)}
    vocab_size = max(new_pieces, len(alphabet) + 16)
    for _ in range(4):  # trained again, larger, while too many learned pieces were known already
        learned = _train_pieces(backend, words, vocab_size)
        fresh = [
            (p, s)
            for p, s in learned
            if p not in known and any(t.id == unk_id for t in backend.model.tokenize(p))
        ]
        if len(fresh) >= new_pieces or len(learned) < vocab_size:
            break  # enough new pieces, or the corpus cannot give more
        vocab_size += new_pieces - len(fresh)
    fresh.sort(key=lambda ps: (len(ps[0]) > 1, -ps[1]))
    return fresh[:new_pieces]


def extend_vocabulary(
    tokenizer: Any, model: nn.Module, corpus: Iterable[str], new_pieces: int = 2000
) -> dict[str, Any]:
    """Learn Unigram pieces for the text that the vocabulary turns into ``<unk>`` and append them.

    Steps: (1) collect the words of ``corpus`` whose segmentation contains ``<unk>``; (2) train a Unigram model
    (``tokenizers.UnigramTrainer``, same normalizer and pre-tokenizer) on them; (3) keep the learned pieces that are
    new *and* contain a character the old vocabulary cannot produce (single characters first, then by score, at most
    ``new_pieces``); (4) append them with the trainer's log-probability scores (-2.7 to -8.6 on the UDHR samples;
    XLM-R's own span -3.5 to -20.4). At a new character the only old alternative is the ``<unk>`` edge (-30.4 for
    XLM-R), so the new pieces win there. Text the old vocabulary covered is segmented exactly as before: every new
    piece holds a character no old piece holds, and new pieces never raise the minimum score.

    A new row (input embedding, untied output layer, biases) is the mean of the rows of the piece's segmentation by
    the old vocabulary, ``<unk>`` left out; for a piece that is only ``<unk>`` there, the mean of all rows of real
    tokens. Existing pieces keep their ids and rows. The tokenizer and model are changed in place.

    Returns a report: ``unk_rate_before`` / ``unk_rate_after`` (per script, see :func:`unk_rate`, on the
    corpus), ``pieces_added``, ``new_ids``, ``pieces``, ``mean_fallback`` (pieces initialised from the global
    mean), ``uncovered_words``, ``vocab_size_before`` / ``vocab_size_after``.
    """
    if not isinstance(new_pieces, int) or new_pieces < 1:
        raise ValueError(f"new_pieces must be a positive int, got {new_pieces!r}.")
    texts = _as_texts(corpus)
    data = _unigram_json(tokenizer)
    n_old, backend = len(tokenizer), tokenizer.backend_tokenizer
    _check_model(model, n_old)
    unk_id = int(data["model"]["unk_id"])
    before = unk_rate(tokenizer, texts)
    words = _uncovered_words(tokenizer, texts)
    chosen = _learn_pieces(backend, data, words, new_pieces) if words else []
    # Each new row is the mean of the rows of the piece's old segmentation (see above).
    groups = [[t.id for t in backend.model.tokenize(piece) if t.id != unk_id] for piece, _ in chosen]
    _materialize_added_tokens(data)
    first_new = len(data["model"]["vocab"])
    data["model"]["vocab"].extend([p, s] for p, s in chosen)
    new_ids = list(range(first_new, first_new + len(chosen)))
    if chosen:
        _with_backend(tokenizer, Tokenizer.from_str(json.dumps(data)), data, inplace=True)
        _grow_model(model, n_old, len(tokenizer), dict(zip(new_ids, groups, strict=True)))
    return {
        "unk_rate_before": before,
        "unk_rate_after": unk_rate(tokenizer, texts),
        "pieces_added": len(chosen),
        "new_ids": new_ids,
        "pieces": [p for p, _ in chosen],
        "mean_fallback": sum(1 for g in groups if not g),
        "uncovered_words": len(words),
        "vocab_size_before": n_old,
        "vocab_size_after": len(tokenizer),
    }


def adapt_vocabulary(
    tokenizer: Any,
    model: nn.Module,
    *,
    extend_corpus: Iterable[str] | None = None,
    languages: Sequence[str] = (),
    trim_corpus: Iterable[str] | None = None,
    new_pieces: int = 2000,
    keep_top: int | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Adapts a tokenizer and the model's vocabulary rows to a corpus, in the one order that works: extend
    (pieces for text the vocabulary turns into ``<unk>``), add language tokens, trim to the corpus (so the new
    pieces and tokens survive the trim). Each step runs when its argument is given. The model changes in place;
    returns the tokenizer (a new one when trimmed) and notes in the conversion report's keys: ``extend_vocab``
    (:func:`extend_vocabulary`'s report), ``language_tokens`` (``{"<bo>": id}``, ids after the trim),
    ``trim_vocab`` (``{"kept_tokens": n}``), ``kept_ids`` (the old id of each new id; not in the report) and
    ``vocab_size``.
    """
    notes: dict[str, Any] = {}
    if extend_corpus is not None:
        notes["extend_vocab"] = extend_vocabulary(tokenizer, model, extend_corpus, new_pieces=new_pieces)
    if languages:
        add_language_tokens(tokenizer, model, list(languages))
    if trim_corpus is not None:
        tokenizer, kept = trim_vocabulary(tokenizer, model, trim_corpus, keep_top=keep_top)
        notes["trim_vocab"] = {"kept_tokens": len(kept)}
        notes["kept_ids"] = kept
    if languages:
        tokens = [language_token(lang) for lang in languages]
        notes["language_tokens"] = dict(zip(tokens, tokenizer.convert_tokens_to_ids(tokens), strict=True))
    notes["vocab_size"] = model.config.vocab_size
    return tokenizer, notes
