#!/usr/bin/env python
# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Convert an XLM-R-family encoder into an XLM-SWCM seed checkpoint: the `xlm-swcm-convert` command as a script.

All logic lives in `xlm_swcm.conversion`; see conversion/README.md.

Example:

    python conversion/convert.py path/to/xlm-roberta-base seed-out --weight-sharing tie --verify
"""

import os
import sys

try:
    from xlm_swcm.conversion import main
except ImportError:  # run from a checkout without `pip install`: use the package next to this script
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
    from xlm_swcm.conversion import main

if __name__ == "__main__":
    sys.exit(main())
