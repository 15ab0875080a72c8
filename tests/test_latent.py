"""Continuous thought: the cached, batched pass against plain models and a recompute-everything reference."""

import pytest
import torch

from latentsearch.decode import prefill, prefill_padded
from latentsearch.kv import GrowingLayer, growing_cache, left_pad
from latentsearch.latent.thoughts import answer_after_thoughts, think
from latentsearch.models.factory import FAMILIES, ModelConfig, build_model

PROMPTS = [[5, 6, 7, 8, 9], [10, 11, 12], [13, 14, 15, 16, 17, 18, 19]]
THOUGHTS = [2, 0, 3]


def tiny(family: str):
    return build_model(ModelConfig(family=family, n_layer=2, d_model=32, n_head=2), 40, 0, 1, seed=0).eval()


def recompute(model, prompt: list[int], n_thoughts: int):
    """The reference: the whole sequence re-run for every thought, no cache."""
    embeds = model.get_input_embeddings()(torch.tensor([prompt]))
    hiddens = []
    for _ in range(n_thoughts + 1):
        hiddens.append(model.base_model(inputs_embeds=embeds).last_hidden_state[:, -1])
        embeds = torch.cat([embeds, hiddens[-1][:, None]], dim=1)
    thoughts = torch.cat(hiddens[:-1], 0) if n_thoughts else None  # the vectors fed back as inputs
    return model.get_output_embeddings()(hiddens[-1])[0], thoughts


@pytest.mark.parametrize("family", FAMILIES)
def test_zero_thoughts_equal_the_plain_model(family):
    model = tiny(family)
    state = think(model, prefill(model, [PROMPTS[0]], pad_id=0), [0])
    plain = model(input_ids=torch.tensor([PROMPTS[0]])).logits[0, -1]
    torch.testing.assert_close(state.logits[0], plain, atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_cached_batch_equals_recompute_per_row(family):
    model = tiny(family)
    with torch.no_grad():
        state = think(model, prefill(model, PROMPTS, pad_id=0), THOUGHTS)
        for row, (prompt, k) in enumerate(zip(PROMPTS, THOUGHTS)):
            logits, thoughts = recompute(model, prompt, k)
            torch.testing.assert_close(state.logits[row], logits, atol=1e-5, rtol=0)
            if k:
                torch.testing.assert_close(state.thoughts[row, -k:], thoughts, atol=1e-5, rtol=0)
            assert not state.thoughts[row, : state.thoughts.shape[1] - k].any()
    assert state.forward_passes == 1 + max(THOUGHTS)


@pytest.mark.parametrize("family", FAMILIES)
def test_gradients_flow_through_every_thought(family):
    model = tiny(family).train()
    cached = think(model, prefill(model, [PROMPTS[2]], pad_id=0), [3]).logits[0].logsumexp(-1)
    grads = torch.autograd.grad(cached, list(model.parameters()), allow_unused=True)
    ref, _ = recompute(model, PROMPTS[2], 3)
    ref_grads = torch.autograd.grad(ref.logsumexp(-1), list(model.parameters()), allow_unused=True)
    for g, r in zip(grads, ref_grads):
        if r is not None:
            torch.testing.assert_close(g, r, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_batched_answers_equal_answers_alone(family):
    model = tiny(family)
    batched, state = answer_after_thoughts(model, PROMPTS, THOUGHTS, after=[3], eos_id=1, pad_id=0, max_new_tokens=6)
    for row, (prompt, k) in enumerate(zip(PROMPTS, THOUGHTS)):
        alone, _ = answer_after_thoughts(model, [prompt], [k], after=[3], eos_id=1, pad_id=0, max_new_tokens=6)
        assert batched[row][: len(alone[0])] == alone[0]
    assert state.thoughts.shape == (3, max(THOUGHTS), 32)


def test_a_static_cache_gives_the_answers_of_a_growing_one():
    from latentsearch.latent.thoughts import answer_after_thoughts
    from latentsearch.models.factory import ModelConfig, build_model

    model = build_model(ModelConfig(n_layer=2, d_model=32, n_head=2), 40, 0, 1, seed=3).eval()
    prompts = [[5, 6, 7, 8, 2], [9, 10, 2], [11, 12, 13, 14, 15, 16, 2]]
    grown, g_state = answer_after_thoughts(model, prompts, [3, 1, 2], [3], 1, 0, 6, static=False)
    static, s_state = answer_after_thoughts(model, prompts, [3, 1, 2], [3], 1, 0, 6, static=True)
    assert grown == static and type(s_state.cache).__name__ == "StaticCache"
    torch.testing.assert_close(g_state.thoughts, s_state.thoughts, atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_growing_cache_equals_the_cat_cache_bit_for_bit(family):
    """Training writes each pass's keys into preallocated buffers instead of torch.cat: same loss, same grads."""
    model = tiny(family).train()
    ids, mask = left_pad(PROMPTS, 0)

    def loss_and_grads(cache):
        state = think(model, prefill_padded(model, ids, mask, cache=cache), THOUGHTS)
        loss = (state.logits.logsumexp(-1) + state.thoughts.square().mean()).sum()
        return loss, torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)

    torch.manual_seed(0)  # dropout draws the same masks in both runs
    plain, plain_grads = loss_and_grads(None)
    torch.manual_seed(0)
    cache = growing_cache(model.config, ids.shape[1] + max(THOUGHTS))
    assert all(isinstance(layer, GrowingLayer) for layer in cache.layers)
    grown, grown_grads = loss_and_grads(cache)
    assert torch.equal(grown, plain)
    assert all((g is None and r is None) or torch.equal(g, r) for g, r in zip(grown_grads, plain_grads))


def test_the_growing_cache_refuses_a_pass_that_does_not_fit():
    model = tiny("gpt2")
    ids, mask = left_pad(PROMPTS, 0)
    with pytest.raises(ValueError, match="holds 8 positions"):
        think(model, prefill_padded(model, ids, mask, cache=growing_cache(model.config, 8)), THOUGHTS)
