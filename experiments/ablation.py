# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Reproduce the paper's central claim at small scale: shared-weights decoder initialisation vs the alternatives.

Trains, with identical data, budgets and seeds on the real multilingual-e5-small encoder, the XLM-SWCM seed with
X in {1, 2, 3, 6}, the same decoder randomly initialised, a transformers `EncoderDecoderModel` warm-started from
the encoder, BASE-A (no normal layers) and BASE-B (normal slots copied from the previous custom layer), and writes
`RESULTS.md` (dev loss and chrF / ROUGE-L, mean ± std over seeds), `dev_loss.png` and `results.json`.
The logic is in `xlm_swcm.ablation`.

Usage:

    python experiments/ablation.py                  # the full experiment (~30 min on 2 free cores)
    python experiments/ablation.py --quick          # CI-sized: swcm-x3 vs random-decoder, 1 seed, few steps
    python experiments/ablation.py --encoder my-encoder --data pairs.jsonl --output-dir my-ablation
"""

import os
import sys

# Worker processes are spawned and import this file again: keep the import path set up at module level.
_SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
if os.path.isdir(_SRC) and _SRC not in sys.path:
    sys.path.insert(0, _SRC)

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built in memory: never reach the Hub

from xlm_swcm.ablation import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
