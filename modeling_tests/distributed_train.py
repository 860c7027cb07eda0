"""`xlm-swcm-train` under a real torchrun, recording what each rank trained on; launched by test_training.py.

Usage (CPU, gloo, two processes)::

    python -m torch.distributed.run --nnodes 1 --nproc_per_node 2 --master_addr 127.0.0.1 --master_port 29512 \
        modeling_tests/distributed_train.py REPORT_DIR XLM_SWCM_TRAIN_ARGS...

The arguments after REPORT_DIR go to `xlm_swcm.training.main` unchanged. Each rank writes to REPORT_DIR:

* ``rank{R}.safetensors``: its final weights (after DDP training, every rank must hold the same ones);
* ``rank{R}.json``: the distributed setup it saw (world size, backend, how the model was wrapped), the input ids of
  every training batch its model ran on (ranks must see different data, otherwise identical weights would prove
  nothing) and the exit code of `main`.
"""

import json
import os
import sys
from pathlib import Path

import torch

try:
    import xlm_swcm  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import torch.distributed as dist
from safetensors.torch import save_file

from xlm_swcm import XLMSWCMForConditionalGeneration
from xlm_swcm.training import main


def run() -> None:
    report_dir, argv = Path(sys.argv[1]), sys.argv[2:]
    torch.set_num_threads(1)  # tiny model on a 2-core machine: one intra-op thread per rank
    seen = {"model": None, "wrapped_by": None, "batches": []}

    def record(module, args, kwargs, output):
        # Every module's forward passes here: keep the training forwards of the model (DDP calls it inside its own).
        if isinstance(module, XLMSWCMForConditionalGeneration) and module.training:
            seen["model"] = module
            seen["batches"].append(kwargs["input_ids"].tolist())
        elif isinstance(module, torch.nn.parallel.DistributedDataParallel):
            seen["wrapped_by"] = type(module).__name__

    handle = torch.nn.modules.module.register_module_forward_hook(record, with_kwargs=True)
    code = main(argv)
    handle.remove()

    rank = dist.get_rank() if dist.is_initialized() else 0
    # clone: tied tensors share storage, which save_file refuses
    state = {
        name: tensor.detach().clone().contiguous() for name, tensor in seen["model"].state_dict().items()
    }
    save_file(state, str(report_dir / f"rank{rank}.safetensors"))
    report = {
        "code": code,
        "rank": rank,
        "world_size": dist.get_world_size() if dist.is_initialized() else 1,
        "backend": dist.get_backend() if dist.is_initialized() else None,
        "env_local_rank": int(os.environ.get("LOCAL_RANK", -1)),
        "wrapped_by": seen["wrapped_by"],
        "batches": seen["batches"],
    }
    (report_dir / f"rank{rank}.json").write_text(json.dumps(report), encoding="utf-8")
    if dist.is_initialized():
        dist.barrier()


if __name__ == "__main__":
    run()
