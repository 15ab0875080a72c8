"""Greedy decoding: depth-first search that always takes the most probable child."""

from __future__ import annotations

from latentsearch.search.base import SearchResult, Space, result


def greedy(space: Space) -> SearchResult:
    """Follow the argmax token from the root until the node is final."""
    node = space.root()
    while not space.is_final(node):
        logprobs = space.expand([node])[0]  # (vocab,)
        token = int(logprobs.argmax())
        node = space.child(node, token, node.logprob + float(logprobs[token]))
    return result(space, [node], [node.logprob])
