# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""CPU decoding kernels for the linear layers of `modeling_xlm_swcm`: products with the few rows of a decoding step.

Copied next to the weights with the modeling file (trust_remote_code), so it imports only torch and transformers.
"""

import functools

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
    250002 x 768 LM head: at 1 row `linear` takes 59 ms (MKL's matrix-vector product runs on one thread); one `bmm`
    over one block of the weight's rows per thread takes 27 ms. At 8 rows MKL's small-matrix kernel takes 117 ms and
    oneDNN's 44 ms. Both read the weight in place. fp32 only: bf16 `linear` already goes through oneDNN.

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


def decoding_forward(linear: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """The forward that `use_decoding_linear` gives an `nn.Linear`: `decoding_linear` on its own weight and bias."""
    return decoding_linear(x, linear.weight, linear.bias)


def has_decoding_forward(module: nn.Module) -> bool:
    """Whether `module` is an `nn.Linear` whose forward is `linear(x, weight, bias)`, its own or `decoding_forward`:
    not a subclass, no forward replaced by someone else (accelerate's offloading, for one)."""
    forward = module.__dict__.get("forward")
    return type(module) is nn.Linear and (
        forward is None or getattr(forward, "func", None) is decoding_forward
    )


def use_decoding_linear(model: nn.Module) -> nn.Module:
    """Gives every plain `nn.Linear` of `model` the forward `decoding_forward`, in place; returns `model`.

    The modules keep their type and parameters (torch's `quantize_dynamic`, PEFT, `state_dict` and hooks see plain
    linears); only the instance's `forward` changes, a `functools.partial` that follows the module through
    `copy.deepcopy`."""
    for module in model.modules():
        if has_decoding_forward(module) and "forward" not in module.__dict__:
            module.forward = functools.partial(decoding_forward, module)
    return model


class RowBlocks(nn.Module):
    """One linear layer split by output rows into consecutive blocks, each its own module (e.g. an int8 linear).

    `forward` concatenates every block's output, like the unsplit layer; `linear_rows` runs only the block that a
    row slice asks for (the cross-attention's Q or K/V part of a quantised `qkv`). `xlm_swcm.quantization` builds
    these.

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


def linear_rows(module: nn.Module, x: torch.Tensor, rows: slice) -> torch.Tensor:
    """`module(x)[..., rows]`, computing only those output rows where the module allows it.

    An unhooked plain `nn.Linear` multiplies by its weight's rows (a contiguous view of a row-major weight), through
    `decoding_linear` when it has `decoding_forward`; `RowBlocks` runs the one block holding the rows. Any other module
    (PEFT LoRA, int8, hooked or wrapped) runs whole and is sliced: its `weight` may miss an adapter's delta."""
    if isinstance(module, RowBlocks) and (block := module.block(rows)) is not None:
        return block(x)
    if has_decoding_forward(module) and not (module._forward_hooks or module._forward_pre_hooks):
        linear = decoding_linear if "forward" in module.__dict__ else nn.functional.linear
        return linear(x, module.weight[rows], None if module.bias is None else module.bias[rows])
    return module(x)[..., rows]
