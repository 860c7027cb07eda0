"""Correctness of the fast paths: decoding-sized linear layers, logits_to_keep, static cache, torch.compile.

Speed itself is measured only by `benchmarks/run.py`; these tests check that every fast path computes what the plain
path computes.
"""

import collections
import copy
import functools

import pytest
import torch
from torch.overrides import TorchFunctionMode
from transformers import BartConfig, BartForConditionalGeneration, CompileConfig

import xlm_swcm.cpu_decoding as decoding
from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration

TINY = dict(
    vocab_size=99,  # odd: with 2 threads the LM head has a remainder row outside the split blocks
    hidden_size=32,
    num_hidden_layers=4,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=64,
)


@pytest.fixture
def two_threads():
    """The split path needs >= 2 threads; CI machines may have one core."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def fast_everywhere(monkeypatch, two_threads):
    """Takes the fast paths for every weight of the tiny model (by default small weights use `linear`)."""
    monkeypatch.setattr(decoding, "DECODING_LINEAR_MIN_WEIGHT", 0)


@pytest.fixture
def calls(monkeypatch):
    """Records which fast kernel ran: torch.bmm (split path) or oneDNN's linear."""
    seen = {"bmm": [], "onednn": []}
    bmm, onednn = torch.bmm, decoding.ONEDNN_LINEAR

    def bmm_spy(*args, **kwargs):
        seen["bmm"].append(args[0].shape)
        return bmm(*args, **kwargs)

    def onednn_spy(*args):
        seen["onednn"].append(args[0].shape)
        return onednn(*args)

    monkeypatch.setattr(torch, "bmm", bmm_spy)
    if onednn is not None:
        monkeypatch.setattr(decoding, "ONEDNN_LINEAR", onednn_spy)
    return seen


def tiny_model(seed=0, **overrides) -> XLMSWCMForConditionalGeneration:
    torch.manual_seed(seed)
    return XLMSWCMForConditionalGeneration(XLMSWCMConfig(**{**TINY, **overrides})).eval()


def padded_batch():
    ids = torch.tensor([[0, 5, 6, 7, 8, 9, 2], [0, 8, 9, 2, 1, 1, 1], [1, 1, 0, 4, 5, 6, 2]])
    return ids, ids.ne(1).long()


def greedy(model, **kwargs):
    ids, mask = padded_batch()
    return model.generate(
        ids,
        attention_mask=mask,
        max_new_tokens=6,
        min_new_tokens=6,
        do_sample=False,
        output_logits=True,
        return_dict_in_generate=True,
        **kwargs,
    )


def assert_steps_close(steps, expected_steps, rtol=1e-5, atol=1e-5):
    """Per-step logits of two generations agree (same number of steps)."""
    for step, expected in zip(steps, expected_steps, strict=True):
        torch.testing.assert_close(step, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("out_features", [64, 65])  # 65: one row left over after two equal blocks
@pytest.mark.parametrize("rows", [(1,), (3, 1)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_split_path_equals_linear(fast_everywhere, calls, out_features, rows, with_bias):
    torch.manual_seed(0)
    weight, bias = torch.randn(out_features, 48), torch.randn(out_features) if with_bias else None
    x = torch.randn(*rows, 48)
    expected = x @ weight.t() + (bias if with_bias else 0)  # written out, not through nn.functional.linear
    torch.testing.assert_close(decoding.decoding_linear(x, weight, bias), expected, rtol=1e-5, atol=1e-5)
    assert calls["bmm"] == [torch.Size([2, out_features // 2, 48])]  # one block per thread


def test_split_path_gradients(fast_everywhere, calls):
    torch.manual_seed(0)
    weight, x = torch.randn(65, 48, requires_grad=True), torch.randn(2, 48, requires_grad=True)
    decoding.decoding_linear(x, weight).pow(2).sum().backward()
    assert calls["bmm"]
    out = x.detach() @ weight.detach().t()  # d(sum(out^2)) = 2 out
    torch.testing.assert_close(x.grad, 2 * out @ weight.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(weight.grad, 2 * out.t() @ x.detach(), rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(decoding.ONEDNN_LINEAR is None, reason="torch built without oneDNN")
@pytest.mark.parametrize("rows", [(8,), (2, 16)])
def test_onednn_path_equals_linear(fast_everywhere, calls, rows):
    torch.manual_seed(0)
    weight, bias, x = torch.randn(65, 48), torch.randn(65), torch.randn(*rows, 48)
    with torch.no_grad():
        out = decoding.decoding_linear(x, weight[1:], bias[1:])  # a row slice, as for the fused QKV weight
    torch.testing.assert_close(out, x @ weight[1:].t() + bias[1:], rtol=1e-5, atol=1e-5)
    assert len(calls["onednn"]) == 1 and not calls["bmm"]


def test_plain_linear_beyond_32_rows_with_gradients_bf16_and_strided_weights(fast_everywhere, calls):
    weight, x = torch.randn(64, 48), torch.randn(33, 48)
    with torch.no_grad():
        decoding.decoding_linear(x, weight)  # 33 rows: a matrix product, MKL's strength
        decoding.decoding_linear(x[:1].bfloat16(), weight.bfloat16())  # bf16 linear is oneDNN already
        strided = torch.randn(48, 64).t()  # rows are not contiguous: no block views
        torch.testing.assert_close(decoding.decoding_linear(x[:1], strided), x[:1] @ strided.t())
    # oneDNN's op has no autograd formula: with gradients on, 5-32 rows go through linear
    weight.requires_grad_(True)
    decoding.decoding_linear(x[:8], weight).sum().backward()
    torch.testing.assert_close(weight.grad, x[:8].sum(0).expand(64, 48))
    assert calls == {"bmm": [], "onednn": []}


def test_hooked_linear_keeps_its_own_forward(fast_everywhere, calls):
    # A hook (or a wrapper such as LoRA) must still run: linear_rows computes a row slice itself only for an
    # unhooked nn.Linear, and the decoding forward runs inside the module call, between its hooks.
    layer = decoding.use_decoding_linear(torch.nn.Linear(48, 64))
    seen = []
    layer.register_forward_hook(lambda module, args, output: seen.append(output.shape))
    x = torch.randn(1, 48)
    with torch.no_grad():
        expected = x @ layer.weight.t() + layer.bias
        torch.testing.assert_close(decoding.linear_rows(layer, x, slice(16, None)), expected[:, 16:])
        torch.testing.assert_close(layer(x), expected)
    assert seen == [torch.Size([1, 64])] * 2 and len(calls["bmm"]) == 2


def test_decoding_forward_keeps_plain_linears_and_their_names(fast_everywhere, calls):
    """The model's projections stay exact `nn.Linear` modules with their parameter names (quantize_dynamic, PEFT and
    checkpoints see plain linears); only their forward is `decoding_forward`, kept by a deep copy. A forward that
    someone else replaced (accelerate's offloading hooks) is left alone."""
    model = tiny_model()
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(type(m) is torch.nn.Linear for m in linears)
    assert all(m.forward.func is decoding.decoding_forward and m.forward.args == (m,) for m in linears)
    copied = copy.deepcopy(model)
    assert copied.lm_head.forward.args == (copied.lm_head,)
    assert list(copied.state_dict()) == list(model.state_dict())
    assert "model.decoder.layers.0.cross_attn.qkv.weight" in model.state_dict()
    layer = torch.nn.Linear(48, 64)
    layer.forward = own = functools.partial(torch.nn.Linear.forward, layer)
    assert decoding.use_decoding_linear(layer).forward is own
    with torch.no_grad():  # its rows are computed through its own forward, whole, then sliced
        torch.testing.assert_close(
            decoding.linear_rows(layer, torch.ones(1, 48), slice(8)), own(torch.ones(1, 48))[:, :8]
        )
    assert calls == {"bmm": [], "onednn": []}


@pytest.mark.parametrize("num_beams", [1, 3])  # 3 sequences x 1 beam: split path; x 3 beams: 9 rows, oneDNN
def test_fast_paths_give_the_same_generation(fast_everywhere, calls, num_beams):
    model = tiny_model()
    fast = greedy(model, num_beams=num_beams)
    kernel = "bmm" if num_beams == 1 or decoding.ONEDNN_LINEAR is None else "onednn"
    assert calls[kernel], f"the {kernel} path was not taken"
    decoding.DECODING_LINEAR_MIN_WEIGHT = 1 << 62  # restored by monkeypatch: plain linear everywhere
    plain = greedy(model, num_beams=num_beams)
    assert torch.equal(fast.sequences, plain.sequences)
    assert_steps_close(fast.logits, plain.logits)


def test_generate_asks_for_last_position_logits_only():
    model = tiny_model()
    seen = []
    model.register_forward_pre_hook(
        lambda m, args, kwargs: seen.append(kwargs.get("logits_to_keep")), with_kwargs=True
    )
    greedy(model)
    assert seen == [1] * 6


def test_logits_to_keep_equals_full_forward_last_position(fast_everywhere):
    model = tiny_model()
    ids, mask = padded_batch()
    decoder_ids = torch.tensor([[2, 5, 7, 9], [2, 9, 4, 1], [2, 3, 3, 3]])
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
        last = model(
            input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids, logits_to_keep=1
        ).logits
        two = model(
            input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids, logits_to_keep=2
        ).logits
    assert last.shape == (3, 1, TINY["vocab_size"])
    torch.testing.assert_close(last, full[:, -1:], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(two, full[:, -2:], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("position_style", ["roberta", "bert"])
def test_static_cache_equals_dynamic_cache(position_style):
    model = tiny_model(position_style=position_style)
    dynamic = greedy(model)
    static = greedy(model, cache_implementation="static")
    assert torch.equal(static.sequences, dynamic.sequences)
    assert_steps_close(static.logits, dynamic.logits)


def test_compiled_forward_equals_eager():
    # fullgraph: the whole model traces as one graph (no data-dependent Python branch on tensors). aot_eager keeps
    # the test fast; the inductor build is exercised by `benchmarks/run.py --compile`.
    model = tiny_model()
    ids, mask = padded_batch()
    decoder_ids = torch.tensor([[2, 5, 7], [2, 9, 1], [2, 3, 3]])
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    with torch.no_grad():
        eager = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
        fast = compiled(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits
    torch.testing.assert_close(fast, eager, rtol=1e-5, atol=1e-5)


def test_compiled_static_cache_generation_equals_eager_dynamic():
    model = tiny_model()
    eager = greedy(model)
    config = CompileConfig(fullgraph=True, backend="aot_eager", mode=None)
    config._compile_all_devices = True  # generate compiles decoding steps only on GPUs unless told otherwise
    torch._dynamo.reset()
    compiled = greedy(model, cache_implementation="static", compile_config=config)
    assert hasattr(model, "_compiled_call"), "generate did not compile the decoding step"
    assert torch.equal(compiled.sequences, eager.sequences)
    assert_steps_close(compiled.logits, eager.logits)


def test_bf16_static_cache_equals_dynamic_cache():
    model = tiny_model().to(torch.bfloat16)
    dynamic, static = greedy(model), greedy(model, cache_implementation="static")
    assert all(torch.equal(x, x.bfloat16().float()) for x in static.logits)  # bf16 values (generate upcasts)
    assert torch.equal(static.sequences, dynamic.sequences)
    assert_steps_close(static.logits, dynamic.logits, rtol=1.6e-2, atol=1e-5)  # assert_close's bf16 defaults


# ---------------------------------------------------------------- host synchronisation

# Tensor methods that copy a value to the host: on a GPU each one waits for every kernel queued before it.
HOST_SYNCS = {
    torch.Tensor.item,
    torch.Tensor.tolist,
    torch.Tensor.__bool__,
    torch.Tensor.__int__,
    torch.Tensor.__float__,
    torch.Tensor.__index__,
    torch.Tensor.numpy,
    torch.Tensor.nonzero,  # its output's shape depends on values
    torch.nonzero,
}


class HostSyncCounter(TorchFunctionMode):
    """Counts host synchronisations (`HOST_SYNCS`) by name while active."""

    def __init__(self):
        super().__init__()
        self.counts = collections.Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in HOST_SYNCS:
            self.counts[func.__name__] += 1
        return func(*args, **(kwargs or {}))


def tiny_bart() -> BartForConditionalGeneration:
    torch.manual_seed(0)
    config = BartConfig(
        vocab_size=TINY["vocab_size"],
        d_model=TINY["hidden_size"],
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=TINY["num_attention_heads"],
        decoder_attention_heads=TINY["num_attention_heads"],
        encoder_ffn_dim=TINY["intermediate_size"],
        decoder_ffn_dim=TINY["intermediate_size"],
        max_position_embeddings=TINY["max_position_embeddings"],
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_eos_token_id=None,  # a logits processor XLM-SWCM would not run
    )
    return BartForConditionalGeneration(config).eval()


def host_syncs(model, new_tokens: int, **kwargs) -> collections.Counter:
    ids = torch.tensor([[0, 5, 6, 7, 8, 9, 2]])
    with torch.no_grad(), HostSyncCounter() as counter:
        model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            use_cache=True,
            **kwargs,
        )
    return counter.counts


@pytest.mark.parametrize(
    "settings",
    [dict(num_beams=1), dict(num_beams=3), dict(cache_implementation="static")],
    ids=["greedy", "beam", "static-cache"],
)
def test_no_host_sync_per_generated_token_beyond_generate(settings):
    """Per generated token (the difference between 8 and 4 new tokens), XLM-SWCM synchronises with the host no
    more often than a tiny BART does under the same settings: those syncs are `generate`'s own (its stopping
    criteria), none are the model's. The token-id and length checks run on the user's ids only."""
    model = tiny_model(num_hidden_layers=2, decoder_start_token_id=2)
    per_token = {}
    for name, m in (("xlm-swcm", model), ("bart", tiny_bart())):
        short, long = host_syncs(m, 4, **settings), host_syncs(m, 8, **settings)
        per_token[name] = {key: (long[key] - short[key]) / 4 for key in long | short}
    assert sum(per_token["xlm-swcm"].values()) <= sum(per_token["bart"].values()), per_token


def test_resized_untied_lm_head_keeps_the_decoding_forward(fast_everywhere, calls):
    model = tiny_model(tie_word_embeddings=False)
    old_rows = model.lm_head.weight.shape[0]
    model.resize_token_embeddings(old_rows + 5)
    head = model.lm_head
    assert head.weight.shape[0] == old_rows + 5 and head.forward.func is decoding.decoding_forward
    x = torch.randn(1, head.in_features)
    with torch.no_grad():
        torch.testing.assert_close(head(x), x @ head.weight.t())
