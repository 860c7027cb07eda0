"""CPU deployment in one call: int8 weights or bf16 weights for faster, smaller decoding.

`quantize_for_cpu(model, "int8")` turns every `nn.Linear` (attention, feed-forward and the LM head, in the encoder and
the decoder) into a dynamically quantised int8 linear (per-output-row int8 weights, activations quantised per call)
and `quantize_for_cpu(model, "bf16")` casts every weight to bfloat16. Speed and quality against fp32 are measured in
BENCHMARKS.md ("CPU deployment"). It works on any model (the benchmark's peers use it too); for XLM-SWCM it keeps
the decoding fast paths:

- tied linears (`weight_sharing="tie"`, where decoder layers use the encoder's tensors) share one int8 module, so
  the int8 model keeps tie mode's memory saving;
- the fused Q/K/V projection of each cross-attention is split into its Q and K/V halves (`RowBlocks`), so that a
  decoding step reads only the Q half, as the fp32 path does with a slice of the weight.

Example:

```python
>>> from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration
>>> from xlm_swcm.quantization import quantize_for_cpu
>>> config = XLMSWCMConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
...                        intermediate_size=37, max_position_embeddings=64)
>>> model = quantize_for_cpu(XLMSWCMForConditionalGeneration(config).eval(), "int8")
>>> model.generate(torch.tensor([[0, 5, 6, 2]]), max_new_tokens=3, min_new_tokens=3).shape
torch.Size([1, 4])

```

int8 uses torch's dynamic quantisation (`torch.ao`, fbgemm/x86 kernels). torch 2.13 marks the `torch.ao` quantised
tensor creation as deprecated in favour of torchao; torchao 0.18's int8 CPU paths were measured slower on the
benchmark machine (see BENCHMARKS.md), so this module stays on `torch.ao` while it exists.
"""

from __future__ import annotations

import copy
import warnings
from typing import Literal

import torch
from torch import nn

from .modeling_xlm_swcm import RowBlocks, XLMSWCMAttention

__all__ = ["quantize_for_cpu"]


def quantize_for_cpu(model: nn.Module, dtype: Literal["int8", "bf16"], inplace: bool = False) -> nn.Module:
    """The model for CPU inference with int8 or bf16 weights, in eval mode (a copy unless `inplace`).

    "int8": every `nn.Linear`, the LM head included, becomes `torch.ao.nn.quantized.dynamic.Linear` with
    per-channel int8 weights; embeddings and LayerNorms stay fp32. Inference only: the result cannot be trained or
    saved with `save_pretrained`; quantise after loading. "bf16": `model.to(torch.bfloat16)`; it pays on CPUs with
    bf16 instructions (`avx512_bf16` or `amx_bf16` in `lscpu`), elsewhere torch emulates them.

    Example:

    ```python
    >>> model = XLMSWCMForConditionalGeneration.from_pretrained("path/to/model")  # doctest: +SKIP
    >>> fast = quantize_for_cpu(model, "int8")  # doctest: +SKIP
    >>> fast.generate(**tokenizer("Hello", return_tensors="pt"), max_new_tokens=32)  # doctest: +SKIP
    ```
    """
    if dtype not in ("int8", "bf16"):
        raise ValueError(f"dtype must be 'int8' or 'bf16', not {dtype!r}")
    model = (model if inplace else copy.deepcopy(model)).eval()
    if dtype == "bf16":
        return model.to(torch.bfloat16)
    split_cross_attention_qkv(model)
    int8_modules: dict[tuple[int, int | None], nn.Module] = {}  # one int8 module per (weight, bias) pair
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Linear:
                key = (id(child.weight), None if child.bias is None else id(child.bias))
                if key not in int8_modules:
                    int8_modules[key] = int8_linear(child)
                setattr(parent, name, int8_modules[key])
    return model


def int8_linear(linear: nn.Linear) -> nn.Module:
    """`linear` as a dynamically quantised int8 linear with one weight scale per output row."""
    linear.qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
    with warnings.catch_warnings():
        # torch 2.13 warns on every quantised-tensor creation that torch.ao quantisation is deprecated: the module
        # docstring says why it is still the path taken; one warning per linear would bury everything else.
        warnings.filterwarnings("ignore", message=".*quantized tensor creation.*", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*deprecated.*")
        return torch.ao.nn.quantized.dynamic.Linear.from_float(linear)


def split_cross_attention_qkv(model: nn.Module) -> None:
    """Replaces the fused `qkv` of every XLM-SWCM cross-attention (and of the attentions tied to it) by `RowBlocks`
    of its Q rows and its K/V rows, in place, so that a decoding step can run the Q block alone."""
    cross = {id(m.qkv.weight) for name, m in model.named_modules() if name.endswith("cross_attn")}
    split: dict[int, RowBlocks] = {}  # tied attentions (tie mode) share one RowBlocks, hence one int8 copy
    for module in model.modules():
        if isinstance(module, XLMSWCMAttention) and type(module.qkv) is nn.Linear:
            key = id(module.qkv.weight)
            if key in cross:
                if key not in split:
                    split[key] = row_blocks(module.qkv, module.hidden_size)
                module.qkv = split[key]


def row_blocks(linear: nn.Linear, first_rows: int) -> RowBlocks:
    """`linear` as two linears: output rows `:first_rows` and `first_rows:`, sharing its parameters' storage."""
    blocks = []
    for rows in (slice(None, first_rows), slice(first_rows, None)):
        block = nn.Linear(linear.in_features, linear.weight[rows].shape[0], bias=linear.bias is not None)
        block.weight = nn.Parameter(linear.weight.detach()[rows], requires_grad=False)
        if linear.bias is not None:
            block.bias = nn.Parameter(linear.bias.detach()[rows], requires_grad=False)
        blocks.append(block)
    return RowBlocks(blocks)
