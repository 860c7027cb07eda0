# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Command-line options as dataclasses: `option` declares a field with its `--help` text, `OptionsParser` turns the
fields into the options of a command (`xlm-swcm-convert`, `xlm-swcm-push`)."""

from collections.abc import Sequence
from dataclasses import field
from typing import Any

from transformers import HfArgumentParser
from transformers.hf_argparser import string_to_bool


def option(default: Any, help: str, **argparse: Any) -> Any:
    """A dataclass field with its `--help` text and other `add_argument` arguments (metavar, choices); a field
    whose default is `dataclasses.MISSING` must be given."""
    return field(default=default, metadata={"help": help, **argparse})


class OptionsParser(HfArgumentParser):
    """`HfArgumentParser` with the spellings of a plain argparse command: a field without a default is a positional
    argument, a bool field a flag that takes no value (`--dry-run FOLDER` parses), and `--dry-run` is listed before
    `--dry_run` (both are accepted).

    >>> from dataclasses import MISSING, dataclass
    >>> @dataclass
    ... class Greet:
    ...     name: str = option(MISSING, "who to greet")
    ...     loud: bool = option(False, "shout")
    ...     times_each: int = option(1, "repetitions")
    >>> parser = OptionsParser(Greet, prog="greet")
    >>> parser.parse(["--loud", "Ada", "--times_each", "2"]) == parser.parse(["Ada", "--loud", "--times-each=2"])
    True
    >>> parser.parse(["Ada"])
    Greet(name='Ada', loud=False, times_each=1)
    """

    def add_argument(self, *names: str, **kwargs: Any) -> Any:
        if kwargs.pop("required", False):
            return super().add_argument(names[0].lstrip("-"), help=kwargs["help"])
        if kwargs.get("type") is string_to_bool:
            kwargs = {"action": "store_true", "help": kwargs["help"]}
        return super().add_argument(*sorted(names, key=lambda name: "_" in name), **kwargs)

    def parse(self, argv: Sequence[str] | None = None) -> Any:
        """The options of the command line `argv` (default: `sys.argv[1:]`) as the parser's one dataclass; argparse
        prints a usage error and exits with status 2 for an unknown option or a missing argument."""
        return self.dataclass_types[0](**vars(self.parse_args(argv)))
