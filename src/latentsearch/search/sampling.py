"""Ancestral sampling: temperature, top-k, top-p and min-p (a `Warp`), with an explicit generator.

Many samples run as one batch; the same generator seed gives the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from latentsearch.options import opt
from latentsearch.search.base import Node, SearchResult, Space, Warp, check_counts, result
from latentsearch.search.registry import register

if TYPE_CHECKING:
    import torch


def sample_until(space: Space, nodes: Sequence[Node], generator: torch.Generator, warp: Warp | None = None,
                 stop: Callable[[Node], bool] | None = None) -> list[Node]:
    """Extend every node by sampled tokens until it is final or `stop(node)` holds (checked after a token)."""
    import torch  # here, not at the top: the command line lists options without importing torch

    done = lambda n: space.is_final(n) or (stop is not None and len(n.tokens) > 0 and stop(n))  # noqa: E731
    nodes = list(nodes)
    live = [i for i, n in enumerate(nodes) if not space.is_final(n)]
    while live:
        logprobs = space.expand([nodes[i] for i in live], warp)  # (live, vocab)
        tokens = torch.multinomial(logprobs.exp(), 1, generator=generator)[:, 0].tolist()
        for row, (i, token) in enumerate(zip(live, tokens)):
            nodes[i] = space.child(nodes[i], token, nodes[i].score + float(logprobs[row, token]))
        live = [i for i in live if not done(nodes[i])]
    return [n.detached() if space.is_final(n) else n for n in nodes]


def sample(space: Space, num_samples: int = 1, warp: Warp | None = None, seed: int = 0,
           generator: torch.Generator | None = None) -> SearchResult:
    """`num_samples` independent samples from the root, sorted by log-probability."""
    if num_samples <= 0:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    import torch  # here, not at the top: the command line lists options without importing torch

    generator = generator or torch.Generator().manual_seed(seed)
    nodes = sample_until(space, [space.root()] * num_samples, generator, warp)
    nodes.sort(key=lambda n: -n.score)
    return result(space, nodes, [n.score for n in nodes])


@dataclass(frozen=True)
class SamplingOptions:
    """The sampling distribution (a `Warp`) and the seed, shared by the sampling algorithms."""

    temperature: float = opt(1.0, "sampling temperature")
    top_k: int = opt(0, "sample among the k most probable tokens (0 = all)")
    top_p: float = opt(1.0, "nucleus sampling mass (1 = off)")
    min_p: float = opt(0.0, "min-p sampling threshold (0 = off)")
    seed: int = opt(0, "sampling seed (same seed, same output)")

    def __post_init__(self):
        self.warp  # checks the values

    @property
    def warp(self) -> Warp:
        return Warp(self.temperature, self.top_k, self.top_p, self.min_p)


@dataclass(frozen=True)
class SampleConfig(SamplingOptions):
    samples: int = opt(1, "independent samples, best first by log-probability")

    def __post_init__(self):
        super().__post_init__()
        check_counts(self, "samples")


@register("sample", SampleConfig, "ancestral sampling (temperature, top-k, top-p, min-p)")
def _run(space, config: SampleConfig, context) -> SearchResult:
    return sample(space, config.samples, config.warp, config.seed)
