"""What int8 and bf16 CPU decoding cost in quality: the demo's fine-tuned model on its held-out set, fp32 vs int8 vs bf16.

Prints chrF and ROUGE-L (the demo's script-aware metrics) per dtype and the greedy-token agreement with fp32: the
share of fp32's generated token positions where the quantised model produced the same token (a position that one
of the two did not reach counts as a disagreement).

Usage (from the repository root; the model comes from one demo run, several minutes of CPU):

    xlm-swcm-demo --output-dir runs/demo
    python benchmarks/quality.py --demo-dir runs/demo

The held-out set is rebuilt exactly as the demo split it (same data, `--eval-groups` and `--seed` as the demo run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see benchmarks/run.py

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
try:
    import xlm_swcm  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer  # noqa: E402

from xlm_swcm import quantize_for_cpu  # noqa: E402
from xlm_swcm_demo.demo import default_pairs, generate_ids, score, split_pairs  # noqa: E402

DTYPES = ("fp32", "int8", "bf16")


def token_agreement(reference: list[list[int]], other: list[list[int]]) -> float:
    """Share of the reference's token positions where `other` has the same token."""
    same = sum(sum(a == b for a, b in zip(r, o, strict=False)) for r, o in zip(reference, other, strict=True))
    total = sum(max(len(r), len(o)) for r, o in zip(reference, other, strict=True))
    return same / total


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--demo-dir", type=Path, default=ROOT / "runs" / "demo", help="xlm-swcm-demo --output-dir"
    )
    parser.add_argument("--eval-groups", type=int, default=40, help="as given to the demo (its default: 40)")
    parser.add_argument("--seed", type=int, default=0, help="as given to the demo (its default: 0)")
    parser.add_argument("--max-length", type=int, default=48, help="as given to the demo (its default: 48)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    model_dir = args.demo_dir / "model"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    fp32 = AutoModelForSeq2SeqLM.from_pretrained(model_dir).eval()
    rows = default_pairs()
    _, eval_rows = split_pairs(rows, min(args.eval_groups, len({r["group"] for r in rows}) // 5), args.seed)

    results, reference = {}, None
    for dtype in DTYPES:
        model = fp32 if dtype == "fp32" else quantize_for_cpu(fp32, dtype)
        start = time.perf_counter()
        ids = generate_ids(model, tokenizer, eval_rows, args.max_length)
        seconds = time.perf_counter() - start
        reference = reference or ids
        scores = score([t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)], eval_rows)
        results[dtype] = {
            "chrf": scores["all"]["chrf"],
            "rougeL": scores["all"]["rougeL"],
            "token_agreement": token_agreement(reference, ids),
            "seconds": seconds,
        }
        print(
            f"{dtype}: chrF {results[dtype]['chrf']:.2f}, ROUGE-L {results[dtype]['rougeL']:.2f}, "
            f"greedy-token agreement with fp32 {100 * results[dtype]['token_agreement']:.1f}%, "
            f"{len(eval_rows)} pairs in {seconds:.1f} s",
            flush=True,
        )
    lines = [
        f"Command: `python benchmarks/quality.py --demo-dir {args.demo_dir}`; {len(eval_rows)} held-out pairs, greedy.",
        "",
        "| weights | chrF | ROUGE-L | chrF vs fp32 | greedy-token agreement with fp32 |",
        "|---|---:|---:|---:|---:|",
    ]
    for dtype, v in results.items():
        lines.append(
            f"| {dtype} | {v['chrf']:.2f} | {v['rougeL']:.2f} | {v['chrf'] - results['fp32']['chrf']:+.2f} | "
            f"{100 * v['token_agreement']:.1f}% |"
        )
    print("\n" + "\n".join(lines))
    (args.demo_dir / "quality.json").write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
