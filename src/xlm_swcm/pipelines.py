# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""The `"seq2seq-generation"` pipeline task, registered by `import xlm_swcm`: transformers v5 removed
`text2text-generation`, `summarization` and `translation`, the way a seq2seq model for low-resource languages is
used. Usage: README.md, "Pipelines in transformers v5".
"""

from transformers import AutoModelForSeq2SeqLM, GenerationConfig, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

TASK = "seq2seq-generation"


class Seq2SeqGenerationPipeline(Pipeline):
    """Tokenizes the input text(s), runs `model.generate` and decodes: `[{"generated_text": str}, ...]` per input
    (one dict per returned sequence). Generation arguments (`max_new_tokens`, `num_beams`, ...) go to `generate`;
    `truncation` and `max_length` of the source go to the tokenizer through `tokenizer_kwargs`."""

    _pipeline_calls_generate = True
    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _default_generation_config = GenerationConfig(max_new_tokens=128, num_beams=4)

    def _sanitize_parameters(self, tokenizer_kwargs=None, skip_special_tokens=True, **generate_kwargs):
        preprocess = {"tokenizer_kwargs": tokenizer_kwargs or {"truncation": True}}
        return preprocess, generate_kwargs, {"skip_special_tokens": skip_special_tokens}

    def preprocess(self, text, tokenizer_kwargs=None):
        if not isinstance(text, str):
            raise ValueError(f"{TASK} takes a string or a list of strings, got {type(text).__name__}.")
        return self.tokenizer(text, return_tensors="pt", **(tokenizer_kwargs or {}))

    def _forward(self, model_inputs, **generate_kwargs):
        # merges pipeline-level generation arguments and the defaults above with this call's
        generate_kwargs = self._prepare_generate_kwargs(generate_kwargs)
        return {"output_ids": self.model.generate(**model_inputs, **generate_kwargs)}

    def postprocess(self, model_outputs, skip_special_tokens=True):
        texts = self.tokenizer.batch_decode(
            model_outputs["output_ids"], skip_special_tokens=skip_special_tokens
        )
        return [{"generated_text": text.strip()} for text in texts]


PIPELINE_REGISTRY.register_pipeline(
    TASK, pipeline_class=Seq2SeqGenerationPipeline, pt_model=AutoModelForSeq2SeqLM
)
