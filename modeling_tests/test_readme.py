"""README.md's "Fine-tune with LoRA" and "Quantize for CPU" examples run as written, on a tiny local checkpoint (with
the real XLM-R tokenizer) in place of "path/to/checkpoint"."""

import re
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSeq2SeqLM

from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration
from xlm_swcm_demo import assets

README = Path(__file__).resolve().parent.parent / "README.md"
# A block runs here when the line before its opening fence is `<!-- readme-test: NAME -->`.
MARKED_BLOCK = re.compile(r"<!-- readme-test: (\w+) -->\n```python\n(.*?)\n```", re.S)


def readme_blocks() -> dict[str, str]:
    return dict(MARKED_BLOCK.findall(README.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    try:
        assets.require("xlmr_tokenizer")
    except assets.AssetNotAvailableError as error:
        pytest.skip(str(error))
    tokenizer = assets.load_xlmr_tokenizer()
    torch.manual_seed(0)
    config = XLMSWCMConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    path = tmp_path_factory.mktemp("checkpoint")
    XLMSWCMForConditionalGeneration(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def run_block(name: str, checkpoint: Path, workdir: Path, monkeypatch) -> dict:
    """Executes the README block `name` in `workdir` and returns its variables."""
    code = readme_blocks()[name]
    assert '"path/to/checkpoint"' in code
    monkeypatch.chdir(workdir)
    namespace = {"__name__": "__readme__"}
    exec(compile(code.replace("path/to/checkpoint", str(checkpoint)), f"README.md:{name}", "exec"), namespace)
    return namespace


def test_readme_marks_the_examples():
    assert set(readme_blocks()) == {"lora", "quantize"}


def test_readme_lora_example(checkpoint, tmp_path, monkeypatch, capsys):
    peft = pytest.importorskip("peft")
    variables = run_block("lora", checkpoint, tmp_path, monkeypatch)
    assert "trainable params" in capsys.readouterr().out

    batch = variables["batch"]
    with torch.no_grad():
        original = AutoModelForSeq2SeqLM.from_pretrained(checkpoint).eval()(**batch).logits
        # the saved adapter on the original weights and the saved merged model compute the same function
        adapted = peft.PeftModel.from_pretrained(
            AutoModelForSeq2SeqLM.from_pretrained(checkpoint), tmp_path / "lora-adapter"
        ).eval()
        merged = AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "merged").eval()
        adapted_logits, merged_logits = adapted(**batch).logits, merged(**batch).logits
    assert not any("lora_" in name for name, _ in merged.named_parameters())
    assert (adapted_logits - original).abs().max() > 1e-6  # the three steps trained the adapter
    torch.testing.assert_close(adapted_logits, merged_logits, atol=1e-5, rtol=1e-5)


def test_readme_quantize_example(checkpoint, tmp_path, monkeypatch, capsys):
    variables = run_block("quantize", checkpoint, tmp_path, monkeypatch)
    quantized, generated, tokenizer = variables["quantized"], variables["generated"], variables["tokenizer"]
    assert isinstance(quantized.lm_head, torch.ao.nn.quantized.dynamic.Linear)
    # the cross-attention's fused Q/K/V as its int8 Q and K/V halves (a decoding step runs only the Q half)
    assert all(
        isinstance(block, torch.ao.nn.quantized.dynamic.Linear)
        for block in quantized.model.decoder.layers[0].cross_attn.qkv.blocks
    )
    assert next(variables["model"].parameters()).dtype == torch.float32  # the original is left as it was
    assert generated.shape[0] == 1 and 2 <= generated.shape[1] <= 17
    printed = capsys.readouterr().out.strip()
    assert printed == str(tokenizer.batch_decode(generated, skip_special_tokens=True))
