"""Self-consistency (best-of-N by vote): sample N continuations, extract each one's answer with a
caller's function, and return the answer most samples agree on (ties: the higher summed probability)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Hashable

from latentsearch.options import opt
from latentsearch.search.base import Node, SearchResult, Space, Warp, check_counts, result
from latentsearch.search.registry import register
from latentsearch.search.sampling import SamplingOptions, sample_until

if TYPE_CHECKING:
    import torch

Extract = Callable[[Node], Hashable | None]


def self_consistency(space: Space, extract: Extract, num_samples: int = 8, warp: Warp | None = None,
                     seed: int = 0, generator: torch.Generator | None = None) -> SearchResult:
    """Samples best first: those voting for the winning answer, then the rest; `extra` holds the votes."""
    if num_samples <= 0:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    import torch  # here, not at the top: the command line lists options without importing torch

    generator = generator or torch.Generator().manual_seed(seed)
    nodes = sample_until(space, [space.root()] * num_samples, generator, warp)
    answers = [extract(n) for n in nodes]
    votes, mass = defaultdict(int), defaultdict(float)
    for node, answer in zip(nodes, answers):
        if answer is not None:
            votes[answer] += 1
            mass[answer] += math.exp(node.score)
    winner = max(votes, key=lambda a: (votes[a], mass[a])) if votes else None
    ranked = sorted(zip(nodes, answers), key=lambda pair: (pair[1] != winner or winner is None, -pair[0].score))
    return result(space, [n for n, _ in ranked], [n.score for n, _ in ranked], answer=winner,
                  votes={str(a): v for a, v in votes.items()})


@dataclass(frozen=True)
class SelfConsistencyConfig(SamplingOptions):
    samples: int = opt(8, "samples that vote")

    def __post_init__(self):
        super().__post_init__()
        check_counts(self, "samples")


@register("self-consistency", SelfConsistencyConfig, "sample N answers and take the one most samples give")
def _run(space, config: SelfConsistencyConfig, context) -> SearchResult:
    if context.answer is None:
        raise ValueError("self-consistency needs a way to read a sample's answer (Context.answer)")
    return self_consistency(space, context.answer, config.samples, config.warp, config.seed)
