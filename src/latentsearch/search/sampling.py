"""Ancestral sampling: temperature, top-k, top-p and min-p (a `Warp`), with an explicit generator.

Many samples run as one batch; the same generator seed gives the same samples.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from latentsearch.search.base import Node, SearchResult, Space, Warp, result


def sample_until(space: Space, nodes: Sequence[Node], generator: torch.Generator, warp: Warp | None = None,
                 stop: Callable[[Node], bool] | None = None) -> list[Node]:
    """Extend every node by sampled tokens until it is final or `stop(node)` holds (checked after a token)."""
    done = lambda n: space.is_final(n) or (stop is not None and len(n.tokens) > 0 and stop(n))  # noqa: E731
    nodes = list(nodes)
    live = [i for i, n in enumerate(nodes) if not space.is_final(n)]
    while live:
        logprobs = space.expand([nodes[i] for i in live], warp)  # (live, vocab)
        tokens = torch.multinomial(logprobs.exp(), 1, generator=generator)[:, 0].tolist()
        for row, (i, token) in enumerate(zip(live, tokens)):
            nodes[i] = space.child(nodes[i], token, nodes[i].logprob + float(logprobs[row, token]))
        live = [i for i in live if not done(nodes[i])]
    return [n.detached() if space.is_final(n) else n for n in nodes]


def sample(space: Space, num_samples: int = 1, warp: Warp | None = None, seed: int = 0,
           generator: torch.Generator | None = None) -> SearchResult:
    """`num_samples` independent samples from the root, sorted by log-probability."""
    if num_samples <= 0:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    generator = generator or torch.Generator().manual_seed(seed)
    nodes = sample_until(space, [space.root()] * num_samples, generator, warp)
    nodes.sort(key=lambda n: -n.logprob)
    return result(space, nodes, [n.logprob for n in nodes])
