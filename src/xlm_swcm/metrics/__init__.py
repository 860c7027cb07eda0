"""Script-aware ROUGE-L and chrF for Tibetan, Uyghur, Kazakh (Arabic script), Mongolian and Chinese.

``METRIC_PATH`` is the metric file itself, so ``evaluate.load(METRIC_PATH)`` needs no Hub access; the plain
functions are the same code, for scoring without ``evaluate``.

Example:
    >>> import evaluate
    >>> from xlm_swcm.metrics import METRIC_PATH, rouge_l, tokenize
    >>> tokenize("འགྲོ་བ་མིའི་ཐོབ་ཐང༌།")
    ['འགྲོ', 'བ', 'མིའི', 'ཐོབ', 'ཐང']
    >>> rouge_l("འགྲོ་བ་ཐོབ་ཐང", "འགྲོ་བ་མིའི་ཐོབ་ཐང༌།").recall
    0.8
    >>> scores = evaluate.load(METRIC_PATH).compute(predictions=["自由"], references=["人人自由"])
"""

import os

from .script_rouge import RougeLScore, chrf, rouge_l, tokenize

# Absolute path of the evaluate module file (evaluate copies it into its own cache when loading).
METRIC_PATH: str = os.path.join(os.path.dirname(os.path.abspath(__file__)), "script_rouge.py")

__all__ = ["METRIC_PATH", "RougeLScore", "chrf", "rouge_l", "tokenize"]
