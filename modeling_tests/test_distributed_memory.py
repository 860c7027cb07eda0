"""docs/distributed.md's memory table for training base to XXL seeds: its parameter counts are the hand formula it
states, which equals the parameter count of the model built on PyTorch's meta device; its per-GPU numbers are 16 B
per parameter split as it says; the ZeRO-3 configs it launches with are valid."""

import json
from pathlib import Path

import pytest
import torch

from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "distributed.md").read_text()
SIZES = {  # name: vocabulary, hidden, layers, heads, FFN, pre-LayerNorm (XLM-R base / large, XLM-R XL / XXL)
    "base": (250002, 768, 12, 12, 3072, False),
    "large": (250002, 1024, 24, 16, 4096, False),
    "XL": (250880, 2560, 36, 32, 10240, True),
    "XXL": (250880, 4096, 48, 32, 16384, True),
}


def formula(
    vocab: int, h: int, layers: int, ffn_size: int, pre: bool, positions: int = 514
) -> dict[str, int]:
    """The doc's formula (copy and tie mode, insert_every=3, no trailing normal layer)."""
    a, f, n = 4 * h * h + 4 * h, 2 * h * ffn_size + ffn_size + h, 2 * h
    normal_layers = (layers - 1) // 3
    e = (vocab + positions + 1) * h + (0 if pre else n)
    encoder = e + layers * (a + f + 2 * n) + (n if pre else 0)
    decoder = layers * (2 * a + 2 * f + 4 * n) + normal_layers * (2 * a + f + 3 * n) + n
    shared = layers * (2 * a + 2 * f + (4 * n if pre else 0))
    return {"copy": encoder + decoder, "tie": encoder + decoder - shared}


def gb(num_bytes: float) -> str:
    return f"{num_bytes / 1e9:,.1f}" if num_bytes >= 1e9 else f"{num_bytes / 1e9:,.2f}"


@pytest.mark.parametrize("name", list(SIZES))
def test_parameter_counts_are_the_models_and_in_the_doc(name):
    vocab, h, layers, heads, ffn_size, pre = SIZES[name]
    expected = formula(vocab, h, layers, ffn_size, pre)
    for mode in ("copy", "tie"):
        config = XLMSWCMConfig(
            vocab_size=vocab,
            hidden_size=h,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            intermediate_size=ffn_size,
            encoder_layer_norm="pre" if pre else "post",
            weight_sharing=mode,
        )
        with torch.device("meta"):
            model = XLMSWCMForConditionalGeneration(config)
        assert sum(p.numel() for p in model.parameters()) == expected[mode], mode
    copy, tie = expected["copy"], expected["tie"]
    assert f"| {copy:,} | {tie:,} | {gb(16 * copy)} GB |" in DOC
    for gpus in (8, 64):
        bf16 = f"{gb(2 * copy / gpus)} / {gb(2 * copy / gpus)} / {gb(12 * copy / gpus)}"
        fp32 = f"{gb(4 * copy / gpus)} / {gb(4 * copy / gpus)} / {gb(8 * copy / gpus)}"
        assert f"| {name} | {gpus} | {bf16} | {fp32} | **{gb(16 * copy / gpus)} GB** |" in DOC


def test_zero3_configs():
    from accelerate.commands.config.config_args import load_config_from_file

    settings = json.loads((REPO / "docs" / "deepspeed_zero3.json").read_text())
    zero = settings["zero_optimization"]
    assert zero["stage"] == 3 and zero["stage3_gather_16bit_weights_on_model_save"] is True
    for key in ("train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "gradient_clipping"):
        assert settings[key] == "auto"
    accelerate_config = load_config_from_file(str(REPO / "docs" / "accelerate_deepspeed_zero3.yaml"))
    assert accelerate_config.distributed_type == "DEEPSPEED"
    assert accelerate_config.deepspeed_config == {
        "deepspeed_config_file": "docs/deepspeed_zero3.json",
        "zero3_init_flag": True,
    }
