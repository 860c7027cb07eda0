"""`generate` asked for more tokens than the decoder has positions: capped with a warning, never a failure that
loses the tokens generated so far (issue 24), with greedy and beam search."""

import warnings

import pytest
import torch
from tiny import tiny_model

LAYOUT = {"num_hidden_layers": 2, "insert_every": 1}


@pytest.fixture(scope="module")
def model():
    return tiny_model(LAYOUT)


def positions(model) -> int:
    return model.config.max_position_embeddings - model.config.position_offset


@pytest.mark.parametrize("num_beams", [1, 3])
def test_max_new_tokens_past_the_positions_is_capped_with_a_warning(model, num_beams):
    source = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]])
    mask = (source != 1).long()
    room = positions(model)  # the start token plus `room` new tokens: the last one is never fed back
    forced = {"min_new_tokens": room, "num_beams": num_beams, "do_sample": False}  # no early </s>
    with pytest.warns(
        UserWarning, match=rf"max_new_tokens=200 is more than the {room} tokens the decoder's {room} "
    ):
        capped = model.generate(source, attention_mask=mask, max_new_tokens=200, **forced)
    assert capped.shape == (2, room + 1)
    # what the longest possible request gives: the cap loses nothing and changes nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # within the positions: no warning
        exact = model.generate(source, attention_mask=mask, max_new_tokens=room, **forced)
    assert torch.equal(capped, exact)


@pytest.mark.parametrize("num_beams", [1, 2])
def test_max_length_past_the_positions_is_capped(model, num_beams):
    source = torch.tensor([[0, 5, 6, 2]])
    room = positions(model)
    forced = {"min_length": room + 1, "num_beams": num_beams, "do_sample": False}
    with pytest.warns(UserWarning, match=rf"max_length=500 is more than the decoder's {room} positions hold"):
        capped = model.generate(source, max_length=500, **forced)
    assert torch.equal(capped, model.generate(source, max_length=room + 1, **forced))


def test_given_decoder_prefix_counts_against_the_positions(model):
    source, prefix = torch.tensor([[0, 5, 6, 2]]), torch.tensor([[2, 7, 8]])
    room = positions(model) + 1 - prefix.shape[1]
    with pytest.warns(UserWarning, match=rf"max_new_tokens=100 is more than the {room} tokens"):
        capped = model.generate(source, decoder_input_ids=prefix, max_new_tokens=100, min_new_tokens=room)
    assert capped.shape == (1, positions(model) + 1)
    assert torch.equal(capped[:, :3], prefix)
