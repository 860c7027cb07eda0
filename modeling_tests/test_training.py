"""Training XLM-SWCM with transformers' Trainer on real text (English -> Uyghur strings from Django's catalogues,
UDHR paragraphs), with the real XLM-R tokenizer trimmed to the few hundred pieces that text uses.

Covered: Seq2SeqTrainer fine-tuning with DataCollatorForSeq2Seq (loss falls, generate-based evaluation with the
script-aware metrics, save/reload, exact resume from a mid-epoch checkpoint), gradient checkpointing, bf16 autocast
on CPU, denoising continued pretraining with DataCollatorForDenoising, and `xlm_swcm.training` (`xlm-swcm-train`,
`xlm-swcm-finetune`): both objectives end to end, streaming, resume, a real two-process torchrun (gloo), errors.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file
from transformers import (
    DataCollatorForSeq2Seq,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
    XLMRobertaConfig,
    XLMRobertaModel,
)

from xlm_swcm import XLMSWCMForConditionalGeneration, training
from xlm_swcm.conversion import build_seed
from xlm_swcm.data import DataCollatorForDenoising, language_token_id, tokenize_pairs
from xlm_swcm.metrics import rouge_l
from xlm_swcm.training import (
    TrainingArguments,
    TrainingError,
    TrainOptions,
    build_compute_metrics,
    build_parser,
    check_fsdp_sharing,
    finetune_main,
    main,
    train,
)
from xlm_swcm.vocab import add_language_tokens, trim_vocabulary
from xlm_swcm_demo import assets

REPO = Path(__file__).resolve().parent.parent
N_TRAIN, N_EVAL, BATCH = 40, 8, 8  # 5 optimizer steps per epoch
# transformers 5.24 renamed the `gradient_checkpointing` training argument (kept as a deprecated alias).
CHECKPOINTING = next(
    name
    for name in ("activation_checkpointing", "gradient_checkpointing")
    if name in {f.name for f in fields(Seq2SeqTrainingArguments)}
)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # The model is tiny: with 2 intra-op threads on a busy 2-core machine a step takes ~1 s instead of ~0.05 s.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@dataclass
class Setup:
    seed_dir: Path  # saved seed checkpoint + trimmed tokenizer
    tokenizer: object
    train: list  # tokenized features
    eval: list
    pairs: list  # (English, Uyghur) strings
    documents: list  # UDHR paragraphs, tokenized, for denoising
    paragraphs: list  # the same as text


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Setup:
    try:
        assets.require("xlmr_tokenizer", "django", "udhr")
    except assets.AssetNotAvailableError as error:
        pytest.skip(str(error))
    tokenizer = assets.load_xlmr_tokenizer()
    # Short real sentences (not single words): Django UI strings with a Uyghur translation.
    pairs = [
        (en, ug)
        for en, ug in assets.django_parallel("ug")
        if len(en.split()) >= 3 and len(tokenizer(en).input_ids) <= 16 and len(tokenizer(ug).input_ids) <= 20
    ][: N_TRAIN + N_EVAL]
    assert len(pairs) == N_TRAIN + N_EVAL
    udhr = assets.udhr_samples(["ug", "zh", "en"])
    paragraphs = [line for text in udhr.values() for line in text.splitlines()]

    # A seed the way xlm-swcm-convert makes one: XLM-R-shaped encoder (tiny, random) -> build_seed, <ug> token,
    # vocabulary trimmed to the corpus so the embedding has a few hundred rows instead of 250k.
    torch.manual_seed(0)
    encoder_config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=130,
    )
    encoder = XLMRobertaModel(encoder_config, add_pooling_layer=False)
    # insert_every=1: custom, normal, custom -> all three layer classes are trained.
    model, _ = build_seed(encoder, insert_every=1, seed=0)
    add_language_tokens(tokenizer, model, ["ug"])
    small, kept = trim_vocabulary(tokenizer, model, [t for pair in pairs for t in pair] + paragraphs)
    assert model.config.vocab_size == len(kept) < 2000
    seed_dir = tmp_path_factory.mktemp("seed")
    model.save_pretrained(seed_dir)
    small.save_pretrained(seed_dir)

    features = tokenize_pairs(small, pairs, tgt_lang="ug", max_length=32)
    documents = [{"input_ids": ids} for ids in small(paragraphs, truncation=True, max_length=64).input_ids]
    return Setup(seed_dir, small, features[:N_TRAIN], features[N_TRAIN:], pairs, documents, paragraphs)


def load_seed(setup: Setup) -> XLMSWCMForConditionalGeneration:
    return XLMSWCMForConditionalGeneration.from_pretrained(setup.seed_dir)


def make_args(output_dir, **overrides) -> Seq2SeqTrainingArguments:
    values = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=BATCH,
        learning_rate=3e-3,
        lr_scheduler_type="constant",
        max_steps=10,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    values.update(overrides)
    return Seq2SeqTrainingArguments(**values)


def make_trainer(setup: Setup, args: Seq2SeqTrainingArguments, model=None, **kwargs) -> Seq2SeqTrainer:
    model = model if model is not None else load_seed(setup)
    return Seq2SeqTrainer(
        model=model,
        args=args,
        train_dataset=setup.train,
        eval_dataset=setup.eval,
        data_collator=DataCollatorForSeq2Seq(setup.tokenizer, model=model),
        processing_class=setup.tokenizer,
        **kwargs,
    )


def step_losses(trainer: Seq2SeqTrainer) -> dict[int, float]:
    """The per-step training losses (logging_steps=1, so each logged value is one step's loss, unrounded)."""
    return {entry["step"]: entry["loss"] for entry in trainer.state.log_history if "loss" in entry}


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


# ----------------------------------------------------------------------------------------------------------------
# Seq2SeqTrainer fine-tuning
# ----------------------------------------------------------------------------------------------------------------
def test_finetune_loss_falls_generate_eval_and_save(setup, tmp_path):
    model = load_seed(setup)
    ug_id = language_token_id(setup.tokenizer, "ug")
    model.generation_config.forced_bos_token_id = ug_id
    args = make_args(
        tmp_path / "run",
        max_steps=100,
        learning_rate=1e-2,
        eval_strategy="steps",
        eval_steps=20,
        predict_with_generate=True,
        generation_max_length=24,
    )
    trainer = make_trainer(setup, args, model=model, compute_metrics=build_compute_metrics(setup.tokenizer))
    before = trainer.evaluate()
    trainer.train()

    losses = list(step_losses(trainer).values())
    assert len(losses) == 100 and all(torch.isfinite(torch.tensor(losses)))
    first, last = mean(losses[:5]), mean(losses[-5:])
    evals = [entry for entry in trainer.state.log_history if "eval_loss" in entry]
    assert [entry["step"] for entry in evals] == [20, 40, 60, 80, 100]
    best = min(entry["eval_loss"] for entry in evals)
    print(f"train loss: first 5 steps {first:.3f}, last 5 steps {last:.3f} (ratio {last / first:.3f})")
    print(
        "held-out evals (step, loss, ROUGE-L, chrF):",
        [
            (e["step"], round(e["eval_loss"], 3), round(e["eval_rougeL"], 3), round(e["eval_chrf"], 2))
            for e in evals
        ],
    )
    assert last < 0.3 * first
    # 40 pairs overfit after ~40 steps: the held-out loss goes down, then up again.
    assert best < 0.75 * before["eval_loss"]
    for key in ("eval_rougeL", "eval_rougeL_precision", "eval_rougeL_recall", "eval_chrf", "eval_gen_len"):
        assert all(key in entry for entry in evals), key
    assert all(0.0 <= e["eval_rougeL"] <= 1.0 and 0.0 <= e["eval_chrf"] <= 100.0 for e in evals)
    assert evals[-1]["eval_chrf"] > 2 * before["eval_chrf"]

    # On pairs it was trained on, the model reproduces much of the Uyghur, and the reported ROUGE-L is the mean of
    # the plain function over what it generated.
    output = trainer.predict(setup.train[:BATCH])
    generated = torch.as_tensor(output.predictions)
    # generation starts with the decoder start token, then the forced language token
    assert (generated[:, 0] == model.config.decoder_start_token_id).all()
    assert (generated[:, 1] == ug_id).all()
    generated = generated.masked_fill(generated < 0, setup.tokenizer.pad_token_id)
    texts = [t.strip() for t in setup.tokenizer.batch_decode(generated, skip_special_tokens=True)]
    references = [ug for _, ug in setup.pairs[:BATCH]]
    expected = mean(rouge_l(text, ref).fmeasure for text, ref in zip(texts, references, strict=True))
    print(f"on 8 trained pairs: ROUGE-L {expected:.3f}, chrF {output.metrics['test_chrf']:.2f}")
    assert output.metrics["test_rougeL"] == pytest.approx(expected, abs=1e-9)
    assert expected > 0.2

    trainer.save_model(tmp_path / "final")
    reloaded = XLMSWCMForConditionalGeneration.from_pretrained(tmp_path / "final")
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(reloaded.state_dict()[name], tensor, rtol=0, atol=0, msg=name)
    assert reloaded.generation_config.forced_bos_token_id == ug_id
    assert (tmp_path / "final" / "tokenizer.json").is_file()


def test_resume_from_mid_epoch_checkpoint_continues_identically(setup, tmp_path):
    # Dropout is on (p=0.1), so an identical continuation needs the RNG states restored, and the data order
    # needs the sampler replayed: checkpoint-3 is in the middle of the first epoch (5 steps per epoch).
    args = dict(max_steps=8, save_strategy="steps", save_steps=3)
    full = make_trainer(setup, make_args(tmp_path / "full", **args))
    full.train()
    assert (tmp_path / "full" / "checkpoint-3").is_dir()

    resumed = make_trainer(setup, make_args(tmp_path / "resumed", **args))
    resumed.train(resume_from_checkpoint=str(tmp_path / "full" / "checkpoint-3"))

    expected, got = step_losses(full), step_losses(resumed)
    assert sorted(expected) == list(range(1, 9))
    for step in range(4, 9):
        assert got[step] == pytest.approx(expected[step], rel=0, abs=1e-6), step
    full_state, resumed_state = full.model.state_dict(), resumed.model.state_dict()
    for name, tensor in full_state.items():
        torch.testing.assert_close(resumed_state[name], tensor, rtol=0, atol=1e-6, msg=name)


def test_gradient_checkpointing_recomputes_and_matches(setup, tmp_path):
    calls = {}

    def run(checkpointing: bool):
        model = load_seed(setup)
        calls[checkpointing] = 0

        def count(*_):
            calls[checkpointing] += 1

        # Trainer checkpoints each layer's forward (hooks of the layer itself stay outside the checkpoint), so
        # count calls of a block inside it: the normal layer's feed-forward.
        model.model.decoder.layers[1].ffn.register_forward_hook(count)
        args = make_args(tmp_path / str(checkpointing), **{CHECKPOINTING: checkpointing})
        trainer = make_trainer(setup, args, model=model)
        trainer.train()
        return trainer

    plain, checkpointed = run(False), run(True)
    # Checkpointing runs the layer forward twice per step: once, and again during backward. 10 steps.
    assert calls == {False: 10, True: 20}
    plain_losses, checkpointed_losses = step_losses(plain), step_losses(checkpointed)
    for step, loss in plain_losses.items():
        assert checkpointed_losses[step] == pytest.approx(loss, rel=1e-5), step
    assert mean(list(checkpointed_losses.values())[-3:]) < mean(list(checkpointed_losses.values())[:3])


def test_bf16_autocast_on_cpu_trains(setup, tmp_path):
    dtypes = []

    def run(bf16: bool):
        model = load_seed(setup)
        handle = model.lm_head.register_forward_hook(
            lambda module, inputs, output: dtypes.append(output.dtype)
        )
        trainer = make_trainer(setup, make_args(tmp_path / str(bf16), bf16=bf16), model=model)
        trainer.train()
        handle.remove()
        return step_losses(trainer)

    fp32 = run(False)
    assert set(dtypes) == {torch.float32}
    dtypes.clear()
    bf16 = run(True)
    assert set(dtypes) == {torch.bfloat16}  # the matmuls really ran under autocast
    assert all(torch.isfinite(torch.tensor(list(bf16.values()))))
    print(f"first-step loss fp32 {fp32[1]:.7f}, bf16 {bf16[1]:.7f}; step 10: {fp32[10]:.7f}, {bf16[10]:.7f}")
    assert bf16[1] == pytest.approx(fp32[1], rel=1e-3)
    assert mean(list(bf16.values())[-3:]) < mean(list(bf16.values())[:3])


# ----------------------------------------------------------------------------------------------------------------
# Denoising continued pretraining
# ----------------------------------------------------------------------------------------------------------------
def test_denoising_continued_pretraining_loss_falls(setup, tmp_path):
    model = load_seed(setup)
    collator = DataCollatorForDenoising(setup.tokenizer, model=model, seed=0, max_length=64)
    # what the model is asked to do: rebuild the original from an input with masked spans
    sample = DataCollatorForDenoising(setup.tokenizer, seed=0, max_length=64)(setup.documents[:4])
    assert (sample["input_ids"] == setup.tokenizer.mask_token_id).any(dim=1).all()
    assert sample["labels"][0, :8].tolist() == setup.documents[0]["input_ids"][:8]
    args = make_args(tmp_path / "denoise", max_steps=60, per_device_train_batch_size=4, learning_rate=1e-2)
    trainer = Seq2SeqTrainer(
        model=model,
        args=args,
        train_dataset=setup.documents,
        data_collator=collator,
        processing_class=setup.tokenizer,
    )
    trainer.train()
    losses = list(step_losses(trainer).values())
    first, last = mean(losses[:5]), mean(losses[-5:])
    print(f"denoising loss: first 5 steps {first:.3f}, last 5 steps {last:.3f} (ratio {last / first:.3f})")
    assert last < 0.6 * first


# ----------------------------------------------------------------------------------------------------------------
# Distributed: a real torchrun with two CPU processes (gloo)
# ----------------------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return env


def write_pairs(path: Path, pairs, source="source", target="target") -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for en, ug in pairs:
            handle.write(json.dumps({source: en, target: ug}, ensure_ascii=False) + "\n")
    return path


def write_text(path: Path, lines) -> Path:
    path.write_text("".join(line.replace("\n", " ") + "\n" for line in lines), encoding="utf-8")
    return path


def tiny_run(
    setup: Setup, tmp_path: Path, objective: str, **overrides
) -> tuple[TrainOptions, TrainingArguments]:
    """Options and arguments of a small xlm_swcm.training run on the fixture's pairs (and UDHR text)."""
    data = tmp_path / "pairs.jsonl"
    if not data.exists():
        write_pairs(data, setup.pairs)
        write_text(tmp_path / "udhr.txt", setup.paragraphs)
    options = TrainOptions(
        model=str(setup.seed_dir),
        data=str(data),
        objective=objective,
        text_files=[str(tmp_path / "udhr.txt")] if objective == "denoise+translate" else None,
        target_lang="ug",
        max_length=32,
        eval_fraction=N_EVAL / (N_TRAIN + N_EVAL),
    )
    values = dict(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=BATCH,
        learning_rate=3e-3,
        lr_scheduler_type="constant",
        max_steps=10,
        eval_steps=5,
        logging_steps=1,
        generation_max_length=16,
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    values.update(overrides)
    return options, TrainingArguments(**values)


def test_train_denoise_translate_streams_text_mixed_with_pairs(setup, tmp_path):
    import datasets

    options, args = tiny_run(
        setup, tmp_path, "denoise+translate", max_steps=30, eval_steps=15, learning_rate=1e-2
    )
    inputs, labels, batches = [], [], []

    def record(module, _, kwargs, output):
        if isinstance(module, XLMSWCMForConditionalGeneration) and module.training:
            batches.append(len(kwargs["input_ids"]))
            inputs.extend(kwargs["input_ids"].tolist())
            labels.extend(kwargs["labels"].tolist())

    handle = torch.nn.modules.module.register_module_forward_hook(record, with_kwargs=True)
    try:
        trainer = train(options, args, log=lambda line: None)
    finally:
        handle.remove()

    # The text file reached the Trainer as a stream, read as training went.
    assert isinstance(trainer.train_dataset, datasets.IterableDataset)
    # 30 steps; the text is short, so the stream ended and began again (a new epoch, after a shorter batch)
    assert len(batches) == 30 and trainer.state.epoch > 2 and sorted(batches)[3:] == [BATCH] * 27
    # Both kinds were trained on: pairs, whose labels start with <ug>, and UDHR text, whose labels are the clean
    # text (<s> first) and whose inputs have masked spans (a very short line may get none).
    mask, ug = setup.tokenizer.mask_token_id, language_token_id(setup.tokenizer, "ug")
    translation = [row for row in labels if row[0] == ug]
    denoising = [
        source for source, row in zip(inputs, labels, strict=True) if row[0] == setup.tokenizer.bos_token_id
    ]
    print(f"{len(denoising)} denoising and {len(translation)} translation examples of {len(inputs)}")
    assert len(denoising) + len(translation) == len(inputs)
    assert len(denoising) > 0.25 * len(inputs) and len(translation) > 0.25 * len(inputs)
    assert sum(mask in row for row in denoising) > 0.9 * len(denoising)

    losses = list(step_losses(trainer).values())
    assert len(losses) == 30 and mean(losses[-5:]) < 0.8 * mean(losses[:5])
    out = Path(args.output_dir)
    metrics = json.loads((out / "eval_results.json").read_text())
    assert metrics["eval_loss"] > 0 and 0.0 <= metrics["eval_chrf"] <= 100.0
    model = XLMSWCMForConditionalGeneration.from_pretrained(out)
    assert model.generation_config.forced_bos_token_id == ug
    for name, tensor in trainer.model.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], tensor, rtol=0, atol=0, msg=name)


def test_train_denoise_translate_resumes_like_an_uninterrupted_run(setup, tmp_path):
    # Checkpoint 3 of 6. The Trainer restores the optimizer, scheduler and RNG states (dropout) and replays the
    # stream up to step 3, which also replays the collator's noise: the resumed run trains on the same batches.
    overrides = dict(max_steps=6, save_steps=3, eval_strategy="no")
    options, args = tiny_run(
        setup, tmp_path, "denoise+translate", output_dir=str(tmp_path / "full"), **overrides
    )
    full = train(options, args, log=lambda line: None)
    checkpoint = tmp_path / "full" / "checkpoint-3"
    assert checkpoint.is_dir()

    args = tiny_run(setup, tmp_path, "denoise+translate", output_dir=str(tmp_path / "resumed"), **overrides)[
        1
    ]
    args.resume_from_checkpoint = str(checkpoint)
    resumed = train(options, args, log=lambda line: None)

    assert resumed.state.global_step == 6
    expected, got = step_losses(full), step_losses(resumed)
    assert sorted(expected) == sorted(got) == list(range(1, 7))  # steps 1-3 restored from the checkpoint
    for step in range(4, 7):
        assert got[step] == pytest.approx(expected[step], rel=0, abs=1e-6), step
    full_state, resumed_state = full.model.state_dict(), resumed.model.state_dict()
    for name, tensor in full_state.items():
        torch.testing.assert_close(resumed_state[name], tensor, rtol=0, atol=1e-6, msg=name)


def test_torchrun_two_processes_denoise_translate_end_with_identical_weights(setup, tmp_path):
    options, _ = tiny_run(setup, tmp_path, "denoise+translate")
    report_dir, out = tmp_path / "reports", tmp_path / "out"
    report_dir.mkdir()
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes=1",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={free_port()}",
        str(REPO / "modeling_tests" / "distributed_train.py"),
        str(report_dir),
        "--objective=denoise+translate",
        f"--model={options.model}",
        f"--data={options.data}",
        f"--text_files={options.text_files[0]}",
        f"--output_dir={out}",
        "--target_lang=ug",
        "--max_length=32",
        "--per_device_train_batch_size=4",
        "--max_steps=6",
        "--eval_steps=6",
        "--generation_max_length=8",
        "--learning_rate=3e-3",
        "--logging_steps=1",
        "--ddp_backend=gloo",
        "--use_cpu",
        "--disable_tqdm=true",
    ]
    start = time.perf_counter()
    result = subprocess.run(command, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    print(f"torchrun took {time.perf_counter() - start:.1f} s")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    reports = [json.loads((report_dir / f"rank{r}.json").read_text()) for r in (0, 1)]
    for rank, report in enumerate(reports):
        assert report["code"] == 0 and report["rank"] == rank and report["env_local_rank"] == rank
        assert report["world_size"] == 2 and report["backend"] == "gloo"
        assert report["wrapped_by"] == "DistributedDataParallel"
        assert len(report["batches"]) == 6 and all(len(batch) == 4 for batch in report["batches"])
    # Each rank trained on its own examples of the stream: none was trained twice (a pair may recur, the
    # noised text hardly).
    rows = [tuple(row) for report in reports for batch in report["batches"] for row in batch]
    assert reports[0]["batches"] != reports[1]["batches"]
    assert len(set(rows)) > 0.9 * len(rows)

    weights = [load_file(report_dir / f"rank{r}.safetensors") for r in (0, 1)]
    initial = load_seed(setup).state_dict()
    assert weights[0].keys() == weights[1].keys() == initial.keys()
    for name in weights[0]:
        torch.testing.assert_close(weights[1][name], weights[0][name], rtol=0, atol=0, msg=name)
    # ... and they trained: every tensor moved away from the seed.
    assert [name for name in initial if torch.equal(initial[name], weights[0][name])] == []
    # rank 0 saved the final model and its evaluation
    saved = XLMSWCMForConditionalGeneration.from_pretrained(out).state_dict()
    torch.testing.assert_close(saved["lm_head.weight"], weights[0]["lm_head.weight"], rtol=0, atol=0)
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 6
    assert "eval_chrf" in json.loads((out / "eval_results.json").read_text())


# ----------------------------------------------------------------------------------------------------------------
# python -m xlm_swcm.training, xlm-swcm-finetune
# ----------------------------------------------------------------------------------------------------------------
def run_train_command(setup, out: Path, *options: str) -> subprocess.CompletedProcess:
    """`python -m xlm_swcm.training` on the en -> ug pairs into `out`, small enough for a test; asserts it succeeds."""
    data = write_pairs(out.parent / "train.jsonl", setup.pairs, source="en", target="ug")
    command = [sys.executable, "-m", "xlm_swcm.training", "--model", str(setup.seed_dir), "--data", str(data)]
    command += [
        "--output_dir",
        str(out),
        "--source_column",
        "en",
        "--target_column",
        "ug",
        "--target_lang",
        "ug",
    ]
    command += ["--learning_rate", "3e-3", "--eval_fraction", "0.2", "--max_length", "32"]
    command += ["--generation_max_length", "16", "--disable_tqdm=true", *options]
    start = time.perf_counter()
    result = subprocess.run(command, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    print(f"xlm_swcm.training took {time.perf_counter() - start:.1f} s")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_train_translate_command_line(setup, tmp_path):
    out = tmp_path / "ft"
    result = run_train_command(setup, out, "--max_steps", "10", "--eval_steps", "5", "--logging_steps", "5")

    metrics = json.loads((out / "eval_results.json").read_text())
    for key in ("eval_loss", "eval_rougeL", "eval_rougeL_precision", "eval_rougeL_recall", "eval_chrf"):
        assert isinstance(metrics[key], float), key
    assert "train_loss" in json.loads((out / "train_results.json").read_text())
    # the table lists the evaluations at steps 5 and 10 (the final one, reused rather than computed twice)
    table = result.stdout[result.stdout.index("step | eval_loss") :].split("\n\n")[0]
    assert [line.split("|")[0].strip() for line in table.splitlines()[2:]] == ["5", "10"]
    state = json.loads((out / "trainer_state.json").read_text())
    assert metrics["eval_loss"] == [e for e in state["log_history"] if "eval_loss" in e][-1]["eval_loss"]
    # our defaults: checkpoints where the evaluations are, weight decay 0.01
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-10", "checkpoint-5"]
    assert torch.load(out / "training_args.bin", weights_only=False).weight_decay == 0.01

    model = XLMSWCMForConditionalGeneration.from_pretrained(out)
    initial = load_seed(setup)
    assert not torch.equal(model.lm_head.weight, initial.lm_head.weight)
    assert model.generation_config.forced_bos_token_id == language_token_id(setup.tokenizer, "ug")
    from transformers import AutoTokenizer

    assert (
        AutoTokenizer.from_pretrained(out)("Enter a number.").input_ids
        == setup.tokenizer("Enter a number.").input_ids
    )


def test_train_can_keep_the_checkpoint_with_the_best_chrf(setup, tmp_path):
    """With scarce data the lowest dev loss can come before the model generates anything (experiments/RESULTS.md,
    tier E20), so the guide advises keeping the checkpoint with the best chrF: transformers' own
    --load_best_model_at_end --metric_for_best_model chrf. The saved model is that checkpoint's weights."""
    out = tmp_path / "ft"
    best_by_chrf = ["--load_best_model_at_end", "--metric_for_best_model", "chrf"]
    run_train_command(setup, out, "--max_steps", "8", "--eval_steps", "2", *best_by_chrf)

    state = json.loads((out / "trainer_state.json").read_text())
    scores = {e["step"]: e["eval_chrf"] for e in state["log_history"] if "eval_chrf" in e}
    assert sorted(scores) == [2, 4, 6, 8]
    best_step = int(Path(state["best_model_checkpoint"]).name.split("-")[1])
    assert scores[best_step] == state["best_metric"] == max(scores.values())
    kept = load_file(out / f"checkpoint-{best_step}" / "model.safetensors")
    saved = load_file(out / "model.safetensors")
    assert sorted(kept) == sorted(saved)
    for name, tensor in kept.items():
        assert torch.equal(saved[name], tensor), name
    if best_step != 8:  # and not the last step's weights
        last = load_file(out / "checkpoint-8" / "model.safetensors")
        assert any(not torch.equal(saved[name], last[name]) for name in saved)


def test_finetune_alias_takes_its_old_spellings_and_resumes(setup, tmp_path):
    data = write_pairs(tmp_path / "train.jsonl", setup.pairs)
    out = tmp_path / "ft"
    common = [str(setup.seed_dir), str(data), "-o", str(out), "--eval-steps", "3", "--max-length", "32"]
    common += [
        "--generation-max-length",
        "8",
        "--logging-steps",
        "1",
        "--no-progress",
        "--learning-rate",
        "3e-3",
    ]
    common += ["--batch-size", "8", "--lr-scheduler", "constant", "--cpu"]
    assert finetune_main([*common, "--max-steps", "6"]) == 0
    assert (
        finetune_main([*common, "--max-steps", "6"]) == 2
    )  # a non-empty output folder needs --resume/--overwrite
    assert finetune_main([*common, "--max-steps", "9", "--resume"]) == 0
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 9 and state["train_batch_size"] == 8
    logged = [entry["step"] for entry in state["log_history"] if "loss" in entry]
    assert logged == list(range(1, 10))  # steps 1-6 from the first run (restored), 7-9 from the resumed one
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-6", "checkpoint-9"]
    args = torch.load(out / "training_args.bin", weights_only=False)
    assert args.lr_scheduler_type == "constant" and args.use_cpu and args.disable_tqdm


def test_finetune_takes_the_options_its_help_shows(setup, tmp_path, capsys):
    """`xlm-swcm-finetune --help` lists --model/--data and MODEL/DATA: both spellings run; one of each, or neither,
    is one error line (not argparse's page of usage)."""
    data = write_pairs(tmp_path / "train.jsonl", setup.pairs[:8])
    common = ["--max_steps", "1", "--eval_strategy", "no", "--cpu", "--no-progress", "--max-length", "32"]
    shown = build_parser("xlm-swcm-finetune")  # what finetune_main adds to it is checked through --help below
    with pytest.raises(SystemExit):
        finetune_main(["--help"])
    help_text = capsys.readouterr().out
    assert "--model MODEL" in help_text and "--data DATA" in help_text and "MODEL" in shown.format_help()
    assert (
        finetune_main(
            ["--model", str(setup.seed_dir), "--data", str(data), "-o", str(tmp_path / "a"), *common]
        )
        == 0
    )
    assert finetune_main([str(setup.seed_dir), str(data), "-o", str(tmp_path / "b"), *common]) == 0
    trained = [load_file(tmp_path / name / "model.safetensors") for name in ("a", "b")]
    assert trained[0].keys() == trained[1].keys()
    # the same run, either way
    assert all(torch.equal(trained[0][key], trained[1][key]) for key in trained[0])
    capsys.readouterr()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for argv, message in [
        (
            [str(setup.seed_dir), str(data), "--model", str(tmp_path / "a"), "-o", str(tmp_path / "c")],
            "give one of them",
        ),
        (["--data", str(data), "-o", str(tmp_path / "c")], "the model is missing: give --model MODEL"),
    ]:
        assert finetune_main([*argv, *common]) == 2
        err = capsys.readouterr().err
        assert [line for line in err.splitlines() if line.strip()] == [
            line for line in err.splitlines() if message in line
        ]
        assert len(err.splitlines()) == 1, err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "c").exists()


def test_unknown_option_is_argparse_s_two_lines(capsys):
    """Not HfArgumentParser's "Some specified arguments are not used by the HfArgumentParser: [...]"."""
    for run, given in ((main, "--epochs 3"), (finetune_main, "--epoch=3")):  # --epochs: finetune's spelling
        with pytest.raises(SystemExit) as exit_info:
            run(["--model", "m", "--data", "d.jsonl", "--output_dir", "o", *given.split()])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 2 and err[0].startswith("usage: xlm-swcm-"), err
        assert err[1].endswith(f": error: unrecognized arguments: {given}"), err


def test_output_dir_is_required(setup, tmp_path, capsys, monkeypatch):
    """As the usage line says: without it transformers would train into ./trainer_output."""
    data = write_pairs(tmp_path / "train.jsonl", setup.pairs[:4])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(training, "_load_model", lambda path: pytest.fail("loaded before the refusal"))
    assert main(["--model", str(setup.seed_dir), "--data", str(data), "--max_steps", "1"]) == 2
    assert (
        capsys.readouterr().err
        == "xlm-swcm-train: error: the output folder is missing: give --output_dir DIR.\n"
    )
    assert finetune_main([str(setup.seed_dir), str(data), "--max_steps", "1"]) == 2
    assert capsys.readouterr().err.endswith(
        "error: the output folder is missing: give --output_dir DIR (or -o DIR).\n"
    )
    assert os.listdir(tmp_path) == ["train.jsonl"]


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing_file", "--data {tmp}/nope.jsonl does not exist: check the path (a .jsonl, .csv"),
        ("missing_eval_file", "--eval_data {tmp}/nope.csv does not exist: check the path (a .jsonl, .csv"),
        ("missing_column", "has no column 'text'"),
        ("not_checkpoint", "not a model checkpoint (no config.json"),
        ("wrong_model", "holds a 'xlm-roberta' model, not XLM-SWCM"),
        ("output_exists", "already exists and is not empty"),
        ("no_checkpoint_to_resume", "holds no checkpoint-* folder"),
        ("stream_without_max_steps", "an epoch's length is unknown: set --max_steps"),
        ("no_text_files", "needs --text_files"),
        ("missing_text_file", "do not exist"),
        ("text_files_with_translate", "only read by --objective denoise+translate"),
        ("config_field_of_wrong_type", "expected int, got str"),
        ("output_is_the_model", "is the --model"),
        ("data_in_output", "contains the --data"),
        ("text_file_in_output", "contains the --text_files"),
        # issue 24: each refused before the model loads (see `no_model_load` below), in one line
        ("truncated_weights", "model.safetensors is not a readable safetensors file, corrupt or truncated"),
        ("missing_shard", "weights file model-00002-of-00004.safetensors is missing"),
        ("empty_text_file", "--text_files {tmp}/empty.txt is empty (no non-blank line)"),
        ("blank_text_file", "--text_files {tmp}/empty.txt is empty (no non-blank line)"),
        ("max_steps_0", "--max_steps must be at least 1, got 0; leave it out to train"),
        ("max_steps_negative", "--max_steps must be at least 1, got -5;"),
        ("max_steps_minus_one", "--max_steps must be at least 1, got -1;"),
        ("epochs_0", "--num_train_epochs must be more than 0, got 0.0"),
        ("eval_fraction_above_1", "--eval_fraction must be between 0 and 1, got 1.5"),
        (
            "target_lang_typo",
            "--target_lang xx: the tokenizer has no <xx> token (its language tokens are <ug>)",
        ),
        ("source_lang_typo", "--source_lang ugg: the tokenizer has no <ugg> token"),
        ("target_lang_pad", "--target_lang: Language code 'pad' makes <pad>, the name of a special token"),
        (
            "row_target_lang_unk",
            "Rows ask for target languages ['unk'], which name special tokens",
        ),
        (
            "jsonl_not_utf8",
            "--data {tmp}/cp1252.jsonl, line 3: not UTF-8 text (byte 0xe9): save the file as UTF-8",
        ),
        (
            "csv_not_utf8",
            "--data {tmp}/cp1252.csv, line 2: not UTF-8 text (byte 0xe9): save the file as UTF-8",
        ),
        ("eval_data_not_utf8", "--eval_data {tmp}/cp1252.jsonl, line 3: not UTF-8 text"),
        ("text_file_not_utf8", "--text_files {tmp}/cp1252.txt, line 2: not UTF-8 text (byte 0xe9)"),
        ("broken_json_line", "--data {tmp}/broken.jsonl, line 2: not valid JSON (Expecting"),
        ("json_line_not_object", "--data {tmp}/broken.jsonl, line 2: a JSON list, not an object"),
        ("jsonl_row_is_line", "{tmp}/gaps.jsonl, line 5: column 'target' holds None, not a string"),
        ("csv_row_is_line", "{tmp}/gaps.csv, line 4: column 'target' holds None, not a string"),
        ("tokenizer_is_config_json", 'is a JSON file but not a tokenizer.json (it has no "model" entry)'),
        # an --output_dir that cannot be written is refused at once, not by a traceback when the Trainer starts
        (
            "output_is_a_file",
            "{tmp}/a-file already exists and is a file, not a folder; choose another output",
        ),
        ("output_under_a_file", "{tmp}/a-file/out cannot be made: {tmp}/a-file is a file, not a folder"),
        ("output_not_writable", "Cannot write {tmp}/out: {tmp} does not take new files (Permission denied)"),
    ],
)
def test_train_command_line_errors(setup, tmp_path, capsys, monkeypatch, request, case, message):
    data, text = (
        write_pairs(tmp_path / "train.jsonl", setup.pairs[:4]),
        write_text(tmp_path / "t.txt", ["a b."]),
    )
    model, out = str(setup.seed_dir), tmp_path / "out"
    extra = ["--max_steps", "1"]
    if case == "missing_file":
        data = tmp_path / "nope.jsonl"
    elif case == "missing_eval_file":
        extra += ["--eval_data", str(tmp_path / "nope.csv")]
    elif case == "missing_column":
        extra += ["--source_column", "text"]
    elif case == "not_checkpoint":
        model = str(tmp_path)
    elif case == "wrong_model":
        XLMRobertaConfig(
            vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2
        ).save_pretrained(tmp_path / "xlmr")
        model = str(tmp_path / "xlmr")
    elif case in ("output_exists", "no_checkpoint_to_resume"):
        out.mkdir()
        (out / "something.txt").write_text("x")
        extra += ["--resume_from_checkpoint", "last"] if case == "no_checkpoint_to_resume" else []
    elif case == "stream_without_max_steps":
        extra = ["--objective", "denoise+translate", "--text_files", str(text)]
    elif case == "no_text_files":
        extra += ["--objective", "denoise+translate"]
    elif case == "missing_text_file":
        extra += ["--objective", "denoise+translate", "--text_files", str(text), str(tmp_path / "nope.txt")]
    elif case == "text_files_with_translate":
        extra += ["--text_files", str(text)]
    elif case == "config_field_of_wrong_type":  # transformers' strict config check, as one line
        model = str(shutil.copytree(setup.seed_dir, tmp_path / "seed"))
        config = json.loads((tmp_path / "seed" / "config.json").read_text())
        (tmp_path / "seed" / "config.json").write_text(json.dumps({**config, "num_attention_heads": "4"}))
    elif case == "output_is_the_model":  # --overwrite_output_dir would replace the seed being trained
        out = shutil.copytree(setup.seed_dir, tmp_path / "seed")
        model = str(out)
        extra += ["--overwrite_output_dir"]
    elif case in ("data_in_output", "text_file_in_output"):
        out.mkdir()
        data = write_pairs(out / "train.jsonl", setup.pairs[:4])
        text = write_text(out / "t.txt", ["a b."])
        extra += ["--overwrite_output_dir"]
        if case == "text_file_in_output":
            data = write_pairs(tmp_path / "elsewhere.jsonl", setup.pairs[:4])
            extra += ["--objective", "denoise+translate", "--text_files", str(text)]
    elif case == "truncated_weights":
        model = str(shutil.copytree(setup.seed_dir, tmp_path / "seed"))
        weights = tmp_path / "seed" / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif case == "missing_shard":
        load_seed(setup).save_pretrained(tmp_path / "seed", max_shard_size="100KB")
        setup.tokenizer.save_pretrained(tmp_path / "seed")
        (tmp_path / "seed" / "model-00002-of-00004.safetensors").unlink()
        model = str(tmp_path / "seed")
    elif case in ("empty_text_file", "blank_text_file"):
        empty = tmp_path / "empty.txt"
        empty.write_text("" if case == "empty_text_file" else "\n  \n\n", encoding="utf-8")
        extra += ["--objective", "denoise+translate", "--text_files", str(text), str(empty)]
    elif case == "max_steps_0":
        extra = ["--max_steps", "0"]
    elif case == "max_steps_negative":
        extra = ["--max_steps", "-5"]
    elif case == "max_steps_minus_one":
        extra = ["--max_steps=-1"]
    elif case == "epochs_0":
        extra = ["--num_train_epochs", "0"]
    elif case == "eval_fraction_above_1":
        extra += ["--eval_fraction", "1.5"]
    elif case == "target_lang_typo":
        extra += ["--target_lang", "xx"]
    elif case == "target_lang_pad":
        extra += ["--target_lang", "pad"]
    elif case == "row_target_lang_unk":
        data = tmp_path / "rows.jsonl"
        data.write_text('{"source": "a", "target": "b", "target_lang": "unk"}\n' * 4, encoding="utf-8")
    elif case == "source_lang_typo":
        extra += ["--source_lang", "ugg", "--target_lang", "ug"]
    elif case in ("jsonl_not_utf8", "eval_data_not_utf8"):
        lines = [json.dumps({"source": f"s{i}", "target": f"t{i}"}) for i in range(4)]
        lines[2] = '{"source": "caf\xe9", "target": "t"}'  # line 3, written as Windows-1252
        bad = tmp_path / "cp1252.jsonl"
        bad.write_bytes("\n".join(lines).encode("cp1252") + b"\n")
        if case == "eval_data_not_utf8":
            extra += ["--eval_data", str(bad)]
        else:
            data = bad
    elif case == "csv_not_utf8":
        data = tmp_path / "cp1252.csv"
        data.write_bytes("source,target\ncaf\xe9,t\na,b\n".encode("cp1252"))
    elif case == "text_file_not_utf8":
        bad = tmp_path / "cp1252.txt"
        bad.write_bytes("first line\ncaf\xe9\n".encode("cp1252"))
        extra += ["--objective", "denoise+translate", "--text_files", str(bad)]
    elif case in ("broken_json_line", "json_line_not_object"):
        data = tmp_path / "broken.jsonl"
        second = '{"source": "a",' if case == "broken_json_line" else '["a", "b"]'
        data.write_text(f'{{"source": "a", "target": "b"}}\n{second}\n', encoding="utf-8")
    elif case == "jsonl_row_is_line":
        # row 2 (0-based) is line 5: a blank line and a spaces-only line come before it
        data = tmp_path / "gaps.jsonl"
        rows = ['{"source": "a", "target": "b"}', "", '{"source": "c", "target": "d"}', "   "]
        rows += ['{"source": "e", "target": null}', '{"source": "f", "target": "g"}']
        data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    elif case == "csv_row_is_line":
        # row 1 (0-based) is line 4: a quoted cell over two lines comes before it
        data = tmp_path / "gaps.csv"
        data.write_text('source,target\n"two\nlines",b\nc,\ne,f\n', encoding="utf-8")
    elif case == "tokenizer_is_config_json":
        extra += ["--tokenizer", str(setup.seed_dir / "config.json")]
    elif case in ("output_is_a_file", "output_under_a_file"):
        (tmp_path / "a-file").write_text("not a folder\n")
        out = tmp_path / "a-file" / ("out" if case == "output_under_a_file" else "")
    elif case == "output_not_writable":
        request.getfixturevalue("refused_new_folders")
    message = message.format(tmp=tmp_path)

    def no_model_load(path):
        raise AssertionError(f"the model was loaded before the refusal ({case})")

    monkeypatch.setattr(training, "_load_model", no_model_load, raising=False)
    if case != "tokenizer_is_config_json":  # transformers' tokenizer takes seconds for XLM-R's vocabulary

        def no_tokenizer_load(source, config):
            raise AssertionError(f"the tokenizer was loaded before the refusal ({case})")

        monkeypatch.setattr(training, "_load_tokenizer", no_tokenizer_load, raising=False)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code = main(["--model", model, "--data", str(data), "--output_dir", str(out), *extra])
    assert code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]  # (loading bars may come before)
    assert len(errors) == 1 and message in errors[0], err
    # the user's files (the model, the data, an output folder) are left alone
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_finetune_refuses_tie_mode_with_layerwise_fsdp():

    def trainer(fsdp: bool, policy):
        plugin = SimpleNamespace(auto_wrap_policy=policy)
        return SimpleNamespace(
            is_fsdp_enabled=fsdp, accelerator=SimpleNamespace(state=SimpleNamespace(fsdp_plugin=plugin))
        )

    tie, copy = SimpleNamespace(weight_sharing="tie"), SimpleNamespace(weight_sharing="copy")
    with pytest.raises(TrainingError, match="weight_sharing='tie'"):
        check_fsdp_sharing(trainer(True, lambda *a: True), tie)
    check_fsdp_sharing(trainer(True, None), tie)  # NO_WRAP: one unit keeps the ties
    check_fsdp_sharing(trainer(True, lambda *a: True), copy)
    check_fsdp_sharing(trainer(False, None), tie)


# ----------------------------------------------------------------------------------------------------------------
# docs/ configs
# ----------------------------------------------------------------------------------------------------------------
def test_accelerate_fsdp_config_wraps_every_layer():
    yaml = pytest.importorskip("yaml")
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import FullyShardedDataParallelPlugin
    from accelerate.utils.fsdp_utils import fsdp2_prepare_auto_wrap_policy

    from xlm_swcm import XLMSWCMConfig

    path = REPO / "docs" / "accelerate_fsdp.yaml"
    assert load_config_from_file(str(path)).distributed_type == "FSDP"  # accelerate's own reader accepts it
    fsdp = yaml.safe_load(path.read_text())["fsdp_config"]
    plugin = FullyShardedDataParallelPlugin(
        fsdp_version=fsdp["fsdp_version"],
        auto_wrap_policy=fsdp["fsdp_auto_wrap_policy"],
        transformer_cls_names_to_wrap=fsdp["fsdp_transformer_layer_cls_to_wrap"].split(","),
    )
    config = XLMSWCMConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        insert_every=1,
    )
    model = XLMSWCMForConditionalGeneration(config)
    policy = fsdp2_prepare_auto_wrap_policy(plugin, model)
    wrapped = [name for name, module in model.named_modules() if policy(module)]
    expected = [f"model.encoder.layers.{i}" for i in range(2)] + [
        f"model.decoder.layers.{j}" for j in range(3)
    ]
    assert wrapped == expected


def test_deepspeed_configs():
    from accelerate.commands.config.config_args import load_config_from_file

    settings = json.loads((REPO / "docs" / "deepspeed_zero2.json").read_text())
    assert settings["zero_optimization"]["stage"] == 2
    # values the Trainer fills in from its own arguments, so the command line stays the single source of truth
    for key in ("train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "gradient_clipping"):
        assert settings[key] == "auto"
    accelerate_config = load_config_from_file(str(REPO / "docs" / "accelerate_deepspeed.yaml"))
    assert accelerate_config.distributed_type == "DEEPSPEED"
    assert accelerate_config.deepspeed_config["deepspeed_config_file"] == "docs/deepspeed_zero2.json"


def test_train_rows_with_their_own_target_languages(setup, tmp_path):
    """A `target_lang` column gives each pair its own target-language token; with several languages the saved
    model is not forced to one; a language the tokenizer lacks is refused before training."""
    import copy

    from xlm_swcm.training import _tokenize, load_pairs

    model, tokenizer = load_seed(setup), copy.deepcopy(setup.tokenizer)
    add_language_tokens(tokenizer, model, ["zh"])
    seed_dir = tmp_path / "seed"
    model.save_pretrained(seed_dir)
    tokenizer.save_pretrained(seed_dir)
    langs = ["ug", "zh", ""] * (len(setup.pairs) // 3)
    data = tmp_path / "pairs.jsonl"
    data.write_text(
        "".join(
            json.dumps({"source": en, "target": ug, "target_lang": lang}, ensure_ascii=False) + "\n"
            for (en, ug), lang in zip(setup.pairs, langs, strict=True)
        ),
        encoding="utf-8",
    )
    pairs, _ = load_pairs(data, eval_fraction=0)
    labels = _tokenize(pairs, tokenizer, 32, None, "ug")["labels"]
    expected = [language_token_id(tokenizer, lang or "ug") for lang in langs]
    assert [row[0] for row in labels] == expected and len(set(expected)) == 2

    options = TrainOptions(model=str(seed_dir), data=str(data), target_lang="ug", max_length=32)

    def args(name):
        return TrainingArguments(
            output_dir=str(tmp_path / name), max_steps=2, eval_strategy="no", use_cpu=True
        )

    trained = train(options, args("out"), log=lambda _: None).model
    assert trained.generation_config.forced_bos_token_id is None  # two languages: the model picks the token

    data.write_text(data.read_text(encoding="utf-8").replace('"zh"', '"bo"'), encoding="utf-8")
    with pytest.raises(TrainingError, match=r"\['bo'\].*--add-language-tokens bo"):
        train(options, args("out2"), log=lambda _: None)
