"""The search protocol: nodes, the space an algorithm explores, the explored tree and the result.

An algorithm sees a language model only through a `Space`: `root()`, `expand(nodes)` (the score of
every move from many nodes, in one batch), `child(parent, move, score)`, `is_final(node)` and, for
state keys, `hidden(nodes)`. A move's score is additive along a path: in token space a move is a
token and its score the token's log-probability (engine.Engine); in latent space a move is a way to
continue thinking and its score the change of the node's value (latent/space.py). Nothing here
imports transformers or a tokenizer.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence

if TYPE_CHECKING:
    import torch



MAX_COUNT = 4096  # the most beams, samples, children or branches an option may ask for


def check_counts(config, *names: str, low: int = 1) -> None:
    """Refuse a count option outside [low, MAX_COUNT]: a huge one would hang or exhaust memory, not fail."""
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_COUNT:
            raise ValueError(f"{name} must be a whole number from {low} to {MAX_COUNT}, got {value!r}")


@dataclass(frozen=True, eq=False)
class Node:
    tokens: tuple[int, ...]  # the moves from the root: generated tokens after the prompt, or latent moves
    score: float  # the sum of the moves' scores: in token space the log-probability of `tokens` (after any warping)
    id: int = 0  # index of this node in the space's explored tree
    handle: Any = field(default=None, repr=False)  # the engine's pointer into its KV cache; opaque here

    def __len__(self) -> int:
        return len(self.tokens)

    def detached(self) -> "Node":
        """The same node without its cache (frees the cache of a node that is never expanded); a handle
        with a `detached()` method keeps what that returns (e.g. a latent node's value and answer)."""
        light = getattr(self.handle, "detached", None)
        return dataclasses.replace(self, handle=light() if light else None)


@dataclass(frozen=True)
class Warp:
    """A next-token distribution transform, as in sampling; the engine maps it to LogitsProcessors."""

    temperature: float = 1.0  # divide logits by this (> 0)
    top_k: int = 0  # keep the k most probable tokens (0 = all)
    top_p: float = 1.0  # keep the smallest set with this much mass (1 = all)
    min_p: float = 0.0  # drop tokens below min_p times the top probability (0 = none)

    def __post_init__(self):
        if not (math.isfinite(self.temperature) and 1e-3 <= self.temperature <= 1e3):
            raise ValueError(f"temperature must be in [0.001, 1000], got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if not 0 <= self.min_p < 1:
            raise ValueError(f"min_p must be in [0, 1), got {self.min_p}")

    @property
    def identity(self) -> bool:
        return self == Warp()


class Space(Protocol):
    """What a search algorithm may ask of the model (see engine.Engine for the implementation)."""

    max_new_tokens: int  # longest continuation; a node this long is final
    forward_passes: int  # model calls so far, the prompt's prefill included
    expansions: int  # nodes expanded so far
    tree: "Tree"

    def root(self) -> Node: ...

    def expand(self, nodes: Sequence[Node], warp: Warp | None = None) -> torch.Tensor:
        """(len(nodes), moves) the score of every move from each node (token space: next-token log-probs)."""

    def child(self, parent: Node, move: int, score: float) -> Node:
        """The node `parent + move` whose cumulative score is `score` (recorded in the tree)."""

    def is_final(self, node: Node) -> bool:
        """The node ends the sequence (end-of-sequence token, length limit, last thought)."""

    def hidden(self, nodes: Sequence[Node]) -> torch.Tensor:
        """(len(nodes), d_model) last-layer hidden state at each node's last token."""


class Tree:
    """The explored tree as plain data: one entry per node, parents before children."""

    def __init__(self):
        self.parent: list[int] = [-1]
        self.token: list[int] = [-1]
        self.score: list[float] = [0.0]
        self.expanded: list[bool] = [False]
        self.merged_into: dict[int, int] = {}

    def add(self, parent: int, token: int, score: float) -> int:
        self.parent.append(parent)
        self.token.append(token)
        self.score.append(score)
        self.expanded.append(False)
        return len(self.parent) - 1

    def __len__(self) -> int:
        return len(self.parent)

    def depth(self) -> int:
        depths = [0] * len(self)
        for i in range(1, len(self)):
            depths[i] = depths[self.parent[i]] + 1
        return max(depths)

    def to_dict(self) -> dict:
        return {"parent": self.parent, "token": self.token, "score": self.score,
                "expanded": self.expanded, "merged_into": self.merged_into}


@dataclass
class SearchResult:
    sequences: list[list[int]]  # best first: generated tokens (no prompt)
    scores: list[float]  # the algorithm's score of each sequence (higher is better)
    totals: list[float]  # cumulative move score of each sequence (token space: its log-probability)
    expansions: int  # nodes expanded (one node's next-token distribution computed)
    forward_passes: int  # model calls, the prompt's prefill included
    tree: dict  # Tree.to_dict(): the explored tree as plain data
    extra: dict = field(default_factory=dict)  # algorithm-specific facts (votes, merges, ...)
    nodes: list[Node] = field(default_factory=list, repr=False)  # the final nodes themselves, best first

    def to_dict(self) -> dict:
        """Plain data (JSON-able): everything but the nodes."""
        return {k: v for k, v in vars(self).items() if k != "nodes"}

    def path(self, rank: int = 0) -> list[int]:
        """Tree ids from the root to the `rank`-th sequence's node (the chosen path, for drawing)."""
        ids = [self.nodes[rank].id]
        while ids[-1] > 0:
            ids.append(self.tree["parent"][ids[-1]])
        return ids[::-1]

    def summary(self) -> dict:
        tree = self.tree
        return {"nodes": len(tree["parent"]), "expanded": sum(tree["expanded"]),
                "merged": len(tree["merged_into"]), "expansions": self.expansions,
                "forward_passes": self.forward_passes, **self.extra}


def result(space: Space, nodes: Sequence[Node], scores: Sequence[float], **extra) -> SearchResult:
    """A SearchResult for `nodes` (best first) with the space's counters and tree."""
    return SearchResult(
        sequences=[list(n.tokens) for n in nodes], scores=[float(s) for s in scores],
        totals=[n.score for n in nodes], expansions=space.expansions,
        forward_passes=space.forward_passes, tree=space.tree.to_dict(), extra=extra, nodes=list(nodes),
    )


def length_score(total: float, length: int, length_penalty: float) -> float:
    """transformers' beam score: cumulative log-prob / length ** length_penalty."""
    return total / (max(length, 1) ** length_penalty)


def logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))
