"""Greedy decoding: depth-first search that always takes the most probable child."""

from __future__ import annotations

from dataclasses import dataclass

from latentsearch.search.base import SearchResult, Space, result
from latentsearch.search.registry import register


def greedy(space: Space) -> SearchResult:
    """Follow the argmax token from the root until the node is final."""
    node = space.root()
    while not space.is_final(node):
        logprobs = space.expand([node])[0]  # (vocab,)
        token = int(logprobs.argmax())
        node = space.child(node, token, node.score + float(logprobs[token]))
    return result(space, [node], [node.score])


@dataclass(frozen=True)
class GreedyConfig:
    """Greedy decoding has no options."""


@register("greedy", GreedyConfig, "depth-first: always the most probable token")
def _run(space, config: GreedyConfig, context) -> SearchResult:
    return greedy(space)
