"""Data collators for XLM-SWCM continued pretraining: mBART-style denoising mixed with tagged translation.

The paper continues pretraining with two objectives: a denoising auto-encoder (mBART noise: sentence
permutation + Poisson span infilling) and machine translation whose targets carry a language token
(``<bo>``, ``<ug>``, ``<kk>``, ``<mn>``, ``<zh>``). This module provides:

* :class:`DataCollatorForDenoising` - mBART noise on already-tokenized documents; a drop-in
  ``data_collator=`` for :class:`transformers.Seq2SeqTrainer`.
* :class:`DataCollatorForMixedPretraining` - the same, but batches may also hold translation examples;
  the target-language token is put at the start of the *target* (decoder side), as in the paper.
* :func:`mix_translation_pairs` - interleave a denoising dataset with a translation dataset with a given
  probability (uses :func:`datasets.interleave_datasets`, seeded).
* :func:`tokenize_pairs` - (source, target) strings to ``input_ids``/``labels`` features for
  :class:`transformers.DataCollatorForSeq2Seq` (or the mixed collator), with language tokens.
* :func:`language_token_id`, :func:`sentence_end_token_ids` - helpers (language tokens are added with
  :func:`xlm_swcm.vocab.add_language_tokens`).

Language-token convention (one place, used everywhere here): the target-language token *replaces* the
target's leading ``<s>``, so labels read ``<bo> target tokens </s>`` (mBART-50 style). With a model whose
``prepare_decoder_input_ids_from_labels`` shifts right, the decoder sees ``<decoder_start> <bo> ...``; at
generation time pass ``forced_bos_token_id=language_token_id(tokenizer, "bo")``. The optional source-language
token goes right *after* the encoder's ``<s>``, so the XLM-R encoder still sees ``<s>`` at position 0.

Example:
    >>> from transformers import Seq2SeqTrainer
    >>> from xlm_swcm.data import DataCollatorForDenoising
    >>> collator = DataCollatorForDenoising(tokenizer, model=model, seed=0)  # doctest: +SKIP
    >>> batch = collator([{"input_ids": tokenizer("人人生而自由。")["input_ids"]}])  # doctest: +SKIP
    >>> sorted(batch)  # doctest: +SKIP
    ['attention_mask', 'decoder_input_ids', 'input_ids', 'labels']
"""

from __future__ import annotations

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

#: Characters that end a sentence: the ``sentence_ends`` of the scripts of :mod:`xlm_swcm.scripts`, in table
#: order: ``.!?`` Latin, ``。!?`` Chinese, ``؟۔`` Arabic script, ``।॥`` Indic danda, ``།༎`` Tibetan shad,
#: ``᠃᠉`` Mongolian full stop. Commas and semicolons (``᠂``, ``،``, ``؛``) never end a sentence.
#: A plain XLM-R vocabulary has no piece for ``།`` or ``᠃`` (they become ``<unk>``), so with that
#: vocabulary Tibetan/Mongolian documents are not split (never on ``<unk>``); CINO-style extended vocabularies
#: or ``tokenizer.add_tokens(["།", "᠃"])`` make them sentence ends automatically.
SENTENCE_END_CHARS: str = "".join(script.sentence_ends for script in SCRIPTS.values())

# Closing quotes/brackets may follow a full stop inside one piece (e.g. ``。」``, ``.”``, ``?»``).
_CLOSERS = "\"'"
_SPM_SPACE = "\u2581"


def language_token_id(tokenizer: PreTrainedTokenizerBase, lang: str) -> int:
    """Id of a language token (``"bo"`` or ``"<bo>"``); a clear error when the tokenizer lacks it.

    Example:
        >>> language_token_id(tokenizer, "bo")  # doctest: +SKIP
        250002
    """
    token = language_token(lang)
    token_id = tokenizer.convert_tokens_to_ids(token)
    if token_id is None or (tokenizer.unk_token_id is not None and token_id == tokenizer.unk_token_id):
        raise ValueError(
            f"The tokenizer has no token {token!r}. Add the language tokens and their embedding rows with "
            f"`xlm_swcm.vocab.add_language_tokens(tokenizer, model, [{lang!r}])` (model=None: the tokenizer only)."
        )
    return int(token_id)


def sentence_end_token_ids(tokenizer: PreTrainedTokenizerBase, chars: str = SENTENCE_END_CHARS) -> list[int]:
    """Ids of vocabulary pieces that end a sentence: pieces made only of ``chars`` and closing punctuation.

    A piece qualifies when, after dropping SentencePiece's word-start marker ``▁``, it is non-empty, every
    character is one of ``chars`` or a closing quote/bracket, and at least one is in ``chars`` - so ``.``,
    ``▁.``, ``。``, ``。」``, ``?!`` and ``...`` count, but ``U.S.`` or ``3.5`` do not. Special tokens
    (including ``<unk>``) never count. Added tokens are included, so ``tokenizer.add_tokens(["།"])`` makes the
    Tibetan shad a sentence end.

    Example:
        >>> ids = sentence_end_token_ids(tokenizer)  # doctest: +SKIP
        >>> tokenizer.convert_tokens_to_ids("。") in ids  # doctest: +SKIP
        True
    """
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
    """One example after mBART noise (what :meth:`DataCollatorForDenoising.add_noise` returns).

    Attributes:
        input_ids: the noised encoder input.
        labels: the original (possibly ``max_length``-truncated) token ids - the reconstruction target.
        permuted_ids: ``labels`` after sentence permutation, i.e. the sequence the spans refer to.
        spans: ``(start, length)`` into ``permuted_ids`` in the order they were drawn; each was replaced by
            one mask (``length == 0``: a mask inserted before position ``start``). Per maskable segment the
            last span drawn is cut short so the masked total hits the budget exactly.
    """

    input_ids: list[int]
    labels: list[int]
    permuted_ids: list[int]
    spans: list[tuple[int, int]] = field(default_factory=list)


def _ids_to_list(ids: Any, key: str) -> list[int]:
    """Accept lists, tuples, numpy arrays and 1-D tensors of ints."""
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
    """Cut to ``max_length`` but keep a trailing special token (``</s>``) so the sequence stays terminated."""
    if max_length is None or len(ids) <= max_length:
        return ids
    if ids[-1] in special:
        return ids[: max_length - 1] + [ids[-1]]
    return ids[:max_length]


@dataclass
class DataCollatorForDenoising(DataCollatorMixin):
    """mBART denoising: sentence permutation + Poisson span infilling on already-tokenized examples.

    Each example is a mapping with ``input_ids`` (a document or sentence group, tokenized with ``</s>``
    at the end; XLM-R tokenizers also put ``<s>`` first). Per example:

    1. *Sentence permutation* (``permute_sentences``): leading and trailing special tokens (``<s>``,
       ``</s>``, language tokens) stay put; the text in between is cut after every sentence-ending token
       (``sentence_end_token_ids``, default :func:`sentence_end_token_ids` of the tokenizer - see
       :data:`SENTENCE_END_CHARS` for the per-script choice) and the sentences are shuffled.
    2. *Span infilling*: in every run of maskable tokens (all tokens except special ones; ``<unk>`` *is*
       maskable because it stands for real text, which matters for scripts the vocabulary lacks) a budget of
       ``mask_ratio * n`` tokens is masked, rounded stochastically (floor or ceil, with the fractional part as
       probability) so short sentences are not over-masked on average. Span lengths are drawn from
       Poisson(``poisson_lambda``) until they cover the budget; the last one is cut to hit it exactly. Each
       span becomes ONE ``tokenizer.mask_token``. As in BART text infilling, a zero-length span inserts a
       mask without removing anything (the model must learn that a mask may hide nothing). Spans go into
       distinct gaps between kept tokens, uniformly at random, so masks are never adjacent unless there are
       more spans than gaps (only for ``mask_ratio`` close to 1).

    The batch has ``input_ids`` (noised, padded with the pad id), ``attention_mask``, ``labels`` (the ORIGINAL
    ids, padded with ``label_pad_token_id`` = -100) and, when ``model`` is given,
    ``decoder_input_ids = model.prepare_decoder_input_ids_from_labels(labels=labels)``; otherwise the model
    derives them from ``labels``. Padding follows ``tokenizer.padding_side``.

    Randomness comes from a :class:`numpy.random.Generator` owned by the collator, so two collators with the
    same ``seed`` produce identical batches. ``seed=None`` draws the seed from torch's global generator, so
    :func:`transformers.set_seed` before building the collator also makes runs reproducible. Inside
    DataLoader worker processes the generator is re-seeded from ``(seed, worker_id)`` so workers do not
    repeat each other's noise.

    Args:
        tokenizer: the tokenizer that produced the ids (needs ``mask_token_id`` and ``pad_token_id``).
        model: optional model with ``prepare_decoder_input_ids_from_labels``.
        mask_ratio: fraction of maskable tokens to mask (mBART: 0.35).
        poisson_lambda: mean span length (mBART: 3.5).
        permute_sentences: shuffle sentence order (mBART: on).
        sentence_end_token_ids: ids that end a sentence; ``None`` derives them from the tokenizer vocabulary.
        max_length: truncate examples to this many tokens (keeping a final ``</s>``) before noising.
        pad_to_multiple_of: round the padded length up to a multiple of this (tensor cores).
        label_pad_token_id: label padding, ignored by the loss.
        seed: seed for the collator's own generator.
        return_tensors: only ``"pt"`` is supported.

    Example:
        >>> collator = DataCollatorForDenoising(tokenizer, seed=0, permute_sentences=False)  # doctest: +SKIP
        >>> ids = tokenizer("Everyone has the right to life, liberty and security of person.")["input_ids"]  # doctest: +SKIP
        >>> batch = collator([{"input_ids": ids}])  # doctest: +SKIP
        >>> batch["labels"][0].tolist() == ids  # doctest: +SKIP
        True
    """

    tokenizer: PreTrainedTokenizerBase
    model: Any | None = None
    mask_ratio: float = 0.35
    poisson_lambda: float = 3.5
    permute_sentences: bool = True
    sentence_end_token_ids: Sequence[int] | None = None
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    label_pad_token_id: int = -100
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
        self._pad_id = int(self.tokenizer.pad_token_id)
        # `<unk>` is a special token for the tokenizer but real text for the model: keep it maskable.
        self._special = {int(i) for i in self.tokenizer.all_special_ids} - {self.tokenizer.unk_token_id}
        if self.sentence_end_token_ids is None:
            self._sentence_ends = set(sentence_end_token_ids(self.tokenizer))
        else:
            self._sentence_ends = {int(i) for i in self.sentence_end_token_ids}
        if self.seed is None:
            # Follow torch's global RNG so `transformers.set_seed` makes the collator reproducible too.
            self.seed = int(torch.randint(0, 2**62, ()).item())
        self._rng = np.random.default_rng(int(self.seed))
        self._worker_id: int | None = None

    # ---------------------------------------------------------------- noise
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
        """Apply the mBART noise to one tokenized example (advances the collator's generator).

        Example:
            >>> noised = collator.add_noise(tokenizer("人人生而自由。")["input_ids"])  # doctest: +SKIP
            >>> noised.labels == tokenizer("人人生而自由。")["input_ids"]  # doctest: +SKIP
            True
        """
        labels = _truncate(_ids_to_list(input_ids, "input_ids"), self.max_length, self._special)
        if not labels:
            raise ValueError("Got an empty `input_ids`; drop empty documents before collating.")
        permuted = self._permute(labels) if self.permute_sentences else list(labels)
        noised: list[int] = []
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(permuted):
            if permuted[i] in self._special:
                noised.append(permuted[i])
                i += 1
                continue
            j = i
            while j < len(permuted) and permuted[j] not in self._special:
                j += 1
            segment, segment_spans = self._mask_segment(permuted[i:j], offset=i)
            noised.extend(segment)
            spans.extend(segment_spans)
            i = j
        # Zero-length insertions can (rarely, for tiny texts) make the input longer than the original.
        noised = _truncate(noised, self.max_length, self._special)
        return NoisedExample(input_ids=noised, labels=labels, permuted_ids=permuted, spans=spans)

    # ---------------------------------------------------------------- batching
    def _features_input_ids(self, feature: Mapping[str, Any]) -> list[int]:
        if not isinstance(feature, Mapping) or feature.get("input_ids") is None:
            keys = sorted(feature) if isinstance(feature, Mapping) else type(feature).__name__
            raise ValueError(
                "Each example must be a mapping with 'input_ids' (tokenized text ending with </s>); "
                f"got {keys}. "
                "Tokenize first, e.g. `dataset.map(lambda b: tokenizer(b['text']), batched=True)`."
            )
        return _ids_to_list(feature["input_ids"], "input_ids")

    def _collate(self, inputs: list[list[int]], labels: list[list[int]]) -> BatchEncoding:
        """Pads as transformers' seq2seq collator does (`tokenizer.pad`, labels with `label_pad_token_id`, the
        tokenizer's padding side) and adds the model's `decoder_input_ids`."""
        pad = DataCollatorForSeq2Seq(
            self.tokenizer,
            model=self.model,
            label_pad_token_id=self.label_pad_token_id,
            pad_to_multiple_of=self.pad_to_multiple_of,
        )
        rows = zip(inputs, labels, strict=True)
        return pad([{"input_ids": source, "labels": target} for source, target in rows])

    def torch_call(self, features: Sequence[Mapping[str, Any]]) -> BatchEncoding:
        """Collate a list of examples into a padded batch (called by ``collator(features)``)."""
        if not features:
            raise ValueError("Cannot collate an empty list of examples.")
        self._sync_worker_rng()
        noised = [self.add_noise(self._features_input_ids(f)) for f in features]
        return self._collate([n.input_ids for n in noised], [n.labels for n in noised])


@dataclass
class DataCollatorForMixedPretraining(DataCollatorForDenoising):
    """Denoising collator whose batches may also contain translation examples (the paper's mixture).

    Example kinds, detected per example:

    * denoising: ``{"input_ids": [...]}`` (``labels`` absent or ``None``) - mBART noise as in
      :class:`DataCollatorForDenoising`; labels are the original ids.
    * translation, raw: ``{"source_ids": [...], "target_ids": [...], "target_lang": "bo"}`` - the encoder
      input is ``source_ids`` unchanged and the labels are the target with its leading ``<s>`` replaced by
      the target-language token: ``<bo> target </s>`` (the paper tags the *target* side; see the module
      docstring).
    * translation, pre-tokenized: ``{"input_ids": [...], "labels": [...]}`` with non-``None`` labels (e.g.
      from :func:`tokenize_pairs`) - passed through unchanged (only truncated to ``max_length``).

    Use :func:`mix_translation_pairs` to build a dataset mixing both kinds with a given probability. With
    :class:`transformers.Seq2SeqTrainer`, raw translation columns (``source_ids``...) are not forward()
    arguments, so set ``remove_unused_columns=False`` or pre-tokenize with :func:`tokenize_pairs`.

    Example:
        >>> add_language_tokens(tokenizer)  # doctest: +SKIP
        >>> collator = DataCollatorForMixedPretraining(tokenizer, seed=0)  # doctest: +SKIP
        >>> src = tokenizer("Everyone has the right to life.")["input_ids"]  # doctest: +SKIP
        >>> tgt = tokenizer("人人有权享有生命。")["input_ids"]  # doctest: +SKIP
        >>> batch = collator([{"source_ids": src, "target_ids": tgt, "target_lang": "zh"}])  # doctest: +SKIP
        >>> tokenizer.convert_ids_to_tokens(int(batch["labels"][0, 0]))  # doctest: +SKIP
        '<zh>'
    """

    def translation_example(
        self, source_ids: Sequence[int], target_ids: Sequence[int], target_lang: str
    ) -> tuple[list[int], list[int]]:
        """Encoder input and labels for one translation pair, with the target-language token on the target.

        Example:
            >>> source, labels = collator.translation_example(src_ids, tgt_ids, "bo")  # doctest: +SKIP
            >>> labels[0] == language_token_id(tokenizer, "bo")  # doctest: +SKIP
            True
        """
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

    def torch_call(self, features: Sequence[Mapping[str, Any]]) -> BatchEncoding:
        """Collate a mixed list of denoising and translation examples into one padded batch."""
        if not features:
            raise ValueError("Cannot collate an empty list of examples.")
        self._sync_worker_rng()
        inputs: list[list[int]] = []
        labels: list[list[int]] = []
        for feature in features:
            if not isinstance(feature, Mapping):
                raise TypeError(f"Each example must be a mapping (dict), got {type(feature).__name__}.")
            if feature.get("source_ids") is not None:
                if feature.get("target_ids") is None or feature.get("target_lang") is None:
                    raise ValueError(
                        "A translation example needs 'source_ids', 'target_ids' and 'target_lang' "
                        "(e.g. 'bo'); "
                        f"got keys {sorted(k for k, v in feature.items() if v is not None)}."
                    )
                source, target = self.translation_example(
                    feature["source_ids"], feature["target_ids"], feature["target_lang"]
                )
            elif feature.get("labels") is not None:
                source = _truncate(self._features_input_ids(feature), self.max_length, self._special)
                target = _truncate(_ids_to_list(feature["labels"], "labels"), self.max_length, self._special)
            else:
                noised = self.add_noise(self._features_input_ids(feature))
                source, target = noised.input_ids, noised.labels
            inputs.append(source)
            labels.append(target)
        return self._collate(inputs, labels)


def mix_translation_pairs(
    denoising: Any,
    translation: Any,
    *,
    translation_probability: float,
    seed: int = 0,
    stopping_strategy: str = "first_exhausted",
) -> Any:
    """Interleave denoising and translation examples: each drawn example is translation with probability p.

    Thin wrapper over :func:`datasets.interleave_datasets` (seeded, hence deterministic). Inputs may be
    :class:`datasets.Dataset` objects or lists of dicts; columns missing on one side become ``None``, which
    :class:`DataCollatorForMixedPretraining` uses to tell the kinds apart. When either is a streamed
    :class:`datasets.IterableDataset`, so is the result. ``stopping_strategy`` is passed through:
    ``"first_exhausted"`` stops when either side runs out, ``"all_exhausted"`` oversamples the smaller one.

    Example:
        >>> mixed = mix_translation_pairs(
        ...     [{"input_ids": [0, 5, 2]}] * 8,
        ...     [{"source_ids": [0, 6, 2], "target_ids": [0, 7, 2], "target_lang": "bo"}] * 8,
        ...     translation_probability=0.3,
        ...     seed=0,
        ... )  # doctest: +SKIP
        >>> sorted(mixed.column_names)  # doctest: +SKIP
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
    if any(isinstance(side, datasets.IterableDataset) for side in sides):
        sides = [
            side if isinstance(side, datasets.IterableDataset) else side.to_iterable_dataset()
            for side in sides
        ]
    return datasets.interleave_datasets(
        sides,
        probabilities=[1.0 - p, p],
        seed=seed,
        stopping_strategy=stopping_strategy,
    )


def tokenize_pairs(
    tokenizer: PreTrainedTokenizerBase,
    pairs: Iterable[tuple[str, str]],
    src_lang: str | None = None,
    tgt_lang: str | None = None,
    max_length: int | None = 512,
) -> list[dict[str, list[int]]]:
    """Tokenize (source, target) text pairs into ``input_ids``/``attention_mask``/``labels`` features.

    With ``tgt_lang`` the labels become ``<tgt> target </s>`` (the language token replaces ``<s>``); with
    ``src_lang`` the input becomes ``<s> <src> source </s>`` (after ``<s>`` so the encoder's first token is
    unchanged). Both ``input_ids`` and ``labels`` are at most ``max_length`` long and keep their ``</s>``.
    The features suit :class:`transformers.DataCollatorForSeq2Seq` and
    :class:`DataCollatorForMixedPretraining`.

    Example:
        >>> add_language_tokens(tokenizer)  # doctest: +SKIP
        >>> pairs = [("Everyone has the right to life.", "人人有权享有生命。")]
        >>> feats = tokenize_pairs(tokenizer, pairs, tgt_lang="zh")  # doctest: +SKIP
        >>> tokenizer.convert_ids_to_tokens(feats[0]["labels"][0])  # doctest: +SKIP
        '<zh>'
    """
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
    sources = tokenizer([s for s, _ in pairs], truncation=truncation, max_length=src_max)["input_ids"]
    targets = tokenizer(text_target=[t for _, t in pairs], truncation=truncation, max_length=max_length)[
        "input_ids"
    ]
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
