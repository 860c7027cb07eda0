"""Streaming conversion (`xlm-swcm-convert --stream`, `xlm_swcm.streaming`): the streamed seed is, tensor for
tensor, the seed that `build_seed` + `save_pretrained` write (post- and pre-LayerNorm sources, sharded or not, both
sharing modes, recipes with folded and random tensors, half precision); it is written in shards with an index and
loads as usual; only a tensor's worth of source data is alive at once; bad input is refused and nothing is left."""

import json
import os
import weakref

import pytest
import torch
from safetensors import safe_open
from tiny import SOURCE_SHAPE as SHAPE
from tiny import randomized
from transformers import (
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
    XLMRobertaXLConfig,
    XLMRobertaXLModel,
)

from xlm_swcm import XLMSWCMForConditionalGeneration, streaming
from xlm_swcm.conversion import ConvertOptions, build_seed, load_encoder, main
from xlm_swcm.streaming import SourceReader, stream_seed


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """An XLM-R masked-LM model saved in several shards (a `roberta.` prefix and an MLM head to skip), an XLM-R XL
    (pre-LayerNorm) in one file, and an XLM-R saved as pytorch_model.bin (not streamable)."""
    root = tmp_path_factory.mktemp("stream")
    torch.manual_seed(0)
    mlm = randomized(XLMRobertaForMaskedLM(XLMRobertaConfig(**SHAPE, type_vocab_size=1)))
    mlm.save_pretrained(root / "mlm", max_shard_size="40KB")
    mlm.save_pretrained(root / "bin")  # then its weights as a PyTorch pickle only
    torch.save(mlm.state_dict(), root / "bin" / "pytorch_model.bin")
    (root / "bin" / "model.safetensors").unlink()
    torch.manual_seed(0)
    randomized(XLMRobertaXLModel(XLMRobertaXLConfig(**SHAPE), add_pooling_layer=False)).save_pretrained(
        root / "xl"
    )
    return root


def stored(folder) -> dict[str, torch.Tensor]:
    tensors = {}
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(path, framework="pt") as handle:
            tensors.update({key: handle.get_tensor(key) for key in handle.keys()})
    return tensors


CASES = [  # source, weight sharing, recipe, LM head tied, dtype
    ("mlm", "copy", "paper", True, "auto"),
    ("mlm", "tie", "fresh-ln", True, "auto"),
    ("mlm", "copy", "folded-ln", False, "bfloat16"),
    ("xl", "copy", "ffn-only", True, "auto"),
    ("xl", "tie", "paper", True, "float16"),
    ("xl", "copy", "random", False, "auto"),
]


@pytest.mark.parametrize("name, sharing, init, tied_head, dtype", CASES)
def test_streamed_seed_is_the_in_memory_seed(
    sources, tmp_path, monkeypatch, name, sharing, init, tied_head, dtype
):
    monkeypatch.setattr(streaming, "STREAM_BLOCK_BYTES", 1000)  # copies in blocks of a few rows
    options = ConvertOptions(sources / name, tmp_path / "streamed", insert_every=2, weight_sharing=sharing,
                             init=init, untie_lm_head=not tied_head, seed=3, dtype=dtype)  # fmt: skip
    model, report = build_seed(load_encoder(sources / name, dtype), **options.seed_arguments())
    model.save_pretrained(tmp_path / "in-memory")
    (tmp_path / "streamed").mkdir()
    _, streamed_report = stream_seed(options, tmp_path / "streamed", max_shard_bytes=20_000)
    expected, actual = stored(tmp_path / "in-memory"), stored(tmp_path / "streamed")
    assert actual.keys() == expected.keys()
    for key, tensor in expected.items():
        assert actual[key].dtype == tensor.dtype and torch.equal(actual[key], tensor), key
    assert {**streamed_report, "source": None} == {**report, "source": None}
    configs = [json.loads((tmp_path / f / "config.json").read_text()) for f in ("in-memory", "streamed")]
    assert configs[0] == configs[1]
    # Shards of at most 20,000 bytes of data (a larger tensor alone), with an index naming every tensor's file.
    index = json.loads((tmp_path / "streamed" / "model.safetensors.index.json").read_text())
    files = sorted(p.name for p in (tmp_path / "streamed").glob("*.safetensors"))
    assert len(files) > 2 and sorted(set(index["weight_map"].values())) == files
    assert index["metadata"]["total_size"] == sum(t.numel() * t.element_size() for t in actual.values())
    for file in files:
        with safe_open(tmp_path / "streamed" / file, framework="pt") as handle:
            sizes = [
                handle.get_tensor(k).numel() * handle.get_tensor(k).element_size() for k in handle.keys()
            ]
        assert sum(sizes) <= 20_000 or len(sizes) == 1
    reloaded = XLMSWCMForConditionalGeneration.from_pretrained(tmp_path / "streamed", dtype="auto").eval()
    ids, decoder_ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]]), torch.tensor([[2, 5, 6]] * 2)
    with torch.no_grad():
        mask = ids.ne(1).long()
        expected_logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
        actual_logits = reloaded(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
    assert torch.equal(actual_logits, expected_logits)


def test_only_a_tensors_worth_of_source_is_alive_at_once(sources, tmp_path, monkeypatch):
    alive, peak, reads = [0], [0], [0]

    def tracked(read):
        def read_and_track(self, *args):
            tensor = read(self, *args)
            size = tensor.numel() * tensor.element_size()
            alive[0] += size
            peak[0] = max(peak[0], alive[0])
            reads[0] += 1
            weakref.finalize(tensor, lambda: alive.__setitem__(0, alive[0] - size))
            return tensor

        return read_and_track

    monkeypatch.setattr(SourceReader, "get", tracked(SourceReader.get))
    monkeypatch.setattr(SourceReader, "get_rows", tracked(SourceReader.get_rows))
    monkeypatch.setattr(streaming, "STREAM_BLOCK_BYTES", 1000)
    (tmp_path / "seed").mkdir()
    stream_seed(
        ConvertOptions(sources / "xl", tmp_path / "seed", insert_every=2, init="folded-ln"), tmp_path / "seed"
    )
    seed = stored(tmp_path / "seed")
    largest = max(t.numel() * t.element_size() for t in seed.values())
    total = sum(t.numel() * t.element_size() for t in seed.values())
    assert reads[0] > len(seed)  # the source is read tensor by tensor (again for each use)
    # Plain copies come in blocks of rows; the largest seed tensor made whole is a fused Q/K/V (96 x 32) from three
    # source tensors, or a folded projection from its weight, bias and LayerNorm.
    assert largest == 99 * 32 * 4  # the word embeddings, copied in blocks
    assert peak[0] <= (96 * 32 + 96 + 2 * 32) * 4 and peak[0] < total / 20
    assert alive[0] == 0


def test_cli_streams_with_verify_and_leaves_nothing_on_errors(sources, tmp_path, capsys, monkeypatch):
    assert (
        main(
            [str(sources / "mlm"), str(tmp_path / "seed"), "--stream", "--verify", "--weight-sharing", "tie"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "streaming the seed" in out and "verify: saved checkpoint vs source, max abs difference 0 " in out
    report = json.loads((tmp_path / "seed" / "swcm_conversion.json").read_text())
    assert report["weight_sharing"] == "tie" and report["file_size_bytes"] > 0
    # Refused in one line, before anything is written.
    for argv, message in [
        ([str(sources / "bin"), str(tmp_path / "x"), "--stream"], "has none: convert without --stream"),
        ([str(sources / "mlm"), str(tmp_path / "x"), "--stream", "--trim-vocab", "c.txt"], "do not stream"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    # A failure half-way leaves neither OUT nor a temporary folder.
    calls = [0]
    write = streaming._write_shard

    def fail_second(*args):
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt
        return write(*args)

    monkeypatch.setattr(streaming, "STREAM_SHARD_BYTES", 20_000)
    monkeypatch.setattr(streaming, "_write_shard", fail_second)
    assert main([str(sources / "mlm"), str(tmp_path / "x"), "--stream"]) == 130
    assert calls[0] == 2 and sorted(os.listdir(tmp_path)) == ["seed"]
