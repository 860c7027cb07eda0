# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""The CPU decoding fast path of `modeling_xlm_swcm`: linear layers computed for the few rows of a decoding step.

`save_pretrained` copies this file next to the weights with the modeling file that imports it (relatively), for
`trust_remote_code=True`: like that file it imports only torch and transformers.
"""

import torch
from torch import nn
from transformers.utils import is_torchdynamo_compiling

# Below this many weight elements a product with a few rows is cache-resident: plain `linear` is fine.
DECODING_LINEAR_MIN_WEIGHT = 1 << 18
# oneDNN's fp32 linear, the kernel torch.compile's inductor calls on CPU. It has no autograd formula.
try:
    ONEDNN_LINEAR = torch.ops.mkldnn._linear_pointwise if torch.backends.mkldnn.is_available() else None
except (AttributeError, RuntimeError):  # a build without oneDNN
    ONEDNN_LINEAR = None


def decoding_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """`nn.functional.linear(x, weight, bias)`, faster on CPU for the few rows (batch x one token) of decoding.

    Such a product reads the whole weight for little arithmetic. Measured with fp32 on 2 cores (AMD EPYC), for the
    250002 x 768 LM head: at 1 row `linear` takes 59 ms because MKL runs a matrix-vector product on one thread,
    and one core reads half the machine's bandwidth; one `bmm` over one block of the weight's rows per thread
    takes 27 ms. At 8 rows MKL's small-matrix kernel takes 117 ms and oneDNN's 44 ms. Both read the weight in
    place: no copy, same layout. fp32 only: bf16 `linear` already goes through oneDNN, whose speed for few rows comes
    from a prepacked weight (`PackedBF16Linear`, made by `xlm_swcm.quantize_for_cpu(model, "bf16")`), not from here.

    Example:

    ```python
    >>> weight, x = torch.randn(1024, 512), torch.randn(1, 512)
    >>> torch.allclose(decoding_linear(x, weight), x @ weight.T, atol=1e-4)
    True

    ```
    """
    if (
        is_torchdynamo_compiling()  # inductor picks its own kernels
        or x.device.type != "cpu"
        or weight.dtype != torch.float32
        or weight.numel() < DECODING_LINEAR_MIN_WEIGHT
        or not weight.is_contiguous()  # the blocks below are views of the weight's rows
    ):
        return nn.functional.linear(x, weight, bias)
    rows, out_features = x.numel() // x.shape[-1], weight.shape[0]
    x2d, threads = x.reshape(rows, -1), torch.get_num_threads()
    if rows <= 4 and threads >= 2:
        block = out_features // threads
        split = block * threads
        out = torch.bmm(weight[:split].view(threads, block, -1), x2d.t().expand(threads, -1, -1))
        out = out.permute(2, 0, 1).reshape(rows, split)
        if split < out_features:  # the out_features % threads rows that do not fill a block
            out = torch.cat([out, x2d @ weight[split:].t()], dim=1)
        out = out + bias if bias is not None else out
    elif rows <= 32 and ONEDNN_LINEAR is not None and not torch.is_grad_enabled():
        out = ONEDNN_LINEAR(x2d.contiguous(), weight, bias, "none", [], "")
    else:
        return nn.functional.linear(x, weight, bias)
    return out.view(*x.shape[:-1], out_features)


def is_plain_linear(module: nn.Module) -> bool:
    """Whether `module` is an unwrapped `nn.Linear` whose forward is exactly `linear(x, weight, bias)`: not a
    subclass, no hooks, no patched forward. Only then may its weight be read directly."""
    return type(module) is nn.Linear and not (
        module._forward_hooks or module._forward_pre_hooks or "forward" in module.__dict__
    )


class RowBlocks(nn.Module):
    """One linear layer split by output rows into consecutive blocks, each its own module (e.g. an int8 linear).

    `forward` concatenates every block's output, like the unsplit layer. `apply_linear` runs only the block that a
    row slice asks for: the cross-attention's Q (or K/V) half of a fused `qkv` then reads only that half's weights,
    which a packed (quantised) weight cannot otherwise offer. `xlm_swcm.quantization` builds these.

    Example:

    ```python
    >>> blocks = RowBlocks([nn.Linear(4, 2), nn.Linear(4, 4)])
    >>> blocks.block(slice(2, None)) is blocks.blocks[1]
    True

    ```
    """

    def __init__(self, blocks: list[nn.Module]):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        sizes = [block.out_features for block in blocks]
        # row offsets: block i holds output rows starts[i]:starts[i + 1]
        self.starts = [sum(sizes[:i]) for i in range(len(sizes) + 1)]

    @property
    def out_features(self) -> int:
        return self.starts[-1]

    def block(self, rows: slice) -> nn.Module | None:
        """The block whose rows are exactly `rows` (None when `rows` spans or cuts blocks)."""
        start = rows.start or 0
        stop = self.out_features if rows.stop is None else rows.stop
        for i, block in enumerate(self.blocks):
            if (self.starts[i], self.starts[i + 1]) == (start, stop) and rows.step in (None, 1):
                return block
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([block(x) for block in self.blocks], dim=-1)


def apply_linear(module: nn.Module, x: torch.Tensor, rows: slice | None = None) -> torch.Tensor:
    """`module(x)[..., rows]` (all outputs when `rows` is None).

    For a plain `nn.Linear` this goes through `decoding_linear` and computes only the selected output rows (a slice
    of a row-major weight is a contiguous view); for `RowBlocks` only the block that holds those rows runs. Any
    other module (PEFT LoRA layers, dynamically quantised linears, accelerate-hooked or otherwise wrapped modules)
    runs its own forward on every output and the result is sliced: its `weight` may be a method, a packed tensor or
    miss an adapter's delta.
    """
    if rows is not None and isinstance(module, RowBlocks) and (block := module.block(rows)) is not None:
        return apply_linear(block, x)
    if is_plain_linear(module):
        weight, bias = module.weight, module.bias
        if rows is not None:
            weight, bias = weight[rows], bias[rows] if bias is not None else None
        return decoding_linear(x, weight, bias)
    output = module(x)
    return output if rows is None else output[..., rows]
