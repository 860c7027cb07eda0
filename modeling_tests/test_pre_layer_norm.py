"""Pre-LayerNorm encoders (XLM-R XL / XXL, transformers' `XLMRobertaXLModel`): the seed's encoder against
`XLMRobertaXLModel`, the decoder's custom layers against the source's own tensors (by transformers' names), the
recipes and sharing modes, save/load, the command line and `trust_remote_code`.

Sources are tiny random `XLMRobertaXLModel`s whose LayerNorms and biases are moved away from 1 / 0, so that a
LayerNorm mapped to the wrong place, or one left out, changes the outputs.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from parallel_cli import run_at_once
from safetensors import safe_open
from transformers import AutoModelForSeq2SeqLM, XLMRobertaXLConfig, XLMRobertaXLModel

import xlm_swcm  # noqa: F401  (registers the Auto classes)
from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration
from xlm_swcm.conversion import ConversionError, build_seed

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(REPO, "src")
H, FF, L, HEADS, V, P = 32, 37, 4, 4, 99, 64  # hidden, intermediate, layers, heads, vocab, positions
LAYOUT = [0, 1, None, 2, 3]  # insert_every=2 on 4 encoder layers
NORMS = {  # decoder LayerNorm of a custom layer -> the encoder block it sits in front of
    "self_attn_layer_norm": "attention",
    "ffn1_layer_norm": "ffn",
    "cross_attn_layer_norm": "attention",
    "ffn2_layer_norm": "ffn",
}
PROJECTIONS = {  # decoder projection of a custom layer -> the encoder projection it starts from
    "self_attn.qkv": "qkv",
    "self_attn.o_proj": "o_proj",
    "cross_attn.qkv": "qkv",
    "cross_attn.o_proj": "o_proj",
    "ffn1.fc1": "fc1",
    "ffn1.fc2": "fc2",
    "ffn2.fc1": "fc1",
    "ffn2.fc2": "fc2",
}


def make_xl_source(seed: int = 0, attn: str = "sdpa") -> XLMRobertaXLModel:
    torch.manual_seed(seed)
    config = XLMRobertaXLConfig(
        vocab_size=V,
        hidden_size=H,
        num_hidden_layers=L,
        num_attention_heads=HEADS,
        intermediate_size=FF,
        max_position_embeddings=P,
        attn_implementation=attn,
    )
    model = XLMRobertaXLModel(config, add_pooling_layer=False)
    generator = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.1 * torch.randn(param.shape, generator=generator))
    return model.eval()


@pytest.fixture(scope="module")
def source() -> XLMRobertaXLModel:
    return make_xl_source()


def padded_batch():
    ids = torch.tensor([[0, 5, 6, 7, 8, 9, 2], [0, 8, 9, 2, 1, 1, 1], [1, 1, 0, 4, 5, 6, 2]])
    return ids, ids.ne(1).long()


def source_tensors(base: XLMRobertaXLModel, i: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Encoder layer i in transformers' names: projections (Q, K, V fused as rows) and the two LayerNorms in front
    of the attention and of the FFN."""
    layer = base.encoder.layer[i]
    att = layer.attention
    return {
        "qkv": (
            torch.cat([att.self.query.weight, att.self.key.weight, att.self.value.weight]),
            torch.cat([att.self.query.bias, att.self.key.bias, att.self.value.bias]),
        ),
        "o_proj": (att.output.dense.weight, att.output.dense.bias),
        "fc1": (layer.intermediate.dense.weight, layer.intermediate.dense.bias),
        "fc2": (layer.output.dense.weight, layer.output.dense.bias),
        "attention": (att.self_attn_layer_norm.weight, att.self_attn_layer_norm.bias),
        "ffn": (layer.LayerNorm.weight, layer.LayerNorm.bias),
    }


def logits(model, ids, mask, decoder_ids) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits


# ---------------------------------------------------------------- configuration


def test_config_from_an_xl_config_is_pre_layer_norm():
    config = XLMSWCMConfig.from_encoder_config(make_xl_source().config, insert_every=2)
    assert config.encoder_layer_norm == "pre" and config.position_style == "roberta"
    assert config.to_diff_dict()["encoder_layer_norm"] == "pre"
    assert "encoder_layer_norm" not in XLMSWCMConfig().to_diff_dict()  # the default is not saved
    with pytest.raises(ValueError, match="encoder_layer_norm"):
        XLMSWCMConfig(encoder_layer_norm="sandwich")


# ---------------------------------------------------------------- encoder equivalence


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_encoder_reproduces_xlm_roberta_xl(attn):
    source = make_xl_source(attn=attn)
    # The LayerNorms are not at identity (else a missing or misplaced one could go unnoticed).
    for norm in (source.encoder.LayerNorm, source.encoder.layer[0].LayerNorm):
        assert not torch.equal(norm.weight, torch.ones(H)) and not torch.equal(norm.bias, torch.zeros(H))
    model, _ = build_seed(source, insert_every=2, attn_implementation=attn)
    encoder = model.get_encoder()
    assert not hasattr(encoder.embeddings.LayerNorm, "weight")  # XL has no embedding LayerNorm
    ids, mask = padded_batch()
    with torch.no_grad():
        expected = source(input_ids=ids, attention_mask=mask).last_hidden_state
        actual = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    keep = mask.bool()
    torch.testing.assert_close(actual[keep], expected[keep])
    # The final LayerNorm matters: without it the outputs differ.
    encoder.layer_norm = torch.nn.Identity()
    with torch.no_grad():
        unnormed = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    assert (unnormed[keep] - expected[keep]).abs().max() > 0.1


# ---------------------------------------------------------------- the mapping


@pytest.mark.parametrize("weight_sharing", ["copy", "tie"])
def test_custom_layers_start_from_their_encoder_layer_with_its_layer_norms(source, weight_sharing):
    model, report = build_seed(source, insert_every=2, weight_sharing=weight_sharing, init="paper")
    swcm = model.model
    assert model.config.decoder_layer_sources == LAYOUT
    tied = weight_sharing == "tie"
    for j, i in enumerate(LAYOUT):
        if i is None:
            continue
        ref, layer, encoder_layer = source_tensors(source, i), swcm.decoder.layers[j], swcm.encoder.layers[i]
        for name, block in PROJECTIONS.items():
            module = layer.get_submodule(name)
            ours = encoder_layer.get_submodule(
                f"{'attention' if 'attn' in name else 'ffn'}.{name.split('.')[1]}"
            )
            for k, kind in enumerate(("weight", "bias")):
                assert torch.equal(getattr(module, kind), ref[block][k]), (j, name, kind)
                assert (getattr(module, kind).data_ptr() == getattr(ours, kind).data_ptr()) == tied
        for norm, block in NORMS.items():
            ours = getattr(encoder_layer, f"{block}_layer_norm")
            for k, kind in enumerate(("weight", "bias")):
                actual = getattr(getattr(layer, norm), kind)
                assert torch.equal(actual, ref[block][k]), (j, norm, kind)
                assert (actual.data_ptr() == getattr(ours, kind).data_ptr()) == tied, (j, norm, kind)
    # Encoder: the final LayerNorm is the source's; the decoder's final LayerNorm starts at identity.
    assert torch.equal(swcm.encoder.layer_norm.weight, source.encoder.LayerNorm.weight)
    assert torch.equal(swcm.encoder.layer_norm.bias, source.encoder.LayerNorm.bias)
    assert torch.equal(swcm.decoder.layer_norm.weight, torch.ones(H))
    assert torch.equal(swcm.decoder.layer_norm.bias, torch.zeros(H))
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
        enc, dec = (getattr(m.embeddings, name).weight for m in (swcm.encoder, swcm.decoder))
        assert dec is enc and torch.equal(enc, getattr(source.embeddings, name).weight)
    rows = {row["decoder"]: row for row in report["mapping"]}
    row = rows["model.decoder.layers.3.cross_attn_layer_norm.weight"]  # custom layer 3 <- encoder layer 2
    assert row == {
        "decoder": "model.decoder.layers.3.cross_attn_layer_norm.weight",
        "encoder": "model.encoder.layers.2.attention_layer_norm.weight",
        "mode": "tied" if tied else "copied",
    }


def expected_parameter_counts() -> tuple[int, int]:
    """(copy-mode total, parameters tie mode shares) by hand for a pre-LN source: no embedding LayerNorm, a final
    encoder LayerNorm; tie mode shares whole custom layers (2 attentions, 2 FFNs, 4 LayerNorms)."""
    attention = (3 * H * H + 3 * H) + (H * H + H)
    ffn = (H * FF + FF) + (FF * H + H)
    norm = 2 * H
    embeddings = V * H + P * H + 1 * H
    encoder = embeddings + L * (attention + ffn + 2 * norm) + norm
    custom = 2 * attention + 2 * ffn + 4 * norm
    normal = 2 * attention + ffn + 3 * norm
    return encoder + L * custom + normal + norm, L * custom


def test_parameter_counts_and_tie_checkpoint(source, tmp_path):
    total, shared = expected_parameter_counts()
    files = {}
    for mode in ("copy", "tie"):
        model, report = build_seed(source, insert_every=2, weight_sharing=mode)
        expected = total - shared if mode == "tie" else total
        assert sum(p.numel() for p in model.parameters()) == report["parameters"]["total"] == expected
        model.save_pretrained(tmp_path / mode)
        files[mode] = tmp_path / mode / "model.safetensors"
    names = {}
    for mode, path in files.items():
        with safe_open(path, framework="pt") as handle:
            names[mode] = set(handle.keys())
    shared_names = {
        f"model.decoder.layers.{j}.{name}.{kind}"
        for j, i in enumerate(LAYOUT)
        if i is not None
        for name in [*PROJECTIONS, *NORMS]
        for kind in ("weight", "bias")
    }
    assert shared_names <= names["copy"] and names["tie"] == names["copy"] - shared_names
    assert not any("embeddings.LayerNorm" in name for name in names["copy"])


# ---------------------------------------------------------------- recipes


def test_recipes_in_copy_mode(source):
    ids, mask = padded_batch()
    decoder_ids = torch.tensor([[2, 0, 7, 8]] * 3)
    models = {
        init: build_seed(source, insert_every=2, init=init)[0] for init in ("paper", "fresh-ln", "folded-ln")
    }
    for init, model in models.items():
        for j, i in enumerate(LAYOUT):
            if i is None:
                continue
            layer, ref = model.model.decoder.layers[j], source_tensors(source, i)
            for norm, block in NORMS.items():
                weight, bias = getattr(layer, norm).weight, getattr(layer, norm).bias
                if init == "paper":
                    assert torch.equal(weight, ref[block][0]) and torch.equal(bias, ref[block][1])
                else:
                    assert torch.equal(weight, torch.ones(H)) and torch.equal(bias, torch.zeros(H))
    # folded-ln: the pre-LN encoder LayerNorm in front of each block folded into its first projection computes the
    # function of `paper` (cross-attention: query rows only).
    layer, ref = models["folded-ln"].model.decoder.layers[0], source_tensors(source, 0)
    torch.testing.assert_close(layer.self_attn.qkv.weight, ref["qkv"][0] * ref["attention"][0])
    assert torch.equal(layer.cross_attn.qkv.weight[H:], ref["qkv"][0][H:])
    expected = logits(models["paper"], ids, mask, decoder_ids)
    torch.testing.assert_close(
        logits(models["folded-ln"], ids, mask, decoder_ids), expected, rtol=1e-4, atol=1e-4
    )
    assert (logits(models["fresh-ln"], ids, mask, decoder_ids) - expected).abs().max() > 1e-2
    # ffn-only and random draw attention (and FFNs) but keep the normal layers of the same seed.
    ffn_only, _ = build_seed(source, insert_every=2, init="ffn-only")
    layer = ffn_only.model.decoder.layers[0]
    assert torch.equal(layer.ffn1.fc1.weight, source_tensors(source, 0)["fc1"][0])
    assert torch.equal(layer.self_attn.qkv.bias, torch.zeros(3 * H))
    random_seed, _ = build_seed(source, insert_every=2, init="random")
    assert not torch.equal(random_seed.model.decoder.layers[0].ffn1.fc1.weight, layer.ffn1.fc1.weight)
    assert torch.equal(
        random_seed.model.decoder.layers[2].ffn.fc1.weight,
        models["paper"].model.decoder.layers[2].ffn.fc1.weight,
    )


@pytest.mark.parametrize("init", ["fresh-ln", "folded-ln", "ffn-only", "random"])
def test_tie_mode_takes_only_the_paper_recipe(source, init):
    with pytest.raises(ConversionError, match="init='paper'|weight_sharing='copy'") as error:
        build_seed(source, insert_every=2, weight_sharing="tie", init=init)
    assert "\n" not in str(error.value)


def test_tie_mode_training_step_sums_gradients_of_the_shared_layer_norms(source):
    no_dropout = dict(insert_every=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    copy, _ = build_seed(source, **no_dropout)
    tie, _ = build_seed(source, weight_sharing="tie", **no_dropout)
    ids, mask = padded_batch()
    labels = torch.tensor([[5, 6, 7, 2], [8, 9, 2, -100], [10, 11, 12, 2]])
    for m in (copy, tie):
        m.train()
        m(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
    copy_params = dict(copy.named_parameters(remove_duplicate=False))
    tie_params = dict(tie.named_parameters(remove_duplicate=False))
    for block, uses in (("attention", ("self_attn", "cross_attn")), ("ffn", ("ffn1", "ffn2"))):
        enc = f"model.encoder.layers.2.{block}_layer_norm.weight"
        summed = copy_params[enc].grad + sum(
            copy_params[f"model.decoder.layers.3.{u}_layer_norm.weight"].grad for u in uses
        )
        torch.testing.assert_close(tie_params[enc].grad, summed, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- save / load, command line, remote code


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """A saved tiny XLMRobertaXLModel converted by the command line in both sharing modes, with --verify."""
    root = tmp_path_factory.mktemp("xl")
    make_xl_source().save_pretrained(root / "xl")
    runs = {
        mode: ["-m", "xlm_swcm.conversion", root / "xl", root / mode, "--verify", "--insert-every", "2",
               "--weight-sharing", mode]
        for mode in ("copy", "tie")
    }  # fmt: skip
    return root, run_at_once(runs, REPO)


@pytest.mark.parametrize("mode", ["copy", "tie"])
def test_cli_converts_an_xl_folder_and_the_seed_reloads(converted, mode):
    root, results = converted
    code, stdout, stderr = results[mode]
    assert code == 0, stderr
    # one verification, of what was written (before it replaced OUT)
    assert stdout.count("verify:") == 1 and "verify: saved checkpoint vs source, max abs difference" in stdout
    config = json.loads((root / mode / "config.json").read_text())
    assert config["encoder_layer_norm"] == "pre" and config["weight_sharing"] == mode
    reloaded = AutoModelForSeq2SeqLM.from_pretrained(root / mode).eval()
    in_memory, _ = build_seed(make_xl_source(), insert_every=2, weight_sharing=mode)
    ids, mask = padded_batch()
    decoder_ids = torch.tensor([[2, 5, 6]] * 3)
    assert torch.equal(logits(reloaded, ids, mask, decoder_ids), logits(in_memory, ids, mask, decoder_ids))
    if mode == "tie":
        layer, encoder_layer = reloaded.model.decoder.layers[3], reloaded.model.encoder.layers[2]
        assert layer.cross_attn_layer_norm.weight is encoder_layer.attention_layer_norm.weight
        assert layer.ffn2_layer_norm.bias is encoder_layer.ffn_layer_norm.bias


def test_trust_remote_code_loads_a_pre_layer_norm_seed_without_the_package(converted, tmp_path):
    root, results = converted
    assert results["tie"][0] == 0, results["tie"][2]
    folder = root / "tie"
    model = XLMSWCMForConditionalGeneration.from_pretrained(folder).eval()
    ids, mask = padded_batch()
    dec = torch.tensor([[2, 5, 6]] * 3)
    expected = logits(model, ids, mask, dec)
    torch.save({"ids": ids, "mask": mask, "dec": dec}, tmp_path / "inputs.pt")
    script = textwrap.dedent(
        f"""
        import sys

        class BlockXlmSwcm:
            def find_spec(self, name, path=None, target=None):
                if name == "xlm_swcm" or name.startswith("xlm_swcm."):
                    raise ModuleNotFoundError(name)

        sys.meta_path.insert(0, BlockXlmSwcm())
        import torch
        from transformers import AutoModelForSeq2SeqLM
        model = AutoModelForSeq2SeqLM.from_pretrained({str(folder)!r}, trust_remote_code=True).eval()
        batch = torch.load({str(tmp_path / "inputs.pt")!r})
        with torch.no_grad():
            logits = model(input_ids=batch["ids"], attention_mask=batch["mask"], decoder_input_ids=batch["dec"]).logits
        torch.save(logits, {str(tmp_path / "logits.pt")!r})
        layer = model.model.decoder.layers[3]
        print(type(model).__module__, layer.cross_attn_layer_norm.weight is model.model.encoder.layers[2].attention_layer_norm.weight)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf_home"), PYTHONNOUSERSITE="1")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "transformers_modules" in result.stdout and result.stdout.strip().endswith("True")
    assert torch.equal(torch.load(tmp_path / "logits.pt"), expected)
