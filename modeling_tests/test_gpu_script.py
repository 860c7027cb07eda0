"""`benchmarks/gpu.py` in its CPU smoke mode: the GPU check runs end to end and its checks hold (tiny models, bf16).

The GPU numbers themselves come from running the script on a CUDA machine (BENCHMARKS.md, "GPU").
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_script_cpu_smoke_mode(tmp_path):
    out = tmp_path / "gpu.json"
    # a subprocess: the script sets offline environment variables that must not leak into the other tests
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--cpu-smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    assert json.loads(proc.stdout) == r
    assert r["checks"] == {
        "cached_equals_uncached": True,
        "compiled_static_equals_eager": True,
        "training_loss_finite": True,
    }
    assert r["compiled"]["compiled"], "generate did not compile the decoding step"
    for beams in ("beams 1", "beams 3"):  # bf16: equal on the development CPU, rounding apart elsewhere
        assert r["cached_vs_uncached"][beams]["max_logit_difference"] < 0.05
    assert set(r["decode"]) == {f"{impl} b{batch}" for impl in r["attention"] for batch in (1, 2)}
    assert {"eager", "sdpa"} <= set(r["attention"])
    for row in r["decode"].values():
        assert all(row[name]["decode_tokens_per_s"] > 0 for name in ("xlm-swcm", "bart", "xlmr2xlmr"))
        assert row["xlm-swcm / bart tokens/s"] > 0 and row["xlm-swcm / xlmr2xlmr tokens/s"] > 0
    # a random model's first loss is about ln(vocabulary)
    assert abs(r["training"]["loss"] - 6.91) < 0.5
