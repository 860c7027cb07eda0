"""Core model: configuration, layout, encoder equivalence, caching, generation, loss, save/load, errors."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from packaging.version import Version
from tiny import SOURCE_SHAPE
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSeq2SeqLM,
    BertConfig,
    GPT2Config,
    RobertaConfig,
    XLMRobertaConfig,
    XLMRobertaModel,
)

import xlm_swcm  # noqa: F401  (registers the Auto classes)
from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration, XLMSWCMModel, shift_tokens_right
from xlm_swcm.conversion import encoder_state_dict

TINY = dict(SOURCE_SHAPE)  # the tiny model these tests build: the conversion tests' source shape


def tiny_model(seed=0, **overrides) -> XLMSWCMForConditionalGeneration:
    torch.manual_seed(seed)
    return XLMSWCMForConditionalGeneration(XLMSWCMConfig(**{**TINY, **overrides})).eval()


def padded_batch():
    # right padding, left padding and no padding in one batch (pad id 1)
    ids = torch.tensor([[0, 5, 6, 7, 8, 9, 2], [0, 8, 9, 2, 1, 1, 1], [1, 1, 0, 4, 5, 6, 2]])
    return ids, ids.ne(1).long()


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize("trailing", [False, True])
@pytest.mark.parametrize("x", [1, 2, 3, 4])
def test_decoder_layout(x, trailing):
    n = 6
    config = XLMSWCMConfig(**{**TINY, "num_hidden_layers": n}, insert_every=x, trailing_normal_layer=trailing)
    # Expected layout written out independently: a normal layer after custom layer i when (i + 1) % x == 0,
    # except after the last custom layer unless trailing.
    expected = {
        (1, False): "CNCNCNCNCNC",
        (1, True): "CNCNCNCNCNCN",
        (2, False): "CCNCCNCC",
        (2, True): "CCNCCNCCN",
        (3, False): "CCCNCCC",
        (3, True): "CCCNCCCN",
        (4, False): "CCCCNCC",
        (4, True): "CCCCNCC",
    }[(x, trailing)]
    types = "".join("C" if t == "custom" else "N" for t in config.decoder_layer_types)
    assert types == expected
    assert config.decoder_layers == len(expected)
    model = XLMSWCMModel(config)
    custom = ["self_attn", "self_attn_layer_norm", "ffn1", "ffn1_layer_norm"]
    custom += ["cross_attn", "cross_attn_layer_norm", "ffn2", "ffn2_layer_norm", "dropout"]
    normal = [
        "self_attn",
        "self_attn_layer_norm",
        "cross_attn",
        "cross_attn_layer_norm",
        "ffn",
        "ffn_layer_norm",
    ]
    built = [[name for name, _ in layer.named_children()] for layer in model.decoder.layers]
    assert built == [custom if kind == "C" else normal + ["dropout"] for kind in expected]
    # custom layers map to encoder layers 0..n-1 in order
    assert [s for s in config.decoder_layer_sources if s is not None] == list(range(n))


def test_paper_and_released_layer_counts():
    assert XLMSWCMConfig().decoder_layers == 15  # released checkpoint: 12 encoder layers, X=3
    assert XLMSWCMConfig(trailing_normal_layer=True).decoder_layers == 16  # paper: n + floor(n/X)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"insert_every": 0}, "insert_every"),
        ({"hidden_size": 30}, "hidden_size"),
        ({"weight_sharing": "share"}, "weight_sharing"),
        ({"position_style": "t5"}, "position_style"),
        ({"decoder_start_token_id": 1}, "decoder_start_token_id"),
    ],
)
def test_invalid_config_values(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        XLMSWCMConfig(**{**TINY, **kwargs})


def test_layout_follows_config_changes():
    config = XLMSWCMConfig(**TINY)
    config.insert_every = 1
    assert config.decoder_layers == len(config.decoder_layer_types) == 7
    # the cache is sized from the decoder's layer count, which transformers reads this way
    assert config.get_text_config(decoder=True).num_hidden_layers == 7


@pytest.mark.parametrize(
    "encoder_config, style",
    [(XLMRobertaConfig(**TINY), "roberta"), (RobertaConfig(**TINY), "roberta"), (BertConfig(**TINY), "bert")],
)
def test_from_encoder_config(encoder_config, style):
    config = XLMSWCMConfig.from_encoder_config(encoder_config, insert_every=2)
    for name in TINY:
        assert getattr(config, name) == getattr(encoder_config, name)
    assert config.layer_norm_eps == encoder_config.layer_norm_eps
    assert config.position_style == style
    assert config.insert_every == 2


def test_from_encoder_config_rejects_other_families():
    with pytest.raises(ValueError, match="gpt2"):
        XLMSWCMConfig.from_encoder_config(GPT2Config())


# config.json of the default config (its to_diff_dict() less transformers_version): XLM-R base's defaults, not
# XLMRobertaConfig's, and no XLMRobertaConfig field that the model does not read.
SAVED_DEFAULT_CONFIG = {
    "attention_probs_dropout_prob": 0.1,
    "bos_token_id": 0,
    "decoder_layers": 15,
    "decoder_start_token_id": 2,
    "eos_token_id": 2,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "insert_every": 3,
    "intermediate_size": 3072,
    "is_encoder_decoder": True,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 514,
    "model_type": "xlm-swcm",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 1,
    "position_style": "roberta",
    "tie_word_embeddings": True,
    "trailing_normal_layer": False,
    "type_vocab_size": 1,
    "use_cache": True,
    "vocab_size": 250002,
    "weight_sharing": "copy",
}


def test_saved_config_keeps_its_keys_and_defaults(tmp_path):
    assert isinstance(XLMSWCMConfig(), XLMRobertaConfig)
    saved = XLMSWCMConfig().to_diff_dict()
    assert saved.pop("transformers_version")
    assert saved == SAVED_DEFAULT_CONFIG
    assert {"classifier_dropout", "is_decoder", "add_cross_attention"}.isdisjoint(XLMSWCMConfig().to_dict())
    # a saved config.json, loaded and saved again, is unchanged; an unused field set to a non-default is kept
    (tmp_path / "config.json").write_text(json.dumps({**SAVED_DEFAULT_CONFIG, "insert_every": 2}))
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert type(loaded) is XLMSWCMConfig and loaded.decoder_layers == 17
    assert {**loaded.to_diff_dict(), "transformers_version": None} == {
        **SAVED_DEFAULT_CONFIG,
        "insert_every": 2,
        "decoder_layers": 17,
        "transformers_version": None,
    }
    assert XLMSWCMConfig(classifier_dropout=0.2).to_diff_dict()["classifier_dropout"] == 0.2


# ---------------------------------------------------------------- encoder equivalence


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_encoder_matches_xlm_roberta(attn):
    torch.manual_seed(0)
    reference = XLMRobertaModel(
        XLMRobertaConfig(**TINY, attn_implementation=attn), add_pooling_layer=False
    ).eval()
    config = XLMSWCMConfig.from_encoder_config(reference.config, attn_implementation=attn)
    model = XLMSWCMModel(config).eval()
    model.encoder.load_state_dict(encoder_state_dict(reference))
    assert model.config._attn_implementation == attn
    ids, mask = padded_batch()
    with torch.no_grad():
        expected = reference(input_ids=ids, attention_mask=mask).last_hidden_state
        actual = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    keep = mask.bool()
    assert (expected[keep] - actual[keep]).abs().max().item() <= 1e-5


# ---------------------------------------------------------------- loss and gradients


def test_loss_equals_hand_computed_cross_entropy():
    model = tiny_model()
    ids, mask = padded_batch()
    labels = torch.tensor([[7, 8, 9, 2], [9, 2, -100, -100], [5, 6, 2, -100]])
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    # decoder inputs are the labels shifted right after the start token, -100 -> pad
    decoder_input_ids = torch.tensor([[2, 7, 8, 9], [2, 9, 2, 1], [2, 5, 6, 2]])
    assert torch.equal(shift_tokens_right(labels, 1, 2), decoder_input_ids)
    logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_input_ids).logits
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    picked = [-log_probs[b, t, labels[b, t]] for b in range(3) for t in range(4) if labels[b, t] != -100]
    assert torch.allclose(out.loss, torch.stack(picked).mean(), atol=1e-6)
    # Trainer's num_items_in_batch: summed loss divided by the given count
    summed = model(
        input_ids=ids, attention_mask=mask, labels=labels, num_items_in_batch=torch.tensor(20)
    ).loss
    assert torch.allclose(summed, torch.stack(picked).sum() / 20, atol=1e-6)


def test_every_parameter_gets_a_gradient():
    model = tiny_model(hidden_dropout_prob=0.0).train()
    ids, mask = padded_batch()
    labels = torch.tensor([[7, 8, 9, 2], [9, 2, -100, -100], [5, 6, 2, -100]])
    model(input_ids=ids, attention_mask=mask, labels=labels, token_type_ids=None).loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_gradient_checkpointing_gives_the_same_gradients():
    ids, mask = padded_batch()
    labels = torch.tensor([[7, 8, 9, 2], [9, 2, -100, -100], [5, 6, 2, -100]])
    grads = []
    for checkpointing in (False, True):
        model = tiny_model(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0).train()
        if checkpointing:
            model.activation_checkpointing_enable()  # v5's name for gradient_checkpointing_enable
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    for name, grad in grads[0].items():
        assert torch.allclose(grad, grads[1][name], atol=1e-6), name


# ---------------------------------------------------------------- caching and generation


def test_cached_forward_equals_full_forward():
    model = tiny_model()
    ids, mask = padded_batch()
    decoder_input_ids = torch.tensor([[2, 7, 8, 9, 10], [2, 9, 11, 12, 13], [2, 5, 6, 30, 40]])
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_input_ids).logits
        out = model(
            input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_input_ids[:, :2], use_cache=True
        )
        steps = [out.logits]
        for t in range(2, 5):
            out = model(
                encoder_outputs=(out.encoder_last_hidden_state,),
                attention_mask=mask,
                decoder_input_ids=decoder_input_ids[:, t : t + 1],
                cache=out.cache,
                use_cache=True,
            )
            steps.append(out.logits)
    assert torch.allclose(full, torch.cat(steps, dim=1), atol=1e-5)


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("num_beams", [1, 3])
def test_generation_with_cache_equals_without(attn, num_beams):
    model = tiny_model(seed=1, attn_implementation=attn)
    ids, mask = padded_batch()
    kwargs = dict(
        input_ids=ids, attention_mask=mask, max_new_tokens=12, min_new_tokens=12, num_beams=num_beams
    )
    cached = model.generate(**kwargs, use_cache=True)
    uncached = model.generate(**kwargs, use_cache=False)
    assert cached.shape == (3, 13)  # start token + 12 new tokens
    assert torch.equal(cached, uncached)
    assert (cached[:, 0] == model.config.decoder_start_token_id).all()


def test_generation_options_behave_as_in_transformers():
    model = tiny_model(seed=2)
    ids, mask = padded_batch()
    out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=5, min_new_tokens=5)
    assert out.shape == (3, 6)
    beams = model.generate(
        input_ids=ids,
        attention_mask=mask,
        num_beams=4,
        num_return_sequences=2,
        max_new_tokens=6,
        early_stopping=True,
    )
    assert beams.shape[0] == 6 and beams.shape[1] <= 7
    torch.manual_seed(0)
    sample_a = model.generate(
        input_ids=ids, attention_mask=mask, do_sample=True, max_new_tokens=8, min_new_tokens=8
    )
    torch.manual_seed(0)
    sample_b = model.generate(
        input_ids=ids, attention_mask=mask, do_sample=True, max_new_tokens=8, min_new_tokens=8
    )
    assert torch.equal(sample_a, sample_b)
    # generation stops at eos: make the final hidden state constant and eos the only token with a non-zero logit
    biased = tiny_model(seed=2, tie_word_embeddings=False)
    with torch.no_grad():
        biased.model.decoder.layer_norm.weight.zero_()
        biased.model.decoder.layer_norm.bias.fill_(1.0)
        biased.lm_head.weight.zero_()
        biased.lm_head.weight[2] = 1.0  # logits: eos = hidden_size, every other token 0
    stopped = biased.generate(input_ids=ids, attention_mask=mask, max_new_tokens=10)
    assert stopped.tolist() == [[2, 2]] * 3


def test_generation_starts_positions_right_after_the_start_token():
    # The first generated token must be predicted at the same position as in a full forward pass.
    model = tiny_model(seed=3)
    ids, mask = padded_batch()
    generated = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=4, min_new_tokens=4)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=generated[:, :-1]).logits
    logits[..., model.config.eos_token_id] = float("-inf")  # what min_new_tokens does
    assert torch.equal(logits.argmax(-1), generated[:, 1:])


def test_outputs_can_be_recorded():
    model = tiny_model(attn_implementation="eager")
    ids, mask = padded_batch()
    out = model(
        input_ids=ids,
        attention_mask=mask,
        decoder_input_ids=torch.tensor([[2, 5]] * 3),
        output_hidden_states=True,
        output_attentions=True,
    )
    layers = model.config.decoder_layers
    assert len(out.decoder_attentions) == layers and len(out.cross_attentions) == layers
    assert out.cross_attentions[0].shape == (3, 4, 2, 7)
    assert len(out.encoder_attentions) == model.config.num_hidden_layers
    assert len(out.decoder_hidden_states) == layers + 1
    assert len(out.encoder_hidden_states) == model.config.num_hidden_layers + 1
    # padded source positions get no cross-attention
    assert out.cross_attentions[0][1, :, :, 4:].abs().max() == 0


# ---------------------------------------------------------------- save / load


def test_auto_round_trip_gives_identical_logits(tmp_path):
    model = tiny_model(seed=4)
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "xlm-swcm"
    assert config["auto_map"]["AutoModelForSeq2SeqLM"] == "modeling_xlm_swcm.XLMSWCMForConditionalGeneration"
    for code in (
        "modeling_xlm_swcm.py",
        "configuration_xlm_swcm.py",
        "cpu_decoding.py",
    ):  # relative imports too
        assert (tmp_path / code).exists(), code
    reloaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path).eval()
    assert type(reloaded) is XLMSWCMForConditionalGeneration
    assert type(AutoModel.from_config(AutoConfig.from_pretrained(tmp_path))) is XLMSWCMModel
    ids, mask = padded_batch()
    dec = torch.tensor([[2, 5, 6]] * 3)
    with torch.no_grad():
        assert torch.equal(
            model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits,
            reloaded(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits,
        )
    # tied weights stay tied: same storage after reload
    assert (
        reloaded.lm_head.weight.data_ptr()
        == reloaded.model.encoder.embeddings.word_embeddings.weight.data_ptr()
    )
    decoder_embeddings = reloaded.model.decoder.embeddings
    assert (
        decoder_embeddings.position_embeddings.weight
        is reloaded.model.encoder.embeddings.position_embeddings.weight
    )


def test_untied_lm_head_round_trip(tmp_path):
    model = tiny_model(seed=5, tie_word_embeddings=False)
    assert model.lm_head.weight is not model.model.encoder.embeddings.word_embeddings.weight
    # decoder embeddings stay shared even when the LM head is not
    assert (
        model.model.decoder.embeddings.word_embeddings.weight
        is model.model.encoder.embeddings.word_embeddings.weight
    )
    model.save_pretrained(tmp_path)
    reloaded = XLMSWCMForConditionalGeneration.from_pretrained(tmp_path)
    assert torch.equal(reloaded.lm_head.weight, model.lm_head.weight)
    shared = reloaded.model.decoder.embeddings.word_embeddings.weight
    assert shared is reloaded.model.encoder.embeddings.word_embeddings.weight


def test_trust_remote_code_without_the_package(tmp_path):
    model = tiny_model(seed=6)
    folder = tmp_path / "checkpoint"
    model.save_pretrained(folder)
    ids, mask = padded_batch()
    dec = torch.tensor([[2, 5, 6]] * 3)
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
    torch.save({"ids": ids, "mask": mask, "dec": dec}, tmp_path / "inputs.pt")
    script = textwrap.dedent(
        f"""
        import sys

        class BlockXlmSwcm:  # an (editable) install would make the package importable from anywhere
            def find_spec(self, name, path=None, target=None):
                if name == "xlm_swcm" or name.startswith("xlm_swcm."):
                    raise ModuleNotFoundError(name)

        sys.meta_path.insert(0, BlockXlmSwcm())
        try:
            import xlm_swcm
            raise SystemExit("xlm_swcm is still importable")
        except ModuleNotFoundError:
            pass
        import torch
        from transformers import AutoModelForSeq2SeqLM
        model = AutoModelForSeq2SeqLM.from_pretrained({str(folder)!r}, trust_remote_code=True).eval()
        batch = torch.load({str(tmp_path / "inputs.pt")!r})
        with torch.no_grad():
            logits = model(input_ids=batch["ids"], attention_mask=batch["mask"], decoder_input_ids=batch["dec"]).logits
        torch.save(logits, {str(tmp_path / "logits.pt")!r})
        print(type(model).__module__)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf_home"), PYTHONNOUSERSITE="1")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "transformers_modules" in result.stdout  # the code came from the checkpoint folder
    assert torch.equal(torch.load(tmp_path / "logits.pt"), expected)


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_weights(dtype):
    model = tiny_model(seed=7)
    ids, mask = padded_batch()
    dec = torch.tensor([[2, 5, 6]] * 3)
    with torch.no_grad():
        reference = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
        half = model.to(dtype)
        logits = half(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
    assert logits.dtype == dtype
    assert (logits.float() - reference).abs().max() < 0.1
    generated = half.generate(input_ids=ids, attention_mask=mask, max_new_tokens=4, min_new_tokens=4)
    assert generated.shape == (3, 5)


# ---------------------------------------------------------------- errors


def test_decoder_input_longer_than_positions():
    model = tiny_model()
    ids, mask = padded_batch()
    too_long = torch.full((1, 64), 5)  # 64 tokens, but roberta positions leave 64 - 2 = 62
    with pytest.raises(ValueError, match="longer than the model's 62 positions"):
        model(input_ids=ids[:1], decoder_input_ids=too_long)


def test_token_id_outside_vocabulary():
    model = tiny_model()
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(input_ids=torch.tensor([[0, 99, 2]]), decoder_input_ids=torch.tensor([[2]]))
    # decoder inputs from the user (a first forward, no cache) are checked too
    with pytest.raises(ValueError, match="Token id -3 is outside the vocabulary"):
        model(input_ids=torch.tensor([[0, 5, 2]]), decoder_input_ids=torch.tensor([[2, -3]]))


def test_encoder_outputs_with_wrong_hidden_size():
    model = tiny_model()
    with pytest.raises(ValueError, match="hidden size 16"):
        model(encoder_outputs=(torch.zeros(1, 3, 16),), decoder_input_ids=torch.tensor([[2]]))


def test_missing_decoder_start_token_id():
    model = tiny_model(decoder_start_token_id=None, bos_token_id=None)
    with pytest.raises(ValueError, match="decoder_start_token_id"):
        model(input_ids=torch.tensor([[0, 5, 2]]), labels=torch.tensor([[5, 2]]))
    model.generation_config.decoder_start_token_id = None
    model.generation_config.bos_token_id = None
    with pytest.raises(ValueError, match="decoder_start_token_id"):
        model.generate(input_ids=torch.tensor([[0, 5, 2]]), max_new_tokens=2)


@pytest.mark.parametrize("layers", [3, 4])  # X=3: no normal layer with 3 encoder layers, one with 4
def test_no_split_modules_name_the_layers_the_model_has(layers):
    from accelerate import FullyShardedDataParallelPlugin
    from accelerate.utils.fsdp_utils import fsdp2_prepare_auto_wrap_policy

    model = tiny_model(num_hidden_layers=layers)
    present = {type(module).__name__ for module in model.modules()}
    assert set(model._no_split_modules) <= present
    # The names as `Accelerator.prepare` passes them (accelerate 1.10 and older read them from the plugin only).
    plugin = FullyShardedDataParallelPlugin(
        fsdp_version=2,
        auto_wrap_policy="TRANSFORMER_BASED_WRAP",
        transformer_cls_names_to_wrap=list(model._no_split_modules),
    )
    policy = fsdp2_prepare_auto_wrap_policy(plugin, model)  # raises for a class the model lacks
    wrapped = [module for module in model.modules() if policy(module)]
    # every encoder and decoder layer, and the two embedding blocks
    assert len(wrapped) == layers + model.config.decoder_layers + 2


def test_decoder_layer_kinds_keep_their_parameter_names():
    """Each `decoder_layer_types` kind is its own class, with the sublayer names (and order) that checkpoints use."""
    from xlm_swcm.modeling_xlm_swcm import XLMSWCMCustomDecoderLayer, XLMSWCMNormalDecoderLayer

    model = tiny_model(num_hidden_layers=4, insert_every=3)
    kinds = {"custom": XLMSWCMCustomDecoderLayer, "normal": XLMSWCMNormalDecoderLayer}
    sublayers = {
        "custom": ["self_attn", "ffn1", "cross_attn", "ffn2"],
        "normal": ["self_attn", "cross_attn", "ffn"],
    }
    for layer, kind in zip(model.model.decoder.layers, model.config.decoder_layer_types, strict=True):
        assert type(layer) is kinds[kind]
        names = [name for name, _ in layer.named_children()]
        assert names == [n for block in sublayers[kind] for n in (block, f"{block}_layer_norm")] + ["dropout"]
        projections = {"self_attn": "qkv o_proj", "cross_attn": "qkv o_proj", "ffn": "fc1 fc2"}
        expected = [
            f"{block}{part}.{tensor}"
            for block in sublayers[kind]
            for part in [f".{leaf}" for leaf in projections[block.rstrip("12")].split()] + ["_layer_norm"]
            for tensor in ("weight", "bias")
        ]
        assert list(layer.state_dict()) == expected


# ---------------------------------------------------------------- transformers' contract (issue 11)


@pytest.mark.parametrize(
    "layers, x, expected", [(12, 3, 15), (2, 1, 3), (4, 2, 5)], ids=["released", "x1", "x2"]
)
def test_decoder_view_has_the_decoder_layer_count(layers, x, expected):
    """transformers sizes caches from `get_text_config(decoder=True)`: it must count the decoder's layers."""
    config = XLMSWCMConfig(**{**TINY, "num_hidden_layers": layers}, insert_every=x)
    assert config.decoder_layers == len(config.decoder_layer_types) == expected
    view = config.get_text_config(decoder=True)
    assert (view.num_hidden_layers, view.decoder_layers) == (expected, expected)
    assert view.decoder_layer_types == config.decoder_layer_types
    assert view.get_text_config(decoder=True).num_hidden_layers == expected  # a view of a view is the view
    assert config.num_hidden_layers == layers  # the model's own config is untouched
    assert "_decoder_view_layer_types" not in view.to_dict()
    from transformers import DynamicCache, StaticCache

    assert len(DynamicCache(config=config).layers) == expected
    assert len(StaticCache(config=config, max_cache_len=8).layers) == expected


def test_past_key_values_is_the_deprecated_name_of_cache():
    model = tiny_model(insert_every=1)
    ids, mask = padded_batch()
    decoder_ids = torch.tensor([[2, 5, 6]] * 3)
    with torch.no_grad():
        full = model(ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits[:, -1]
        first = model(ids, attention_mask=mask, decoder_input_ids=decoder_ids[:, :2], use_cache=True)
        with pytest.warns(FutureWarning, match="past_key_values"):
            step = model(
                encoder_outputs=(first.encoder_last_hidden_state,),
                attention_mask=mask,
                decoder_input_ids=decoder_ids[:, 2:],
                past_key_values=first.cache,
            )
    torch.testing.assert_close(step.logits[:, -1], full, atol=1e-5, rtol=1e-5)


def test_get_encoder_takes_modality():
    model = tiny_model()
    assert model.get_encoder(modality=None) is model.model.encoder
    assert model.model.get_encoder(modality=None) is model.model.encoder
    assert model.get_decoder() is model.model.decoder


def test_tie_mode_decoder_saves_on_its_own(tmp_path):
    from xlm_swcm.modeling_xlm_swcm import XLMSWCMDecoder

    model = tiny_model(weight_sharing="tie", insert_every=2)
    model.get_decoder().save_pretrained(tmp_path)
    decoder = XLMSWCMDecoder.from_pretrained(tmp_path)
    for name, tensor in model.get_decoder().state_dict().items():
        torch.testing.assert_close(decoder.state_dict()[name], tensor, rtol=0, atol=0)
    layer = decoder.layers[0]
    assert layer.cross_attn.qkv.weight is layer.self_attn.qkv.weight
    assert layer.ffn2.fc1.weight is layer.ffn1.fc1.weight
    # and in the whole model every member of a tied group is the encoder's tensor, not a chain through the decoder
    tied = model.model.all_tied_weights_keys
    assert tied["decoder.layers.0.cross_attn.qkv.weight"] == "encoder.layers.0.attention.qkv.weight"
    assert tied["decoder.layers.0.ffn2.fc2.bias"] == "encoder.layers.0.ffn.fc2.bias"
    assert not set(tied.values()) & set(tied)


def test_inputs_embeds_with_padding_get_the_positions_of_their_ids():
    model = tiny_model(insert_every=1)
    ids, mask = padded_batch()  # right, left and no padding
    decoder_ids = torch.tensor([[2, 5, 6, 1], [2, 7, 1, 1], [2, 8, 9, 10]])
    decoder_mask = decoder_ids.ne(1).long()
    embed = model.get_input_embeddings()
    with torch.no_grad():
        from_ids = model(
            ids, attention_mask=mask, decoder_input_ids=decoder_ids, decoder_attention_mask=decoder_mask
        )
        from_embeds = model(
            inputs_embeds=embed(ids),
            attention_mask=mask,
            decoder_inputs_embeds=embed(decoder_ids),
            decoder_attention_mask=decoder_mask,
        )
    torch.testing.assert_close(from_embeds.encoder_last_hidden_state, from_ids.encoder_last_hidden_state)
    torch.testing.assert_close(from_embeds.logits, from_ids.logits)


@pytest.mark.skipif(
    Version(torch.__version__).release < (2, 11),
    reason="transformers' DynamoExporter needs torch 2.11 or newer",
)
def test_torch_export_through_transformers_exporters():
    """transformers.exporters' path (it calls get_encoder(modality=...)): the exported program computes the model's
    logits. It stands in for transformers' ExportTesterMixin, which is not vendored."""
    from transformers.exporters.exporter_dynamo import DynamoConfig, DynamoExporter
    from transformers.exporters.utils import is_multimodal

    model = tiny_model(num_hidden_layers=2, insert_every=1)
    assert not is_multimodal(model)
    ids, mask = padded_batch()
    inputs = {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": torch.tensor([[2, 5, 6]] * 3)}
    exported = DynamoExporter().export(model, inputs, config=DynamoConfig())
    with torch.no_grad():
        expected = model(**inputs).logits
    torch.testing.assert_close(exported(**inputs)["logits"], expected)
