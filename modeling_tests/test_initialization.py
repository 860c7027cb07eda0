"""Initialisation recipes (`init=`): each recipe's tensors are checked against the encoder's own (transformers)
tensors or against what the recipe promises (identity, random, a fold that computes the paper seed's function)."""

import json
import os
import subprocess
import sys

import pytest
import torch
from transformers import XLMRobertaConfig, XLMRobertaModel

from xlm_swcm.conversion import ConversionError, build_seed
from xlm_swcm.initialization import INIT_RECIPES

H, FF, L, HEADS, V = 32, 48, 4, 4, 99
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


@pytest.fixture(scope="module")
def source():
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=V,
        hidden_size=H,
        num_hidden_layers=L,
        num_attention_heads=HEADS,
        intermediate_size=FF,
        max_position_embeddings=64,
        type_vocab_size=1,
    )
    model = XLMRobertaModel(config, add_pooling_layer=False)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # distinctive LayerNorms and biases: identity / zero would hide a wrong mapping
        for param in model.parameters():
            param.add_(0.1 * torch.randn(param.shape, generator=generator))
    return model.eval()


def seed(source, init, **kwargs):
    model, report = build_seed(source, insert_every=2, init=init, **kwargs)
    return model, report


def encoder_layer(source, i):
    """Encoder layer i's projections and LayerNorms in transformers' own names (Q, K, V fused here as rows)."""
    layer = source.encoder.layer[i]
    att = layer.attention
    qkv_w = torch.cat([att.self.query.weight, att.self.key.weight, att.self.value.weight])
    qkv_b = torch.cat([att.self.query.bias, att.self.key.bias, att.self.value.bias])
    return {
        "qkv": (qkv_w, qkv_b),
        "o_proj": (att.output.dense.weight, att.output.dense.bias),
        "fc1": (layer.intermediate.dense.weight, layer.intermediate.dense.bias),
        "fc2": (layer.output.dense.weight, layer.output.dense.bias),
        "attention_ln": (att.output.LayerNorm.weight, att.output.LayerNorm.bias),
        "ffn_ln": (layer.output.LayerNorm.weight, layer.output.LayerNorm.bias),
    }


def custom_layers(model):
    sources = model.config.decoder_layer_sources
    return [
        (layer, sources[j]) for j, layer in enumerate(model.model.decoder.layers) if sources[j] is not None
    ]


def is_identity(norm) -> bool:
    return torch.equal(norm.weight, torch.ones_like(norm.weight)) and torch.equal(
        norm.bias, torch.zeros_like(norm.bias)
    )


def equal(linear, pair) -> bool:
    return torch.equal(linear.weight, pair[0]) and torch.equal(linear.bias, pair[1])


NORMS = ("self_attn_layer_norm", "ffn1_layer_norm", "cross_attn_layer_norm", "ffn2_layer_norm")


@pytest.mark.parametrize("init", ["paper", "fresh-ln"])
def test_paper_and_fresh_ln_copy_every_projection(source, init):
    model, _ = seed(source, init)
    for layer, i in custom_layers(model):
        ref = encoder_layer(source, i)
        for block in (layer.self_attn, layer.cross_attn):
            assert equal(block.qkv, ref["qkv"]) and equal(block.o_proj, ref["o_proj"])
        for ffn in (layer.ffn1, layer.ffn2):
            assert equal(ffn.fc1, ref["fc1"]) and equal(ffn.fc2, ref["fc2"])
        norms = [getattr(layer, n) for n in NORMS]
        if init == "fresh-ln":
            assert all(is_identity(n) for n in norms)
        else:  # FFN LayerNorms copy the encoder's attention LayerNorm (the output the FFN read)
            assert torch.equal(layer.ffn1_layer_norm.weight, ref["attention_ln"][0])
            assert not any(is_identity(n) for n in norms)


def test_folded_ln_computes_the_paper_seed_function(source):
    paper, _ = seed(source, "paper")
    folded, report = seed(source, "folded-ln")
    for layer, _ in custom_layers(folded):
        assert all(is_identity(getattr(layer, n)) for n in NORMS)
    # The folded projections are not plain copies ...
    layer, i = custom_layers(folded)[1]
    ref = encoder_layer(source, i)
    assert not torch.equal(layer.self_attn.qkv.weight, ref["qkv"][0])
    # ... except the cross-attention K/V rows, which read the encoder output, not the LayerNorm
    assert torch.equal(layer.cross_attn.qkv.weight[H:], ref["qkv"][0][H:])
    assert torch.equal(layer.cross_attn.o_proj.weight, ref["o_proj"][0])
    assert report["init"] == "folded-ln" and report["tensors"]["folded"] == 4 * 2 * L  # 4 sublayers x (w, b)
    ids = torch.tensor([[0, 5, 17, 33, 2, 1], [0, 9, 44, 2, 1, 1]])
    mask = (ids != 1).long()
    decoder_ids = torch.tensor([[2, 0, 7, 8], [2, 0, 12, 3]])
    with torch.no_grad():
        expected = paper(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
        actual = folded(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)
    assert (expected - actual).abs().max() < (expected.std() * 1e-3)


def test_ffn_only_copies_feed_forward_blocks_and_draws_attention(source):
    model, report = seed(source, "ffn-only")
    std = model.config.initializer_range
    for layer, i in custom_layers(model):
        ref = encoder_layer(source, i)
        assert equal(layer.ffn1.fc1, ref["fc1"]) and equal(layer.ffn2.fc2, ref["fc2"])
        for block in (layer.self_attn, layer.cross_attn):
            assert torch.equal(block.qkv.bias, torch.zeros_like(block.qkv.bias))
            assert abs(block.qkv.weight.std().item() - std) < 0.2 * std
        assert all(is_identity(getattr(layer, n)) for n in NORMS)
    assert report["tensors"]["random"] == (L * 2 * 2 + 1 * 3 * 2) * 2  # custom attentions + the normal layer


def test_random_decoder_shares_nothing_but_embeddings_and_keeps_the_normal_layers(source):
    model, _ = seed(source, "random")
    paper, _ = seed(source, "paper")
    encoder_tensors = [p for p in source.parameters() if p.dim() == 2]
    for layer, _ in custom_layers(model):
        for name, param in layer.named_parameters():
            if param.dim() == 2:
                assert not any(param.shape == t.shape and torch.equal(param, t) for t in encoder_tensors), (
                    name
                )
    # same seed: the normal layer is the same draw in every recipe (paired comparisons)
    normal = model.config.decoder_layer_types.index("normal")
    for (name, a), (_, b) in zip(
        model.model.decoder.layers[normal].named_parameters(),
        paper.model.decoder.layers[normal].named_parameters(),
        strict=True,
    ):
        assert torch.equal(a, b), name
    # the embedding block is still the encoder's (tied)
    assert (
        model.model.decoder.embeddings.word_embeddings.weight
        is model.model.encoder.embeddings.word_embeddings.weight
    )


@pytest.mark.parametrize("init", ["folded-ln", "ffn-only", "random"])
def test_tie_mode_refuses_recipes_that_change_the_shared_tensors(source, init):
    with pytest.raises(ConversionError, match="weight_sharing='copy'"):
        seed(source, init, weight_sharing="tie")


def test_unknown_recipe_is_refused(source):
    with pytest.raises(ConversionError, match="paper, fresh-ln"):
        seed(source, "xavier")


def test_fresh_ln_tie_mode_shares_storage(source):
    model, _ = seed(source, "fresh-ln", weight_sharing="tie")
    layer, i = custom_layers(model)[0]
    assert layer.cross_attn.qkv.weight is model.model.encoder.layers[i].attention.qkv.weight
    assert is_identity(layer.ffn2_layer_norm)


def test_cli_init_option(source, tmp_path):
    src = tmp_path / "src"
    source.save_pretrained(src)
    env = {**os.environ, "PYTHONPATH": SRC, "HF_HUB_OFFLINE": "1"}
    run = [sys.executable, "-m", "xlm_swcm.conversion", str(src)]
    ok = subprocess.run(
        run + [str(tmp_path / "out"), "--init", "folded-ln", "--verify"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    report = json.loads((tmp_path / "out" / "swcm_conversion.json").read_text())
    assert report["init"] == "folded-ln" and report["tensors"]["folded"] > 0
    bad = subprocess.run(
        run + [str(tmp_path / "out2"), "--init", "ffn-only", "--weight-sharing", "tie"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "needs weight_sharing='copy'" in bad.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "out2").exists()


def test_every_recipe_is_tested():
    assert set(INIT_RECIPES) == {"paper", "fresh-ln", "folded-ln", "ffn-only", "random"}


def test_default_recipe_is_the_one_documented(source):
    from xlm_swcm.initialization import DEFAULT_INIT

    model, report = build_seed(source)
    assert report["init"] == DEFAULT_INIT
    expected, _ = build_seed(source, init=DEFAULT_INIT)
    for (name, a), (_, b) in zip(model.state_dict().items(), expected.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    from xlm_swcm.initialization import DEFAULT_TIE_INIT

    _, tied = build_seed(source, weight_sharing="tie")
    assert tied["init"] == DEFAULT_TIE_INIT
    readme = open(os.path.join(os.path.dirname(SRC), "conversion", "README.md"), encoding="utf-8").read()
    assert f"default is `{DEFAULT_INIT}`" in readme and f"`{DEFAULT_TIE_INIT}` in tie mode" in readme


@pytest.mark.parametrize("init", INIT_RECIPES)
def test_from_encoder_is_build_seed(source, init):
    from xlm_swcm import XLMSWCMForConditionalGeneration

    built = XLMSWCMForConditionalGeneration.from_encoder(
        source, insert_every=2, init=init, seed=3
    ).state_dict()
    expected = seed(source, init, seed=3)[0].state_dict()
    assert built.keys() == expected.keys()
    assert all(torch.equal(built[name], expected[name]) for name in expected)


def test_modeling_imports_nothing_else_from_the_package():
    """The modeling file travels next to saved weights (trust_remote_code) with only the files it imports
    relatively: no import of conversion etc., not even inside a function (that was the old import circle)."""
    import ast

    def imports(name: str) -> tuple[set[str], set[str]]:
        tree = ast.parse(open(os.path.join(SRC, "xlm_swcm", f"{name}.py"), encoding="utf-8").read())
        relative = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level}
        absolute = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
            if alias.name.startswith("xlm_swcm")
        }
        return relative, absolute

    assert imports("modeling_xlm_swcm") == ({"configuration_xlm_swcm", "cpu_decoding"}, set())
    assert imports("cpu_decoding") == (set(), set())
