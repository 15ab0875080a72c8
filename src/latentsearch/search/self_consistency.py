"""Self-consistency (best-of-N by vote): sample N continuations, extract each one's answer with a
caller's function, and return the answer most samples agree on (ties: the higher summed probability)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Callable, Hashable

import torch

from latentsearch.search.base import SearchResult, Space, Warp, result
from latentsearch.search.sampling import sample_until

Extract = Callable[[list[int]], Hashable | None]


def self_consistency(space: Space, extract: Extract, num_samples: int = 8, warp: Warp | None = None,
                     seed: int = 0, generator: torch.Generator | None = None) -> SearchResult:
    """Samples best first: those voting for the winning answer, then the rest; `extra` holds the votes."""
    if num_samples <= 0:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    generator = generator or torch.Generator().manual_seed(seed)
    nodes = sample_until(space, [space.root()] * num_samples, generator, warp)
    answers = [extract(list(n.tokens)) for n in nodes]
    votes, mass = defaultdict(int), defaultdict(float)
    for node, answer in zip(nodes, answers):
        if answer is not None:
            votes[answer] += 1
            mass[answer] += math.exp(node.logprob)
    winner = max(votes, key=lambda a: (votes[a], mass[a])) if votes else None
    ranked = sorted(zip(nodes, answers), key=lambda pair: (pair[1] != winner or winner is None, -pair[0].logprob))
    return result(space, [n for n, _ in ranked], [n.logprob for n, _ in ranked], answer=winner,
                  votes={str(a): v for a, v in votes.items()})
