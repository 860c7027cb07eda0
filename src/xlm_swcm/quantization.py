"""`quantize_for_cpu`: int8 or bf16 weights for faster, smaller CPU decoding (README, "CPU deployment"; speed and
quality in BENCHMARKS.md). Tied linears share one converted module, and each cross-attention's fused Q/K/V projection
is split into its Q and K/V rows (`RowBlocks`), so that a decoding step reads only the Q rows.

int8 uses torch's dynamic quantisation (`torch.ao`): torchao 0.18's int8 CPU paths measured slower (BENCHMARKS.md).
"""

from __future__ import annotations

import copy
import warnings
from typing import Literal

import torch
from torch import nn

from .cpu_decoding import RowBlocks
from .errors import XLMSWCMError
from .modeling_xlm_swcm import XLMSWCMAttention

__all__ = ["PackedBF16Linear", "quantize_for_cpu"]


def quantize_for_cpu(
    model: nn.Module, dtype: Literal["int8", "bf16"], inplace: bool = False, prepack: bool = True
) -> nn.Module:
    """The model for CPU inference with int8 or bf16 weights, in eval mode (a copy unless `inplace`; a copy never
    holds a second fp32 copy of the weights).

    "int8": every `nn.Linear`, the LM head included, becomes `torch.ao.nn.quantized.dynamic.Linear` with
    per-channel int8 weights; embeddings and LayerNorms stay fp32. Inference only: it cannot be trained or saved.
    "bf16": every floating-point tensor in bfloat16. On CPUs with bf16 instructions and with `prepack`, every
    `nn.Linear` also becomes a `PackedBF16Linear` (inference only; the LM head keeps its own packed copy of the
    embeddings); `prepack=False` gives the plain cast, tied and savable.

    ```python
    >>> from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration
    >>> config = XLMSWCMConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
    ...                        intermediate_size=37, max_position_embeddings=64)
    >>> model = quantize_for_cpu(XLMSWCMForConditionalGeneration(config).eval(), "int8")
    >>> model.generate(torch.tensor([[0, 5, 6, 2]]), max_new_tokens=3, min_new_tokens=3).shape
    torch.Size([1, 4])

    ```
    """
    if dtype not in ("int8", "bf16"):
        raise XLMSWCMError(f"dtype must be 'int8' or 'bf16', not {dtype!r}")
    if dtype == "bf16":
        if inplace:
            model = model.eval().to(torch.bfloat16)
        else:
            # deepcopy with every floating tensor already replaced by its bf16 version (tied tensors stay tied)
            memo = {}
            for tensor in [*model.parameters(), *model.buffers()]:
                if tensor.is_floating_point() and id(tensor) not in memo:
                    half = tensor.detach().to(torch.bfloat16)
                    memo[id(tensor)] = (
                        nn.Parameter(half, tensor.requires_grad) if isinstance(tensor, nn.Parameter) else half
                    )
            model = copy.deepcopy(model, memo).eval()
        if prepack and PackedBF16Linear.is_supported():
            replace_linears(model, linear_replacements(model, PackedBF16Linear))
        return model
    replacements = linear_replacements(model, int8_linear)
    if not inplace:  # the copy takes each linear's int8 form instead of copying its fp32 weights
        return copy.deepcopy(model, {id(linear): int8 for linear, int8 in replacements.values()}).eval()
    replace_linears(model, replacements)
    return model.eval()


def replace_linears(model: nn.Module, replacements: dict[int, tuple[nn.Linear, nn.Module]]):
    """Puts each linear's replacement (`linear_replacements`) in its place, in `model` itself."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if id(child) in replacements:
                setattr(parent, name, replacements[id(child)][1])


def refuse_saving(module: nn.Module, prefix: str, keep_vars: bool) -> None:
    raise XLMSWCMError(
        "A prepacked bf16 model (quantize_for_cpu(model, 'bf16')) cannot be saved: its weights are opaque oneDNN "
        "tensors. Save the model before converting it, or convert with prepack=False."
    )


class PackedBF16Linear(nn.Module):
    """A bf16 `nn.Linear` for CPU inference whose weight is stored in oneDNN's blocked layout (prepacked).

    bf16 `linear` on a plain weight reorders it into the blocks oneDNN's kernel reads on every call, which dominates
    a decoding step's few rows. Prepacked once (as inductor does for bf16 linears on CPU), the same kernel is 2-2.5x
    faster with the same result. The packed weight is an opaque tensor with no storage: `state_dict()` refuses, and a
    deep copy shares it (it is never written).
    """

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        weight = linear.weight.detach().to(torch.bfloat16).contiguous()
        # a plain attribute, not a buffer: an opaque tensor with no storage
        self.packed_weight = torch.ops.mkldnn._reorder_linear_weight(weight)
        bias = None if linear.bias is None else linear.bias.detach().to(torch.bfloat16)
        self.bias = None if bias is None else nn.Parameter(bias, requires_grad=False)
        self.register_state_dict_pre_hook(refuse_saving)

    @staticmethod
    def is_supported() -> bool:
        """Whether this torch has oneDNN and the CPU bf16 instructions that make packed bf16 pay."""
        return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        return torch.ops.mkldnn._linear_pointwise(x, self.packed_weight, self.bias, "none", [], "")

    def extra_repr(self) -> str:
        bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={bias}"

    def __deepcopy__(self, memo):
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            clone.__dict__[key] = value if key == "packed_weight" else copy.deepcopy(value, memo)
        return clone


def linear_replacements(model: nn.Module, convert) -> dict[int, tuple[nn.Linear, nn.Module]]:
    """id of every plain `nn.Linear` in `model` -> (that linear, `convert(linear)`); `model` is not changed.

    Linears with the same weight and bias (tie mode) get one converted module. The fused Q/K/V projection of each
    XLM-SWCM cross-attention (and of the attentions tied to it) becomes `RowBlocks` of its Q rows and its K/V rows,
    so that a decoding step can run the Q block alone."""
    cross = {
        id(m.qkv.weight)
        for name, m in model.named_modules()
        if isinstance(m, XLMSWCMAttention) and name.endswith("cross_attn") and type(m.qkv) is nn.Linear
    }
    shared: dict[tuple[int, int | None], nn.Module] = {}  # (weight, bias) ids -> the one converted module
    replacements = {}
    for module in model.modules():
        if type(module) is not nn.Linear:
            continue
        key = (id(module.weight), None if module.bias is None else id(module.bias))
        if key not in shared:
            if key[0] in cross:
                hidden = module.in_features  # rows: Q (hidden), then K and V
                shared[key] = RowBlocks([convert(block) for block in row_blocks(module, hidden).blocks])
            else:
                shared[key] = convert(module)
        replacements[id(module)] = (module, shared[key])
    return replacements


def int8_linear(linear: nn.Linear) -> nn.Module:
    """`linear` as a dynamically quantised int8 linear with one weight scale per output row (`linear` unchanged)."""
    linear.qconfig = torch.ao.quantization.per_channel_dynamic_qconfig  # what from_float reads
    try:
        with warnings.catch_warnings():
            # torch 2.13 warns on every quantised-tensor creation that torch.ao quantisation is deprecated: the
            # module docstring says why it is still the path taken; one warning per linear would bury the rest.
            warnings.filterwarnings("ignore", message=".*quantized tensor creation.*", category=UserWarning)
            warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*deprecated.*")
            return torch.ao.nn.quantized.dynamic.Linear.from_float(linear)
    finally:
        del linear.qconfig


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
