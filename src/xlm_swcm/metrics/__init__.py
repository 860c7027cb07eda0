"""Script-aware ROUGE-L and chrF (`script_rouge`): `evaluate.load(METRIC_PATH)` needs no Hub access, and the plain
functions are the same code, for scoring without `evaluate`.

>>> from xlm_swcm.metrics import rouge_l, tokenize
>>> tokenize("འགྲོ་བ་མིའི་ཐོབ་ཐང༌།")
['འགྲོ', 'བ', 'མིའི', 'ཐོབ', 'ཐང']
>>> rouge_l("འགྲོ་བ་ཐོབ་ཐང", "འགྲོ་བ་མིའི་ཐོབ་ཐང༌།").recall
0.8
"""

import os

from .script_rouge import RougeLScore, chrf, rouge_l, tokenize

# Absolute path of the evaluate module file (evaluate copies it into its own cache when loading).
METRIC_PATH: str = os.path.join(os.path.dirname(os.path.abspath(__file__)), "script_rouge.py")

__all__ = ["METRIC_PATH", "RougeLScore", "chrf", "rouge_l", "tokenize"]
