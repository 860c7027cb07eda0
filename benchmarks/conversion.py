#!/usr/bin/env python
# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Conversion time and peak resident memory for base-, large- and XL-shaped random XLM-R checkpoints, in memory and
with `--stream`, and the memory of loading the seed with `from_pretrained` in float32 and in bfloat16.

    PYTHONPATH=src python benchmarks/conversion.py --shapes base large [--in-memory base] [--dtype bfloat16] \
        [--load base] [--workdir DIR] [--keep]

Each source is made on the fly with random weights (shard by shard, so an XL source never exists in memory whole:
`--shapes xl` needs ~14 GB of disk for the source and ~16 GB for a bf16 seed) and deleted at the end unless
`--keep`. Every step runs in its own child process and reports its own peak resident memory (`VmHWM`, read by the
process at the end; `ru_maxrss` of a child would include what it inherited before `exec`). The load step also
samples `RssAnon` every 5 ms: anonymous memory, i.e. without the pages of the mmap'ed safetensors file, which the
kernel can drop at any time. Shapes: base 12 x 768 (FFN 3072), large 24 x 1024 (4096), xl 36 x 2560 (10240); all
with XLM-R's vocabulary of 250,002 and 514 positions.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAPES = {
    "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    "large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
    "xl": dict(hidden_size=2560, num_hidden_layers=36, num_attention_heads=32, intermediate_size=10240),
}

# A random source written shard by shard: one shard's tensors at a time, on the meta-device layout of the model.
MAKE_SOURCE = """
import json, sys, torch
from safetensors.torch import save_file
from transformers import XLMRobertaConfig, XLMRobertaModel
out, shape = sys.argv[1], json.loads(sys.argv[2])
config = XLMRobertaConfig(vocab_size=250002, max_position_embeddings=514, type_vocab_size=1, **shape)
with torch.device("meta"):
    layout = XLMRobertaModel(config, add_pooling_layer=False)
config.save_pretrained(out)
gen = torch.Generator().manual_seed(0)
names = [(n, t.shape) for n, t in layout.state_dict().items()]
shards, current, size, limit = [], {}, 0, 2 * 1024**3
def flush():
    global current, size
    if current:
        name = f"model-{len(shards) + 1:05d}.safetensors"
        save_file(current, f"{out}/{name}", metadata={"format": "pt"})
        shards.append((name, list(current)))
        current, size = {}, 0
for name, shape in names:
    if name.endswith("position_ids") or name.endswith("token_type_ids"):
        continue
    if len(shape) == 1:
        tensor = torch.ones(shape) if name.endswith("weight") else torch.zeros(shape)
        tensor.add_(torch.randn(shape, generator=gen), alpha=0.02)
    else:
        tensor = torch.randn(shape, generator=gen).mul_(0.02)
    if size + tensor.numel() * 4 > limit:
        flush()
    current[name] = tensor
    size += tensor.numel() * 4
flush()
weight_map = {t: name for name, tensors in shards for t in tensors}
total = sum((p.numel() * 4) for n, p in layout.state_dict().items() if n in weight_map)
with open(f"{out}/model.safetensors.index.json", "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f)
"""
CONVERT = """
import sys
from xlm_swcm.conversion import main
code = main(sys.argv[1:])
print("VmHWM", open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
sys.exit(code)
"""
LOAD = """
import sys, threading, time, torch
import xlm_swcm
def status(key):
    return int(open("/proc/self/status").read().split(key + ":")[1].split()[0])
peak, done = [0], [False]
def sample():
    while not done[0]:
        peak[0] = max(peak[0], status("RssAnon"))
        time.sleep(0.005)
thread = threading.Thread(target=sample, daemon=True)
base = status("RssAnon")
thread.start()
started = time.perf_counter()
model = xlm_swcm.XLMSWCMForConditionalGeneration.from_pretrained(sys.argv[1], dtype=getattr(torch, sys.argv[2]))
seconds = time.perf_counter() - started
done[0] = True
thread.join()
peak[0] = max(peak[0], status("RssAnon"))
dtypes = sorted({str(p.dtype) for p in model.parameters()})
params = sum(p.numel() * p.element_size() for p in model.parameters())
print("RESULT", seconds, status("VmHWM"), peak[0] - base, params, ",".join(dtypes))
"""
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def child(code: str, *argv: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, *argv], check=True, env=ENV, capture_output=True, text=True
    )
    return time.perf_counter() - started, result.stdout


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.glob("*.safetensors"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", nargs="+", default=["base", "large"], choices=list(SHAPES))
    parser.add_argument("--in-memory", nargs="*", default=["base"], choices=list(SHAPES),
                        help="shapes also converted without --stream (needs ~1.5x the seed's size of RAM)")  # fmt: skip
    parser.add_argument("--dtype", default="auto", help="the seed's --dtype")
    parser.add_argument("--load", nargs="*", default=["base"], choices=list(SHAPES),
                        help="shapes whose seed is loaded with from_pretrained in float32 and bfloat16")  # fmt: skip
    parser.add_argument("--workdir", help="where sources and seeds go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the sources and seeds")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="conversion-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for shape in args.shapes:
            source = work / f"source-{shape}"
            if not (source / "config.json").exists():
                seconds, _ = child(MAKE_SOURCE, str(source), json.dumps(SHAPES[shape]))
                print(f"{shape}: made the source in {seconds:.0f} s", flush=True)
            modes = [("stream", ["--stream"])] + ([("in memory", [])] if shape in args.in_memory else [])
            for mode, flags in modes:
                out = work / f"seed-{shape}"
                shutil.rmtree(out, ignore_errors=True)
                argv = [str(source), str(out), "--quiet", "--dtype", args.dtype, *flags]
                seconds, stdout = child(CONVERT, *argv)
                peak = int(stdout.split("VmHWM")[-1].split()[0]) * 1024
                row = dict(shape=shape, mode=mode, dtype=args.dtype, source_gb=folder_bytes(source) / 1e9,
                           seed_gb=folder_bytes(out) / 1e9, seconds=seconds, peak_gb=peak / 1e9)  # fmt: skip
                row["peak_over_seed"] = row["peak_gb"] / row["seed_gb"]
                rows.append(row)
                print(json.dumps(row), flush=True)
                if mode == "stream" and shape in args.load:
                    for dtype in ("float32", "bfloat16"):
                        _, stdout = child(LOAD, str(out), dtype)
                        seconds, hwm, anon, params, dtypes = stdout.split("RESULT")[-1].split()
                        load = dict(shape=shape, load_dtype=dtype, seconds=float(seconds), peak_rss_gb=int(hwm) * 1024 / 1e9,
                                    peak_anon_gb=int(anon) * 1024 / 1e9, params_gb=int(params) / 1e9, dtypes=dtypes)  # fmt: skip
                        rows.append(load)
                        print(json.dumps(load), flush=True)
                shutil.rmtree(out)
            if not args.keep:
                shutil.rmtree(source)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
