"""bf16 decoding before/after prepacking, in ONE process: a same-run A/B of `quantize_for_cpu(model, "bf16")`.

Times a batch-1 cached decoding step (XLM-R-base dimensions, random weights, source 256) of XLM-SWCM in fp32, in bf16
with plain weights (`prepack=False`: what "bf16" was before prepacking) and in bf16 prepacked (the default), and of
xlmr2xlmr in bf16 plain and prepacked, interleaved round-robin (`run.round_robin`) so that load hits all alike.

    python benchmarks/bf16_ab.py [--repeats 4] [--new 24] [--threads 2] [--profile]

`--profile` also prints the top ops (by input shape) of 12 decoding steps of XLM-SWCM bf16, plain and prepacked.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (model builders, timing; it also makes `src/` importable from a checkout)

from xlm_swcm import quantize_for_cpu  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--new", type=int, default=24, help="new tokens per generate")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ids = torch.randint(5, run.TRIMMED_VOCAB, (1, 256), generator=torch.Generator().manual_seed(0))
    ours, peer = run.build("xlm-swcm"), run.build("xlmr2xlmr")
    entries = {
        "xlm-swcm fp32": ours,
        "xlm-swcm bf16 plain": quantize_for_cpu(ours, "bf16", prepack=False),
        "xlm-swcm bf16 prepacked": quantize_for_cpu(ours, "bf16"),
        "xlmr2xlmr bf16 plain": quantize_for_cpu(peer, "bf16", prepack=False),
        "xlmr2xlmr bf16 prepacked": quantize_for_cpu(peer, "bf16"),
    }
    del peer
    load = os.getloadavg()[0]
    results = run.round_robin(
        {k: (m, {}) for k, m in entries.items()}, ids, args.new, args.repeats, log=print
    )
    step = {name: r["decode_s_per_step"] * 1e3 for name, r in results.items()}
    print(f"\nload average {load:.2f} before, {os.getloadavg()[0]:.2f} after; {args.threads} threads")
    for name, ms in step.items():
        print(f"| {name} | {ms:.1f} |")
    for kind in ("plain", "prepacked"):
        bf16 = step[f"xlm-swcm bf16 {kind}"]
        print(
            f"xlm-swcm bf16 {kind}: / own fp32 {bf16 / step['xlm-swcm fp32']:.2f}, "
            f"/ xlmr2xlmr bf16 plain {bf16 / step['xlmr2xlmr bf16 plain']:.2f}, "
            f"/ xlmr2xlmr bf16 prepacked {bf16 / step['xlmr2xlmr bf16 prepacked']:.2f}"
        )
    if args.profile:
        for name in ("xlm-swcm bf16 plain", "xlm-swcm bf16 prepacked"):
            path = Path(f"/tmp/profile_{name.replace(' ', '_')}.txt")
            run.profile_decoding(entries[name], ids, 12, path, log=print)


if __name__ == "__main__":
    main()
