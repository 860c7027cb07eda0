"""A tiny randomly initialised XLM-SWCM for tests of projections and decoding paths (built locally, no download)."""

import torch

from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration


def tiny_model(layout: dict, seed: int = 0) -> XLMSWCMForConditionalGeneration:
    """Hidden 32, 4 heads, vocabulary 99; `layout` gives the layers, `insert_every` and `weight_sharing`."""
    torch.manual_seed(seed)
    config = XLMSWCMConfig(
        vocab_size=99,
        hidden_size=32,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
        **layout,
    )
    return XLMSWCMForConditionalGeneration(config).eval()


# The shape of the tiny random source encoders (XLM-R, XLM-R XL) that conversion tests convert.
SOURCE_SHAPE = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=4,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=64,
)


def randomized(model: torch.nn.Module) -> torch.nn.Module:
    """`model` with seeded noise on every parameter (LayerNorms away from identity), in place."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.1 * torch.randn(param.shape, generator=generator))
    return model
