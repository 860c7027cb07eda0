"""GPU check: XLM-SWCM's decoding, training and compiled generation on a CUDA device, against BART and xlmr2xlmr.

On a CUDA machine (XLM-R-base dimensions: hidden 768, 12 layers, vocabulary 250,002; random weights; bf16):

- greedy decoding tokens/s at batch 1 and 8 with each attention implementation: eager, sdpa, and
  flash_attention_2 where the `flash-attn` package is installed; for XLM-SWCM, BART (same dimensions) and
  xlmr2xlmr (`EncoderDecoderModel`, XLM-R -> XLM-R). A decoding step's time is (time of N new tokens - time of
  1) / (N - 1): the encoder and the first step cancel out;
- one bf16 training step (autocast, AdamW) of XLM-SWCM: time and peak memory;
- generation with a static cache compiled by `torch.compile` (what `generate` does on a GPU with
  `cache_implementation="static"`): its time per token and whether its tokens equal eager generation's;
- cached == uncached generation in bf16 on the GPU (tokens, and the largest logit difference).

Usage (from the repository root):

    python benchmarks/gpu.py                      # on a CUDA machine, a few minutes
    python benchmarks/gpu.py --cpu-smoke          # tiny models on the CPU in seconds: the script cannot rot

Results: a JSON object printed last (and written to `--out`), with `checks` (the equalities, each true or false)
and `decode`, `training`, `compiled` (the measurements). Paste the numbers into BENCHMARKS.md ("GPU").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (benchmarks/run.py: model builders, ids)
from transformers import BartConfig, BartForConditionalGeneration, CompileConfig, GenerationConfig  # noqa: E402
from transformers.utils import is_flash_attn_2_available  # noqa: E402

SETTINGS = {
    # source length, new tokens, batches, timed repeats, training batch (batch, source, target), vocabulary
    "gpu": dict(src=256, new=64, batches=(1, 8), repeats=3, train=(8, 256, 64), vocab=run.FULL_VOCAB),
    "cpu-smoke": dict(src=12, new=4, batches=(1, 2), repeats=1, train=(2, 12, 6), vocab=1000),
}
MODELS = ("xlm-swcm", "bart", "xlmr2xlmr")


def build(name: str, s: dict, tiny: bool):
    """One compared model (random weights, eval mode); BART with the same dimensions as `run.build`'s models."""
    if name != "bart":
        return run.build(name, vocab=s["vocab"], tiny=tiny)
    torch.manual_seed(0)
    dims = run.TINY if tiny else run.XLMR_BASE
    ids = dict(pad_token_id=run.PAD, bos_token_id=run.BOS, eos_token_id=run.EOS)
    config = BartConfig(
        vocab_size=s["vocab"],
        d_model=dims["hidden_size"],
        encoder_layers=dims["num_hidden_layers"],
        decoder_layers=dims["num_hidden_layers"],
        encoder_attention_heads=dims["num_attention_heads"],
        decoder_attention_heads=dims["num_attention_heads"],
        encoder_ffn_dim=dims["intermediate_size"],
        decoder_ffn_dim=dims["intermediate_size"],
        max_position_embeddings=512,
        decoder_start_token_id=run.EOS,
        forced_eos_token_id=None,  # a logits processor the other models do not run
        **ids,
    )
    model = BartForConditionalGeneration(config)
    model.generation_config = GenerationConfig(decoder_start_token_id=run.EOS, **ids)
    return model.eval()


def synchronize(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def generate(model, ids, new: int, **kwargs):
    return model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=new,
        min_new_tokens=new,  # EOS masked until the end: every model generates the same number of tokens
        do_sample=False,
        **kwargs,
    )


def timed_generate(model, ids, new: int, device, **kwargs) -> float:
    synchronize(device)
    start = time.perf_counter()
    with torch.inference_mode():
        generate(model, ids, new, **kwargs)
    synchronize(device)
    return time.perf_counter() - start


def step_time(model, ids, new: int, repeats: int, device, **kwargs) -> float:
    """Seconds per decoding step: (best time of `new` tokens - best time of 1 token) / (new - 1)."""
    timed_generate(model, ids, new, device, **kwargs)  # warm-up (and compilation)
    full = min(timed_generate(model, ids, new, device, **kwargs) for _ in range(repeats))
    first = min(timed_generate(model, ids, 1, device, **kwargs) for _ in range(repeats))
    return max(full - first, 1e-9) / (new - 1)


def attention_implementations() -> list[str]:
    return ["eager", "sdpa"] + (["flash_attention_2"] if is_flash_attn_2_available() else [])


def section_decode(models: dict, s: dict, device, log) -> dict:
    """Decode tokens/s per model, attention implementation and batch; xlm-swcm's ratio to each peer, same run."""
    generator = torch.Generator().manual_seed(0)
    results = {}
    for implementation in attention_implementations():
        for batch in s["batches"]:
            ids = torch.randint(5, s["vocab"], (batch, s["src"]), generator=generator).to(device)
            row = {}
            for name, model in models.items():
                try:  # a model may not support an implementation: record it, measure the rest
                    model.set_attn_implementation(implementation)
                    step = step_time(model, ids, s["new"], s["repeats"], device)
                except (ValueError, ImportError, RuntimeError) as error:
                    row[name] = {"error": f"{type(error).__name__}: {error}"[:300]}
                    log(f"  {implementation:18s} batch {batch} {name:10s} failed: {row[name]['error']}")
                    continue
                row[name] = {"decode_s_per_step": step, "decode_tokens_per_s": batch / step}
                log(f"  {implementation:18s} batch {batch} {name:10s} {batch / step:9.1f} tokens/s")
            for peer in ("bart", "xlmr2xlmr"):
                if "error" not in row["xlm-swcm"] and "error" not in row[peer]:
                    row[f"xlm-swcm / {peer} tokens/s"] = (
                        row["xlm-swcm"]["decode_tokens_per_s"] / row[peer]["decode_tokens_per_s"]
                    )
            results[f"{implementation} b{batch}"] = row
        for model in models.values():
            model.set_attn_implementation("sdpa")
    return results


def section_training(s: dict, device, tiny: bool, log) -> dict:
    """One timed bf16 autocast training step of XLM-SWCM (after one warm-up step that allocates AdamW's state)."""
    model = run.build("xlm-swcm", vocab=s["vocab"], tiny=tiny).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    batch, src, tgt = s["train"]
    generator = torch.Generator().manual_seed(0)

    def step() -> float:
        ids = torch.randint(5, s["vocab"], (batch, src), generator=generator).to(device)
        labels = torch.randint(5, s["vocab"], (batch, tgt), generator=generator).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    step()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    synchronize(device)
    start = time.perf_counter()
    loss = step()
    synchronize(device)
    result = {"step_s": time.perf_counter() - start, "loss": loss, "shape": [batch, src, tgt]}
    if device.type == "cuda":
        result["peak_memory_bytes"] = torch.cuda.max_memory_allocated(device)
    log(
        f"  bf16 training step, batch {batch} x {src} / {tgt}: {result['step_s'] * 1e3:.0f} ms, loss {loss:.3f}"
    )
    return result


def section_compiled(model, s: dict, device, log) -> dict:
    """Static cache + torch.compile (inductor on a GPU, aot_eager in the CPU smoke mode) against eager decoding."""
    ids = torch.randint(5, s["vocab"], (1, s["src"]), generator=torch.Generator().manual_seed(1)).to(device)
    config = CompileConfig(fullgraph=True)
    if device.type != "cuda":
        config = CompileConfig(fullgraph=True, backend="aot_eager", mode=None)
        # generate compiles decoding steps only on accelerators unless told (the attribute it reads for that)
        config._compile_all_devices = True
    compiled = dict(cache_implementation="static", compile_config=config)
    torch._dynamo.reset()
    start = time.perf_counter()
    with torch.inference_mode():
        tokens = generate(model, ids, s["new"], **compiled)
    warm_up = time.perf_counter() - start
    with torch.inference_mode():
        eager = generate(model, ids, s["new"])
    result = {
        "compiled_tokens_equal_eager": tokens.tolist() == eager.tolist(),
        "step_s_compiled_static": step_time(model, ids, s["new"], s["repeats"], device, **compiled),
        "step_s_eager_dynamic": step_time(model, ids, s["new"], s["repeats"], device),
        "first_call_s": warm_up,
        "compiled": hasattr(model, "_compiled_call"),  # where generate keeps the compiled forward
    }
    log(
        f"  compiled static cache: {result['step_s_compiled_static'] * 1e3:.2f} ms/step against eager "
        f"{result['step_s_eager_dynamic'] * 1e3:.2f} ms/step; tokens equal: {result['compiled_tokens_equal_eager']}"
    )
    return result


def section_cached_vs_uncached(model, s: dict, device, log) -> dict:
    """Greedy and 3-beam generation with and without the cache, bf16: tokens and per-step logits."""
    ids = torch.randint(5, s["vocab"], (2, s["src"]), generator=torch.Generator().manual_seed(2)).to(device)
    result = {}
    for beams in (1, 3):
        outputs = {}
        for use_cache in (True, False):
            with torch.inference_mode():
                outputs[use_cache] = generate(
                    model,
                    ids,
                    s["new"],
                    num_beams=beams,
                    use_cache=use_cache,
                    output_logits=True,
                    return_dict_in_generate=True,
                )
        cached, uncached = outputs[True], outputs[False]
        difference = max(
            (a.float() - b.float()).abs().max().item()
            for a, b in zip(cached.logits, uncached.logits, strict=True)
        )
        result[f"beams {beams}"] = {
            "tokens_equal": cached.sequences.tolist() == uncached.sequences.tolist(),
            "max_logit_difference": difference,
        }
        log(f"  cached vs uncached, {beams} beam(s): {result[f'beams {beams}']}")
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny models on the CPU, seconds")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON results here")
    args = parser.parse_args(argv)
    mode = "cpu-smoke" if args.cpu_smoke else "gpu"
    if mode == "gpu" and not torch.cuda.is_available():
        parser.error("no CUDA device: run on a GPU machine, or pass --cpu-smoke")
    s, tiny = SETTINGS[mode], mode == "cpu-smoke"
    device = torch.device("cuda" if mode == "gpu" else "cpu")
    dtype = torch.bfloat16

    def log(message: str):
        print(message, file=sys.stderr, flush=True)

    log(f"{mode}: {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}, bf16")
    models = {name: build(name, s, tiny).to(device=device, dtype=dtype) for name in MODELS}
    r = {"mode": mode, "settings": s, "torch": torch.__version__, "attention": attention_implementations()}
    if device.type == "cuda":
        r["device"] = torch.cuda.get_device_name(device)
    log("decoding, bf16, greedy")
    r["decode"] = section_decode(models, s, device, log)
    log("cached vs uncached, bf16")
    r["cached_vs_uncached"] = section_cached_vs_uncached(models["xlm-swcm"], s, device, log)
    log("static cache + torch.compile, bf16")
    r["compiled"] = section_compiled(models["xlm-swcm"], s, device, log)
    del models
    log("training step")
    r["training"] = section_training(s, device, tiny, log)
    r["checks"] = {
        "cached_equals_uncached": all(v["tokens_equal"] for v in r["cached_vs_uncached"].values()),
        "compiled_static_equals_eager": r["compiled"]["compiled_tokens_equal_eager"],
        "training_loss_finite": bool(torch.isfinite(torch.tensor(r["training"]["loss"]))),
    }
    text = json.dumps(r, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)
    return r


if __name__ == "__main__":
    main()
