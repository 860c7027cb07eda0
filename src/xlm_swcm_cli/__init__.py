# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""The console scripts' entry points (`xlm-swcm-convert`, `-push`, `-train`, `-finetune`, `-demo`): what a command
does before its own code loads.

It lives outside the `xlm_swcm` package on purpose: importing `xlm_swcm` loads torch and transformers (it registers
the model with the Auto classes), and a library import changes nothing in the process. A command, though, must set
the OpenMP wait policy before torch loads, and a Ctrl-C during those seconds of imports must end it with one line.
"""

import importlib
import os
import sys


def run(name: str, target: str) -> int:
    """Imports `target` ("module:function") as the command `name` and returns what the function returns."""
    # OpenMP threads that wait by spinning make a training step ~10x slower when another process keeps the cores
    # busy; waiting passively costs nothing measurable on an idle machine (README, "Shared machines"). torch reads
    # it once, when it loads; a value the user set is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    module, function = target.split(":")
    try:
        main = getattr(importlib.import_module(module), function)
    except KeyboardInterrupt:
        print(f"{name}: interrupted while starting; nothing was done.", file=sys.stderr)
        return 130
    return main()


def convert() -> int:
    return run("xlm-swcm-convert", "xlm_swcm.conversion:main")


def push() -> int:
    return run("xlm-swcm-push", "xlm_swcm.hub:main")


def train() -> int:
    return run("xlm-swcm-train", "xlm_swcm.training:main")


def finetune() -> int:
    return run("xlm-swcm-finetune", "xlm_swcm.training:finetune_main")


def demo() -> int:
    return run("xlm-swcm-demo", "xlm_swcm_demo.demo:main")
