"""The main job (`xlm-swcm-demo`) end to end with a tiny step budget, and its input errors."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from xlm_swcm_demo import assets
from xlm_swcm_demo.demo import main as demo_main


def run_demo(*args, cwd):
    command = (
        [shutil.which("xlm-swcm-demo")]
        if shutil.which("xlm-swcm-demo")
        else [sys.executable, "-m", "xlm_swcm_demo.demo"]
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    missing = [name for name, ok in assets.assets_available().items() if not ok]
    if missing:
        pytest.skip(f"demo assets not installed: {missing} (see README: pip install -e '.[demo]' ...)")
    cwd = tmp_path_factory.mktemp("demo")
    result = run_demo("--quick", "--output-dir", "out", cwd=cwd)
    return result, cwd / "out"


def test_quick_demo_runs_every_stage(quick_run):
    result, out = quick_run
    assert result.returncode == 0, result.stderr[-3000:]
    stages = [line.split("]")[0] + "]" for line in result.stdout.splitlines() if line.startswith("[")]
    assert stages == [f"[{i}/6]" for i in range(1, 7)]  # each stage once, numbered in order
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["after"]) == {"all", "en-ug", "zh-ug"}
    for split in ("before", "after"):
        for scores in metrics[split].values():
            assert 0.0 <= scores["rougeL"] <= 100.0 and 0.0 <= scores["chrf"] <= 100.0
    assert len(metrics["losses"]) == 3 and all(loss > 0 for _, loss in metrics["losses"])
    # vocabulary extension removed <unk> for the uncovered scripts of the corpus
    seed = metrics["seed"]
    assert seed["unk_rate_before"]["Tibetan"] > 0.3 and seed["unk_rate_after"]["Tibetan"] == 0.0
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| held-out set |" in (out / "results.md").read_text()


def test_quick_demo_model_reloads_with_auto(quick_run):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    result, out = quick_run
    assert result.returncode == 0
    model = AutoModelForSeq2SeqLM.from_pretrained(out / "model")
    tokenizer = AutoTokenizer.from_pretrained(out / "model")
    assert model.config.model_type == "xlm-swcm"
    assert model.config.vocab_size == model.get_input_embeddings().num_embeddings
    assert len(tokenizer) <= model.config.vocab_size
    batch = tokenizer(["Czech"], return_tensors="pt")
    ids = model.generate(**batch, max_new_tokens=3, min_new_tokens=3)
    assert ids[0, 1].item() == tokenizer.convert_tokens_to_ids("<ug>")  # target language forced first
    assert torch.all(ids < model.config.vocab_size)


def test_demo_refuses_to_overwrite(tmp_path, monkeypatch, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("precious")
    monkeypatch.chdir(tmp_path)
    assert demo_main(["--quick", "--output-dir", "out"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "out" / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize(
    ("option", "path"),
    [("--tokenizer", "out/model"), ("--data", "out/model/pairs.jsonl"), ("--data", "out/results.md")],
)
def test_demo_overwrite_never_replaces_an_input(tmp_path, monkeypatch, capsys, option, path):
    """--overwrite replaces out/model and the result files: an input among them is refused, and survives."""
    target = tmp_path / path
    folder = target if option == "--tokenizer" else target.parent
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer.json").write_text("{}")
    if option == "--data":
        target.write_text('{"source": "a", "target": "b"}\n')
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    monkeypatch.chdir(tmp_path)  # in process: the refusal comes before anything is loaded
    assert demo_main(["--quick", option, path, "--output-dir", "out", "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "would destroy" in err and path in err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_demo_overwrite_keeps_a_foreign_model_folder(tmp_path, monkeypatch, capsys):
    """out/model that is not an XLM-SWCM checkpoint is refused before any work, and kept."""
    (tmp_path / "out" / "model").mkdir(parents=True)
    (tmp_path / "out" / "model" / "notes.txt").write_text("precious")
    monkeypatch.chdir(tmp_path)
    assert demo_main(["--quick", "--output-dir", "out", "--overwrite"]) == 2
    assert "is not an XLM-SWCM checkpoint" in capsys.readouterr().err
    assert (tmp_path / "out" / "model" / "notes.txt").read_text() == "precious"


def test_demo_missing_data_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert demo_main(["--quick", "--data", "nope.jsonl", "--output-dir", "out"]) == 2  # before anything loads
    err = capsys.readouterr().err
    assert "nope.jsonl" in err and "does not exist" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("output_dir", "message"),
    [
        ("a-file", "a-file already exists and is a file, not a folder; choose another output folder."),
        (
            "a-file/out",
            "a-file/out cannot be made: a-file is a file, not a folder; choose another output folder.",
        ),
    ],
)
def test_demo_output_dir_that_cannot_be_a_folder(tmp_path, monkeypatch, capsys, output_dir, message):
    """Refused in one line before anything loads, not by a traceback (after the training, for a-file/out)."""
    (tmp_path / "a-file").write_text("precious")
    monkeypatch.chdir(tmp_path)
    assert demo_main(["--quick", "--output-dir", output_dir]) == 2
    assert capsys.readouterr().err == f"xlm-swcm-demo: error: {message}\n"
    assert sorted(os.listdir(tmp_path)) == ["a-file"] and (tmp_path / "a-file").read_text() == "precious"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-steps", "-1", "--max-steps must be at least 1, got -1."),
        ("--batch-size", "0", "--batch-size must be at least 1, got 0."),
        ("--max-length", "0", "--max-length must be at least 3, got 0."),
        ("--eval-groups", "0", "--eval-groups must be at least 1, got 0."),
        ("--insert-every", "0", "--insert-every must be at least 1, got 0."),
        ("--new-pieces", "0", "--new-pieces must be at least 1, got 0."),
        ("--learning-rate", "-1", "--learning-rate must be more than 0, got -1.0."),
    ],
)
def test_demo_numbers_out_of_range(tmp_path, monkeypatch, capsys, option, value, message):
    """One line before anything loads; not a traceback (or, for --max-steps, a line about --text_files) after
    the encoder was loaded, the seed built and evaluated."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(assets, "require", lambda *names: pytest.fail("assets loaded before the refusal"))
    assert demo_main(["--quick", option, value, "--output-dir", "out"]) == 2
    assert capsys.readouterr().err == f"xlm-swcm-demo: error: {message}\n"
    assert os.listdir(tmp_path) == []


def test_every_option_has_help_and_shows_its_default():
    from xlm_swcm_demo.demo import build_parser

    parser = build_parser()
    assert [a.option_strings for a in parser._actions if not a.help] == []
    assert "(default: 200)" in parser.format_help()


@pytest.fixture(scope="module")
def own_encoder_run(tmp_path_factory):
    """The demo on the user's own encoder folder, tokenizer folder and JSON-lines pairs (a tiny XLM-R-shaped
    encoder with the real XLM-R tokenizer)."""
    if not all(assets.assets_available().values()):
        pytest.skip("demo assets not installed (see README)")
    from transformers import XLMRobertaConfig, XLMRobertaModel

    root = tmp_path_factory.mktemp("own")
    tokenizer = assets.load_xlmr_tokenizer()
    tokenizer.save_pretrained(root / "tokenizer")
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=130,
    )
    XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(root / "encoder")
    with open(root / "pairs.jsonl", "w", encoding="utf-8") as handle:
        for i in range(12):
            pair = {"source": f"hello world {i}", "target": f"سالام دۇنيا {i}", "target_lang": "ug"}
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    args = ["--quick", "--encoder", "encoder", "--tokenizer", "tokenizer", "--data", "pairs.jsonl"]
    return run_demo(*args, "--output-dir", "out", cwd=root), root


def test_demo_with_own_encoder_and_tokenizer(own_encoder_run):
    result, root = own_encoder_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    metrics = json.loads((root / "out" / "metrics.json").read_text())
    assert set(metrics["after"]) == {"all", "to-ug"}
    assert "Encoder: encoder;" in (root / "out" / "results.md").read_text()


def test_demo_with_an_encoder_folder_without_tokenizer(own_encoder_run, tmp_path):
    _, root = own_encoder_run
    result = run_demo("--quick", "--encoder", str(root / "encoder"), "--output-dir", "out", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("xlm-swcm-demo: error:")]
    assert len(errors) == 1 and "No tokenizer at" in errors[0] and "--tokenizer" in errors[0]
