"""`xlm-swcm-convert` never loses data and answers every bad input with one clear line (issue 12).

The command-line cases run in ONE subprocess (`DRIVER`: each case is a fresh `main(argv)` with its own stderr),
so torch and transformers are imported once. Every case checks the exit code, exactly one `error:` line on stderr,
no traceback, and that the source and an earlier output are byte for byte what they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import XLMRobertaConfig, XLMRobertaModel

from xlm_swcm import XLMSWCMForConditionalGeneration, conversion
from xlm_swcm.conversion import main

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
TINY = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=4,
    num_attention_heads=4,
    intermediate_size=64,
    max_position_embeddings=64,
)

# argv lists in, [{"rc", "stdout", "stderr"}] out; a case that raises reports the traceback as its stderr.
DRIVER = r"""
import contextlib, io, json, sys, traceback
from xlm_swcm.conversion import main

results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except BaseException:
            rc = "raised"
            traceback.print_exc()
    results.append({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps(results))
"""


def save_encoder(folder: Path, **changes) -> Path:
    """A tiny random XLM-R encoder (no tokenizer files), config.json edited by `changes` after saving."""
    from transformers.utils import logging as hf_logging

    torch.manual_seed(0)
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Writing model shards" bar in the stderr that tests read
    try:
        XLMRobertaModel(XLMRobertaConfig(**TINY), add_pooling_layer=False).save_pretrained(folder)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    if changes:
        config = json.loads((folder / "config.json").read_text())
        config.update(changes)
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def earlier_output(out: Path) -> None:
    """A folder as an earlier conversion left it (as far as --overwrite looks): config.json of an XLM-SWCM model."""
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"model_type": "xlm-swcm"}))
    (out / "keep.txt").write_text("earlier output\n")


def digest(path: Path) -> dict[str, str]:
    """Content hash of every file below `path` (symlinks not followed)."""
    if not path.exists():
        return {}
    if path.is_file():  # a file given as OUT: its own bytes
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Builds the folders of every case, runs all cases in one driver process, returns (results, root, before)."""
    root = tmp_path_factory.mktemp("safety")
    # Each case that could destroy its source gets its own copy, so that one regression cannot hide another.
    parent = root / "c-parent"
    save_encoder(parent / "src")
    save_encoder(root / "c-source" / "src")
    save_encoder(root / "c-inside" / "src")
    save_encoder(root / "c-link" / "parent" / "src")
    (root / "c-link" / "linked").symlink_to(
        root / "c-link" / "parent", target_is_directory=True
    )  # OUT via link
    elsewhere = save_encoder(root / "elsewhere" / "enc")
    (root / "holder").mkdir()
    (root / "holder" / "enc-link").symlink_to(
        elsewhere, target_is_directory=True
    )  # SOURCE: a link inside OUT
    old_out = root / "old-out"
    old_out.mkdir()
    (old_out / "corpus.txt").write_text("a corpus the user still needs\n")
    (root / "foreign").mkdir()
    (root / "foreign" / "notes.txt").write_text("not a checkpoint: a mistyped OUT must not delete it\n")
    (root / "a-file.txt").write_text("a file, not an output folder\n")
    source = save_encoder(root / "base" / "src")  # for the cases that cannot lose it
    save_encoder(root / "fewer-layers", num_hidden_layers=2)
    save_encoder(root / "narrower-ffn", intermediate_size=48)
    save_encoder(root / "string-size", hidden_size="32")
    # sharded, one shard gone: the completeness check convert shares with train and push
    XLMRobertaModel(XLMRobertaConfig(**TINY), add_pooling_layer=False).save_pretrained(
        root / "sharded", max_shard_size="20KB"
    )
    lost_shard = sorted((root / "sharded").glob("model-*.safetensors"))[-1]
    lost_shard.unlink()
    s, r = str(source), str(root)
    cases = {
        "out-is-parent": ([f"{r}/c-parent/src", f"{r}/c-parent", "--overwrite"], 2, "contains the source"),
        "out-is-source": ([f"{r}/c-source/src", f"{r}/c-source/src", "--overwrite"], 2, "is the source"),
        "out-in-source": ([f"{r}/c-inside/src", f"{r}/c-inside/src/seed"], 2, "is inside the source folder"),
        "out-via-symlink": ([f"{r}/c-link/parent/src", f"{r}/c-link/linked", "--overwrite"], 2,
                            "contains the source"),
        "source-link-in-out": ([f"{r}/holder/enc-link", f"{r}/holder", "--overwrite"], 2, "contains the source"),
        "corpus-in-out": ([s, str(old_out), "--overwrite", "--trim-vocab", f"{old_out}/corpus.txt"], 2,
                          "contains the --trim-vocab"),
        "overwrite-foreign-folder": ([s, f"{r}/foreign", "--overwrite"], 2, "is not an XLM-SWCM checkpoint"),
        "overwrite-a-file": ([s, f"{r}/a-file.txt", "--overwrite"], 2, "is a file, not an output folder"),
        # without --overwrite the same refusals, not a hint to pass --overwrite (which would be refused next)
        "a-file": ([s, f"{r}/a-file.txt"], 2, "a-file.txt already exists and is a file, not an output folder: "
                   "choose another output folder"),
        "foreign-folder": ([s, f"{r}/foreign"], 2, "foreign already exists and is not an XLM-SWCM checkpoint"),
        "language-code-unk": ([s, f"{r}/out-lang", "--add-language-tokens", "bo,unk,pad"], 2,
                              "--add-language-tokens: Language code 'unk' makes <unk>, the name of a special token"),
        "language-code-s": ([s, f"{r}/out-lang", "--add-language-tokens", "s"], 2, "Language code 's' makes <s>"),
        "tokenizer-is-config": ([s, f"{r}/out-tokcfg", "--tokenizer", f"{s}/config.json"], 2,
                                "config.json' is a JSON file but not a tokenizer.json (it has no \"model\" entry)"),
        "missing-shard": ([f"{r}/sharded", f"{r}/out-sharded"], 2,
                          f"weights file {lost_shard.name} is missing"),
        "no-tokenizer": ([s, f"{r}/out-tok", "--add-language-tokens", "bo"], 2, "No tokenizer at"),
        "fewer-layers": ([f"{r}/fewer-layers", f"{r}/out-layers"], 2,
                         "hold 4 encoder layers but its config.json declares num_hidden_layers=2"),
        "shapes": ([f"{r}/narrower-ffn", f"{r}/out-shapes"], 2,
                   "encoder.layer.0.intermediate.dense.bias has shape (64,) in the weights but (48,) by the config"),
        "config-field-type": ([f"{r}/string-size", f"{r}/out-type"], 2, "'hidden_size' expected int, got str"),
        "no-such-folder": (["src22", f"{r}/out-nope"], 2, "'src22': no such folder"),
        "no-such-dot-folder": (["./nope", f"{r}/out-nope"], 2, "'./nope': no such folder"),
        "no-such-tokenizer": ([s, f"{r}/out-nope", "--tokenizer", "tok22"], 2, "'tok22': no such folder"),
        "keep-top-0": ([s, f"{r}/out-keep", "--trim-vocab", f"{old_out}/corpus.txt", "--keep-top", "0"], 2,
                       "--keep-top 0 is too small"),
        "insert-every-0": ([s, f"{r}/out-x0", "--insert-every", "0"], 2, "--insert-every must be at least 1"),
    }  # fmt: skip
    watched = [root / name for name in ("c-parent", "c-source", "c-inside", "c-link", "base", "holder")]
    watched += [elsewhere, old_out, root / "foreign", root / "a-file.txt", root / "sharded"]
    before = {str(p): digest(p) for p in watched}
    # No offline flags: a path mistaken for a Hub id would reach the (unreachable, closed-port) endpoint.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(PYTHONPATH=str(SRC), HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(root / "hf-home"))
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps([argv for argv, _, _ in cases.values()])],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = dict(zip(cases, json.loads(proc.stdout.strip().splitlines()[-1]), strict=True))
    return {name: (results[name], code, message) for name, (_, code, message) in cases.items()}, root, before


CASES = [
    "out-is-parent",
    "out-is-source",
    "out-in-source",
    "out-via-symlink",
    "source-link-in-out",
    "corpus-in-out",
    "overwrite-foreign-folder",
    "overwrite-a-file",
    "a-file",
    "foreign-folder",
    "language-code-unk",
    "language-code-s",
    "tokenizer-is-config",
    "missing-shard",
    "no-tokenizer",
    "fewer-layers",
    "shapes",
    "config-field-type",
    "no-such-folder",
    "no-such-dot-folder",
    "no-such-tokenizer",
    "keep-top-0",
    "insert-every-0",
]


@pytest.mark.parametrize("name", CASES)
def test_cli_refusal_is_one_line_and_loses_nothing(runs, name):
    results, root, before = runs
    result, code, message = results[name]
    stderr = result["stderr"]
    assert result["rc"] == code, stderr
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("xlm-swcm-convert: error:"), stderr
    assert message in errors[0]
    assert "pass --overwrite" not in errors[0] or name not in ("a-file", "foreign-folder", "overwrite-a-file")
    for folder, files in before.items():
        assert digest(Path(folder)) == files, f"{name} changed {folder}"
    assert not [p for p in root.glob("out-*")], "a refused run wrote an output folder"


def test_refusals_that_need_no_model_come_before_loading(tmp_path, monkeypatch, capsys):
    source = save_encoder(tmp_path / "src")

    def no_loading(*args, **kwargs):
        raise AssertionError("the encoder was loaded before the arguments were checked")

    monkeypatch.setattr(conversion, "load_encoder", no_loading)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    (tmp_path / "no-files").mkdir()  # a --tokenizer folder without tokenizer files
    for argv, message in (
        (["--insert-every", "0"], "--insert-every must be at least 1"),
        (["--insert-every", "-2"], "--insert-every must be at least 1"),
        (["--new-pieces", "0", "--extend-vocab", str(tmp_path / "c.txt")], "--new-pieces must be at least 1"),
        # the corpus files: read after the seed is built, but a missing, folder or empty one is known at once
        (
            ["--trim-vocab", str(tmp_path / "c.txt")],
            f"Corpus {str(tmp_path / 'c.txt')!r} does not exist: give a",
        ),
        (
            ["--trim-vocab", str(tmp_path)],
            f"Corpus {str(tmp_path)!r} is a folder: give a UTF-8 text file, one",
        ),
        (
            ["--tokenizer", str(tmp_path / "no-files")],
            f"No tokenizer at {str(tmp_path / 'no-files')!r} (none of",
        ),
        (
            ["--extend-vocab", str(empty)],
            f"Corpus {str(empty)!r} is empty: give a UTF-8 text file, one sentence",
        ),
    ):
        assert main([str(source), str(tmp_path / "out"), *argv]) == 2
        assert message in capsys.readouterr().err


def test_output_that_cannot_be_written_is_refused_before_loading(tmp_path, monkeypatch, capsys, request):
    """Not exit 1 with an OSError after the encoder is loaded and the seed built: one line, exit 2, nothing made."""
    source = save_encoder(tmp_path / "src")
    (tmp_path / "a-file").write_text("not a folder\n")
    monkeypatch.setattr(conversion, "load_encoder", lambda *args: pytest.fail("loaded before the refusal"))
    assert main([str(source), str(tmp_path / "a-file" / "seed")]) == 2
    message = (
        f"{tmp_path}/a-file/seed cannot be made: {tmp_path}/a-file is a file, not a folder; choose another"
    )
    assert capsys.readouterr().err.startswith(f"xlm-swcm-convert: error: {message}")

    request.getfixturevalue("refused_new_folders")
    assert main([str(source), str(tmp_path / "seed")]) == 2
    message = f"Cannot write {tmp_path}/seed: {tmp_path} does not take new files (Permission denied); choose"
    assert capsys.readouterr().err.startswith(f"xlm-swcm-convert: error: {message}")
    assert sorted(os.listdir(tmp_path)) == ["a-file", "src"]


def test_given_tokenizer_that_does_not_load_is_refused(tmp_path, capsys):
    """Not a seed without a tokenizer and a note to 'pass --tokenizer' (which was passed)."""
    source = save_encoder(tmp_path / "src")
    (tmp_path / "tok").mkdir()
    (tmp_path / "tok" / "tokenizer_config.json").write_text("not JSON")
    assert main([str(source), str(tmp_path / "out"), "--tokenizer", str(tmp_path / "tok")]) == 2
    captured = capsys.readouterr()
    assert f"xlm-swcm-convert: error: No usable tokenizer at {str(tmp_path / 'tok')!r}" in captured.err
    assert "note: no tokenizer found" not in captured.out and not (tmp_path / "out").exists()


def test_no_normal_layer_is_warned(tmp_path, capsys):
    source = save_encoder(tmp_path / "src")
    assert main([str(source), str(tmp_path / "out"), "--insert-every", "4", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # --quiet
    warning = [line for line in captured.err.splitlines() if line.strip()]
    assert len(warning) == 1 and "--insert-every 4 >= the encoder's 4 layers" in warning[0]
    assert "no normal" in warning[0]


def test_source_without_tokenizer_gets_none(tmp_path, capsys):
    source = save_encoder(tmp_path / "src")
    assert main([str(source), str(tmp_path / "out")]) == 0
    assert f"note: no tokenizer found at {str(source)!r}" in capsys.readouterr().out
    assert not any((tmp_path / "out" / name).exists() for name in conversion.TOKENIZER_FILES)


def test_progress_lines_come_before_the_slow_parts(tmp_path, capsys):
    source = save_encoder(tmp_path / "src")
    assert main([str(source), str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    stages = [line for line in lines if line.startswith("[") and "s] " in line]
    texts = [line.split("s] ", 1)[1] for line in stages]
    assert texts[0].startswith("loading the encoder from") and texts[-1] == f"saved to {tmp_path / 'out'}"
    assert any(t.startswith("building the seed") for t in texts) and any(
        t.startswith("writing") for t in texts
    )
    assert lines.index(stages[0]) == 0  # the first thing printed, before the encoder is loaded


def test_help_shows_defaults():
    text = conversion.build_parser().format_help()
    assert "(default: 3)" in text and "(default: copy)" in text and "--quiet" in text and "--verbose" in text


# ---------------------------------------------------------------- disk full and interruptions


def test_disk_full_is_one_line_and_keeps_the_old_output(tmp_path, monkeypatch, capsys):
    from safetensors import SafetensorError

    source = save_encoder(tmp_path / "src")
    out = tmp_path / "seed"
    earlier_output(out)
    original = XLMSWCMForConditionalGeneration.save_pretrained

    def full_disk(self, folder, *args, **kwargs):
        original(self, folder, *args, **kwargs)  # as safetensors reports ENOSPC in the middle of a write
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(XLMSWCMForConditionalGeneration, "save_pretrained", full_disk)
    assert main([str(source), str(out), "--overwrite"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith(f"xlm-swcm-convert: error: no space left on {out} (needed ~")
    assert " MB)" in err[0]
    assert sorted(os.listdir(out)) == ["config.json", "keep.txt"] and sorted(os.listdir(tmp_path)) == [
        "seed",
        "src",
    ]


def test_interrupt_after_the_output_is_complete_exits_0(tmp_path, monkeypatch, capsys):
    source = save_encoder(tmp_path / "src")

    def interrupted(report):
        raise KeyboardInterrupt  # Ctrl-C while the report is printed: OUT is already complete

    monkeypatch.setattr(conversion, "format_report", interrupted)
    assert main([str(source), str(tmp_path / "out")]) == 0
    assert "completely written" in capsys.readouterr().err
    XLMSWCMForConditionalGeneration.from_pretrained(tmp_path / "out")


def test_interrupt_during_the_final_rename_is_held_back(tmp_path, monkeypatch, capsys):
    source = save_encoder(tmp_path / "src")
    out = tmp_path / "out"
    earlier_output(out)
    real_replace = os.replace

    def replace_with_ctrl_c(src, dst):
        if Path(dst) == out:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C exactly while OUT is swapped in
        real_replace(src, dst)

    # As in a fresh process: Python's own SIGINT handler, unblocked. A library used earlier in this test process
    # may have installed a handler from C, which `write_atomically` cannot hold back (it documents that).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    monkeypatch.setattr(conversion.os, "replace", replace_with_ctrl_c)
    try:
        assert main([str(source), str(out), "--overwrite"]) == 0
    finally:
        if previous is not None:  # None: it came from C and cannot be put back
            signal.signal(signal.SIGINT, previous)
    assert "completely written" in capsys.readouterr().err
    assert not (out / "keep.txt").exists() and (out / "config.json").exists()
    assert sorted(os.listdir(tmp_path)) == ["out", "src"]  # no temporary or old folder left
