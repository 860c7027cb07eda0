"""`xlm-swcm-convert --dtype`: the seed's saved tensors and config.json hold the asked dtype, `auto` keeps the
source's, and a half-precision seed computes what the float32 seed computes, to that precision."""

import json

import pytest
import torch
from safetensors import safe_open
from tiny import SOURCE_SHAPE as SHAPE
from tiny import randomized
from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaXLConfig, XLMRobertaXLModel

from xlm_swcm import XLMSWCMForConditionalGeneration
from xlm_swcm.conversion import ConversionError, ConvertOptions, convert, main


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Tiny random sources: XLM-R in float32 and in bfloat16, XLM-R XL (pre-LayerNorm) in float32."""
    root = tmp_path_factory.mktemp("dtype")
    torch.manual_seed(0)
    xlmr = randomized(XLMRobertaModel(XLMRobertaConfig(**SHAPE, type_vocab_size=1), add_pooling_layer=False))
    xlmr.save_pretrained(root / "xlmr-fp32")
    xlmr.to(torch.bfloat16).save_pretrained(root / "xlmr-bf16")
    torch.manual_seed(0)
    randomized(XLMRobertaXLModel(XLMRobertaXLConfig(**SHAPE), add_pooling_layer=False)).save_pretrained(
        root / "xl"
    )
    return root


def saved_dtypes(folder) -> set[torch.dtype]:
    with safe_open(folder / "model.safetensors", framework="pt") as handle:
        return {handle.get_tensor(key).dtype for key in handle.keys()}


def data_bytes(path) -> int:
    with open(path, "rb") as handle:
        header = int.from_bytes(handle.read(8), "little")
    return path.stat().st_size - 8 - header


def logits(folder) -> torch.Tensor:
    model = XLMSWCMForConditionalGeneration.from_pretrained(folder, dtype="auto").eval()
    ids = torch.tensor([[0, 5, 6, 7, 8, 9, 2], [0, 8, 9, 2, 1, 1, 1]])
    with torch.no_grad():
        out = model(
            input_ids=ids, attention_mask=ids.ne(1).long(), decoder_input_ids=torch.tensor([[2, 5, 6]] * 2)
        )
    return out.logits


@pytest.mark.parametrize(
    "source, dtype, expected",
    [
        ("xlmr-fp32", "auto", torch.float32),
        ("xlmr-bf16", "auto", torch.bfloat16),
        ("xlmr-bf16", "float32", torch.float32),
        ("xlmr-fp32", "float16", torch.float16),
    ],
)
def test_seed_holds_the_asked_dtype(sources, tmp_path, source, dtype, expected):
    out = tmp_path / "seed"
    convert(ConvertOptions(sources / source, out, insert_every=2, dtype=dtype), log=lambda _: None)
    assert saved_dtypes(out) == {expected}
    assert json.loads((out / "config.json").read_text())["dtype"] == str(expected).removeprefix("torch.")


@pytest.mark.parametrize("source", ["xlmr-fp32", "xl"])
def test_bfloat16_seed_is_half_the_size_and_computes_the_float32_seeds_logits(sources, tmp_path, source):
    for dtype in ("float32", "bfloat16"):
        assert main([str(sources / source), str(tmp_path / dtype), "--dtype", dtype, "--insert-every", "2",
                     "--verify", "--quiet"]) == 0  # fmt: skip
    assert saved_dtypes(tmp_path / "bfloat16") == {torch.bfloat16}
    sizes = {d: data_bytes(tmp_path / d / "model.safetensors") for d in ("float32", "bfloat16")}
    assert 2 * sizes["bfloat16"] == sizes["float32"]  # tensor data, without the (name) header
    full, half = logits(tmp_path / "float32"), logits(tmp_path / "bfloat16")
    assert half.dtype == torch.bfloat16
    # bf16 keeps 8 bits of mantissa: the logits agree to a few percent of their scale.
    torch.testing.assert_close(half.float(), full, rtol=0, atol=0.03 * full.abs().max().item())
    # The random normal layers are the float32 seed's, rounded.
    weights = {}
    for dtype in ("float32", "bfloat16"):
        with safe_open(tmp_path / dtype / "model.safetensors", framework="pt") as handle:
            weights[dtype] = handle.get_tensor("model.decoder.layers.2.ffn.fc1.weight")
    assert torch.equal(weights["bfloat16"], weights["float32"].to(torch.bfloat16))


def test_unknown_dtype_is_refused_before_loading(sources, tmp_path, capsys):
    with pytest.raises(
        ConversionError, match="--dtype 'int8' is not one of auto, float32, bfloat16, float16"
    ):
        convert(ConvertOptions(sources / "xlmr-fp32", tmp_path / "seed", dtype="int8"))
    with pytest.raises(SystemExit) as error:
        main([str(sources / "xlmr-fp32"), str(tmp_path / "seed"), "--dtype", "int8"])
    assert error.value.code == 2 and "invalid choice: 'int8'" in capsys.readouterr().err
    assert not (tmp_path / "seed").exists()
