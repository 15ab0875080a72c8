"""Soft thinking: one-token mixtures are greedy decoding; batched rows equal rows alone; seeded noise."""

import pytest
import torch

from latentsearch.decode import greedy_batch
from latentsearch.latent.soft import SoftConfig, mixture_weights, soft_answer
from latentsearch.models.factory import ModelConfig, build_model

PROMPTS = [[5, 6, 7, 8, 9], [10, 11, 12], [13, 14, 15, 16, 17, 18, 19]]


def tiny(family="gpt2"):
    return build_model(ModelConfig(family=family, n_layer=2, d_model=32, n_head=2), 40, 0, 1, seed=0).eval()


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
def test_top1_mixtures_are_greedy_decoding(family):
    model = tiny(family)
    greedy = greedy_batch(model, PROMPTS, eos_id=-1, pad_id=0, max_new_tokens=7)
    rows, steps, _ = soft_answer(model, PROMPTS, SoftConfig(max_steps=3, top_k=1), after=[], eos_id=-1, pad_id=0,
                                 max_new_tokens=4)
    assert steps == [3, 3, 3]
    assert rows == [g[3:] for g in greedy]


def test_batched_rows_equal_rows_alone_with_stops():
    model, config = tiny(), SoftConfig(max_steps=5, top_k=3)
    stop = (int(model(input_ids=torch.tensor([PROMPTS[1]])).logits[0, -1].argmax()),)  # row 1 stops at once
    batched, steps, _ = soft_answer(model, PROMPTS, config, after=[3], eos_id=1, pad_id=0, max_new_tokens=5,
                                    stop_ids=stop)
    assert steps[1] == 0
    for prompt, row, k in zip(PROMPTS, batched, steps):
        alone, alone_steps, _ = soft_answer(model, [prompt], config, after=[3], eos_id=1, pad_id=0,
                                            max_new_tokens=5, stop_ids=stop)
        assert alone[0] == row and alone_steps[0] == k


def test_mixture_weights():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    weights, ids = mixture_weights(logits, SoftConfig(top_k=3, min_p=0.5))
    assert ids[0].tolist() == [0, 1, 2] and weights[0].tolist() == pytest.approx([0.625, 0.375, 0.0])
    for noise in ("gumbel", "dirichlet"):
        config = SoftConfig(top_k=3, noise=noise)
        a = mixture_weights(logits, config, torch.Generator().manual_seed(3))[0]
        b = mixture_weights(logits, config, torch.Generator().manual_seed(3))[0]
        assert torch.allclose(a.sum(-1), torch.ones(1)) and torch.equal(a, b)
