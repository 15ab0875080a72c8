"""Latent beam / BFS through the search protocol: the continuous-only path is Coconut's, values are
the answer likelihoods, and beam / recombination run on it unchanged."""

import pytest
import torch

from latentsearch.decode import prefill
from latentsearch.latent.space import LatentSearchConfig, LatentSpace
from latentsearch.latent.thoughts import think
from latentsearch.models.factory import ModelConfig, build_model
from latentsearch.search import HiddenBuckets, beam_search, recombine

PROMPT, AFTER, CANDIDATES = [5, 6, 7, 8, 2], [3], [[9, 10], [9, 11], [12]]


def tiny(family="gpt2"):
    return build_model(ModelConfig(family=family, n_layer=2, d_model=32, n_head=2), 40, 0, 1, seed=0).eval()


def reference_value(model, inputs_embeds: torch.Tensor) -> tuple[float, int]:
    """log p(AFTER + candidate) by full recomputation, best candidate."""
    embed = model.get_input_embeddings()
    scores = []
    for cand in CANDIDATES:
        seq = AFTER + cand
        full = torch.cat([inputs_embeds, embed(torch.tensor([seq]))], 1)
        logprobs = model(inputs_embeds=full).logits[0].log_softmax(-1)
        start = inputs_embeds.shape[1] - 1
        scores.append(sum(logprobs[start + j, t].item() for j, t in enumerate(seq)))
    return max(scores), scores.index(max(scores))


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
def test_continuous_only_beam_is_coconut(family):
    model = tiny(family)
    space = LatentSpace(model, PROMPT, AFTER, CANDIDATES, LatentSearchConfig(depth=3, top_k=0))
    out = beam_search(space, width=1, length_penalty=0.0)
    assert out.sequences == [[0, 0, 0]]
    with torch.no_grad():
        state = think(model, prefill(model, [PROMPT], 0), [3])
        embeds = torch.cat([model.get_input_embeddings()(torch.tensor([PROMPT])), state.thoughts], 1)
        value, answer = reference_value(model, embeds)
    root_value = space.root().handle.value
    assert out.scores[0] + root_value == pytest.approx(value, abs=1e-4)
    assert out.forward_passes == 2 + 2 * 3  # prefill + score, then a thought pass + a scoring pass per depth


def test_every_child_is_valued_like_a_recompute():
    model = tiny()
    space = LatentSpace(model, PROMPT, AFTER, CANDIDATES, LatentSearchConfig(depth=2, top_k=2, soft=True))
    root = space.root()
    scores = space.expand([root])[0]
    assert scores.shape == (4,)  # thought, 2 tokens, mixture
    embed = model.get_input_embeddings()
    with torch.no_grad():
        base = embed(torch.tensor([PROMPT]))
        hidden = model.base_model(inputs_embeds=base).last_hidden_state[0, -1]
        probs, ids = model.get_output_embeddings()(hidden).softmax(-1).topk(2)
        inputs = [hidden, embed(ids[0]), embed(ids[1]), (probs[:, None] / probs.sum() * embed(ids)).sum(0)]
        for action, vector in enumerate(inputs):
            value, answer = reference_value(model, torch.cat([base, vector[None, None]], 1))
            child = space.child(root, action, float(scores[action]))
            assert child.handle.value == pytest.approx(value, abs=1e-4) and space.answer(child) == answer


def test_beam_and_latent_dp_run_through_the_protocol():
    model = tiny()
    config = LatentSearchConfig(depth=3, top_k=2)
    wide = beam_search(LatentSpace(model, PROMPT, AFTER, CANDIDATES, config), width=4, length_penalty=0.0)
    narrow = beam_search(LatentSpace(model, PROMPT, AFTER, CANDIDATES, config), width=1, length_penalty=0.0)
    assert len(wide.sequences[0]) == 3 and wide.scores[0] >= narrow.scores[0] - 1e-6
    space = LatentSpace(model, PROMPT, AFTER, CANDIDATES, config)
    merged = recombine(space, HiddenBuckets(space, 0.5), width=4, length_penalty=0.0)
    assert merged.extra["merged"] > 0 and len(merged.sequences[0]) == 3


def test_a_caller_valuer_values_the_nodes_and_an_exhaustive_beam_finds_its_best_leaf():
    model = tiny()
    direction = torch.randn(32, generator=torch.Generator().manual_seed(0))
    valuer = lambda handles: torch.stack([h.hidden @ direction for h in handles])  # noqa: E731

    config = LatentSearchConfig(depth=2, top_k=2)
    space = LatentSpace(model, PROMPT, AFTER, CANDIDATES, config, valuer=valuer)
    out = beam_search(space, width=config.n_actions(1) ** 2, length_penalty=0.0)
    root = space.root()
    children = [space.child(root, a, float(s)) for a, s in enumerate(space.expand([root])[0])]
    leaves = space.expand(children) + torch.tensor([c.score for c in children])[:, None]
    assert out.scores[0] == pytest.approx(float(leaves.max()), abs=1e-5)
    assert out.nodes[0].handle.value == pytest.approx(float(out.nodes[0].handle.hidden @ direction), abs=1e-5)
