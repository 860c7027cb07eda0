# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Command-line options as dataclasses: `option` declares a field and its `--help` text, `OptionsParser` makes the
fields a command's arguments (`xlm-swcm-convert`, `xlm-swcm-push`)."""

import argparse
from collections.abc import Sequence
from dataclasses import field
from typing import Any

from transformers import HfArgumentParser
from transformers.hf_argparser import string_to_bool


def option(default: Any, help: str, **add_argument: Any) -> Any:
    """A dataclass field with its `--help` text and other `add_argument` arguments (metavar, choices)."""
    return field(default=default, metadata={"help": help, **add_argument})


class OptionsParser(HfArgumentParser):
    """`HfArgumentParser` with a plain argparse command's spellings: a field without a default is a positional
    argument, a bool field a flag without a value, and `--dry-run` is listed before `--dry_run` (both parse).

    >>> from dataclasses import MISSING, dataclass
    >>> @dataclass
    ... class Greet:
    ...     name: str = option(MISSING, "who to greet")
    ...     loud_voice: bool = option(False, "shout")
    >>> OptionsParser(Greet).parse(["--loud-voice", "Ada"]), OptionsParser(Greet).parse(["Ada", "--loud_voice"])
    (Greet(name='Ada', loud_voice=True), Greet(name='Ada', loud_voice=True))
    """

    def __init__(self, dataclass_type: type, **kwargs: Any):
        # add_argument writes a default into its help text; argparse's ArgumentDefaultsHelpFormatter (the one
        # HfArgumentParser picks) would also print "(default: None)" after texts that say what None means.
        super().__init__(dataclass_type, formatter_class=argparse.HelpFormatter, **kwargs)

    def add_argument(self, *names: str, **kwargs: Any) -> Any:
        if kwargs.pop("required", False):
            return super().add_argument(names[0].lstrip("-"), help=kwargs["help"])
        if kwargs.get("type") is string_to_bool:
            kwargs = {"action": "store_true", "help": kwargs["help"]}
        elif kwargs.get("default") not in (None, argparse.SUPPRESS):
            kwargs["help"] = f"{kwargs['help']} (default: {kwargs['default']})"
        return super().add_argument(*sorted(names, key=lambda name: "_" in name), **kwargs)

    def parse(self, argv: Sequence[str] | None = None) -> Any:
        """The command line `argv` (default: `sys.argv[1:]`) as the parser's dataclass; bad input exits with 2."""
        return self.dataclass_types[0](**vars(self.parse_args(argv)))
