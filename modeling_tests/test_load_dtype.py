"""Loading a seed in bfloat16 (`from_pretrained(..., dtype=torch.bfloat16)`) gives bf16 tensors only.

Nothing in the model class keeps modules in float32 (no `_keep_in_fp32_modules`), so every floating parameter and
buffer of a float32 checkpoint loaded with `dtype=torch.bfloat16` is bf16 and equals the float32 tensor cast to bf16;
the only non-floating tensors are integer buffers (position ids). The memory this saves on a base-shaped seed is
measured by `benchmarks/conversion.py` (BENCHMARKS.md, "Conversion").
"""

import pytest
import torch
from tiny import tiny_model

from xlm_swcm import XLMSWCMForConditionalGeneration


@pytest.mark.parametrize("weight_sharing", ["copy", "tie"])
def test_bfloat16_load_of_a_float32_seed_holds_no_float32_tensor(tmp_path, weight_sharing):
    model = tiny_model({"num_hidden_layers": 3, "insert_every": 1, "weight_sharing": weight_sharing})
    model.save_pretrained(tmp_path)
    assert {p.dtype for p in model.parameters()} == {torch.float32}

    loaded = XLMSWCMForConditionalGeneration.from_pretrained(tmp_path, dtype=torch.bfloat16)
    assert XLMSWCMForConditionalGeneration._keep_in_fp32_modules in (None, [], set())
    assert loaded.dtype == torch.bfloat16 and loaded.config.dtype == torch.bfloat16
    tensors = dict(loaded.named_parameters(remove_duplicate=False))
    tensors.update(loaded.named_buffers(remove_duplicate=False))
    floating = {name: t for name, t in tensors.items() if t.is_floating_point()}
    assert floating and {t.dtype for t in floating.values()} == {torch.bfloat16}
    assert {t.dtype for n, t in tensors.items() if n not in floating} <= {torch.int64}  # position ids
    reference = dict(model.named_parameters(remove_duplicate=False))
    reference.update(model.named_buffers(remove_duplicate=False))
    assert set(reference) == set(tensors)
    for name, tensor in floating.items():
        assert torch.equal(tensor, reference[name].to(torch.bfloat16)), name
    # Tied tensors stay one tensor.
    assert loaded.lm_head.weight is loaded.get_input_embeddings().weight
    ids = torch.tensor([[0, 5, 7, 2]])
    with torch.no_grad():
        out = loaded(input_ids=ids, decoder_input_ids=ids).logits
    assert out.dtype == torch.bfloat16 and torch.isfinite(out).all()
