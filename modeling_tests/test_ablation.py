"""The ablation experiment (`experiments/ablation.py`) and its masked-LM encoder (`experiments/mlm_encoder.py`).

Two parts: the variant builders, the statistics and the training on tiny random encoders (fast: they must build and
compute what their names promise; training through the Trainer must reproduce the hand-written loop that the cached
runs came from), and the `--quick` pipeline end to end, every tier, on a quick masked-LM encoder and the real
multilingual-e5-small (checks that every row and number is produced, cached and resumed, not which variant wins).
"""

import hashlib
import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from transformers import (
    BertConfig,
    BertModel,
    XLMRobertaConfig,
    XLMRobertaModel,
    get_linear_schedule_with_warmup,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))
import ablation  # noqa: E402

SCRIPT = ROOT / "experiments" / "ablation.py"
MLM_SCRIPT = ROOT / "experiments" / "mlm_encoder.py"
TOKENIZER = SimpleNamespace(pad_token_id=1, bos_token_id=0, eos_token_id=2, sep_token_id=2)
SHAPE = dict(
    vocab_size=40,
    hidden_size=16,
    num_hidden_layers=4,
    num_attention_heads=2,
    intermediate_size=24,
    max_position_embeddings=32,
    pad_token_id=1,
)


@pytest.fixture(scope="module")
def encoder():
    torch.manual_seed(0)
    return BertModel(BertConfig(**SHAPE), add_pooling_layer=False).eval()


@pytest.fixture(scope="module")
def xlmr_encoder():
    torch.manual_seed(0)
    return XLMRobertaModel(XLMRobertaConfig(**SHAPE, type_vocab_size=1), add_pooling_layer=False).eval()


def _forward_loss(model):
    input_ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]])
    labels = torch.tensor([[10, 11, 2], [12, 2, -100]])
    out = model(input_ids=input_ids, attention_mask=(input_ids != 1).long(), labels=labels)
    assert out.logits.shape == (2, 3, 40)
    return out.loss


def test_intervals_and_base_a_layouts(encoder):
    # 4 encoder layers: X=1 -> c n c n c n c (7), X=2 -> c c n c c (5), X=3 -> c c c n c (5); BASE-A -> c c c c.
    expected = {
        "paper-x1": ["custom", "normal"] * 3 + ["custom"],
        "fresh-ln-x2": ["custom", "custom", "normal", "custom", "custom"],
        "paper": ["custom", "custom", "custom", "normal", "custom"],
        "base-a": ["custom"] * 4,
    }
    for name, types in expected.items():
        model = ablation.build_variant(name, encoder, TOKENIZER, seed=0)
        assert model.config.decoder_layer_types == types, name
        assert ablation.decoder_layers(model) == len(types)
        assert torch.isfinite(_forward_loss(model))


def test_recipe_variants_use_their_recipe(encoder):
    paper = ablation.build_variant("paper", encoder, TOKENIZER, seed=0)
    fresh = ablation.build_variant("fresh-ln-x2", encoder, TOKENIZER, seed=0)
    source_ln = encoder.encoder.layer[0].attention.output.LayerNorm.weight
    assert torch.equal(paper.model.decoder.layers[0].ffn1_layer_norm.weight, source_ln)
    assert torch.equal(fresh.model.decoder.layers[0].ffn1_layer_norm.weight, torch.ones(16))
    assert torch.equal(
        fresh.model.decoder.layers[0].ffn1.fc1.weight, encoder.encoder.layer[0].intermediate.dense.weight
    )


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
    seeded = ablation.build_variant("paper", encoder, TOKENIZER, seed=0)  # its normal layer is random
    assert not torch.equal(seeded.model.decoder.layers[3].ffn.fc1.weight, normal.ffn.fc1.weight)


def test_random_variant_is_random_but_keeps_pretrained_encoder(encoder):
    model = ablation.build_variant("random", encoder, TOKENIZER, seed=0)
    seeded = ablation.build_variant("paper", encoder, TOKENIZER, seed=0)
    assert model.config.decoder_layer_types == seeded.config.decoder_layer_types
    custom = model.model.decoder.layers[0].self_attn.qkv.weight
    assert not torch.allclose(custom, seeded.model.decoder.layers[0].self_attn.qkv.weight)
    assert abs(custom.std().item() - model.config.initializer_range) < 0.005
    for a, b in zip(model.model.encoder.parameters(), seeded.model.encoder.parameters(), strict=True):
        assert torch.equal(a, b)
    other_seed = ablation.build_variant("random", encoder, TOKENIZER, seed=1)
    assert not torch.equal(custom, other_seed.model.decoder.layers[0].self_attn.qkv.weight)


@pytest.mark.filterwarnings("ignore:Version v4.12.0 introduces:FutureWarning")
@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
def test_warm_start_copies_the_encoder_and_ties_embeddings(encoder, xlmr_encoder, kind):
    source = encoder if kind == "bert" else xlmr_encoder
    model = ablation.build_variant("warm-start", source, TOKENIZER, seed=0)
    decoder_layer, source_layer = model.decoder.base_model.encoder.layer[1], source.encoder.layer[1]
    assert torch.equal(decoder_layer.attention.self.query.weight, source_layer.attention.self.query.weight)
    assert torch.equal(decoder_layer.intermediate.dense.weight, source_layer.intermediate.dense.weight)
    assert decoder_layer.crossattention is not None
    words = model.encoder.embeddings.word_embeddings.weight
    assert model.decoder.base_model.embeddings.word_embeddings.weight is words
    assert model.decoder.get_output_embeddings().weight is words
    assert model.config.decoder_start_token_id == 2 and model.generation_config.decoder_start_token_id == 2
    assert model.encoder is not source  # deep-copied, not trained in place
    loss = _forward_loss(model)
    loss.backward()
    assert words.grad is not None and torch.isfinite(loss)


def test_unknown_variant_is_a_clear_error(encoder):
    with pytest.raises(ablation.AblationError, match="Unknown variant 'nope'"):
        ablation.build_variant("nope", encoder, TOKENIZER, seed=0)


def test_statistics_by_hand():
    assert ablation.mean_std([2.0, 4.0]) == {"mean": 3.0, "std": math.sqrt(2.0), "n": 2}
    assert ablation.area_under_curve([(0, 6.0), (10, 4.0), (30, 2.0)]) == pytest.approx((50 + 60) / 30)
    assert ablation.steps_to_reach([(0, 6.0), (10, 4.0), (30, 2.0)], 4.5) == 10
    assert ablation.steps_to_reach([(0, 6.0), (10, 4.0)], 1.0) is None
    runs = [
        {"variant": "a", "seed": 0, "dev_loss": [(0, 9.0), (10, 5.0)], "chrf": 20.0, "rougeL": 10.0},
        {"variant": "a", "seed": 1, "dev_loss": [(0, 9.0), (10, 6.0)], "chrf": 10.0, "rougeL": 10.0},
        {"variant": "b", "seed": 0, "dev_loss": [(0, 9.0), (10, 6.0)], "chrf": 10.0, "rougeL": 10.0},
        {"variant": "b", "seed": 1, "dev_loss": [(0, 9.0), (10, 5.5)], "chrf": 12.0, "rougeL": 10.0},
    ]
    diff = ablation.paired_difference(runs, "a", "b")
    assert diff["dev_loss"]["mean"] == pytest.approx(-0.25) and diff["dev_loss"]["wins"] == 1
    assert diff["auc"]["mean"] == pytest.approx(-0.125)
    assert diff["chrf"]["mean"] == pytest.approx(4.0) and diff["chrf"]["wins"] == 1
    assert diff["rougeL"]["wins"] == 0
    assert ablation.verdict(diff) == "mixed"


def _run(tier, variant, seed, loss, chrf=1.0):
    return {
        "tier": tier,
        "variant": variant,
        "seed": seed,
        "dev_loss": [(0, 9.0), (10, loss)],
        "chrf": chrf,
        "rougeL": 2.0,
        "parameters": 1,
        "decoder_layers": 1,
        "cpu_seconds": 1.0,
    }


def test_verdicts_and_best_recipe_by_hand():
    runs = [_run("A", "paper", s, v) for s, v in ((0, 5.0), (1, 5.2))]
    runs += [_run("A", "random", s, v) for s, v in ((0, 5.5), (1, 5.6))]  # paper lower on both
    runs += [_run("A", "fresh-ln", s, v, chrf=3.0) for s, v in ((0, 4.0), (1, 4.1))]  # the best recipe (chrF)
    runs += [_run("A", "base-a", s, v) for s, v in ((0, 4.0), (1, 4.1))]  # lower than paper on both
    runs += [_run("A", "base-b", s, v) for s, v in ((0, 5.01), (1, 5.19))]  # |mean difference| 0.0 < TIE_NATS
    runs += [_run("A", "warm-start", s, v) for s, v in ((0, 5.5), (1, 4.9))]  # one seed each way
    results = {"runs": {f"{r['tier']}/{r['variant']}/{r['seed']}": r for r in runs}, "tiers": {}}
    tier_b = ablation.resolve_variants(ablation.TIERS["B"], results)
    assert tier_b.variants == ("fresh-ln", "random")  # base-a is not a recipe: never "best"
    results["runs"]["A/paper/0"]["chrf"] = (
        2 * (3.0 - ablation.TIE_CHRF / 2) - 1.0
    )  # paper's mean within the tie band
    assert ablation.resolve_variants(ablation.TIERS["B"], results).variants == ("paper", "random")
    verdicts = {
        line.split("`")[3]: line.split("**")[1] for line in ablation.claim_lines(results) if "`paper`" in line
    }
    assert verdicts == {
        "random": "A better",
        "base-a": "B better",
        "base-b": "no clear difference",
        "warm-start": "mixed",
    }
    with pytest.raises(ablation.AblationError, match="run tier A first"):
        ablation.resolve_variants(ablation.TIERS["C"], {"runs": {}, "tiers": {}})


def test_finished_runs_are_not_run_again(monkeypatch):
    tier = ablation.TierSettings("A", ("paper", "random"), seeds=(0,), encoder=None)
    results = {"runs": {}, "tiers": {}}
    for variant in tier.variants:
        results["runs"][ablation.run_key("A", variant, 0)] = {
            **_run("A", variant, 0, 5.0),
            "fingerprint": tier.fingerprint(),
        }

    def fail(_):
        raise AssertionError("prepare_base must not run: every run is cached")

    monkeypatch.setattr(ablation, "prepare_base", fail)
    ablation.run_tier(tier, results, save=lambda: None, jobs=1, log=lambda _: None)
    changed = ablation.TierSettings("A", ("paper", "random"), seeds=(0,), encoder=None, steps=7)
    assert changed.fingerprint() != tier.fingerprint()  # other settings: the cache does not apply
    with pytest.raises(AssertionError, match="prepare_base must not run"):
        ablation.run_tier(changed, results, save=lambda: None, jobs=1, log=lambda _: None)


def _hand_written_loop(model, batches, dev, tier, seed):
    """The loop experiments/results.json was trained with: the reference `train_variant` must reproduce."""
    torch.manual_seed(seed)  # dropout masks
    optimizer = torch.optim.AdamW(model.parameters(), lr=tier.learning_rate, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, min(tier.warmup_steps, tier.steps), tier.steps)
    curve, losses = [(0, ablation.dev_loss(model, dev))], []
    model.train()
    for step, batch in enumerate(batches, 1):
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(model.parameters()), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(loss.item(), 4))
        if step % tier.eval_every == 0 or step == tier.steps:
            curve.append((step, ablation.dev_loss(model, dev)))
    return curve, losses


@pytest.mark.filterwarnings("ignore:Version v4.12.0 introduces:FutureWarning")
@pytest.mark.parametrize("variant", ["paper", "warm-start"])  # warm-start: EncoderDecoderModel, LM head tied
def test_trainer_path_reproduces_the_hand_written_loop_bit_for_bit(encoder, variant):
    # Dropout is on (p=0.1), so the losses, the dev-loss curve and the weights agree only if the dropout masks do.
    generator = torch.Generator().manual_seed(1)

    def batch():
        ids = torch.randint(3, 40, (4, 7), generator=generator)
        ids[:, 0], ids[:, -1], ids[1, 5:] = 0, 2, 1  # <s> ... </s>, the second row padded
        labels = torch.randint(3, 40, (4, 5), generator=generator)
        labels[2, 3:] = -100
        return {"input_ids": ids, "attention_mask": (ids != 1).long(), "labels": labels}

    batches, dev = [batch() for _ in range(5)], [batch() for _ in range(2)]
    tier = replace(ablation.TIERS["A"], steps=5, warmup_steps=2, eval_every=2, encoder=None)
    start, reference, model = (ablation.build_variant(variant, encoder, TOKENIZER, seed=3) for _ in range(3))
    curve, losses = _hand_written_loop(reference, batches, dev, tier, seed=3)
    assert ablation.train_variant(model, batches, dev, tier, seed=3) == (curve, losses)
    assert [step for step, _ in curve] == [0, 2, 4, 5] and len(losses) == 5
    trained = model.state_dict()
    for name, weight in reference.state_dict().items():
        assert torch.equal(trained[name], weight), name
    assert not all(torch.equal(trained[name], weight) for name, weight in start.state_dict().items())


def _overfitting_setup(encoder, **settings):
    """Three random training batches repeated (memorised within a few steps) and two random dev batches: the dev
    loss falls, then rises, so early stopping has something to stop."""
    generator = torch.Generator().manual_seed(1)

    def batch():
        ids = torch.randint(3, 40, (4, 7), generator=generator)
        ids[:, 0], ids[:, -1], ids[1, 5:] = 0, 2, 1
        labels = torch.randint(3, 40, (4, 5), generator=generator)
        labels[2, 3:] = -100
        return {"input_ids": ids, "attention_mask": (ids != 1).long(), "labels": labels}

    train, dev = [batch() for _ in range(3)], [batch() for _ in range(2)]
    tier = replace(ablation.TIERS["E"], encoder=None, steps=40, min_steps=4, patience=3, eval_every=2,
                   warmup_steps=1, learning_rate=3e-3, save_every=None)  # fmt: skip
    tier = replace(tier, **settings)
    return [train[k % 3] for k in range(tier.steps)], dev, tier


def test_tier_e_settings_keep_the_cached_fingerprints_of_tiers_a_to_d():
    # The early-stopping fields count only where set: tier D's cached runs (no masked-LM report involved) still match.
    cached = json.loads((ROOT / "experiments" / "results.json").read_text(encoding="utf-8"))
    d_prints = {r["fingerprint"] for r in cached["runs"].values() if r["tier"] == "D"}
    assert d_prints == {ablation.TIERS["D"].fingerprint()}
    for name in "ABCD":  # the formula the cached runs were keyed with, before the new fields existed
        tier, new = ablation.TIERS[name], ("min_steps", "patience", "eval_subset", "save_every")
        old = {
            k: v
            for k, v in ablation.asdict(tier).items()
            if k not in ("variants", "seeds", "description", *new)
        }
        report = Path(ablation.ROOT, tier.encoder or "", "mlm_report.json")
        if tier.encoder and report.exists():
            old["encoder_report"] = hashlib.sha256(report.read_bytes()).hexdigest()
        assert tier.fingerprint() == hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:16]
    assert replace(ablation.TIERS["D"], save_every=10).fingerprint() == ablation.TIERS["D"].fingerprint()
    early = replace(ablation.TIERS["D"], patience=6)
    assert early.fingerprint() != ablation.TIERS["D"].fingerprint()
    e, e20 = ablation.TIERS["E"], ablation.TIERS["E20"]
    assert set(e.variants) == {"paper", "random", "warm-start", "base-b"} and e.encoder is None
    assert (e.min_steps, e.steps, e.eval_every, e20.train_fraction) == (1500, 1500, 50, 0.2)
    assert len({e.fingerprint(), e20.fingerprint(), ablation.TIERS["D"].fingerprint()}) == 3


def test_early_stopping_stops_and_keeps_the_best_weights(encoder):
    batches, dev, tier = _overfitting_setup(encoder)
    model = ablation.build_variant("paper", encoder, TOKENIZER, seed=3)
    stopper = ablation.train_early_stopping(model, batches, dev, tier, seed=3)
    stopped, losses = len(stopper.train_losses), dict(stopper.curve)
    assert tier.min_steps <= stopper.best_step < stopped < tier.steps  # it stopped, before the cap
    assert stopped - stopper.best_step == tier.patience * tier.eval_every  # exactly when the best got too old
    assert [step for step, _ in stopper.curve] == list(range(0, stopped + 1, tier.eval_every))
    assert stopper.best_loss == losses[stopper.best_step] == min(losses.values())
    assert all(loss > stopper.best_loss for step, loss in stopper.curve if step > stopper.best_step)
    # The kept weights are the model after best_step steps of the same run: the hand-written loop over the first
    # best_step batches, with the schedule over the cap, lands on them bit for bit.
    reference = ablation.build_variant("paper", encoder, TOKENIZER, seed=3)
    curve, _ = _hand_written_loop(reference, batches[: stopper.best_step], dev, tier, seed=3)
    assert curve[: len(curve)] == stopper.curve[: len(curve)]
    for name, weight in reference.state_dict().items():
        assert torch.equal(stopper.best_state[name], weight), name
    assert ablation.dev_loss(reference, dev) == stopper.best_loss
    last = model.state_dict()  # the model itself holds the last step's weights, not the best
    assert not all(torch.equal(last[name], w) for name, w in stopper.best_state.items())


def test_run_one_scores_and_reports_the_best_checkpoint(encoder, monkeypatch):
    batches, dev, tier = _overfitting_setup(encoder)
    monkeypatch.setattr(ablation, "training_batches", lambda base, tier, seed: batches)
    monkeypatch.setattr(ablation, "dev_batches", lambda base, tier, pairs=None: dev)
    scored = {}

    def generate(
        model, tokenizer, rows, max_length, batch_size
    ):  # records the model it is asked to translate with
        scored.update(weights=ablation.cpu_state(model), loss=ablation.dev_loss(model, dev))
        return ["x"] * len(rows)

    monkeypatch.setattr(ablation.demo, "generate", generate)
    monkeypatch.setattr(
        ablation.demo, "score", lambda predictions, rows: {"all": {"chrf": 1.0, "rougeL": 2.0}}
    )
    rows = [{"source": "a", "target": "b", "task": "en-ug"}] * 2
    record = ablation.run_one(
        "paper", 3, {"encoder": encoder, "tokenizer": TOKENIZER, "dev_rows": rows}, tier
    )

    reference = ablation.build_variant("paper", encoder, TOKENIZER, seed=3)
    stopper = ablation.train_early_stopping(reference, batches, dev, tier, seed=3)  # the same run, by hand
    final = ablation.dev_loss(reference, dev)
    assert record["dev_loss"] == stopper.curve and record["train_loss"] == stopper.train_losses
    assert (record["best_step"], record["stopped_step"], record["stopped_by"]) == (
        stopper.best_step, len(stopper.train_losses), "patience"
    )  # fmt: skip
    assert record["best_dev_loss"] == record["best_dev_loss_subset"] == stopper.best_loss == scored["loss"]
    assert record["final_dev_loss"] == final > stopper.best_loss
    for name, weight in stopper.best_state.items():  # the translations came from the best checkpoint
        assert torch.equal(scored["weights"][name], weight), name


class _Interrupted(Exception):
    pass


@pytest.mark.filterwarnings("ignore:Version v4.12.0 introduces:FutureWarning")
@pytest.mark.parametrize("variant", ["paper", "warm-start"])
def test_an_interrupted_run_resumes_bit_for_bit(encoder, tmp_path, monkeypatch, variant):
    batches, dev, tier = _overfitting_setup(encoder, steps=9, patience=None, save_every=3)
    straight_model = ablation.build_variant(variant, encoder, TOKENIZER, seed=3)
    straight = ablation.train_early_stopping(straight_model, batches, dev, tier, 3, tmp_path / "straight")

    original = ablation.EarlyStopping.on_step_begin

    def interrupt(self, args, state, control, **kwargs):  # killed during step 5, after the checkpoint at 3
        if state.global_step == 4:
            raise _Interrupted
        return original(self, args, state, control, **kwargs)

    monkeypatch.setattr(ablation.EarlyStopping, "on_step_begin", interrupt)
    first = ablation.build_variant(variant, encoder, TOKENIZER, seed=3)
    with pytest.raises(_Interrupted):
        ablation.train_early_stopping(first, batches, dev, tier, 3, tmp_path / "resumed")
    monkeypatch.setattr(ablation.EarlyStopping, "on_step_begin", original)
    assert ablation.resumable_checkpoint(tmp_path / "resumed").endswith("checkpoint-3")

    model = ablation.build_variant(variant, encoder, TOKENIZER, seed=3)  # a fresh process would build it anew
    resumed = ablation.train_early_stopping(model, batches, dev, tier, 3, tmp_path / "resumed")
    assert resumed.resumed_from == 3 and straight.resumed_from is None
    assert resumed.curve == straight.curve and resumed.train_losses == straight.train_losses
    assert len(resumed.train_losses) == tier.steps and resumed.best_step == straight.best_step
    for name, weight in straight_model.state_dict().items():
        assert torch.equal(model.state_dict()[name], weight), name
        assert torch.equal(resumed.best_state[name], straight.best_state[name]), name


def _early_run(variant, seed, curve, best_full, chrf):
    best_step, best = min(curve, key=lambda point: (point[1], point[0]))
    return {
        "tier": "E", "variant": variant, "seed": seed, "dev_loss": curve, "best_dev_loss_subset": best,
        "best_step": best_step, "best_dev_loss": best_full, "final_dev_loss": best_full + 0.1,
        "stopped_step": curve[-1][0], "chrf": chrf, "rougeL": chrf / 2, "parameters": 1, "decoder_layers": 15,
        "cpu_seconds": 60.0,
    }  # fmt: skip


def test_tier_e_report_marks_a_half_done_grid_and_withholds_verdicts():
    notes = dict(encoder="e5", encoder_type="bert", encoder_shape="12 x 384", train_pairs=1, monolingual=1,
                 dev_pairs=2, vocab_size=3, settings=ablation.asdict(ablation.TIERS["E"]))  # fmt: skip
    runs = [
        _early_run("paper", 0, [(0, 9.0), (50, 4.0), (100, 3.0), (150, 3.2)], 3.1, 20.0),
        _early_run("paper", 1, [(0, 9.0), (50, 4.2), (100, 3.5), (150, 3.6)], 3.4, 18.0),
        _early_run("random", 0, [(0, 11.0), (50, 5.0), (100, 3.9), (150, 3.5), (200, 3.6)], 3.6, 9.0),
        _early_run("warm-start", 0, [(0, 8.0), (50, 3.8), (100, 3.4), (150, 3.5)], 3.3, 15.0),
    ]
    results = {"runs": {f"E/{r['variant']}/{r['seed']}": r for r in runs}, "tiers": {"E": notes}}
    lines = ablation.early_stopping_markdown("E", results)
    assert lines[0].endswith("(4 of 12 runs done)") and any(
        line.startswith("**Half done**") for line in lines
    )
    row = next(line for line in lines if line.startswith("| `paper` | 15 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # steps to random's best (3.5 on seed 0): paper seed 0 reaches it at 100; seed 1 has no random run yet
    # steps to warm-start's best (3.4): seed 0 at 100; best dev loss 3.1 / 3.4 at steps 100 / 100, final 0.1
    # higher, stopped at 150 / 150; 2 seeds
    assert cells[4:10] == ["3.250 ± 0.212", "100/100", "3.350 ± 0.212", "150/150", "100/?", "100/?"]
    assert cells[12] == "2"
    paired = [line for line in lines if line.startswith("| `paper` | 1 |")]
    assert len(paired) == 2  # against random and against warm-start, on the one shared seed
    vs_random = [c.strip() for c in paired[0].strip("|").split("|")]
    assert vs_random[2] == f"{3.1 - 3.6:.3f} ± 0.000" and vs_random[3] == "1/1"
    assert vs_random[-1] == "none yet (1 of 3 seeds)"  # no verdict from a missing seed
    for seed in (1, 2):  # complete the pairs paper / random: now a verdict
        runs.append(_early_run("random", seed, [(0, 11.0), (50, 5.0), (100, 3.9)], 3.7 + seed, 9.0))
    runs.append(_early_run("paper", 2, [(0, 9.0), (50, 4.0), (100, 3.0)], 3.0, 20.0))
    results["runs"] = {f"E/{r['variant']}/{r['seed']}": r for r in runs}
    lines = ablation.early_stopping_markdown("E", results)
    verdict = next(line for line in lines if line.startswith("| `paper` | 3 |")).strip("|").split("|")[-1]
    assert verdict.strip() == "A better than random" and lines[0].endswith("(7 of 12 runs done)")


def test_tier_e_claims_use_the_best_checkpoint_and_wait_for_every_seed():
    curve = [(0, 9.0), (50, 4.0)]
    runs = [_early_run("paper", s, curve, 3.2 + s / 10, 20.0 + s) for s in (0, 1)]
    runs += [_early_run("warm-start", s, curve, 3.5, 15.0) for s in (0, 1, 2)]
    results = {"runs": {f"E/{r['variant']}/{r['seed']}": r for r in runs}, "tiers": {}}
    claim = next(line for line in ablation.claim_lines(results) if "`paper` vs `warm-start`" in line)
    # paper 3.2 / 3.3 vs warm start 3.5 / 3.5 on the two shared seeds; chrF 20 / 21 vs 15 / 15
    assert "**none yet (2 of 3 seeds)** by best dev loss - 3.250 ± 0.071 vs 3.500 ± 0.000" in claim
    assert "(paired Δ -0.250 ± 0.071, lower on 2/2 seeds); chrF 20.5 ± 0.7 vs 15.0 ± 0.0" in claim
    runs.append(_early_run("paper", 2, curve, 3.6, 14.0))  # the third seed: the warm start wins it
    results["runs"] = {f"E/{r['variant']}/{r['seed']}": r for r in runs}
    claim = next(line for line in ablation.claim_lines(results) if "`paper` vs `warm-start`" in line)
    assert (
        "**mixed** by best dev loss" in claim and "lower on 2/3 seeds" in claim and "higher on 2/3" in claim
    )
    assert not any("`paper` vs `random`" in line for line in ablation.claim_lines(results))  # no random run


def test_headline_compares_the_best_checkpoints_once_every_run_is_in():
    curve = [(0, 9.0), (50, 4.0)]
    losses = {"paper": (3.2, 3.3, 3.4), "warm-start": (3.5, 3.4, 3.3), "random": (3.8, 3.8, 3.9)}
    chrf = {"paper": (20, 18, 16), "warm-start": (10, 18, 17), "random": (5, 5, 5)}
    runs = [
        _early_run(v, s, curve, loss, chrf[v][s])
        for v, seeds in losses.items()
        for s, loss in enumerate(seeds)
    ]
    results = {
        "runs": {f"E/{r['variant']}/{r['seed']}": r for r in runs[1:]},
        "tiers": {"E": {"train_pairs": 1304}},
    }
    assert ablation.headline("E", results) == (
        "With all pairs (tier E): 8 of the 9 runs compared here done, no comparison yet."
    )
    runs.append(_early_run("base-b", 0, curve, 3.0, 30.0))  # not compared: it changes nothing
    results["runs"] = {f"E/{r['variant']}/{r['seed']}": r for r in runs}
    # paper - warm start: loss -0.3, -0.1, +0.1 (lower on 2 of 3 seeds); chrF +10, 0, -1 (higher on 1)
    assert ablation.headline("E", results) == (
        "With all pairs (tier E, 1,304 training pairs, 3 seeds), XLM-SWCM's best checkpoint reaches a held-out loss "
        "of 3.30 nats and chrF 18.0, the warm start 3.40 and 15.0, a random decoder 3.83 and 5.0; against the warm "
        "start, XLM-SWCM's loss is lower on 2/3 seeds and XLM-SWCM's chrF is higher on 1/3 seeds (XLM-SWCM minus the "
        "warm start, paired by seed: -0.10 nats, +3.0 chrF)."
    )
    for seed, run in enumerate(r for r in runs if r["variant"] == "warm-start"):
        run["best_dev_loss"], run["chrf"] = 3.6, 10.0 + seed  # now paper wins every seed on both
    assert "XLM-SWCM's loss is lower on every seed and XLM-SWCM's chrF is higher on every seed (" in (
        ablation.headline("E", results)
    )
    for seed, run in enumerate(r for r in runs if r["variant"] == "warm-start"):
        run["best_dev_loss"], run["chrf"] = 3.0, 30.0 + seed  # the warm start wins every seed on both
    assert (
        "the warm start's loss is lower on every seed and the warm start's chrF is higher on every seed ("
        in (ablation.headline("E", results))
    )
    for run in (r for r in runs if r["variant"] == "warm-start"):
        run["chrf"] = 1.0  # the measures disagree: each names whose it is
    assert "the warm start's loss is lower on every seed and XLM-SWCM's chrF is higher on every seed (" in (
        ablation.headline("E", results)
    )


def test_readme_states_the_headline_of_the_published_results():
    """The README's comparison sentence is the one `experiments/results.json` gives (RESULTS.md's headline)."""
    results = json.loads((ROOT / "experiments" / "results.json").read_text(encoding="utf-8"))
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for tier in ("E", "E20"):
        assert ablation.headline(tier, results) in readme


# ---------------------------------------------------------------- end to end, CI-sized


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from xlm_swcm_demo import assets

    try:
        assets.require("e5", "xlmr_tokenizer", "udhr", "django")
    except assets.AssetNotAvailableError as error:
        pytest.skip(f"real assets not installed: {error}")
    work = tmp_path_factory.mktemp("ablation")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), OMP_NUM_THREADS="1")
    mlm = subprocess.run(
        [sys.executable, str(MLM_SCRIPT), "--quick", "--steps", "6", "--eval-every", "3", "--layers", "2",
         "--hidden", "32", "--heads", "2", "--intermediate", "64", "--batch-size", "8", "--cache", str(work / "mlm")],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=env,
    )  # fmt: skip
    assert mlm.returncode == 0, mlm.stderr[-3000:]
    command = [
        sys.executable,
        str(SCRIPT),
        "--quick",
        "--jobs",
        "1",
        "--encoder",
        str(work / "mlm" / "encoder"),
    ]
    command += ["--output-dir", str(work / "out")]
    first = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=ROOT, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    results = json.loads((work / "out" / "results.json").read_text(encoding="utf-8"))
    again = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    return work, results, first, again


def test_quick_masked_lm_encoder_is_an_xlmr_checkpoint(quick_run):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    folder = quick_run[0] / "mlm" / "encoder"
    report = json.loads((folder / "mlm_report.json").read_text())
    model, tokenizer = AutoModelForMaskedLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    assert model.config.model_type == "xlm-roberta" and model.config.vocab_size == len(tokenizer)
    assert report["parameters"] == sum(p.numel() for p in model.parameters())
    assert [point["step"] for point in report["curve"]] == [3, 6]
    assert 0.0 <= report["held_out"]["accuracy"] <= 1.0 and report["unigram_baseline"]["loss"] > 0
    assert tokenizer.convert_tokens_to_ids("<bo>") != tokenizer.unk_token_id  # language tokens are in
    assert not (quick_run[0] / "mlm" / "checkpoint.pt").exists()  # removed once the encoder is written


def test_quick_mode_produces_every_tier_and_row(quick_run):
    work, results, first, _ = quick_run
    expected = {
        "A": set(ablation.MAIN_VARIANTS),
        "B": {results["best_recipe"]["B"], "random"},
        "C": {f"{results['best_recipe']['C']}-x{x}" for x in (1, 2, 6)},
        "D": {results["best_recipe"]["D"], "random"},
    }
    runs = list(results["runs"].values())
    assert {t: {r["variant"] for r in runs if r["tier"] == t} for t in expected} == expected
    for run in runs:
        settings = results["tiers"][run["tier"]]["settings"]
        assert [step for step, _ in run["dev_loss"]] == list(
            range(0, settings["steps"] + 1, settings["eval_every"])
        )
        assert all(math.isfinite(loss) and loss > 0 for _, loss in run["dev_loss"])
        assert len(run["train_loss"]) == settings["steps"]
        assert 0.0 <= run["chrf"] <= 100.0 and 0.0 <= run["rougeL"] <= 100.0
    d_runs = [r for r in runs if r["tier"] == "D"]
    assert all(r["parameters"] > 10_000_000 for r in d_runs)  # the real e5-small encoder, not a toy
    assert d_runs[0]["dev_loss"][0][1] != d_runs[1]["dev_loss"][0][1]  # different starts show at step 0
    b_notes, a_notes = results["tiers"]["B"], results["tiers"]["A"]
    assert b_notes["train_pairs"] < a_notes["train_pairs"] and b_notes["dev_pairs"] == a_notes["dev_pairs"]

    markdown = (work / "out" / "RESULTS.md").read_text(encoding="utf-8")
    for tier in "ABCD":
        assert f"## Tier {tier}:" in markdown
    for variant in ablation.MAIN_VARIANTS:
        row = next(line for line in markdown.splitlines() if line.startswith(f"| `{variant}` |"))
        assert row.count(" ± ") == 5  # dev loss @0, final, area, chrF, ROUGE-L
    assert "## The claims, checked" in markdown and "held-out masked-token accuracy" in markdown.lower()
    png = (work / "out" / "dev_loss.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


def test_a_second_run_resumes_from_the_cache(quick_run):
    work, results, _, again = quick_run
    assert again.stdout.count("0 run(s) to do") == 4
    assert json.loads((work / "out" / "results.json").read_text(encoding="utf-8"))["runs"] == results["runs"]


@pytest.fixture(scope="module")
def quick_early_stopping(tmp_path_factory):
    """`--quick --tier E20` on the real multilingual-e5-small, two variants (warm-start: the model whose shared
    embedding block a checkpoint must keep tied), run twice."""
    from xlm_swcm_demo import assets

    try:
        assets.require("e5", "xlmr_tokenizer", "udhr", "django")
    except assets.AssetNotAvailableError as error:
        pytest.skip(f"real assets not installed: {error}")
    work = tmp_path_factory.mktemp("ablation-e")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), OMP_NUM_THREADS="1")
    command = [sys.executable, str(SCRIPT), "--quick", "--tier", "E20", "--variants", "paper,warm-start", "--jobs",
               "1", "--output-dir", str(work / "out"), "--checkpoint-dir", str(work / "checkpoints")]  # fmt: skip
    runs = [
        subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT, env=env) for _ in "12"
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr[-3000:]
    return work, json.loads((work / "out" / "results.json").read_text(encoding="utf-8")), runs


def test_quick_early_stopping_tier_records_its_best_checkpoint(quick_early_stopping):
    work, results, (first, again) = quick_early_stopping
    settings = results["tiers"]["E20"]["settings"]
    runs = list(results["runs"].values())
    assert sorted(r["variant"] for r in runs) == ["paper", "warm-start"]
    for run in runs:
        steps, losses = zip(*run["dev_loss"], strict=True)
        assert (
            steps[0] == 0 and steps[-1] == run["stopped_step"] == len(run["train_loss"]) <= settings["steps"]
        )
        best = min(losses)
        assert run["best_dev_loss_subset"] == best == losses[steps.index(run["best_step"])]
        assert run["stopped_by"] == ("cap" if run["stopped_step"] == settings["steps"] else "patience")
        assert math.isfinite(run["best_dev_loss"]) and math.isfinite(run["final_dev_loss"])
        assert run["resumed_from"] is None and 0.0 <= run["chrf"] <= 100.0
    assert settings["eval_subset"] < results["tiers"]["E20"]["dev_pairs"]
    assert not any((work / "checkpoints").rglob("checkpoint-*"))  # removed once each run was saved
    markdown = (work / "out" / "RESULTS.md").read_text(encoding="utf-8")
    assert (
        "## Tier E20: multilingual-e5-small, 20% of the pairs" in markdown
        and "(2 of 2 runs done)" in markdown
    )
    assert "## Tier E: multilingual-e5-small, all pairs" in markdown and "(0 of 12 runs done)" in markdown
    assert (work / "out" / "dev_loss_e20.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "0 run(s) to do" in again.stdout and "0 run(s) to do" not in first.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tier", "A,Z"], "Unknown tier(s) ['Z']"),
        (["--seeds", "0,x"], "--seeds must be comma-separated integers"),
        (["--jobs", "0"], "--jobs must be >= 1"),
        (["--tier", "A", "--encoder", "{tmp}/none"], "run `python experiments/mlm_encoder.py` first"),
    ],
)
def test_command_line_rejects_bad_input_with_a_clear_message(tmp_path, capsys, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert ablation.main([*args, "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1  # one line
    assert not (tmp_path / "out").exists()  # nothing written for a refused run


def test_report_only_rewrites_the_report_and_leaves_the_results_alone(tmp_path):
    cached = (ROOT / "experiments" / "results.json").read_bytes()
    (tmp_path / "results.json").write_bytes(cached)
    assert ablation.main(["--report-only", "--output-dir", str(tmp_path)]) == 0
    assert (tmp_path / "results.json").read_bytes() == cached  # a running job may be writing it
    markdown = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    for name in ("E", "E20"):
        runs = sum(r["tier"] == name for r in json.loads(cached)["runs"].values())
        assert (
            f"## Tier {name}: multilingual-e5-small" in markdown and f"({runs} of 12 runs done)" in markdown
        )


def test_merging_a_run_of_a_few_seeds_keeps_the_grid_it_is_counted_against(tmp_path):
    full = ablation.asdict(ablation.TIERS["E20"])
    few = {**full, "variants": ("base-b", "warm-start"), "seeds": (2,)}
    run = {**_early_run("base-b", 2, [(0, 9.0), (50, 5.0)], 5.3, 17.0), "tier": "E20"}
    notes = dict(encoder="e5", encoder_type="bert", encoder_shape="12 x 384", train_pairs=260, monolingual=1,
                 dev_pairs=2, vocab_size=3)  # fmt: skip
    side = {"runs": {"E20/base-b/2": run}, "tiers": {"E20": {**notes, "settings": few}}}
    (tmp_path / "side.json").write_text(json.dumps(side), encoding="utf-8")
    main = {"runs": {}, "tiers": {"E20": {**notes, "settings": full}}}
    (tmp_path / "results.json").write_text(json.dumps(main), encoding="utf-8")
    args = ["--report-only", "--output-dir", str(tmp_path), "--merge", str(tmp_path / "side.json")]
    assert ablation.main(args) == 0
    merged = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert list(merged["runs"]) == ["E20/base-b/2"]
    assert merged["tiers"]["E20"]["settings"]["variants"] == list(full["variants"])
    assert merged["tiers"]["E20"]["settings"]["seeds"] == [0, 1, 2]
    assert "(1 of 12 runs done)" in (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert ablation.grid_settings(few, few) == few and ablation.grid_settings(None, few) == few


def test_cache_fingerprint_holds_in_any_clone(tmp_path, monkeypatch):
    """Cached runs are keyed by settings, not by where the repository is checked out; the encoder's report counts."""

    def fingerprint(root: Path, report: str) -> str:
        (root / ablation.MLM_ENCODER_FOLDER).mkdir(parents=True, exist_ok=True)
        (root / ablation.MLM_ENCODER_FOLDER / "mlm_report.json").write_text(report)
        monkeypatch.setattr(ablation, "ROOT", root)
        return ablation.TIERS["A"].fingerprint()

    here, there = fingerprint(tmp_path / "a", "{}"), fingerprint(tmp_path / "b" / "clone", "{}")
    assert here == there
    assert fingerprint(tmp_path / "c", '{"steps": 1}') != here
    assert replace(ablation.TIERS["A"], steps=999).fingerprint() != fingerprint(tmp_path / "a", "{}")
