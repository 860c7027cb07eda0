"""Push an XLM-SWCM checkpoint folder to the Hugging Face Hub (same as the `xlm-swcm-push` console script).

The logic lives in `xlm_swcm.hub`; see conversion/README_push.md.

Example:
    python conversion/push.py runs/xlm-swcm-seed my-user/xlm-swcm-bo --language bo,ug,kk,mn,zh --dry-run
"""

import sys

from xlm_swcm.hub import main

if __name__ == "__main__":
    sys.exit(main())
