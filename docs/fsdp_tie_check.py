"""Which FSDP wrappings keep XLM-SWCM's parameter sharing intact? A small check that runs on CPUs (gloo) or GPUs.

    python -m torch.distributed.run --nproc_per_node 2 docs/fsdp_tie_check.py

For `weight_sharing` "copy" and "tie" and several ways of wrapping the model in FSDP (FSDP1
`FullyShardedDataParallel` and FSDP2 `fully_shard`), it trains a tiny model for two steps on half a batch per rank
and compares the result with the same two steps in one process on the whole batch (dropout off, SGD), and checks
that tied tensors are still equal afterwards. Rank 0 prints one line per case. See docs/distributed.md.
"""

import functools
import os
import sys
import warnings
from pathlib import Path

import torch
import torch.distributed as dist

try:
    import xlm_swcm  # noqa: F401
except ImportError:  # a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import FullStateDictConfig, StateDictType, fully_shard
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy

from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration
from xlm_swcm.modeling_xlm_swcm import (
    XLMSWCMDecoderLayer,
    XLMSWCMEncoderLayer,
)

LAYER_CLASSES = {XLMSWCMEncoderLayer, XLMSWCMDecoderLayer}


def shard_layers(model: XLMSWCMForConditionalGeneration, mesh, group_tied: bool = True) -> None:
    """FSDP2 wrapping for XLM-SWCM: one group per layer, except that in tie mode encoder layer i and the custom
    decoder layer(s) built from it form ONE group (their attention/FFN parameters are the same tensors, and FSDP2
    refuses a parameter in two groups). Call `fully_shard(model, mesh=mesh)` afterwards for the rest."""
    config = model.config
    encoder, decoder = model.model.encoder.layers, model.model.decoder.layers
    tied = config.weight_sharing == "tie" and group_tied
    for i, layer in enumerate(encoder):
        partners = [decoder[j] for j, source in enumerate(config.decoder_layer_sources) if source == i]
        fully_shard([layer, *partners] if tied else layer, mesh=mesh)
        if not tied:
            for partner in partners:
                fully_shard(partner, mesh=mesh)
    for j, source in enumerate(config.decoder_layer_sources):
        if source is None:  # normal layers share nothing
            fully_shard(decoder[j], mesh=mesh)


def build(mode: str, device) -> XLMSWCMForConditionalGeneration:
    torch.manual_seed(0)
    config = XLMSWCMConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=130,
        insert_every=1,  # custom, normal, custom
        weight_sharing=mode,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return XLMSWCMForConditionalGeneration(config).to(device)


def train(model, params, inputs, labels, steps=2):
    optimizer = torch.optim.SGD(params, lr=0.1)
    for _ in range(steps):
        model(input_ids=inputs, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()


def run_case(mode: str, wrapping: str, device, rank: int) -> str:
    reference = build(mode, device)
    model = build(mode, device)
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randint(3, 99, (4, 7), generator=generator).to(device)
    labels = torch.randint(3, 99, (4, 5), generator=generator).to(device)
    half = slice(2 * rank, 2 * rank + 2)
    train(reference, reference.parameters(), inputs, labels)
    try:
        if wrapping.startswith("fsdp1"):
            policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls=LAYER_CLASSES)
            wrapped = FSDP(
                model,
                auto_wrap_policy=None if wrapping == "fsdp1 no wrap" else policy,
                use_orig_params=wrapping.endswith("use_orig_params=True"),
                device_id=device,
            )
            train(wrapped, wrapped.parameters(), inputs[half], labels[half])
            config = FullStateDictConfig(rank0_only=False)
            with FSDP.state_dict_type(wrapped, StateDictType.FULL_STATE_DICT, config):
                state = {k.replace("_fsdp_wrapped_module.", ""): v for k, v in wrapped.state_dict().items()}
        else:
            mesh = init_device_mesh(device.type, (dist.get_world_size(),))
            if wrapping != "fsdp2 root only":
                shard_layers(model, mesh, group_tied=wrapping == "fsdp2 per layer, tied grouped")
            fully_shard(model, mesh=mesh)
            train(model, model.parameters(), inputs[half], labels[half])
            state = {
                k: v.full_tensor() if hasattr(v, "full_tensor") else v for k, v in model.state_dict().items()
            }
    except Exception as error:  # the point is to report which wrappings fail, and how
        return f"{mode:4} | {wrapping:38} | FAILS: {type(error).__name__}: {str(error).splitlines()[0][:110]}"
    expected = reference.state_dict()
    diff = max((state[k].float() - v.float()).abs().max().item() for k, v in expected.items())
    name = "model.decoder.layers.0.self_attn.qkv.weight"
    still_tied = torch.equal(state[name], state["model.encoder.layers.0.attention.qkv.weight"])
    verdict = "ok" if diff < 1e-5 and (mode == "copy" or still_tied) else "WRONG"
    tie_note = f", ties kept: {still_tied}" if mode == "tie" else ""
    return f"{mode:4} | {wrapping:38} | {verdict}: max |diff| vs one process {diff:.1e}{tie_note}"


def main() -> None:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank()
    if dist.get_world_size() != 2:
        raise SystemExit("run with --nproc_per_node 2")
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    cases = [
        "fsdp1 per layer, use_orig_params=True",
        "fsdp1 per layer, use_orig_params=False",
        "fsdp1 no wrap",
        "fsdp2 per layer",
        "fsdp2 per layer, tied grouped",
        "fsdp2 root only",
    ]
    for mode in ("copy", "tie"):
        for wrapping in cases:
            if mode == "copy" and wrapping in ("fsdp2 per layer, tied grouped", "fsdp1 no wrap"):
                continue  # same as per layer for copy mode / nothing to learn
            line = run_case(mode, wrapping, device, rank)
            if rank == 0:
                print(line, flush=True)
            dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
