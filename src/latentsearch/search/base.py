"""The search protocol: nodes, the space an algorithm explores, the explored tree and the result.

An algorithm sees a language model only through a `Space`: `root()`, `expand(nodes)` (next-token
log-probabilities of many nodes in one batch), `child(parent, token, logprob)`, `is_final(node)`
and, for state keys, `hidden(nodes)`. Nothing here imports transformers or a tokenizer.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import torch


@dataclass(frozen=True, eq=False)
class Node:
    tokens: tuple[int, ...]  # generated tokens after the prompt
    logprob: float  # cumulative log-probability of `tokens` given the prompt (after any warping)
    id: int = 0  # index of this node in the space's explored tree
    handle: Any = field(default=None, repr=False)  # the engine's pointer into its KV cache; opaque here

    def __len__(self) -> int:
        return len(self.tokens)

    def detached(self) -> "Node":
        """The same node without its cache handle (frees the cache of a node that is never expanded)."""
        return dataclasses.replace(self, handle=None)


@dataclass(frozen=True)
class Warp:
    """A next-token distribution transform, as in sampling; the engine maps it to LogitsProcessors."""

    temperature: float = 1.0  # divide logits by this (> 0)
    top_k: int = 0  # keep the k most probable tokens (0 = all)
    top_p: float = 1.0  # keep the smallest set with this much mass (1 = all)
    min_p: float = 0.0  # drop tokens below min_p times the top probability (0 = none)

    def __post_init__(self):
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature must be a finite number > 0, got {self.temperature}")
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

    eos_id: int
    max_new_tokens: int  # longest continuation; a node this long is final
    forward_passes: int  # model calls so far, the prompt's prefill included
    expansions: int  # nodes expanded so far
    tree: "Tree"

    def root(self) -> Node: ...

    def expand(self, nodes: Sequence[Node], warp: Warp | None = None) -> torch.Tensor:
        """(len(nodes), vocab) log-probabilities of the next token of each node."""

    def child(self, parent: Node, token: int, logprob: float) -> Node:
        """The node `parent + token` whose cumulative log-prob is `logprob` (recorded in the tree)."""

    def is_final(self, node: Node) -> bool:
        """The node ends in the end-of-sequence token or has reached the length limit."""

    def hidden(self, nodes: Sequence[Node]) -> torch.Tensor:
        """(len(nodes), d_model) last-layer hidden state at each node's last token."""


class Tree:
    """The explored tree as plain data: one entry per node, parents before children."""

    def __init__(self):
        self.parent: list[int] = [-1]
        self.token: list[int] = [-1]
        self.logprob: list[float] = [0.0]
        self.expanded: list[bool] = [False]
        self.merged_into: dict[int, int] = {}

    def add(self, parent: int, token: int, logprob: float) -> int:
        self.parent.append(parent)
        self.token.append(token)
        self.logprob.append(logprob)
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
        return {"parent": self.parent, "token": self.token, "logprob": self.logprob,
                "expanded": self.expanded, "merged_into": self.merged_into}


@dataclass
class SearchResult:
    sequences: list[list[int]]  # best first: generated tokens (no prompt)
    scores: list[float]  # the algorithm's score of each sequence (higher is better)
    logprobs: list[float]  # cumulative log-probability of each sequence
    expansions: int  # nodes expanded (one node's next-token distribution computed)
    forward_passes: int  # model calls, the prompt's prefill included
    tree: dict  # Tree.to_dict(): the explored tree as plain data
    extra: dict = field(default_factory=dict)  # algorithm-specific facts (votes, merges, ...)

    def summary(self) -> dict:
        tree = self.tree
        return {"nodes": len(tree["parent"]), "expanded": sum(tree["expanded"]),
                "merged": len(tree["merged_into"]), "expansions": self.expansions,
                "forward_passes": self.forward_passes, **self.extra}


def result(space: Space, nodes: Sequence[Node], scores: Sequence[float], **extra) -> SearchResult:
    """A SearchResult for `nodes` (best first) with the space's counters and tree."""
    return SearchResult(
        sequences=[list(n.tokens) for n in nodes], scores=[float(s) for s in scores],
        logprobs=[n.logprob for n in nodes], expansions=space.expansions,
        forward_passes=space.forward_passes, tree=space.tree.to_dict(), extra=extra,
    )


def length_score(logprob: float, length: int, length_penalty: float) -> float:
    """transformers' beam score: logprob / length ** length_penalty."""
    return logprob / (max(length, 1) ** length_penalty)


def logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))
