"""ROUGE-L and chrF that score Tibetan, Uyghur, Kazakh (Arabic script), Mongolian and Chinese text: the usual ROUGE
tokenizer (`rouge_score`, behind `evaluate.load("rouge")`) keeps only `[a-z0-9]`, so such text scores 0.0. Here
`tokenize` splits text script by script (the classes of `xlm_swcm.scripts.SCRIPTS`; a token never spans two):

* Tibetan: one token per syllable; tsheg, shad and other Tibetan punctuation separate syllables and are dropped.
* Arabic script and Mongolian: words split on whitespace and punctuation (dropped); joiners (ZWNJ, ZWJ, the Mongolian
  vowel separator) stay inside the word, tatweel is removed.
* CJK ideographs, kana and hangul: one token per character.
* Other scripts: lower-cased runs of letters and digits, which on ASCII is `rouge_score`'s tokenizer without
  stemming (English scores are identical); letters outside ASCII (é, Cyrillic) are kept, not deleted.

chrF is sacrebleu's. This file is also an `evaluate` module (`evaluate.load(xlm_swcm.metrics.METRIC_PATH)`, offline):
`evaluate.load` copies it into its cache, so it imports from the installed `xlm_swcm` package, never relatively.
"""

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import datasets
import evaluate
from rapidfuzz.distance import LCSseq  # C++: two 10,000-character texts in 0.1 s (pure Python: 90 s)
from sacrebleu.metrics import CHRF

from xlm_swcm.scripts import CJK, OTHER, find_script

_CITATION = """\
@inproceedings{lin-2004-rouge, title = "{ROUGE}: A Package for Automatic Evaluation of Summaries",
    author = "Lin, Chin-Yew", booktitle = "Text Summarization Branches Out", year = "2004",
    url = "https://aclanthology.org/W04-1013"}
@inproceedings{popovic-2015-chrf, title = "chr{F}: character n-gram {F}-score for automatic {MT} evaluation",
    author = "Popovi{\\'c}, Maja", booktitle = "Proceedings of the Tenth Workshop on Statistical Machine Translation",
    year = "2015", url = "https://aclanthology.org/W15-3049"}
"""

_DESCRIPTION = """\
ROUGE-L (longest common subsequence F1, precision and recall, averaged over prediction/reference pairs) with a
script-aware tokenizer that keeps Tibetan syllables, Arabic-script and Mongolian words and CJK characters
(the rouge_score tokenizer deletes them and scores such text 0.0), plus corpus-level chrF (sacrebleu's
default CHRF: character 6-grams, beta=2, whitespace removed, 0..100). On English (ASCII) text rougeL equals
rouge_score's RougeScorer(["rougeL"]) without stemming.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): model outputs.
    references (`list` of `str`, or `list` of `list` of `str`): one reference per prediction, or several; with
        several, each pair is scored against the reference giving the best ROUGE-L F1 (like rouge_score's
        `score_multi`) and, for chrF, the best chrF (like sacrebleu).
    tokenize (`str`, default `"script"`): `"script"` for the script-aware tokenizer, `"whitespace"` for plain
        `str.split()` (for text that is already segmented). Ignored when `tokenizer` is given.
    tokenizer (callable or tokenizer object, optional): score ROUGE-L over these tokens instead, e.g. a
        transformers tokenizer (its `.tokenize(text)` pieces are used) or any function `str -> list of tokens`.
        chrF is character-based and does not use it.
    char_order (`int`, default 6), beta (`float`, default 2): chrF settings.
Returns:
    rougeL: mean ROUGE-L F1 over pairs (0..1).
    rougeL_precision: mean ROUGE-L precision (0..1).
    rougeL_recall: mean ROUGE-L recall (0..1).
    chrf: corpus-level chrF (0..100): n-gram statistics summed over all pairs, as sacrebleu's corpus_score.
Examples:
    >>> metric = evaluate.load(__file__)  # this file; from the package: xlm_swcm.metrics.METRIC_PATH
    >>> results = metric.compute(predictions=["སྐྱེ་བོ་དག"], references=["སྐྱེ་བོ་དག་གིས"])
    >>> results["rougeL_precision"], results["rougeL_recall"]
    (1.0, 0.75)
"""

# Invisible format characters that shape a word from inside (Persian/Uyghur ZWNJ, ZWJ, the Mongolian vowel
# separator in e.g. "ᠨᠡᠷ᠎ᠡ"): they must not split the word, so they stay inside the token.
_JOINERS = "\u200c\u200d\u180e"
# Arabic tatweel only stretches a word for justification: drop it so "كـتاب" matches "كتاب".
_REMOVED = "\u0640"

_TOKENIZE_MODES = ("script", "whitespace")

# A function str -> tokens, or any object with .tokenize(str) -> tokens (e.g. a transformers tokenizer).
TokenizerLike = Any


def _script_of(char: str) -> str:
    """ROUGE tokenisation class of one character (``xlm_swcm.scripts``)."""
    script = find_script(char)
    return OTHER if script is None else script.rouge


def tokenize(text: str) -> list[str]:
    """`text` as ROUGE tokens, script by script (the rules: the module docstring).

    >>> tokenize("བོད་ཡིག། Hello, World! 中文")
    ['བོད', 'ཡིག', 'hello', 'world', '中', '文']
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize() expects a str, got {type(text).__name__}; pass the decoded text.")
    tokens: list[str] = []
    current: list[str] = []
    current_script = None

    def close() -> None:
        # Joiners only make sense between letters: drop them at the edges, and drop joiner-only tokens.
        token = "".join(current).strip(_JOINERS)
        if token:
            tokens.append(token)
        current.clear()

    # Lower-case the whole text first, exactly like rouge_score (Tibetan, Arabic, Mongolian, CJK have no case).
    for char in text.lower():
        if char in _REMOVED:
            continue
        if char in _JOINERS:
            if current:
                current.append(char)
            continue
        major_category = unicodedata.category(char)[0]
        if major_category == "M":
            # Combining marks (Tibetan subjoined letters and vowel signs, Arabic harakat, kana voicing marks)
            # belong to the character before them; a mark with nothing to attach to is dropped.
            if current:
                current.append(char)
            continue
        if major_category not in "LN":
            # Whitespace, punctuation (tsheg, shad, birga, Arabic comma, ASCII punctuation), symbols and
            # control characters separate tokens and are dropped.
            close()
            continue
        script = _script_of(char)
        if current and script == current_script and script != CJK:
            current.append(char)
        else:
            # A new script run, or a CJK character (always its own token).
            close()
            current.append(char)
            current_script = script
    close()
    return tokens


class RougeLScore(NamedTuple):
    """ROUGE-L of one prediction/reference pair, with the field names of ``rouge_score.scoring.Score``."""

    precision: float
    recall: float
    fmeasure: float


def _tokens(text: str, tokenize_mode: str, tokenizer: TokenizerLike | None) -> list[Any]:
    """Tokens of ``text`` for ROUGE-L: the tokenizer's pieces when one is given, else the ``tokenize`` mode."""
    if not isinstance(text, str):
        raise TypeError(f"predictions and references must be str, got {type(text).__name__}: {text!r}.")
    if tokenizer is not None:
        tokenize_method = getattr(tokenizer, "tokenize", None)
        if callable(tokenize_method):
            pieces = tokenize_method(text)
        elif callable(tokenizer):
            pieces = tokenizer(text)
        else:
            raise TypeError(
                f"tokenizer must be a function str -> list of tokens or an object with .tokenize(text) "
                f"(e.g. a transformers tokenizer); got {type(tokenizer).__name__}."
            )
        if isinstance(pieces, (str, bytes, Mapping)) or not isinstance(pieces, Iterable):
            raise TypeError(
                f"tokenizer returned {type(pieces).__name__}, expected a list of tokens; pass a function that "
                "returns tokens (e.g. tokenizer.tokenize), not one that returns text or an encoding dict."
            )
        return list(pieces)
    if tokenize_mode == "script":
        return tokenize(text)
    if tokenize_mode == "whitespace":
        return text.split()
    raise ValueError(f"tokenize must be one of {_TOKENIZE_MODES}, got {tokenize_mode!r}.")


def _as_reference_list(reference: str | Sequence[str], where: str = "reference") -> list[str]:
    """One reference or a list of them, as a list; `where` names the argument in errors (e.g. references[3])."""
    if isinstance(reference, str):
        return [reference]
    if not isinstance(reference, Sequence) or isinstance(reference, bytes):
        raise TypeError(
            f"{where} is {type(reference).__name__} ({reference!r}): pass a str, or a list of str, per prediction."
        )
    references = list(reference)
    if not references:
        raise ValueError("Each prediction needs at least one reference; got an empty list of references.")
    for i, item in enumerate(references):
        if not isinstance(item, str):
            raise TypeError(f"{where}[{i}] is {type(item).__name__} ({item!r}): references must be str.")
    return references


def _check_pairs(predictions: Sequence[Any], references: Sequence[Any]) -> list[list[str]]:
    """Checks every prediction (a str) and reference (a str or a non-empty list of str), naming the argument and
    the index of the first bad one; returns the references as lists."""
    for i, prediction in enumerate(predictions):
        if not isinstance(prediction, str):
            raise TypeError(
                f"predictions[{i}] is {type(prediction).__name__} ({prediction!r}): predictions must be str "
                "(decoded text)."
            )
    return [_as_reference_list(reference, f"references[{i}]") for i, reference in enumerate(references)]


def _rouge_l_tokens(prediction_tokens: Sequence[Any], reference_tokens: Sequence[Any]) -> RougeLScore:
    # Same conventions as rouge_score: empty side scores 0, P = LCS/|prediction|, R = LCS/|reference|.
    if not prediction_tokens or not reference_tokens:
        return RougeLScore(0.0, 0.0, 0.0)
    # rapidfuzz compares tokens by their hash: tokens must be hashable (strings, as every tokenizer returns).
    lcs = LCSseq.similarity(reference_tokens, prediction_tokens)
    precision = lcs / len(prediction_tokens)
    recall = lcs / len(reference_tokens)
    fmeasure = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return RougeLScore(precision, recall, fmeasure)


def rouge_l(
    prediction: str,
    reference: str | Sequence[str],
    *,
    tokenize: str = "script",
    tokenizer: TokenizerLike | None = None,
) -> RougeLScore:
    """ROUGE-L precision, recall and F1 of one prediction against one reference (or the best of several).

    ``tokenize="script"`` uses :func:`tokenize`, ``"whitespace"`` uses ``str.split``; ``tokenizer`` (a function
    or an object with ``.tokenize``, e.g. a transformers tokenizer) overrides both.

    >>> rouge_l("人人享有自由", "人人有权享有自由")  # LCS 6 of 6 predicted and 8 reference characters
    RougeLScore(precision=1.0, recall=0.75, fmeasure=0.8571428571428571)
    """
    tokens = _tokens(prediction, tokenize, tokenizer)
    scores = [
        _rouge_l_tokens(tokens, _tokens(ref, tokenize, tokenizer)) for ref in _as_reference_list(reference)
    ]
    # Several references: the best F1, the first one on ties (rouge_score's score_multi).
    return max(scores, key=lambda score: score.fmeasure)


def _check_chrf_settings(char_order: int, beta: float) -> None:
    if not isinstance(char_order, int) or char_order < 1:
        raise ValueError(f"char_order must be a positive int (sacrebleu's default is 6), got {char_order!r}.")
    if not isinstance(beta, (int, float)) or beta <= 0:
        raise ValueError(f"beta must be a positive number (sacrebleu's default is 2), got {beta!r}.")


def chrf(prediction: str, reference: str | Sequence[str], *, char_order: int = 6, beta: float = 2) -> float:
    """Sentence chrF (0..100): sacrebleu's ``CHRF(char_order=char_order, beta=beta).sentence_score``, whitespace
    removed, the best of several references.

    >>> chrf("自由 人", "人自由")  # orders 1-3: P=R=1, 1/2, 0 -> mean 1/2 -> F2 = 50
    50.0
    """
    if not isinstance(prediction, str):
        raise TypeError(f"prediction must be str, got {type(prediction).__name__}: {prediction!r}.")
    _check_chrf_settings(char_order, beta)
    references = _as_reference_list(reference)
    return CHRF(char_order=char_order, beta=beta).sentence_score(prediction, references).score


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ScriptRouge(evaluate.Metric):
    """``evaluate`` metric: script-aware ROUGE-L (F1, precision, recall) and chrF."""

    def _info(self) -> evaluate.MetricInfo:
        text = datasets.Value("string", id="sequence")
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            # One reference per prediction first: evaluate tries the options in order, and a plain string
            # must not be read as a list of one-character references.
            features=[
                datasets.Features({"predictions": text, "references": text}),
                datasets.Features({"predictions": text, "references": datasets.Sequence(text)}),
            ],
            reference_urls=["https://aclanthology.org/W04-1013", "https://aclanthology.org/W15-3049"],
        )

    def _compute(
        self,
        predictions: Sequence[str],
        references: Sequence[str | Sequence[str]],
        tokenize: str = "script",
        tokenizer: TokenizerLike | None = None,
        char_order: int = 6,
        beta: float = 2,
    ) -> dict[str, float]:
        if len(predictions) != len(references):
            raise ValueError(
                f"Got {len(predictions)} predictions and {len(references)} references; pass one reference "
                "(or one list of references) per prediction."
            )
        if not predictions:
            raise ValueError("No predictions to score: pass at least one prediction/reference pair.")
        _check_chrf_settings(char_order, beta)
        references = _check_pairs(predictions, references)
        scores = [
            rouge_l(prediction, reference, tokenize=tokenize, tokenizer=tokenizer)
            for prediction, reference in zip(predictions, references, strict=True)
        ]
        # Corpus chrF: sacrebleu takes one stream per reference position, None where a prediction has fewer.
        streams = [
            [refs[k] if k < len(refs) else None for refs in references]
            for k in range(max(map(len, references)))
        ]
        corpus_chrf = CHRF(char_order=char_order, beta=beta).corpus_score(list(predictions), streams).score
        precision, recall, fmeasure = (sum(column) / len(scores) for column in zip(*scores, strict=True))
        return {
            "rougeL": fmeasure,
            "rougeL_precision": precision,
            "rougeL_recall": recall,
            "chrf": corpus_chrf,
        }
