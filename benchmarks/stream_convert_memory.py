#!/usr/bin/env python
# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Peak resident memory of `xlm-swcm-convert --stream` on a random XLM-R-large-shaped checkpoint (24 x 1024, FFN
4096, vocabulary 250,002: 559 M parameters, float32, saved in 1 GB shards), against the seed's size.

    PYTHONPATH=src python benchmarks/stream_convert_memory.py [--workdir DIR] [--in-memory] [--weight-sharing tie]

The source is made and the conversion run in child processes; the number reported is the converting process's own
peak resident memory (`VmHWM`, read by it at the end: `ru_maxrss` of a child would include what it inherited from
its parent before `exec`). `--in-memory` also runs the conversion without `--stream`, for comparison (it needs
~1.5x the seed's size of RAM).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAKE_SOURCE = """
import sys, torch
from transformers import XLMRobertaConfig, XLMRobertaModel
torch.manual_seed(0)
config = XLMRobertaConfig(vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                          intermediate_size=4096, max_position_embeddings=514, type_vocab_size=1)
XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(sys.argv[1], max_shard_size="1GB")
"""
# The command in process, then its own peak RSS (kB) from /proc.
CONVERT = """
import sys
from xlm_swcm.conversion import main
code = main(sys.argv[1:])
print("VmHWM", open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
sys.exit(code)
"""
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def run(argv: list[str]) -> tuple[float, float]:
    """Runs the conversion in a child process; returns (seconds, its peak RSS in bytes)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CONVERT, *argv], check=True, env=ENV, capture_output=True, text=True
    )
    peak_kb = int(result.stdout.split("VmHWM")[-1].split()[0])
    return time.perf_counter() - started, peak_kb * 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", help="where the source and the seed go (default: a temporary folder)")
    parser.add_argument("--in-memory", action="store_true", help="also convert without --stream")
    parser.add_argument("--weight-sharing", default="copy", choices=["copy", "tie"])
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="stream-bench-"))
    source = work / "source"
    if not source.exists():
        subprocess.run([sys.executable, "-c", MAKE_SOURCE, str(source)], check=True, env=ENV)
    source_bytes = sum(f.stat().st_size for f in source.glob("*.safetensors"))
    runs = [("--stream", ["--stream"])] + ([("in memory", [])] if args.in_memory else [])
    for name, flags in runs:
        out = work / f"seed-{name.replace(' ', '-').strip('-')}"
        shutil.rmtree(out, ignore_errors=True)
        argv = [str(source), str(out), "--quiet", "--weight-sharing", args.weight_sharing, *flags]
        seconds, peak = run(argv)
        seed_bytes = sum(f.stat().st_size for f in out.glob("*.safetensors"))
        print(
            f"{name}: source {source_bytes / 1e9:.2f} GB, seed {seed_bytes / 1e9:.2f} GB "
            f"({len(list(out.glob('*.safetensors')))} files), {seconds:.0f} s, peak RSS {peak / 1e9:.2f} GB "
            f"= {peak / seed_bytes:.2f} x the seed",
            flush=True,
        )
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
