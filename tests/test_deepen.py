"""Growing a model by identity blocks: same function before training, a deeper model after."""

import pytest
import torch

from latentsearch.decode import prefill
from latentsearch.latent.thoughts import think
from latentsearch.models.deepen import add_blocks, block_list
from latentsearch.models.factory import FAMILIES, ModelConfig, build_model

PROMPTS = [[5, 6, 7, 8, 9], [10, 11, 12]]


def tiny(family: str):
    model = build_model(ModelConfig(family=family, n_layer=2, d_model=32, n_head=2), 40, 0, 1, seed=0).eval()
    with torch.no_grad():  # like a trained model's, the copied block's output projections must not be zero
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    return model


@pytest.mark.parametrize("family", FAMILIES)
def test_added_blocks_keep_the_function_and_the_cache(family):
    model = tiny(family)
    with torch.no_grad():
        before = think(model, prefill(model, PROMPTS, pad_id=0), [3, 1])
        add_blocks(model, 2)
        after = think(model, prefill(model, PROMPTS, pad_id=0), [3, 1])
    assert len(block_list(model)) == model.config.num_hidden_layers == 4
    torch.testing.assert_close(after.logits, before.logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(after.thoughts, before.thoughts, atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_added_blocks_learn(family):
    model = add_blocks(tiny(family).train(), 1)
    new_block = block_list(model)[-1]
    loss = model(input_ids=torch.tensor([PROMPTS[0]]), labels=torch.tensor([PROMPTS[0]])).loss
    loss.backward()
    moved = [p.grad.abs().sum() > 0 for p in new_block.parameters() if p.grad is not None]
    assert moved and any(moved)  # the zeroed writers get gradient, so the block leaves the identity
    source = {p.data_ptr() for p in block_list(model)[-2].parameters()}
    assert not source & {p.data_ptr() for p in new_block.parameters()}  # its own weights, not shared ones


def test_negative_count_is_refused():
    with pytest.raises(ValueError, match="add_layers"):
        add_blocks(tiny("gpt2"), -1)


def test_added_tokens_are_new_distinct_words_and_old_ones_stay():
    import torch

    from latentsearch.models.deepen import add_tokens
    from latentsearch.models.factory import ModelConfig, build_model

    model = build_model(ModelConfig(d_model=32, n_head=2), 40, 0, 1, seed=0)
    before = model.get_input_embeddings().weight.detach().clone()
    add_tokens(model, 50, seed=1)
    after = model.get_input_embeddings().weight.detach()
    assert after.shape == (50, 32) and torch.equal(after[:40], before)
    new = after[40:]
    old_spread = torch.cdist(before, before).mean()
    assert torch.cdist(new, new).sum() / (10 * 9) > 0.5 * old_spread  # not near-copies of one vector
    assert model.get_output_embeddings().weight.shape == (50, 32)
    assert torch.equal(model.get_output_embeddings().weight, after)  # the tied head grew with it
