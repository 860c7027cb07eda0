"""A small data-parallel Seq2SeqTrainer fine-tuning run, launched by test_training.py with a real torchrun.

Usage (CPU, gloo, two processes)::

    python -m torch.distributed.run --nnodes 1 --nproc_per_node 2 --master_addr 127.0.0.1 --master_port 29512 \
        modeling_tests/distributed_train.py SEED_DIR PAIRS_JSONL OUT_DIR [--max-steps 6]

SEED_DIR is a saved XLM-SWCM checkpoint with its tokenizer, PAIRS_JSONL one {"source": ..., "target": ...} object
per line. Each rank writes to OUT_DIR:

* ``rank{R}.safetensors``: its final weights (after DDP training, every rank must hold the same ones);
* ``rank{R}.json``: the distributed setup it saw (world size, backend), the token ids of the batches it trained on
  (ranks must see different shards, otherwise identical weights would prove nothing) and its logged losses.
"""

import argparse
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
from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

from xlm_swcm.data import tokenize_pairs
from xlm_swcm.finetune import load_checkpoint


class RecordingCollator(DataCollatorForSeq2Seq):
    """DataCollatorForSeq2Seq that remembers the input ids of every batch this process collated."""

    def __call__(self, features, return_tensors=None):
        batch = super().__call__(features, return_tensors)
        self.seen.append(batch["input_ids"].tolist())
        return batch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seed_dir")
    parser.add_argument("pairs")
    parser.add_argument("out_dir")
    parser.add_argument("--max-steps", type=int, default=6)
    args = parser.parse_args()
    # Tiny model on a 2-core machine: one intra-op thread per rank avoids oversubscription.
    torch.set_num_threads(1)

    model, tokenizer = load_checkpoint(args.seed_dir)
    with open(args.pairs, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    features = tokenize_pairs(
        tokenizer, [(r["source"], r["target"]) for r in rows], tgt_lang="ug", max_length=32
    )

    out = Path(args.out_dir)
    training_args = Seq2SeqTrainingArguments(
        output_dir=str(out / "trainer"),
        per_device_train_batch_size=4,
        max_steps=args.max_steps,
        learning_rate=3e-3,
        lr_scheduler_type="constant",
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        ddp_backend="gloo",
        seed=0,
        disable_tqdm=True,
    )
    collator = RecordingCollator(tokenizer, model=model)
    collator.seen = []
    trainer = Seq2SeqTrainer(
        model=model,
        args=training_args,
        train_dataset=features,
        data_collator=collator,
        processing_class=tokenizer,
    )
    trainer.train()

    rank = dist.get_rank() if dist.is_initialized() else 0
    # clone: tied tensors share storage, which save_file refuses; names of tied copies are all kept.
    state = {
        name: tensor.detach().clone().contiguous() for name, tensor in trainer.model.state_dict().items()
    }
    save_file(state, str(out / f"rank{rank}.safetensors"))
    report = {
        "rank": rank,
        "world_size": dist.get_world_size() if dist.is_initialized() else 1,
        "backend": dist.get_backend() if dist.is_initialized() else None,
        "trainer_world_size": training_args.world_size,
        "env_local_rank": int(os.environ.get("LOCAL_RANK", -1)),
        "model_wrapped": type(trainer.model_wrapped).__name__,
        "batches": collator.seen,
        "losses": [entry["loss"] for entry in trainer.state.log_history if "loss" in entry],
    }
    (out / f"rank{rank}.json").write_text(json.dumps(report), encoding="utf-8")
    if dist.is_initialized():
        dist.barrier()


if __name__ == "__main__":
    main()
