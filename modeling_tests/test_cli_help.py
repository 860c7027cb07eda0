"""Every command documents every option and shows its defaults in --help; --no-progress hides every bar
(issue 12, item 12)."""

import re

import pytest

from xlm_swcm import conversion, hub, training
from xlm_swcm_demo import demo


@pytest.mark.parametrize(
    "parser",
    [conversion.build_parser(), demo.build_parser(), training.build_parser(), hub.build_parser()],
    ids=["convert", "demo", "train", "push"],
)
def test_every_option_has_help_and_defaults_are_shown(parser):
    assert [a.option_strings or a.dest for a in parser._actions if not a.help] == []
    text = " ".join(re.sub(r"-\n\s+", "-", parser.format_help()).split())  # help lines wrap, also at hyphens
    with_defaults = [
        a for a in parser._actions if a.default not in (None, False) and a.help != "==SUPPRESS=="
    ]
    assert all(f"(default: {a.default})" in text for a in with_defaults if a.dest != "help")


def test_no_progress_hides_transformers_bars_too(monkeypatch, tmp_path):
    from transformers.utils import logging as hf_logging

    seen = {}

    def fake_train(options, args):
        seen["bars"] = hf_logging.is_progress_bar_enabled()
        seen["disable_tqdm"] = args.disable_tqdm

    monkeypatch.setattr(training, "train", fake_train)
    hf_logging.enable_progress_bar()
    assert training.finetune_main(["model", "data.jsonl", "-o", str(tmp_path / "o"), "--no-progress"]) == 0
    assert seen == {"bars": False, "disable_tqdm": True}
    assert hf_logging.is_progress_bar_enabled()  # restored for the caller


@pytest.mark.parametrize(
    "run, argv",
    [
        (conversion.main, ["--dtype", "int8", "src", "out"]),
        (hub.main, ["folder"]),
        (demo.main, ["--max-steps", "many"]),
        (training.main, ["--max_steps", "many"]),
        (training.finetune_main, ["--max_steps", "many"]),
    ],
    ids=["convert", "push", "demo", "train", "finetune"],
)
def test_usage_errors_are_two_lines_not_a_page(run, argv, capsys):
    """Above a usage error every command prints a one-line usage (argparse's own lists every option)."""
    with pytest.raises(SystemExit) as exit_info:
        run(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("usage: xlm-swcm-") and "(all options: --help)" in err[0], err
    assert ": error: " in err[1], err


@pytest.mark.parametrize("parser", [conversion.build_parser(), hub.build_parser()], ids=["convert", "push"])
def test_help_shows_only_defaults_that_say_something(parser):
    """No "(default: None)" after texts that say what happens without the option, no "(default: False)" on flags."""
    text = parser.format_help()
    assert "(default: None)" not in text and "(default: False)" not in text
