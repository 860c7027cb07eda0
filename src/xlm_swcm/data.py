"""Data for XLM-SWCM continued pretraining: mBART denoising collators, mixing with translation pairs, and
`tokenize_pairs` (README.md, "Use it like any transformers model").

The target-language token replaces the target's leading `<s>`: labels read `<bo> target </s>` (mBART-50 style), and
generation starts with `forced_bos_token_id=language_token_id(tokenizer, "bo")`. The optional source-language token
goes right after the encoder's `<s>`, so that the XLM-R encoder still sees `<s>` at position 0.
"""

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np
import torch
import torch.utils.data
from transformers import BatchEncoding, DataCollatorForSeq2Seq, PreTrainedTokenizerBase
from transformers.data.data_collator import DataCollatorMixin

from .scripts import SCRIPTS
from .vocab import language_token

__all__ = [
    "SENTENCE_END_CHARS",
    "DataCollatorForDenoising",
    "DataCollatorForMixedPretraining",
    "NoisedExample",
    "language_token",
    "language_token_id",
    "mix_translation_pairs",
    "sentence_end_token_ids",
    "tokenize_pairs",
]

# Characters that end a sentence: the `sentence_ends` of the scripts of `xlm_swcm.scripts` (commas never do). A
# plain XLM-R vocabulary has no piece for Tibetan `།` or Mongolian `᠃` (they are `<unk>`, never a sentence end):
# an extended vocabulary, or `tokenizer.add_tokens(["།", "᠃"])`, makes them sentence ends.
SENTENCE_END_CHARS: str = "".join(script.sentence_ends for script in SCRIPTS.values())

# Closing quotes/brackets may follow a full stop inside one piece (e.g. ``。」``, ``.”``, ``?»``).
_CLOSERS = "\"'"
_SPM_SPACE = "\u2581"


def language_token_id(tokenizer: PreTrainedTokenizerBase, lang: str) -> int:
    """Id of a language token (`"bo"` or `"<bo>"`); a clear error when the tokenizer lacks it."""
    token = language_token(lang)
    token_id = tokenizer.convert_tokens_to_ids(token)
    if token_id is None or (tokenizer.unk_token_id is not None and token_id == tokenizer.unk_token_id):
        raise ValueError(
            f"The tokenizer has no token {token!r}. Add the language tokens and their embedding rows with "
            f"`xlm_swcm.vocab.add_language_tokens(tokenizer, model, [{lang!r}])` (model=None: the tokenizer only)."
        )
    return int(token_id)


def sentence_end_token_ids(tokenizer: PreTrainedTokenizerBase, chars: str = SENTENCE_END_CHARS) -> list[int]:
    """Ids of the vocabulary pieces (added tokens included, special ones never) that end a sentence: after
    SentencePiece's `▁`, only `chars` and closing quotes or brackets, at least one of `chars` (`.`, `▁.`, `。」`,
    `?!`, `...`; not `U.S.` or `3.5`)."""
    enders = set(chars)
    special = set(tokenizer.all_special_ids)
    # A C-level regex pre-filter keeps this fast on 250k-piece vocabularies; the exact test runs on the hits.
    has_ender = re.compile("[" + re.escape(chars) + "]").search
    found: set[int] = set()
    for piece, token_id in tokenizer.get_vocab().items():
        if not has_ender(piece) or token_id in special:
            continue
        body = piece.lstrip(_SPM_SPACE)
        if all(ch in enders or ch in _CLOSERS or unicodedata.category(ch) in ("Pe", "Pf") for ch in body):
            found.add(int(token_id))
    return sorted(found)


@dataclass
class NoisedExample:
    """One example after mBART noise (`DataCollatorForDenoising.add_noise`): the noised `input_ids`, the original
    (`max_length`-truncated) ids as `labels`, `permuted_ids` (the labels after sentence permutation) and the `spans`
    of `permuted_ids` replaced by one mask each, `(start, length)` in the order drawn (length 0: a mask inserted)."""

    input_ids: list[int]
    labels: list[int]
    permuted_ids: list[int]
    spans: list[tuple[int, int]] = field(default_factory=list)


def _ids_to_list(ids: Any, key: str) -> list[int]:
    """Lists, tuples, numpy arrays and 1-D tensors of ints, as a list."""
    if isinstance(ids, torch.Tensor | np.ndarray):
        if ids.ndim != 1:
            raise ValueError(f"`{key}` must be 1-D (one example), got shape {tuple(ids.shape)}.")
        ids = ids.tolist()
    if isinstance(ids, str) or not isinstance(ids, Sequence):
        raise TypeError(
            f"`{key}` must be a sequence of token ids (tokenize the text first), got {type(ids).__name__}."
        )
    return [int(i) for i in ids]


def _truncate(ids: list[int], max_length: int | None, special: set[int]) -> list[int]:
    """Cut to `max_length` but keep a trailing special token (`</s>`), so that the sequence stays terminated."""
    if max_length is None or len(ids) <= max_length:
        return ids
    if ids[-1] in special:
        return ids[: max_length - 1] + [ids[-1]]
    return ids[:max_length]


@dataclass
class DataCollatorForDenoising(DataCollatorMixin):
    """mBART noise on tokenized examples (`{"input_ids": [...]}`, ending with `</s>`), a `data_collator` for
    `Seq2SeqTrainer`. Special tokens at either end stay in place; per example:

    1. Sentence permutation (`permute_sentences`): the text is cut after every sentence-ending token
       (`sentence_end_token_ids`, by default those of `SENTENCE_END_CHARS`) and the sentences are shuffled.
    2. Span infilling: in every run of non-special tokens (`<unk>` is real text: maskable) `mask_ratio` of the tokens
       are masked, the count rounded up or down at random so that the mean is exact. Span lengths are drawn from
       Poisson(`poisson_lambda`), the last cut to fit; each span becomes one mask token, a zero-length span inserts
       one (BART text infilling). Spans go into distinct gaps between kept tokens, so masks are never adjacent
       unless there are more spans than gaps.

    The batch holds the noised `input_ids`, `attention_mask`, the original ids as `labels` (padded with
    `label_pad_token_id`) and, with `model`, its `decoder_input_ids`. The collator owns its random generator: the
    same `seed` gives the same batches (`seed=None` draws one from torch, so `set_seed` makes runs reproducible), and
    each DataLoader worker gets its own stream.
    """

    tokenizer: PreTrainedTokenizerBase
    model: Any | None = None
    mask_ratio: float = 0.35  # mBART's
    poisson_lambda: float = 3.5  # mean span length (mBART's)
    permute_sentences: bool = True
    sentence_end_token_ids: Sequence[int] | None = None  # None: `sentence_end_token_ids(tokenizer)`
    max_length: int | None = None  # examples are truncated to it (keeping a final </s>) before noising
    pad_to_multiple_of: int | None = None
    label_pad_token_id: int = -100  # ignored by the loss
    seed: int | None = None
    return_tensors: str = "pt"

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.mask_ratio) <= 1.0:
            raise ValueError(f"`mask_ratio` must be in [0, 1] (mBART uses 0.35), got {self.mask_ratio}.")
        if not float(self.poisson_lambda) > 0.0:
            raise ValueError(f"`poisson_lambda` must be > 0 (mBART uses 3.5), got {self.poisson_lambda}.")
        if self.max_length is not None and int(self.max_length) < 2:
            raise ValueError(f"`max_length` must be >= 2 or None, got {self.max_length}.")
        if self.pad_to_multiple_of is not None and int(self.pad_to_multiple_of) < 1:
            raise ValueError(
                f"`pad_to_multiple_of` must be a positive int or None, got {self.pad_to_multiple_of}."
            )
        if self.return_tensors != "pt":
            raise ValueError(f"Only return_tensors='pt' is supported, got {self.return_tensors!r}.")
        if self.tokenizer.mask_token_id is None:
            raise ValueError(
                "The tokenizer has no mask token; span infilling needs one. Use an XLM-R tokenizer (it has "
                "'<mask>') or add one with `tokenizer.add_special_tokens({'mask_token': '<mask>'})`."
            )
        if self.tokenizer.pad_token_id is None:
            raise ValueError(
                "The tokenizer has no pad token; set one, e.g. `tokenizer.pad_token = tokenizer.eos_token`."
            )
        self._mask_id = int(self.tokenizer.mask_token_id)
        # `<unk>` is a special token for the tokenizer but real text for the model: keep it maskable.
        self._special = {int(i) for i in self.tokenizer.all_special_ids} - {self.tokenizer.unk_token_id}
        ends = self.sentence_end_token_ids
        self._sentence_ends = set(map(int, sentence_end_token_ids(self.tokenizer) if ends is None else ends))
        if self.seed is None:
            # Follow torch's global RNG so `transformers.set_seed` makes the collator reproducible too.
            self.seed = int(torch.randint(0, 2**62, ()).item())
        self._rng = np.random.default_rng(int(self.seed))
        self._worker_id: int | None = None

    def _sync_worker_rng(self) -> None:
        """In a DataLoader worker every copy starts from the same state; give each worker its own stream."""
        info = torch.utils.data.get_worker_info()
        if info is not None and info.id != self._worker_id:
            self._worker_id = info.id
            self._rng = np.random.default_rng([int(self.seed), info.id + 1])

    def _permute(self, ids: list[int]) -> list[int]:
        start, end = 0, len(ids)
        while start < end and ids[start] in self._special:
            start += 1
        while end > start and ids[end - 1] in self._special:
            end -= 1
        sentences: list[list[int]] = []
        current: list[int] = []
        for token in ids[start:end]:
            current.append(token)
            if token in self._sentence_ends:
                sentences.append(current)
                current = []
        if current:
            sentences.append(current)
        if len(sentences) < 2:
            return list(ids)
        order = self._rng.permutation(len(sentences))
        return ids[:start] + [t for i in order for t in sentences[i]] + ids[end:]

    def _span_lengths(self, budget: int) -> list[int]:
        """Poisson span lengths covering exactly ``budget`` tokens (last one truncated); zeros kept."""
        lengths: list[int] = []
        total = 0
        while total < budget:
            # Draw in chunks (expected need + slack) instead of one call per span: same law, fewer calls.
            chunk = self._rng.poisson(
                self.poisson_lambda, size=int(2 * (budget - total) / self.poisson_lambda) + 4
            )
            for length in chunk.tolist():
                if total + length >= budget:
                    lengths.append(budget - total)
                    total = budget
                    break
                lengths.append(length)
                total += length
        return lengths

    def _mask_segment(self, tokens: list[int], offset: int) -> tuple[list[int], list[tuple[int, int]]]:
        n = len(tokens)
        target = self.mask_ratio * n
        budget = int(np.floor(target))
        if self._rng.random() < target - budget:
            budget += 1
        lengths = self._span_lengths(budget)
        if not lengths:
            return list(tokens), []
        gaps = n - budget + 1  # places between (and around) kept tokens
        if len(lengths) <= gaps:
            chosen = self._rng.choice(gaps, size=len(lengths), replace=False)
        else:
            chosen = self._rng.integers(0, gaps, size=len(lengths))
        drawn_order = sorted(range(len(lengths)), key=lambda i: (int(chosen[i]), i))
        out: list[int] = []
        starts = [0] * len(lengths)
        src = kept = 0
        for i in drawn_order:
            step = int(chosen[i]) - kept
            out.extend(tokens[src : src + step])
            src += step
            kept += step
            starts[i] = offset + src
            out.append(self._mask_id)
            src += lengths[i]
        out.extend(tokens[src:])
        return out, list(zip(starts, lengths, strict=True))

    def add_noise(self, input_ids: Sequence[int]) -> NoisedExample:
        """The mBART noise of one tokenized example (advances the collator's generator)."""
        labels = _truncate(_ids_to_list(input_ids, "input_ids"), self.max_length, self._special)
        if not labels:
            raise ValueError("Got an empty `input_ids`; drop empty documents before collating.")
        permuted = self._permute(labels) if self.permute_sentences else list(labels)
        noised: list[int] = []
        spans: list[tuple[int, int]] = []
        start = 0
        for special, run in itertools.groupby(permuted, key=self._special.__contains__):
            run = list(run)  # special tokens stay; each run of the others is masked
            segment, segment_spans = (run, []) if special else self._mask_segment(run, offset=start)
            noised += segment
            spans += segment_spans
            start += len(run)
        # Zero-length insertions can (rarely, for tiny texts) make the input longer than the original.
        noised = _truncate(noised, self.max_length, self._special)
        return NoisedExample(input_ids=noised, labels=labels, permuted_ids=permuted, spans=spans)

    def _features_input_ids(self, feature: Mapping[str, Any]) -> list[int]:
        if not isinstance(feature, Mapping) or feature.get("input_ids") is None:
            keys = sorted(feature) if isinstance(feature, Mapping) else type(feature).__name__
            raise ValueError(
                f"Each example must be a mapping with 'input_ids' (tokenized text ending with </s>); got {keys}. "
                "Tokenize first, e.g. `dataset.map(lambda b: tokenizer(b['text']), batched=True)`."
            )
        return _ids_to_list(feature["input_ids"], "input_ids")

    def _example(self, feature: Mapping[str, Any]) -> tuple[list[int], list[int]]:
        """Encoder input and labels of one example."""
        noised = self.add_noise(self._features_input_ids(feature))
        return noised.input_ids, noised.labels

    def torch_call(self, features: Sequence[Mapping[str, Any]]) -> BatchEncoding:
        """Collates examples into a padded batch (`collator(features)`) as transformers' seq2seq collator pads them
        (`tokenizer.pad`, its padding side, labels with `label_pad_token_id`), with the model's `decoder_input_ids`."""
        if not features:
            raise ValueError("Cannot collate an empty list of examples.")
        self._sync_worker_rng()
        pad = DataCollatorForSeq2Seq(
            self.tokenizer,
            model=self.model,
            label_pad_token_id=self.label_pad_token_id,
            pad_to_multiple_of=self.pad_to_multiple_of,
        )
        return pad(
            [{"input_ids": source, "labels": target} for source, target in map(self._example, features)]
        )


@dataclass
class DataCollatorForMixedPretraining(DataCollatorForDenoising):
    """`DataCollatorForDenoising` whose batches may also hold translation pairs (the paper's mixture), told apart
    per example: `{"input_ids"}` is noised; `{"source_ids", "target_ids", "target_lang"}` is a pair whose labels
    start with the target-language token (`translation_example`); `{"input_ids", "labels"}` (`tokenize_pairs`)
    passes as it is, truncated to `max_length`. `mix_translation_pairs` builds such a mixture; with
    `Seq2SeqTrainer`, raw pairs need `remove_unused_columns=False`.
    """

    def translation_example(
        self, source_ids: Sequence[int], target_ids: Sequence[int], target_lang: str
    ) -> tuple[list[int], list[int]]:
        """Encoder input and labels of one translation pair, the target-language token in place of `<s>`."""
        source = _truncate(_ids_to_list(source_ids, "source_ids"), self.max_length, self._special)
        target = _ids_to_list(target_ids, "target_ids")
        if not source or not target:
            raise ValueError("Translation examples need non-empty `source_ids` and `target_ids`.")
        if target[0] == self.tokenizer.bos_token_id:
            target = target[1:]  # the language token takes <s>'s place
        labels = _truncate(
            [language_token_id(self.tokenizer, target_lang)] + target, self.max_length, self._special
        )
        return source, labels

    def _example(self, feature: Mapping[str, Any]) -> tuple[list[int], list[int]]:
        if not isinstance(feature, Mapping):
            raise TypeError(f"Each example must be a mapping (dict), got {type(feature).__name__}.")
        if feature.get("source_ids") is not None:
            if feature.get("target_ids") is None or feature.get("target_lang") is None:
                raise ValueError(
                    "A translation example needs 'source_ids', 'target_ids' and 'target_lang' (e.g. 'bo'); "
                    f"got keys {sorted(k for k, v in feature.items() if v is not None)}."
                )
            return self.translation_example(
                feature["source_ids"], feature["target_ids"], feature["target_lang"]
            )
        if feature.get("labels") is None:
            return super()._example(feature)
        source = _truncate(self._features_input_ids(feature), self.max_length, self._special)
        return source, _truncate(_ids_to_list(feature["labels"], "labels"), self.max_length, self._special)


def mix_translation_pairs(
    denoising: Any,
    translation: Any,
    *,
    translation_probability: float,
    seed: int = 0,
    stopping_strategy: str = "first_exhausted",
) -> Any:
    """Interleaves denoising and translation examples (`datasets.interleave_datasets`, seeded), each drawn one a
    translation with probability `translation_probability`. Each side is a `datasets.Dataset`, an `IterableDataset`
    (then so is the result) or a list of dicts; columns missing on one side are None.

    >>> mixed = mix_translation_pairs(
    ...     [{"input_ids": [0, 5, 2]}] * 8,
    ...     [{"source_ids": [0, 6, 2], "target_ids": [0, 7, 2], "target_lang": "bo"}] * 8,
    ...     translation_probability=0.3,
    ... )
    >>> sorted(mixed.column_names)
    ['input_ids', 'source_ids', 'target_ids', 'target_lang']
    """
    p = float(translation_probability)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"`translation_probability` must be in [0, 1], got {translation_probability}.")

    def as_dataset(data: Any, name: str) -> Any:
        if isinstance(data, datasets.Dataset | datasets.IterableDataset):
            return data
        if isinstance(data, Sequence) and not isinstance(data, str):
            if not data:
                raise ValueError(f"`{name}` is empty.")
            return datasets.Dataset.from_list(list(data))
        raise TypeError(f"`{name}` must be a datasets.Dataset or a list of dicts, got {type(data).__name__}.")

    sides = [as_dataset(denoising, "denoising"), as_dataset(translation, "translation")]
    if any(isinstance(side, datasets.IterableDataset) for side in sides):  # one side streamed: both
        sides = [side.to_iterable_dataset() if isinstance(side, datasets.Dataset) else side for side in sides]
    return datasets.interleave_datasets(
        sides, probabilities=[1.0 - p, p], seed=seed, stopping_strategy=stopping_strategy
    )


def tokenize_pairs(
    tokenizer: PreTrainedTokenizerBase,
    pairs: Iterable[tuple[str, str]],
    src_lang: str | None = None,
    tgt_lang: str | None = None,
    max_length: int | None = 512,
) -> list[dict[str, list[int]]]:
    """(source, target) text pairs as `input_ids`, `attention_mask` and `labels` features, at most `max_length`
    long and ending with `</s>`: `<s> <src_lang> source </s>` and `<tgt_lang> target </s>` (see the module
    docstring), for `DataCollatorForSeq2Seq` or `DataCollatorForMixedPretraining`."""
    pairs = list(pairs)
    for k, pair in enumerate(pairs):
        if not (isinstance(pair, Sequence) and len(pair) == 2 and all(isinstance(s, str) for s in pair)):
            raise ValueError(f"`pairs[{k}]` must be a (source, target) pair of strings, got {pair!r}.")
    if max_length is not None and max_length < 3:
        raise ValueError(
            f"`max_length` must be >= 3 (room for <s>, a token and </s>) or None, got {max_length}."
        )
    if not pairs:
        return []
    src_id = language_token_id(tokenizer, src_lang) if src_lang else None
    tgt_id = language_token_id(tokenizer, tgt_lang) if tgt_lang else None
    truncation = max_length is not None
    # Leave room for the inserted source-language token; the target token replaces <s>, so needs none.
    src_max = None if max_length is None else max_length - (1 if src_id is not None else 0)
    source_texts, target_texts = (list(texts) for texts in zip(*pairs, strict=True))
    sources = tokenizer(source_texts, truncation=truncation, max_length=src_max).input_ids
    targets = tokenizer(text_target=target_texts, truncation=truncation, max_length=max_length).input_ids
    bos = tokenizer.bos_token_id
    features = []
    for source, target in zip(sources, targets, strict=True):
        source, target = list(source), list(target)
        if src_id is not None:
            at = 1 if source and source[0] == bos else 0
            source = source[:at] + [src_id] + source[at:]
        if tgt_id is not None:
            target = [tgt_id] + (target[1:] if target and target[0] == bos else target)
            if max_length is not None and len(target) > max_length:
                target = target[: max_length - 1] + [target[-1]]
        features.append({"input_ids": source, "attention_mask": [1] * len(source), "labels": target})
    return features
