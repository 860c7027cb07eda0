"""Benchmarks XLM-SWCM against the models users would pick instead, in ONE run on ONE machine.

Builds three seq2seq models with XLM-R-base dimensions (hidden 768, 12 encoder layers, 12 heads, FFN 3072,
vocabulary 250002) and random weights, and measures:

- greedy `generate` tokens/s at batch 1 and 8 (source 256 tokens, a fixed number of new tokens), with and without
  cache, plus the time of every decoding step (to see whether step 64 costs what step 8 costs);
- the memory-bandwidth bound of batch-1 decoding: the bytes of weights one generated token reads (counted by
  intercepting every aten op of one decoding step) divided by the read bandwidth measured in the same run;
- XLM-SWCM variants: trimmed 30k vocabulary, `weight_sharing="tie"`, static cache (and, with `--compile`, static
  cache + `torch.compile`);
- CPU deployment: int8 (`xlm_swcm.quantize_for_cpu(model, "int8")`) and bf16 weights for all three models, batch 1,
  against the int8 bandwidth bound;
- beam search (4 beams) at batch 1 and 8 for all three models;
- a shared machine: batch-1 decoding and a small training step alone and next to another process that keeps every
  core busy (the slowdown a user sees on a machine someone else is using);
- one training step (forward + backward + AdamW) per model, each in a fresh subprocess, with its peak RSS, and the
  exact bytes of parameters + AdamW state in copy and tie mode.

Headlines are ratios measured in the same run (the machine is shared: absolute seconds are not comparable between
runs). Runs are interleaved round-robin across models so that a burst of load hits every model alike.

Usage (from the repository root; needs matplotlib for the chart: `pip install matplotlib`):

    python benchmarks/run.py --quick          # a few minutes: fewer tokens, fewer repeats, small training batch
    python benchmarks/run.py                  # full run, ~15 minutes on 2 cores
    python benchmarks/run.py --sections precision beam   # only some sections (see --help for their names)
    python benchmarks/run.py --profile        # also writes torch.profiler tables of batch-1 decoding (fp32/int8/bf16)
    python benchmarks/run.py --tiny           # smoke test of this script: tiny models, about a minute

Results go to `benchmarks/results/` (full) or `benchmarks/results/quick/`: `results.json`, `results.md` (the tables
pasted into BENCHMARKS.md) and `benchmarks.png`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # every model is built from a config: nothing is downloaded
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Idle OpenMP threads sleep instead of spinning. On a shared (oversubscribed) machine a spinning policy makes every
# parallel region wait for a descheduled thread: measured 12 ms instead of 25 us for a 3072-element gelu. Set
# OMP_WAIT_POLICY=ACTIVE yourself to measure with spinning threads (the value used is recorded in the results).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402
from torch.utils._pytree import tree_leaves  # noqa: E402
from transformers import (  # noqa: E402
    CompileConfig,
    EncoderDecoderConfig,
    EncoderDecoderModel,
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    MBartConfig,
    MBartForConditionalGeneration,
    XLMRobertaConfig,
)
from transformers.utils import logging as hf_logging  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
try:
    import xlm_swcm  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))
from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration, quantize_for_cpu  # noqa: E402

hf_logging.set_verbosity_error()

PAD, BOS, EOS = 1, 0, 2  # XLM-R special ids; every model decodes from </s> like XLM-SWCM
FULL_VOCAB, TRIMMED_VOCAB = 250002, 30000
PEERS = ("xlm-swcm", "xlmr2xlmr", "mbart")
TARGETS = {  # ratio -> (threshold, direction): the issues' targets
    "cached step 64 / step 8 (xlm-swcm, batch 1)": (1.15, "<="),
    "tokens/s vs xlmr2xlmr, batch 1": (1.0, ">="),
    "tokens/s vs xlmr2xlmr, batch 8": (1.0, ">="),
    "batch-1 time per token / bandwidth bound": (2.0, "<="),
    "int8 tokens/s vs fp32 xlmr2xlmr, batch 1": (2.5, ">="),
    "int8 tokens/s vs int8 xlmr2xlmr, batch 1": (1.0, ">="),
    "int8 batch-1 time per token / int8 bandwidth bound": (2.0, "<="),
    "bf16 tokens/s vs fp32 xlmr2xlmr, batch 1": (1.5, ">="),
    "bf16 step / fp32 step (xlm-swcm, batch 1)": (0.8, "<="),
    "bf16 step / bf16 xlmr2xlmr step, batch 1": (1.3, "<="),
    "4-beam tokens/s vs xlmr2xlmr 4-beam, batch 1": (1.0, ">="),
    "decoding slowdown next to a CPU-bound process": (3.0, "<="),
    "training-step slowdown next to a CPU-bound process": (3.0, "<="),
    "tie / copy: params + AdamW state": (0.7, "<="),
    "training tokens/s vs xlmr2xlmr": (0.8, ">="),
    "30k / 250k vocab: batch-1 decoding tokens/s": (1.8, ">="),
}

SETTINGS = {
    # new tokens cached / uncached / with beams, repeats of each timed configuration, training batch and lengths,
    # the small training step timed alone and under load
    "full": dict(
        new=64,
        new_uncached=16,
        new_beam=32,
        src=256,
        reps_b1=2,
        reps_b8=1,
        reps_var=2,
        train=(8, 256, 64),
        steps=1,
        train_passes=1,
        load_train=(2, 128, 32),
    ),
    "quick": dict(
        new=24,
        new_uncached=6,
        new_beam=12,
        src=256,
        reps_b1=2,
        reps_b8=1,
        reps_var=1,
        train=(2, 128, 32),
        steps=1,
        train_passes=1,
        load_train=(2, 64, 16),
    ),
    "tiny": dict(
        new=10,
        new_uncached=3,
        new_beam=4,
        src=32,
        reps_b1=1,
        reps_b8=1,
        reps_var=1,
        train=(2, 16, 8),
        steps=1,
        train_passes=1,
        load_train=(2, 16, 8),
    ),
}
# Sections in run order; a plain run runs DEFAULT_SECTIONS (about 15 minutes on 2 cores), --sections picks some.
SECTIONS = (
    "training",
    "bandwidth",
    "decode_b1",
    "variants",
    "decode_b8",
    "uncached",
    "precision",
    "beam",
    "load",
)
DEFAULT_SECTIONS = tuple(name for name in SECTIONS if name != "uncached")


# ----------------------------------------------------------------------------------------------- models


XLMR_BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
TINY = dict(
    hidden_size=64, num_hidden_layers=3, num_attention_heads=4, intermediate_size=96
)  # --tiny smoke test


def build(name: str, vocab: int = FULL_VOCAB, sharing: str = "copy", seed: int = 0, tiny: bool = False):
    """One of the compared models with XLM-R-base dimensions (or `TINY` ones) and random weights, in eval mode."""
    torch.manual_seed(seed)
    dims = TINY if tiny else XLMR_BASE
    ids = dict(pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS)
    if name == "xlm-swcm":
        model = XLMSWCMForConditionalGeneration(
            XLMSWCMConfig(vocab_size=vocab, weight_sharing=sharing, decoder_start_token_id=EOS, **dims, **ids)
        )
    elif (
        name == "xlmr2xlmr"
    ):  # Rothe et al. 2020 warm-start layout: an XLM-R encoder and an XLM-R causal decoder
        encoder = XLMRobertaConfig(vocab_size=vocab, **dims, **ids)
        decoder = XLMRobertaConfig(vocab_size=vocab, is_decoder=True, add_cross_attention=True, **dims, **ids)
        config = EncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
        config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = EOS, PAD, EOS
        model = EncoderDecoderModel(config)
    elif name == "mbart":
        config = MBartConfig(
            vocab_size=vocab,
            d_model=dims["hidden_size"],
            encoder_layers=dims["num_hidden_layers"],
            decoder_layers=dims["num_hidden_layers"],
            encoder_attention_heads=dims["num_attention_heads"],
            decoder_attention_heads=dims["num_attention_heads"],
            encoder_ffn_dim=dims["intermediate_size"],
            decoder_ffn_dim=dims["intermediate_size"],
            max_position_embeddings=512,
            decoder_start_token_id=EOS,
            forced_eos_token_id=None,  # would add a logits processor the other models do not run
            **ids,
        )
        model = MBartForConditionalGeneration(config)
    else:
        raise ValueError(f"unknown model {name!r}: choose from {PEERS}")
    model.generation_config = GenerationConfig(decoder_start_token_id=EOS, **ids)
    return model.eval()


def unique_bytes(tensors) -> int:
    """Bytes of distinct storages (tied parameters count once)."""
    seen = {}
    for t in tensors:
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
    return sum(seen.values())


# ----------------------------------------------------------------------------------------------- timing helpers


class StepClock(LogitsProcessor):
    """Stamps the time after each decoding step's forward (generate calls logits processors once per step)."""

    def __init__(self, on_step=None):
        self.stamps, self.on_step = [], on_step

    def __call__(self, input_ids, scores):
        self.stamps.append(time.perf_counter())
        if self.on_step is not None:
            self.on_step(len(self.stamps))
        return scores


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """This process's resident high-water mark (VmHWM; unlike ru_maxrss it does not carry the parent's over exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


class PeakRSS:
    """Samples the resident set every 2 ms in a thread: peak extra memory of a block over its starting RSS."""

    def __enter__(self):
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())
        self.extra = self.peak - self.start


def generate_once(
    model, ids, new_tokens: int, use_cache: bool = True, measure_memory=False, num_beams: int = 1, **kwargs
) -> dict:
    """Greedy (or beam search) generation of exactly `new_tokens` tokens; returns total time and per-step times."""
    clock = StepClock()
    memory = PeakRSS() if measure_memory else None
    with torch.inference_mode():
        if memory:
            memory.__enter__()
        start = time.perf_counter()
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,  # same length for every model: EOS is masked out until the end
            do_sample=False,
            num_beams=num_beams,
            use_cache=use_cache,
            logits_processor=LogitsProcessorList([clock]),
            **kwargs,
        )
        total = time.perf_counter() - start
        if memory:
            memory.__exit__(None, None, None)
    assert out.shape[1] == new_tokens + 1, f"generated {out.shape[1] - 1} tokens instead of {new_tokens}"
    stamps = [start] + clock.stamps
    result = {"total": total, "steps": [b - a for a, b in zip(stamps, stamps[1:], strict=False)]}
    if memory:
        result["peak_extra_rss"] = memory.extra
    return result


def read_bandwidth(buffer: torch.Tensor, repeats: int = 3) -> float:
    """Memory read bandwidth in bytes/s: the best of a few sums of a buffer much larger than the caches."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        buffer.sum()
        best = min(best, time.perf_counter() - start)
    return buffer.numel() * buffer.element_size() / best


class WeightReads(TorchDispatchMode):
    """Counts the distinct bytes of parameters that aten ops read while active.

    Views (transpose, slice) read nothing themselves; embedding lookups read only the looked-up rows; overlapping
    reads of one parameter (tied layers, Q-only slices of a fused QKV weight) count once (union of byte ranges).
    """

    def __init__(self, params, scale: dict[int, float] | None = None):
        super().__init__()
        self.storages = {p.untyped_storage().data_ptr() for p in params}
        self.scale = (
            scale or {}
        )  # storage -> factor on its bytes (e.g. 1/4: the weight as int8 instead of fp32)
        self.ranges: dict[int, list[tuple[int, int]]] = {}
        self.lookup_bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func._schema.name.endswith("embedding") or func.is_view:
            if (
                func._schema.name.endswith("embedding")
                and args[0].untyped_storage().data_ptr() in self.storages
            ):
                self.lookup_bytes += out.numel() * out.element_size()
            return out
        for t in tree_leaves((args, kwargs)):
            if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() in self.storages and t.numel():
                span = 1 + sum((size - 1) * stride for size, stride in zip(t.shape, t.stride(), strict=True))
                start = t.data_ptr()
                self.ranges.setdefault(t.untyped_storage().data_ptr(), []).append(
                    (start, start + span * t.element_size())
                )
        return out

    @property
    def total(self) -> int:
        total = self.lookup_bytes
        for storage, ranges in self.ranges.items():
            end, nbytes = -1, 0
            for a, b in sorted(ranges):
                if b > end:
                    nbytes += b - max(a, end)
                    end = b
            total += nbytes * self.scale.get(storage, 1)
        return int(total)


def weight_bytes_per_token(model, ids, int8: bool = False) -> int:
    """Bytes of weights read while generating one token at batch 1 (decoding step 3, cache on).

    With `int8`, what the int8 model (`quantize_for_cpu(model, "int8")`) reads: the same reads, every `nn.Linear`
    weight at 1 byte per element instead of 4 (its per-row scales and biases, < 1%, are counted as fp32 bytes of the
    bias only). Counted on the fp32 model because packed int8 weights are invisible to the dispatcher."""
    linear = {
        m.weight.untyped_storage().data_ptr() for m in model.modules() if isinstance(m, torch.nn.Linear)
    }
    meter = WeightReads(list(model.parameters()), scale=dict.fromkeys(linear, 0.25) if int8 else None)

    def on_step(step):  # active from the end of step 2 to the end of step 3: exactly one generated token
        if step == 2:
            meter.__enter__()
        elif step == 3:
            meter.__exit__(None, None, None)

    with torch.inference_mode():
        model.generate(
            ids[:1],
            attention_mask=torch.ones_like(ids[:1]),
            max_new_tokens=4,
            min_new_tokens=4,
            do_sample=False,
            logits_processor=LogitsProcessorList([StepClock(on_step)]),
        )
    return meter.total


# ----------------------------------------------------------------------------------------------- decoding


def window(steps_per_run: list[list[float]], step: int, width: int = 3) -> float:
    """Median time of decoding steps `step - width .. step + width` (1-based) over every run."""
    values = [s[i] for s in steps_per_run for i in range(max(1, step - 1 - width), min(len(s), step + width))]
    return statistics.median(values)


def summarise(runs: list[dict], batch: int, new: int) -> dict:
    """Best of the interleaved runs: on a shared machine load only ever slows a run down, so the minimum is the
    least disturbed estimate (as `timeit` does). Per step: the minimum over runs of that step."""
    steps = [r["steps"] for r in runs]
    curve = [min(s[i] for s in steps) for i in range(len(steps[0]))]
    decode = statistics.median(curve[1:])  # step 1 also runs the encoder
    total = min(r["total"] for r in runs)
    out = {
        "total_s": total,
        "tokens_per_s": batch * new / total,  # end to end, encoder included: what a user waits for
        "decode_s_per_step": decode,
        "decode_tokens_per_s": batch / decode,
        "first_step_s": curve[0],
        "step_curve_s": curve,
        "runs": [{"total_s": r["total"], "steps_s": r["steps"]} for r in runs],  # raw, for re-analysis
    }
    if any("peak_extra_rss" in r for r in runs):
        out["peak_extra_rss"] = max(r.get("peak_extra_rss", 0) for r in runs)
    return out


def round_robin(entries: dict, ids, new: int, repeats: int, use_cache=True, log=print, **kw) -> dict:
    """Times every entry `repeats` times, interleaved; `entries` maps a label to (model, generate kwargs)."""
    runs = {label: [] for label in entries}
    for label, (model, extra) in entries.items():  # warm-up: first-call allocations, lazy inits, compilation
        start = time.perf_counter()
        # a compiled static cache is shaped by max_new_tokens: warm up with the same length, or it recompiles
        generate_once(
            model, ids, new if "compile_config" in extra else min(new, 3), use_cache=use_cache, **extra
        )
        if "compile_config" in extra:
            log(f"    {label:28s} warm-up (compilation): {time.perf_counter() - start:.1f} s")
    for r in range(repeats):
        for label, (model, extra) in entries.items():
            runs[label].append(generate_once(model, ids, new, use_cache=use_cache, **kw, **extra))
            log(f"    {label:28s} run {r + 1}/{repeats}: {runs[label][-1]['total']:.2f} s")
    return {label: summarise(rs, ids.shape[0], new) for label, rs in runs.items()}


# ----------------------------------------------------------------------------------------------- training


def train_worker(spec: dict) -> dict:
    """One model, fresh process: `steps` timed training steps after a small warm-up step that allocates AdamW state."""
    torch.set_num_threads(spec["threads"])
    base_rss = rss_bytes()
    model = build(spec["model"], sharing=spec["sharing"], tiny=spec["tiny"]).train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=1e-5, foreach=False
    )  # the CPU default, made explicit
    generator = torch.Generator().manual_seed(0)

    def step(batch, src, tgt):
        ids = torch.randint(5, FULL_VOCAB, (batch, src), generator=generator)
        labels = torch.randint(5, FULL_VOCAB, (batch, tgt), generator=generator)
        loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    step(1, 16, 8)
    params = list(model.parameters())
    state = [t for s in optimizer.state.values() for t in s.values() if torch.is_tensor(t) and t.numel() > 1]
    times = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        step(*spec["shape"])
        times.append(time.perf_counter() - start)
    return {
        "step_s": min(times),
        "step_times_s": times,
        "param_bytes": unique_bytes(params),
        "adamw_state_bytes": unique_bytes(state),
        "peak_rss_bytes": peak_rss_bytes() - base_rss,
    }


def run_training(spec: dict, log=print) -> dict:
    log(f"  training {spec['model']} ({spec.get('sharing', 'copy')}) in a subprocess ...")
    proc = subprocess.run(
        [sys.executable, __file__, "--train-worker", json.dumps(spec)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        log(
            proc.stderr[-3000:]
            or "    killed by SIGKILL (-9): most likely out of memory" * (proc.returncode == -9)
        )
        return {"error": f"exit {proc.returncode}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    log(f"    step {result['step_s']:.1f} s, peak RSS {result['peak_rss_bytes'] / 2**30:.2f} GiB")
    return result


# ----------------------------------------------------------------------------------------------- profiling


def profile_decoding(model, ids, new: int, path: Path, log=None):
    """torch.profiler table of `new` cached decoding steps at batch 1 (encoder run beforehand, not profiled); `log`
    gets the top ops by input shape (time per call): which kernel each product took."""
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode():
        encoder_outputs = model.get_encoder()(input_ids=ids, attention_mask=torch.ones_like(ids))
        kwargs = dict(attention_mask=torch.ones_like(ids), do_sample=False, encoder_outputs=encoder_outputs)
        model.generate(max_new_tokens=3, min_new_tokens=3, **kwargs)
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            model.generate(max_new_tokens=new, min_new_tokens=new, **kwargs)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25)
    by_shape = prof.key_averages(group_by_input_shape=True)
    shapes = by_shape.table(sort_by="self_cpu_time_total", row_limit=25)
    if log is not None:
        log(f"  profile {path.name}: top ops of {new} steps (self time, calls, ms per call, input shapes)")
        for event in sorted(by_shape, key=lambda e: -e.self_cpu_time_total)[:6]:
            per_call = event.self_cpu_time_total / event.count / 1e3
            shapes_text = str(event.input_shapes)[:70]
            log(
                f"    {event.key:28s} {event.self_cpu_time_total / 1e3:8.1f} ms {event.count:5d} x {per_call:7.2f} ms  {shapes_text}"
            )
    path.write_text(f"{new} cached decoding steps, batch 1\n\n{table}\n\nby input shape\n\n{shapes}\n")


# ----------------------------------------------------------------------------------------------- report


def ratio_rows(r: dict) -> list[tuple[str, float | None, str]]:
    """(name, ratio, how it is computed) for every target whose sections ran, from the results dict."""
    rows = []
    bw = r.get("bandwidth", {})
    d1, d8 = r.get("decode_b1"), r.get("decode_b8")
    if d1:
        curve = d1["xlm-swcm"]["step_curve_s"]
        last = len(curve)
        rows.append(
            (
                "cached step 64 / step 8 (xlm-swcm, batch 1)",
                window([curve], last) / window([curve], 8),
                f"steps {last - 3}-{last} / steps 5-11 (median over the window of the best-of-runs curve)",
            )
        )
    for batch, d in ((1, d1), (8, d8)):
        if d:
            rows.append(
                (
                    f"tokens/s vs xlmr2xlmr, batch {batch}",
                    d["xlm-swcm"]["tokens_per_s"] / d["xlmr2xlmr"]["tokens_per_s"],
                    "end-to-end generate (encoder included)",
                )
            )
    if d1 and "read_bytes_per_s" in bw and "xlm-swcm" in bw.get("weight_bytes_per_token", {}):
        bound = bw["weight_bytes_per_token"]["xlm-swcm"] / bw["read_bytes_per_s"]
        rows.append(
            (
                "batch-1 time per token / bandwidth bound",
                d1["xlm-swcm"]["decode_s_per_step"] / bound,
                "decoding step (median over steps 2..N) / (weight bytes per token / read bandwidth)",
            )
        )
    p = r.get("precision")
    if p:
        fp32_peer = p["xlmr2xlmr"]["tokens_per_s"]
        rows += [
            (
                "int8 tokens/s vs fp32 xlmr2xlmr, batch 1",
                p["xlm-swcm (int8)"]["tokens_per_s"] / fp32_peer,
                "end-to-end generate, same round",
            ),
            (
                "int8 tokens/s vs int8 xlmr2xlmr, batch 1",
                p["xlm-swcm (int8)"]["tokens_per_s"] / p["xlmr2xlmr (int8)"]["tokens_per_s"],
                "end-to-end generate, both quantize_for_cpu(model, 'int8')",
            ),
        ]
        if "read_bytes_per_s" in bw and "xlm-swcm (int8)" in bw.get("weight_bytes_per_token", {}):
            bound = bw["weight_bytes_per_token"]["xlm-swcm (int8)"] / bw["read_bytes_per_s"]
            rows.append(
                (
                    "int8 batch-1 time per token / int8 bandwidth bound",
                    p["xlm-swcm (int8)"]["decode_s_per_step"] / bound,
                    "decoding step / (int8 weight bytes per token / read bandwidth)",
                )
            )
        rows.append(
            (
                "bf16 tokens/s vs fp32 xlmr2xlmr, batch 1",
                p["xlm-swcm (bf16)"]["tokens_per_s"] / fp32_peer,
                "end-to-end generate, same round; a target only where the CPU has bf16 instructions",
            )
        )
        rows += [
            (
                "bf16 step / fp32 step (xlm-swcm, batch 1)",
                p["xlm-swcm (bf16)"]["decode_s_per_step"] / p["xlm-swcm"]["decode_s_per_step"],
                "decoding step (median over steps 2..N), same round",
            ),
            (
                "bf16 step / bf16 xlmr2xlmr step, batch 1",
                p["xlm-swcm (bf16)"]["decode_s_per_step"] / p["xlmr2xlmr (bf16)"]["decode_s_per_step"],
                "decoding step, both quantize_for_cpu(model, 'bf16'); xlm-swcm's decoder reads 1.28x the bytes",
            ),
        ]
    beam = r.get("beam")
    if beam:
        rows.append(
            (
                "4-beam tokens/s vs xlmr2xlmr 4-beam, batch 1",
                beam["xlm-swcm b1"]["tokens_per_s"] / beam["xlmr2xlmr b1"]["tokens_per_s"],
                "end-to-end generate, 4 beams",
            )
        )
    load = r.get("load")
    if load:
        rows.append(
            (
                "decoding slowdown next to a CPU-bound process",
                load["alone"]["xlm-swcm"]["tokens_per_s"] / load["loaded"]["xlm-swcm"]["tokens_per_s"],
                "xlm-swcm fp32 batch-1 tokens/s alone / next to a 2-thread matmul process (fair share: 2)",
            )
        )
        if "step_s" in load["alone"]["training"] and "step_s" in load["loaded"]["training"]:
            rows.append(
                (
                    "training-step slowdown next to a CPU-bound process",
                    load["loaded"]["training"]["step_s"] / load["alone"]["training"]["step_s"],
                    "small xlm-swcm training step, loaded / alone (fair share: 2)",
                )
            )
    m = r.get("memory", {})
    if "param_bytes" in m.get("tie", {}) and "param_bytes" in m.get("copy", {}):
        rows.append(
            (
                "tie / copy: params + AdamW state",
                (m["tie"]["param_bytes"] + m["tie"]["adamw_state_bytes"])
                / (m["copy"]["param_bytes"] + m["copy"]["adamw_state_bytes"]),
                "unique bytes after one AdamW step",
            )
        )
    t = r.get("training", {})
    if "step_s" in t.get("xlm-swcm", {}) and "step_s" in t.get("xlmr2xlmr", {}):
        rows.append(
            (
                "training tokens/s vs xlmr2xlmr",
                t["xlmr2xlmr"]["step_s"] / t["xlm-swcm"]["step_s"],
                "same batch: inverse ratio of step times",
            )
        )
    v = r.get("vocab")
    if v:
        rows.append(
            (
                "30k / 250k vocab: batch-1 decoding tokens/s",
                v["xlm-swcm (30k vocab)"]["decode_tokens_per_s"]
                / v["xlm-swcm (250k vocab)"]["decode_tokens_per_s"],
                "decoding steps (the full-vocabulary reference ran in the same round)",
            )
        )
    return rows


def applies(name: str, r: dict) -> bool:
    """Whether a target applies on this machine: the bf16 one needs bf16 instructions."""
    flags = r["machine"].get("cpu_flags", [])
    return not name.startswith("bf16") or "avx512_bf16" in flags or "amx_bf16" in flags


def met(name: str, value: float) -> bool:
    goal, direction = TARGETS[name]
    return value <= goal if direction == "<=" else value >= goal


def markdown(r: dict) -> str:
    s = r["settings"]
    lines = [
        f"Command: `{r['command']}`  ",
        f"Machine: {r['machine']['cpu']} (flags: {' '.join(r['machine'].get('cpu_flags', [])) or '?'}), "
        f"{r['machine']['threads']} threads, torch {r['machine']['torch']}, "
        f"transformers {r['machine']['transformers']}, OMP_WAIT_POLICY={r['machine']['omp_wait_policy']}; load average {r['machine']['load_before']} before, "
        f"{r['machine']['load_after']} after; wall time {r['wall_s'] / 60:.1f} min.",
        "",
        "| target | ratio | goal | met | how |",
        "|---|---:|---:|:---:|---|",
    ]
    for name, value, how in ratio_rows(r):
        goal, direction = TARGETS[name]
        verdict = ("yes" if met(name, value) else "NO") if applies(name, r) else "n/a (no bf16 instructions)"
        lines.append(f"| {name} | {value:.2f} | {direction} {goal} | {verdict} | {how} |")
    if "decode_b1" in r or "decode_b8" in r:
        lines += ["", f"Decoding (source {s['src']} tokens, greedy, {s['new']} new tokens cached):", ""]
        lines += [
            "| model | batch | tokens/s (end to end) | ratio to xlmr2xlmr | decode step ms | step 8 ms "
            f"| step {s['new']} ms | peak extra RSS MiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
    for key, batch in (("decode_b1", 1), ("decode_b8", 8)):
        d = r.get(key, {})
        for name, v in d.items():
            base = d["xlmr2xlmr"]["tokens_per_s"]
            curve = v["step_curve_s"]
            lines.append(
                f"| {name} | {batch} | {v['tokens_per_s']:.2f} | {v['tokens_per_s'] / base:.2f} | "
                f"{v['decode_s_per_step'] * 1e3:.0f} | {window([curve], 8) * 1e3:.0f} | "
                f"{window([curve], len(curve)) * 1e3:.0f} | {v.get('peak_extra_rss', 0) / 2**20:.0f} |"
            )
    if "uncached" in r:
        lines += [
            "",
            f"Without cache ({s['new_uncached']} new tokens; time per token grows with the prefix, so it is "
            "compared with the cached run's first steps):",
            "",
            "| model | batch | ms per token uncached | ms per token cached (same steps) | uncached / cached |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, v in r["uncached"].items():
            name, batch = key.rsplit(" b", 1)
            if name not in r.get(f"decode_b{batch}", {}):
                continue
            cached = r[f"decode_b{batch}"][name]["step_curve_s"][: s["new_uncached"]]
            per_token, cached_per_token = v["total_s"] / s["new_uncached"], sum(cached) / len(cached)
            lines.append(
                f"| {name} | {batch} | {per_token * 1e3:.0f} | {cached_per_token * 1e3:.0f} | "
                f"{per_token / cached_per_token:.2f} |"
            )
    bw = r.get("bandwidth", {})
    if "weight_bytes_per_token" in bw and "read_bytes_per_s" in bw:
        lines += [
            "",
            f"Bandwidth bound (batch 1): read bandwidth {bw['read_bytes_per_s'] / 1e9:.1f} GB/s (best sum of a "
            f"{bw['buffer_bytes'] / 2**30:.0f} GiB tensor in this run). int8: every linear weight at 1 byte per "
            "element.",
            "",
            "| model | weight MB read per token | bound ms | achieved decode step ms | achieved / bound |",
            "|---|---:|---:|---:|---:|",
        ]
    for name, nbytes in bw.get("weight_bytes_per_token", {}).items() if "read_bytes_per_s" in bw else ():
        source = next(
            (r[k][name] for k in ("decode_b1", "precision", "vocab", "variants") if name in r.get(k, {})),
            None,
        )
        bound = nbytes / bw["read_bytes_per_s"]
        step = source["decode_s_per_step"] if source else float("nan")
        lines.append(
            f"| {name} | {nbytes / 1e6:.0f} | {bound * 1e3:.0f} | {step * 1e3:.0f} | {step / bound:.2f} |"
        )
    for section, title in (
        ("vocab", "Trimmed vocabulary"),
        ("variants", "Variants (batch 1, cached)"),
        (
            "precision",
            "CPU deployment: `quantize_for_cpu(model, 'int8' | 'bf16')` (batch 1, cached, one round)",
        ),
    ):
        if section in r:
            lines += [
                "",
                f"{title}:",
                "",
                "| variant | decode tokens/s | end-to-end tokens/s | decode step ms |",
            ]
            lines += ["|---|---:|---:|---:|"]
            for name, v in r[section].items():
                lines.append(
                    f"| {name} | {v['decode_tokens_per_s']:.2f} | {v['tokens_per_s']:.2f} | "
                    f"{v['decode_s_per_step'] * 1e3:.0f} |"
                )
    if "beam" in r:
        lines += [
            "",
            f"Beam search (4 beams, {s['new_beam']} new tokens, source {s['src']}):",
            "",
            "| model | batch | tokens/s (end to end) | ratio to xlmr2xlmr | decode step ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, v in r["beam"].items():
            name, batch = key.rsplit(" b", 1)
            base = r["beam"][f"xlmr2xlmr b{batch}"]["tokens_per_s"]
            lines.append(
                f"| {name} | {batch} | {v['tokens_per_s']:.2f} | {v['tokens_per_s'] / base:.2f} | "
                f"{v['decode_s_per_step'] * 1e3:.0f} |"
            )
    if "load" in r:
        load = r["load"]
        lines += [
            "",
            f"Shared machine (OMP_WAIT_POLICY={load['omp_wait_policy']}; the other process: matrix products on "
            f"{load['competitor_threads']} threads; fair sharing of the cores would be 2x):",
            "",
            "| workload | alone | next to the other process | slowdown |",
            "|---|---:|---:|---:|",
        ]
        for name in (k for k in load["loaded"] if k != "training"):
            a = load["alone"][name.split(", 1 thread")[0]]["tokens_per_s"]  # 1 thread: vs all threads alone
            b = load["loaded"][name]["tokens_per_s"]
            lines.append(f"| {name} batch-1 decoding, tokens/s | {a:.2f} | {b:.2f} | {a / b:.2f} |")
        a, b = load["alone"]["training"], load["loaded"]["training"]
        if "step_s" in a and "step_s" in b:
            lines.append(
                f"| xlm-swcm training step {s['load_train']}, s | {a['step_s']:.2f} | {b['step_s']:.2f} | "
                f"{b['step_s'] / a['step_s']:.2f} |"
            )
    if "training" in r:
        b, src, tgt = s["train"]
        lines += [
            "",
            f"Training (batch {b}, source {src}, target {tgt}, forward + backward + AdamW, dropout on):",
            "",
            "| model | step s | tokens/s (source+target) | ratio to xlmr2xlmr | params + AdamW GiB | peak RSS GiB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        base = r["training"].get("xlmr2xlmr", {}).get("step_s")
        for name, t in r["training"].items():
            if "error" in t:
                lines.append(f"| {name} | failed: {t['error']} | | | | |")
                continue
            ratio = f"{base / t['step_s']:.2f}" if base else "-"
            lines.append(
                f"| {name} | {t['step_s']:.1f} | {b * (src + tgt) / t['step_s']:.0f} | {ratio} | "
                f"{(t['param_bytes'] + t['adamw_state_bytes']) / 2**30:.2f} | {t['peak_rss_bytes'] / 2**30:.2f} |"
            )
    return "\n".join(lines) + "\n"


def report(r: dict, out: Path):
    table = markdown(r)
    (out / "results.md").write_text(table)
    print("\n" + table)
    chart(r, out / "benchmarks.png")


def chart(r: dict, path: Path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib): no chart")
        return
    rows = ratio_rows(r)
    if not rows:  # sections without a target (e.g. --sections bandwidth): nothing to chart
        print("no target was measured in these sections: no chart")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    names = [name for name, _, _ in rows]
    values = [value for _, value, _ in rows]
    goals = [TARGETS[name][0] for name in names]
    colors = [
        ("tab:green" if met(n, v) else "tab:red") if applies(n, r) else "tab:gray"
        for n, v in zip(names, values, strict=True)
    ]
    y = range(len(rows))
    left.barh(y, values, color=colors)
    left.scatter(goals, y, marker="|", s=400, color="black", label="target", zorder=3)
    for i, (v, g) in enumerate(zip(values, goals, strict=True)):
        left.text(max(v, g), i, f"  {v:.2f}", va="center", fontsize=8)
    left.set_xlim(0, 1.3 * max(values + goals))
    left.set_yticks(list(y), [f"{n} ({TARGETS[n][1]} {TARGETS[n][0]})" for n in names], fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("ratio (same run)")
    left.legend(loc="lower right")
    left.set_title("Targets: green = met, grey = not applicable here")
    curves = {
        **r.get("decode_b1", {}),
        **{k: v for k, v in r.get("precision", {}).items() if "xlm-swcm (" in k},
    }
    for name, v in curves.items():  # step 1 (encoder + first step) is left out: it would squash the rest
        steps = v["step_curve_s"]
        right.plot(range(2, len(steps) + 1), [t * 1e3 for t in steps[1:]], label=name)
    right.set_ylim(bottom=0)
    right.set_xlabel("decoding step (batch 1, cached)")
    right.set_ylabel("ms per step (best of the runs)")
    if curves:
        right.legend()
    right.set_title("Per-step decoding time")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"chart: {path}")


# ----------------------------------------------------------------------------------------------- sections


class Bench:
    """What the sections share: settings, inputs, the results dict `r`, the peer models (built on first use)."""

    def __init__(self, args, mode: str, out: Path, r: dict):
        self.args, self.s, self.out, self.r, self.began = (
            args,
            dict(SETTINGS[mode]),
            out,
            r,
            time.perf_counter(),
        )
        generator = torch.Generator().manual_seed(0)
        # valid ids for every vocabulary size
        self.ids1 = torch.randint(5, TRIMMED_VOCAB, (1, self.s["src"]), generator=generator)
        self.ids8 = torch.randint(5, TRIMMED_VOCAB, (8, self.s["src"]), generator=generator)
        self._models: dict | None = None
        self.buffer: torch.Tensor | None = None
        self.bandwidths: list[float] = []

    def log(self, message: str):
        print(f"[{time.perf_counter() - self.began:7.1f} s] {message}", flush=True)

    def checkpoint(self):  # partial results survive an interrupted run
        (self.out / "results.partial.json").write_text(json.dumps(self.r, indent=1))

    @property
    def models(self) -> dict:
        if self._models is None:
            self.log("building models")
            self._models = {name: build(name, tiny=self.args.tiny) for name in PEERS}
            for name, model in self._models.items():
                self.log(
                    f"  {name}: {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters, attention "
                    f"{model.config._attn_implementation}"
                )
        return self._models

    @property
    def entries(self) -> dict:
        return {name: (m, {}) for name, m in self.models.items()}

    def measure_bandwidth(self):
        """Read bandwidth, sampled between sections: the best sample is the machine's least disturbed value."""
        if self.buffer is None:
            self.buffer = torch.ones(2**28)  # 1 GiB of fp32, far beyond the caches
        self.bandwidths.append(read_bandwidth(self.buffer))
        self.r.setdefault("bandwidth", {})["buffer_bytes"] = self.buffer.numel() * 4
        self.r["bandwidth"]["read_bytes_per_s"] = max(self.bandwidths)
        self.r["bandwidth"]["read_bytes_per_s_all"] = self.bandwidths

    def weight_bytes(self, name: str, model, int8: bool = False):
        self.r.setdefault("bandwidth", {}).setdefault("weight_bytes_per_token", {})[name] = (
            weight_bytes_per_token(model, self.ids1, int8=int8)
        )


def section_training(b: Bench):
    """One training step per model, each in a fresh subprocess while this process is still small (peak RSS of one
    full-size step is 9-14 GiB). `train_passes` passes over the four models, best step of each."""
    s, r = b.s, b.r
    batch, src, tgt = s["train"]
    b.log(f"training, batch {batch} x source {src} / target {tgt}, one model per subprocess")
    r["training"], specs = {}, {}
    for name, sharing in (
        ("xlm-swcm", "copy"),
        ("xlm-swcm (tie)", "tie"),
        ("xlmr2xlmr", "copy"),
        ("mbart", "copy"),
    ):
        specs[name] = dict(
            model=name.split(" ")[0],
            sharing=sharing,
            shape=[batch, src, tgt],
            steps=s["steps"],
            threads=b.args.threads,
            tiny=b.args.tiny,
        )
    for _ in range(s["train_passes"]):
        for name, spec in specs.items():
            b.checkpoint()
            result, best = run_training(spec, log=b.log), r["training"].get(name, {})
            if "step_s" in result and result["step_s"] < best.get("step_s", float("inf")):
                result["all_step_times_s"] = best.get("all_step_times_s", []) + result["step_times_s"]
                r["training"][name] = result
            elif "step_s" in best:
                best["all_step_times_s"] = best.get("all_step_times_s", []) + result.get("step_times_s", [])
            else:
                r["training"][name] = result
    for name in [name for name, t in r["training"].items() if "error" in t]:
        b.log(f"  retrying training of {name}")  # e.g. killed for memory while another process peaked
        r["training"][name] = run_training(specs[name], log=b.log)
    r["memory"] = {"copy": r["training"]["xlm-swcm"], "tie": r["training"]["xlm-swcm (tie)"]}


def section_bandwidth(b: Bench):
    b.log("bandwidth: bytes of weights per generated token (fp32 and int8), read bandwidth")
    for name, model in b.models.items():
        b.weight_bytes(name, model)
        b.weight_bytes(f"{name} (int8)", model, int8=True)
    b.measure_bandwidth()


def section_decode_b1(b: Bench):
    s = b.s
    b.log(f"decoding, batch 1, cached, {s['new']} tokens, {s['reps_b1']} interleaved runs")
    b.r["decode_b1"] = round_robin(b.entries, b.ids1, s["new"], s["reps_b1"], log=b.log)
    b.measure_bandwidth()


def section_variants(b: Bench):
    """XLM-SWCM variants in one round with a full-vocabulary reference, so that load changes skew no ratio."""
    s, models = b.s, b.models
    b.log("XLM-SWCM variants, batch 1, cached: 30k vocabulary, tie mode, static cache")
    trimmed = build("xlm-swcm", vocab=TRIMMED_VOCAB, tiny=b.args.tiny)
    tied = build("xlm-swcm", sharing="tie", tiny=b.args.tiny)
    entries = {
        "xlm-swcm (250k vocab)": (models["xlm-swcm"], {}),
        "xlm-swcm (30k vocab)": (trimmed, {}),
        "xlm-swcm (tie)": (tied, {}),
        "xlm-swcm (static cache)": (models["xlm-swcm"], {"cache_implementation": "static"}),
    }
    if b.args.compile:  # as a user turns it on: a static cache and a compiled decoding step
        compile_config = CompileConfig(fullgraph=True, mode="default")
        compile_config._compile_all_devices = (
            True  # generate compiles decoding steps only on GPUs unless told
        )
        entries["xlm-swcm (static cache, compiled)"] = (
            models["xlm-swcm"],
            {"cache_implementation": "static", "compile_config": compile_config},
        )
    variants = round_robin(entries, b.ids1, s["new"], s["reps_var"], log=b.log)
    b.r["vocab"] = {k: variants.pop(k) for k in ("xlm-swcm (250k vocab)", "xlm-swcm (30k vocab)")}
    b.r["vocab"]["xlm-swcm (30k vocab)"]["full_vocab_reference"] = b.r["vocab"]["xlm-swcm (250k vocab)"]
    b.r.setdefault("variants", {}).update(variants)
    b.weight_bytes("xlm-swcm (30k vocab)", trimmed)
    b.weight_bytes("xlm-swcm (tie)", tied)
    b.measure_bandwidth()


def section_decode_b8(b: Bench):
    s = b.s
    b.log(f"decoding, batch 8, cached, {s['new']} tokens, {s['reps_b8']} interleaved runs (with peak memory)")
    b.r["decode_b8"] = round_robin(b.entries, b.ids8, s["new"], s["reps_b8"], log=b.log, measure_memory=True)
    b.measure_bandwidth()


def section_uncached(b: Bench):
    b.log(f"decoding without cache, {b.s['new_uncached']} tokens, batch 1 and 8")
    b.r["uncached"] = {}
    for batch, ids in ((1, b.ids1), (8, b.ids8)):
        res = round_robin(b.entries, ids, b.s["new_uncached"], 1, use_cache=False, log=b.log)
        b.r["uncached"].update({f"{name} b{batch}": v for name, v in res.items()})
        b.checkpoint()


def section_precision(b: Bench):
    """fp32, int8 and bf16 weights for every model in one interleaved round (`quantize_for_cpu` for all three)."""
    s = b.s
    b.log(f"CPU deployment: fp32 / int8 / bf16 weights, batch 1, cached, {s['new']} tokens")
    entries = {}
    for name, model in b.models.items():
        entries[name] = (model, {})
        entries[f"{name} (int8)"] = (quantize_for_cpu(model, "int8"), {})
        entries[f"{name} (bf16)"] = (quantize_for_cpu(model, "bf16"), {})
    b.r["precision"] = round_robin(entries, b.ids1, s["new"], s["reps_var"], log=b.log)
    del entries
    gc.collect()
    b.measure_bandwidth()


def section_beam(b: Bench):
    s = b.s
    b.r["beam"] = {}
    for batch, ids in ((1, b.ids1), (8, b.ids8)):
        b.log(f"beam search, 4 beams, batch {batch}, {s['new_beam']} tokens")
        res = round_robin(b.entries, ids, s["new_beam"], 1, log=b.log, num_beams=4)
        b.r["beam"].update({f"{name} b{batch}": v for name, v in res.items()})
        b.checkpoint()


def load_worker(threads: int):
    """The other process of a shared machine: matrix products on `threads` threads until killed."""
    torch.set_num_threads(threads)
    a = torch.randn(1024, 1024)
    while True:
        a = torch.tanh(a @ a)


def section_load(b: Bench):
    """Batch-1 decoding (xlm-swcm fp32 and int8) and a small training step, alone and next to a process that keeps
    every core busy with its own threads, e.g. someone else's training. Ideal fair sharing is 2x. Decoding is also
    timed on one thread next to that process: what a user can do about a busy machine."""
    s, args = b.s, b.args
    model = b.models["xlm-swcm"]
    int8 = quantize_for_cpu(model, "int8")
    entries = {"xlm-swcm": (model, {}), "xlm-swcm (int8)": (int8, {})}
    batch, src, tgt = s["load_train"]
    spec = dict(model="xlm-swcm", sharing="copy", shape=[batch, src, tgt], steps=2, threads=args.threads)
    spec["tiny"] = args.tiny
    result = {"omp_wait_policy": os.environ["OMP_WAIT_POLICY"], "competitor_threads": args.threads}
    for state in ("alone", "loaded"):
        competitor = None
        if state == "loaded":
            competitor = subprocess.Popen([sys.executable, __file__, "--load-worker", str(args.threads)])
            time.sleep(1.0)  # let it start its threads
        try:
            b.log(f"shared machine: decoding and training step {state}")
            result[state] = round_robin(entries, b.ids1, s["new"] // 2, 1, log=b.log)
            result[state]["training"] = run_training(spec, log=b.log)
            if state == "loaded" and args.threads > 1:
                torch.set_num_threads(1)
                try:
                    one = round_robin(entries, b.ids1, s["new"] // 2, 1, log=b.log)
                finally:
                    torch.set_num_threads(args.threads)
                result[state].update({f"{name}, 1 thread": v for name, v in one.items()})
        finally:
            if competitor is not None:
                competitor.kill()
                competitor.wait()
    b.r["load"] = result


SECTION_FUNCTIONS = {
    "training": section_training,
    "bandwidth": section_bandwidth,
    "decode_b1": section_decode_b1,
    "variants": section_variants,
    "decode_b8": section_decode_b8,
    "uncached": section_uncached,
    "precision": section_precision,
    "beam": section_beam,
    "load": section_load,
}


# ----------------------------------------------------------------------------------------------- main


def cpu_flags() -> list[str]:
    """The CPU features that decide int8 and bf16 speed (from /proc/cpuinfo)."""
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    return [flag for flag in wanted if flag in flags]


def machine(threads: int) -> dict:
    import transformers

    with open("/proc/cpuinfo") as f:
        names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    return {
        "cpu": names[0] if names else platform.processor() or platform.machine(),
        "cpu_flags": cpu_flags(),
        "cores": os.cpu_count(),
        "threads": threads,
        "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "load_before": round(os.getloadavg()[0], 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer tokens and repeats, small training batch")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=SECTIONS,
        default=None,
        help=f"run only these sections (default: {' '.join(DEFAULT_SECTIONS)}; 'uncached' is opt-in)",
    )
    parser.add_argument("--skip-training", action="store_true", help="all default sections but training")
    parser.add_argument(
        "--profile", action="store_true", help="write torch.profiler tables of batch-1 decoding"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default benchmarks/results[/quick])"
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="also time static-cache decoding compiled by torch.compile (inductor; minutes of compilation)",
    )
    parser.add_argument("--tiny", action="store_true", help="smoke test of this script: tiny models, seconds")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite results.md and the chart from results.json"
    )
    parser.add_argument("--train-worker", help=argparse.SUPPRESS)
    parser.add_argument("--load-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.train_worker:
        print(json.dumps(train_worker(json.loads(args.train_worker))))
        return
    if args.load_worker:
        load_worker(args.load_worker)
        return

    torch.set_num_threads(args.threads)
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    out = args.out or ROOT / "benchmarks" / "results" / ("" if mode == "full" else mode)
    out.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        report(json.loads((out / "results.json").read_text()), out)
        return
    sections = args.sections or [s for s in DEFAULT_SECTIONS if not (args.skip_training and s == "training")]
    command = "python benchmarks/run.py" + ("" if mode == "full" else f" --{mode}")
    if args.sections:
        command += " --sections " + " ".join(args.sections)
    command += " --compile" * args.compile
    r = {
        "command": command,
        "settings": dict(SETTINGS[mode]),
        "sections": sections,
        "machine": machine(args.threads),
    }
    b = Bench(args, mode, out, r)
    for name in SECTIONS:  # in the fixed order: training first, while this process is small
        if name in sections:
            started = time.perf_counter()
            SECTION_FUNCTIONS[name](b)
            r.setdefault("section_s", {})[name] = round(time.perf_counter() - started, 1)
            b.checkpoint()
    if args.profile:
        b.log("profiling batch-1 decoding")
        for name in ("xlm-swcm", "xlmr2xlmr"):
            profile_decoding(b.models[name], b.ids1, 16, out / f"profile_{name}.txt", log=b.log)
            for dtype in ("int8", "bf16"):
                quantized = quantize_for_cpu(b.models[name], dtype)
                profile_decoding(quantized, b.ids1, 16, out / f"profile_{name}-{dtype}.txt", log=b.log)
                del quantized

    r["machine"]["load_after"] = round(os.getloadavg()[0], 2)
    r["wall_s"] = time.perf_counter() - b.began
    (out / "results.json").write_text(json.dumps(r, indent=1))
    (out / "results.partial.json").unlink(missing_ok=True)
    report(r, out)
    b.log(f"done: {out}")


if __name__ == "__main__":
    main()
