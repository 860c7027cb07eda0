"""`quantize_for_cpu`: int8 and bf16 CPU decoding compute what fp32 computes, within the precision of the dtype.

Speed is measured only by `benchmarks/run.py`, quality on a trained model by `benchmarks/quality.py`.
"""

import copy

import pytest
import tiny
import torch
from torch import nn

from xlm_swcm import XLMSWCMForConditionalGeneration, quantize_for_cpu
from xlm_swcm.cpu_decoding import RowBlocks, linear_rows
from xlm_swcm.errors import XLMSWCMError
from xlm_swcm.quantization import PackedBF16Linear

INT8_LINEAR = torch.ao.nn.quantized.dynamic.Linear
LAYOUTS = {
    "copy-x3": dict(num_hidden_layers=4, insert_every=3, weight_sharing="copy"),
    "tie-x1": dict(num_hidden_layers=2, insert_every=1, weight_sharing="tie"),
}


def tiny_model(layout: str = "copy-x3", seed: int = 0) -> XLMSWCMForConditionalGeneration:
    return tiny.tiny_model(LAYOUTS[layout], seed)


def source() -> dict:
    input_ids = torch.tensor([[0, 5, 6, 7, 8, 2], [0, 9, 10, 2, 1, 1]])  # right padding
    return {"input_ids": input_ids, "attention_mask": input_ids.ne(1).long()}


def greedy(model: nn.Module, new: int = 6, **kwargs) -> torch.Tensor:
    return model.generate(**source(), max_new_tokens=new, min_new_tokens=new, do_sample=False, **kwargs)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_int8_quantizes_every_linear_lm_head_included(layout):
    model = tiny_model(layout)
    quantized = quantize_for_cpu(model, "int8")
    assert not any(type(m) is nn.Linear for m in quantized.modules())
    assert isinstance(quantized.lm_head, INT8_LINEAR)
    for layer in quantized.model.decoder.layers:  # Q and K/V halves of the fused projection, each int8
        assert isinstance(layer.cross_attn.qkv, RowBlocks)
        assert all(isinstance(block, INT8_LINEAR) for block in layer.cross_attn.qkv.blocks)
    assert any(type(m) is nn.Linear for m in model.modules()), "the original model must stay fp32"


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_int8_logits_close_to_fp32_and_cached_equals_uncached(layout):
    model = tiny_model(layout)
    quantized = quantize_for_cpu(model, "int8")
    decoder_input_ids = torch.tensor([[2, 11, 12, 13], [2, 14, 15, 16]])
    with torch.no_grad():
        reference = model(**source(), decoder_input_ids=decoder_input_ids).logits
        logits = quantized(**source(), decoder_input_ids=decoder_input_ids).logits
    # int8 weights: close to fp32 (a few % of the logit range), but not equal to it
    assert 0 < (logits - reference).abs().max() < 0.05 * reference.abs().max()
    for num_beams in (1, 3):
        cached = greedy(quantized, num_beams=num_beams)
        assert cached.tolist() == greedy(quantized, num_beams=num_beams, use_cache=False).tolist()
    static = greedy(quantized, cache_implementation="static")
    assert static.tolist() == greedy(quantized).tolist()


def test_int8_tie_mode_shares_int8_modules():
    """Tied linears get ONE int8 module: tie mode stays smaller than copy mode after quantisation."""
    model = quantize_for_cpu(tiny_model("tie-x1"), "int8")
    encoder_attention = model.model.encoder.layers[0].attention
    decoder_layer = model.model.decoder.layers[0]  # built from encoder layer 0, its weights tied in tie mode
    assert decoder_layer.cross_attn.qkv is encoder_attention.qkv
    assert decoder_layer.self_attn.qkv is encoder_attention.qkv
    tied = sum(1 for m in model.modules() if isinstance(m, INT8_LINEAR))
    copied = sum(
        1 for m in quantize_for_cpu(tiny_model("copy-x3"), "int8").modules() if isinstance(m, INT8_LINEAR)
    )
    assert tied < copied


def test_row_blocks_run_only_the_asked_block():
    torch.manual_seed(0)
    linear = nn.Linear(8, 24)
    from xlm_swcm.quantization import row_blocks

    blocks = row_blocks(linear, 8)
    calls = []
    for i, block in enumerate(blocks.blocks):
        block.register_forward_hook(lambda *_, i=i: calls.append(i))
    x = torch.randn(2, 3, 8)
    with torch.no_grad():
        expected = linear(x)
        torch.testing.assert_close(blocks(x), expected)
        assert calls == [0, 1]
        calls.clear()
        torch.testing.assert_close(linear_rows(blocks, x, slice(None, 8)), expected[..., :8])
        torch.testing.assert_close(linear_rows(blocks, x, slice(8, None)), expected[..., 8:])
        assert calls == [0, 1]  # one block each, not both blocks twice
        calls.clear()
        torch.testing.assert_close(linear_rows(blocks, x, slice(4, 12)), expected[..., 4:12])  # spans blocks
        assert calls == [0, 1]


def test_int8_decoding_step_reads_only_the_cross_attention_q_block():
    model = quantize_for_cpu(tiny_model(), "int8")
    calls = []
    for layer in model.model.decoder.layers:
        for i, block in enumerate(layer.cross_attn.qkv.blocks):
            block.register_forward_hook(lambda *_, i=i: calls.append(i))
    greedy(model, new=4)
    layers = len(model.model.decoder.layers)
    # K/V are projected once per layer (first step), Q once per layer and step
    assert calls.count(1) == layers
    assert calls.count(0) == 4 * layers


def test_int8_inplace_equals_copy():
    model = tiny_model("tie-x1")
    copied = quantize_for_cpu(model, "int8")
    inplace = quantize_for_cpu(model, "int8", inplace=True)
    assert inplace is model and not any(type(m) is nn.Linear for m in model.modules())
    decoder_input_ids = torch.tensor([[2, 11, 12], [2, 14, 15]])
    with torch.no_grad():
        expected = copied(**source(), decoder_input_ids=decoder_input_ids).logits
        torch.testing.assert_close(inplace(**source(), decoder_input_ids=decoder_input_ids).logits, expected)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_bf16_generation_agrees_with_fp32(layout):
    model = tiny_model(layout)
    half = quantize_for_cpu(model, "bf16", prepack=False)
    assert {p.dtype for p in half.parameters()} == {torch.bfloat16}
    assert next(model.parameters()).dtype == torch.float32
    assert half.lm_head.weight is half.model.encoder.embeddings.word_embeddings.weight  # still tied
    reference, tokens = greedy(model, new=8), greedy(half, new=8)
    agreement = (reference == tokens).float().mean().item()
    assert agreement >= 0.8, (reference, tokens)
    assert greedy(half, new=8, cache_implementation="static").tolist() == tokens.tolist()


packed_bf16 = pytest.mark.skipif(
    not PackedBF16Linear.is_supported(), reason="no oneDNN bf16 on this CPU: quantize_for_cpu casts only"
)


@packed_bf16
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_bf16_prepacked_equals_plain_bf16_and_cached_equals_uncached(layout):
    model = tiny_model(layout)
    packed, plain = quantize_for_cpu(model, "bf16"), quantize_for_cpu(model, "bf16", prepack=False)
    assert not any(type(m) is nn.Linear for m in packed.modules())
    assert isinstance(packed.lm_head, PackedBF16Linear)
    for layer in packed.model.decoder.layers:  # Q and K/V halves of the fused projection, each packed
        assert isinstance(layer.cross_attn.qkv, RowBlocks)
        assert all(isinstance(block, PackedBF16Linear) for block in layer.cross_attn.qkv.blocks)
    assert {p.dtype for p in packed.parameters()} == {torch.bfloat16}
    decoder_input_ids = torch.tensor([[2, 11, 12, 13], [2, 14, 15, 16]])
    with torch.no_grad():
        expected = plain(**source(), decoder_input_ids=decoder_input_ids).logits
        logits = packed(**source(), decoder_input_ids=decoder_input_ids).logits
    # the same oneDNN kernel on a packed weight: equal on the development CPU, bf16 rounding apart elsewhere
    assert logits.dtype == torch.bfloat16
    torch.testing.assert_close(logits, expected)
    for num_beams in (1, 3):
        cached = greedy(packed, new=8, num_beams=num_beams)
        assert cached.tolist() == greedy(packed, new=8, num_beams=num_beams, use_cache=False).tolist()
    assert greedy(packed, new=8, cache_implementation="static").tolist() == greedy(packed, new=8).tolist()
    inplace = quantize_for_cpu(tiny_model(layout), "bf16", inplace=True)
    assert isinstance(inplace.lm_head, PackedBF16Linear)
    assert greedy(inplace, new=8).tolist() == greedy(packed, new=8).tolist()


@packed_bf16
def test_bf16_prepacked_tie_mode_shares_modules_and_refuses_saving():
    model = quantize_for_cpu(tiny_model("tie-x1"), "bf16")
    encoder_attention = model.model.encoder.layers[0].attention
    decoder_layer = model.model.decoder.layers[0]  # tied to encoder layer 0: one packed module each
    assert decoder_layer.self_attn.qkv is encoder_attention.qkv is decoder_layer.cross_attn.qkv
    assert decoder_layer.ffn2.fc1 is decoder_layer.ffn1.fc1 is model.model.encoder.layers[0].ffn.fc1
    with pytest.raises(XLMSWCMError, match="cannot be saved"):
        model.state_dict()
    clone = copy.deepcopy(model)  # shares the (read-only) packed weights
    assert clone.lm_head.packed_weight is model.lm_head.packed_weight
    assert greedy(clone).tolist() == greedy(model).tolist()


def test_bf16_without_onednn_bf16_is_a_plain_cast(monkeypatch):
    monkeypatch.setattr(PackedBF16Linear, "is_supported", staticmethod(lambda: False))
    half = quantize_for_cpu(tiny_model(), "bf16")
    assert not any(isinstance(m, PackedBF16Linear) for m in half.modules())
    assert half.lm_head.weight is half.model.encoder.embeddings.word_embeddings.weight


def test_unknown_dtype_is_refused():
    with pytest.raises(XLMSWCMError, match="int8"):
        quantize_for_cpu(tiny_model(), "int4")
