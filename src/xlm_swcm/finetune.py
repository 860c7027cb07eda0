# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""`python -m xlm_swcm.finetune` (as in `torchrun -m xlm_swcm.finetune ...`): the `xlm-swcm-finetune` command,
`xlm-swcm-train --objective translate` with its own spellings; see `xlm_swcm.training`."""

import sys

from xlm_swcm.training import finetune_main

if __name__ == "__main__":
    sys.exit(finetune_main())
