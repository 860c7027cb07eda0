"""Every projection works through its module: PEFT LoRA (adapted == merged, trains) and int8 dynamic quantization
(forward and generate, cached == uncached), including the decoder's cross-attention."""

import copy

import pytest
import tiny
import torch
from torch import nn

from xlm_swcm import XLMSWCMForConditionalGeneration

peft = pytest.importorskip("peft")

TARGETS = ["qkv", "o_proj", "fc1", "fc2"]
LAYOUTS = {
    "copy-x3": dict(num_hidden_layers=4, insert_every=3, weight_sharing="copy"),
    "copy-x1": dict(num_hidden_layers=2, insert_every=1, weight_sharing="copy"),
    "tie-x1": dict(num_hidden_layers=2, insert_every=1, weight_sharing="tie"),
}


def tiny_model(layout: str, seed: int = 0) -> XLMSWCMForConditionalGeneration:
    return tiny.tiny_model(LAYOUTS[layout], seed)


def batch() -> dict:
    # right padding in the source, and a decoder prefix long enough to exercise every layer
    input_ids = torch.tensor([[0, 5, 6, 7, 8, 2], [0, 9, 10, 2, 1, 1]])
    return {
        "input_ids": input_ids,
        "attention_mask": input_ids.ne(1).long(),
        "decoder_input_ids": torch.tensor([[2, 11, 12, 13], [2, 14, 15, 16]]),
    }


def lora(model: nn.Module, seed: int = 1, **kwargs) -> nn.Module:
    """LoRA on every projection. `init_lora_weights=False` draws B at random (not zero), so that the adapters change
    the output and a projection that ignored its adapter would show."""
    torch.manual_seed(seed)
    options = {"r": 4, "lora_alpha": 8, "target_modules": TARGETS, "init_lora_weights": False, **kwargs}
    return peft.get_peft_model(model, peft.LoraConfig(**options))


def wrapped_projections(model: nn.Module, kind: type) -> set[str]:
    """Names of the decoder cross-attention projections that are `kind` (LoRA layers, quantised linears)."""
    return {
        name
        for name, module in model.named_modules()
        if "cross_attn.qkv" in name and isinstance(module, kind)
    }


@pytest.mark.parametrize("layout", ["copy-x3", "copy-x1"])
def test_lora_adapted_equals_merged(layout):
    base = tiny_model(layout)
    inputs = batch()
    with torch.no_grad():
        reference = base(**inputs).logits
        adapted_model = lora(copy.deepcopy(base)).eval()
        assert wrapped_projections(adapted_model, peft.tuners.lora.LoraLayer)  # cross-attention is adapted
        adapted = adapted_model(**inputs).logits
        merged_model = adapted_model.merge_and_unload()
        assert type(merged_model.model.decoder.layers[0].cross_attn.qkv) is nn.Linear
        merged = merged_model(**inputs).logits
    assert (adapted - reference).abs().max() > 1e-2  # the adapters do something
    torch.testing.assert_close(adapted, merged, atol=1e-5, rtol=1e-5)


def test_lora_in_cross_attention_counts():
    """The cross-attention adapter alone changes the output, and its merged weight gives the same change."""
    base = tiny_model("copy-x1")
    inputs = batch()
    with torch.no_grad():
        reference = base(**inputs).logits
        adapted_model = lora(copy.deepcopy(base), target_modules=r".*cross_attn\.qkv").eval()
        adapted = adapted_model(**inputs).logits
        merged = adapted_model.merge_and_unload()(**inputs).logits
    assert (adapted - reference).abs().max() > 1e-2
    torch.testing.assert_close(adapted, merged, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("layout", ["copy-x3", "tie-x1"])
def test_lora_generation_cached_equals_uncached(layout):
    model = lora(tiny_model(layout)).eval()
    inputs = {key: value for key, value in batch().items() if key != "decoder_input_ids"}
    for num_beams in (1, 2):
        cached = model.generate(**inputs, max_new_tokens=5, min_new_tokens=5, num_beams=num_beams)
        uncached = model.generate(
            **inputs, max_new_tokens=5, min_new_tokens=5, num_beams=num_beams, use_cache=False
        )
        assert cached.tolist() == uncached.tolist()


@pytest.mark.parametrize("layout", ["copy-x1", "tie-x1"])
def test_lora_trains_only_the_adapters(layout):
    model = lora(tiny_model(layout), init_lora_weights=True)  # the usual start: B = 0, adapted == base
    model.train()
    inputs = {**batch(), "labels": torch.tensor([[11, 12, 13, 2], [14, 15, 2, -100]])}
    inputs.pop("decoder_input_ids")
    before = {name: tensor.detach().clone() for name, tensor in model.named_parameters()}
    trainable = {name for name, tensor in model.named_parameters() if tensor.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(8):
        loss = model(**inputs).loss
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert losses[-1] < losses[0] - 0.1, losses
    for name, tensor in model.named_parameters():
        if name in trainable and "lora_B" in name:
            assert not torch.equal(tensor, before[name]), name
        elif name not in trainable:
            torch.testing.assert_close(tensor, before[name], rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("layout", ["copy-x3", "copy-x1", "tie-x1"])
def test_int8_dynamic_quantization_forward_and_generate(layout):
    model = tiny_model(layout)
    quantized = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    # every projection is quantised, the decoder's cross-attention included
    assert not any(type(module) is nn.Linear for module in quantized.modules())
    assert wrapped_projections(quantized, torch.ao.nn.quantized.dynamic.Linear)
    inputs = batch()
    with torch.no_grad():
        reference = model(**inputs).logits
        logits = quantized(**inputs).logits
    # int8 weights: close to the fp32 model, not equal to it
    assert 0 < (logits - reference).abs().max() < 0.1 * reference.abs().max()
    source = {key: value for key, value in inputs.items() if key != "decoder_input_ids"}
    for num_beams in (1, 3):
        cached = quantized.generate(**source, max_new_tokens=5, min_new_tokens=5, num_beams=num_beams)
        uncached = quantized.generate(
            **source, max_new_tokens=5, min_new_tokens=5, num_beams=num_beams, use_cache=False
        )
        assert cached.shape == (2, 6)
        assert cached.tolist() == uncached.tolist()
