"""Dynamic programming by recombination: beam search where hypotheses with equal states are one node.

A state key maps a batch of candidate nodes to hashable keys; candidates with the same key merge
into the best of them, whose score becomes the max (Viterbi) or the logsumexp (forward algorithm)
of theirs. Key policies: the last n tokens, a key the caller computes from a node's tokens (e.g.
the current graph node), or a bucketed last hidden state (cosine above a threshold).
Merging happens among the candidates of one step (all of one length).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Hashable, Sequence

from latentsearch.options import opt
from latentsearch.search.base import Node, SearchResult, Space, logsumexp
from latentsearch.search.beam import STOPPING, BeamConfig, beam_search
from latentsearch.search.registry import register

if TYPE_CHECKING:
    import torch

Keys = Callable[[Sequence[Node]], list[Hashable]]
MODES = ("max", "logsumexp")


def last_tokens(n: int) -> Keys:
    """The state is the last n generated tokens (an n-gram Markov assumption)."""
    if n <= 0:
        raise ValueError(f"the last-tokens key needs n > 0, got {n}")
    return lambda nodes: [node.tokens[-n:] for node in nodes]


def by_tokens(key: Callable[[tuple[int, ...]], Hashable]) -> Keys:
    """The state is whatever the caller computes from a node's tokens (e.g. the current graph node)."""
    return lambda nodes: [key(node.tokens) for node in nodes]


class HiddenBuckets:
    """The state is a bucket of last hidden states: a state joins the first bucket whose centre has
    cosine similarity >= threshold with it, else it opens a new bucket."""

    def __init__(self, space: Space, threshold: float = 0.99):
        if not -1 <= threshold <= 1:
            raise ValueError(f"cosine threshold must be in [-1, 1], got {threshold}")
        self.space, self.threshold = space, threshold
        self.centres: torch.Tensor | None = None  # (buckets, d_model), unit vectors

    def __call__(self, nodes: Sequence[Node]) -> list[Hashable]:
        import torch  # here, not at the top: the command line lists options without importing torch

        states = torch.nn.functional.normalize(self.space.hidden(nodes).float(), dim=-1)  # (nodes, d)
        return [self._bucket(state) for state in states]

    def _bucket(self, state: torch.Tensor) -> int:
        import torch

        if self.centres is not None:
            cosine = self.centres @ state  # (buckets,)
            if float(cosine.max()) >= self.threshold:
                return int(cosine.argmax())
            self.centres = torch.cat([self.centres, state[None]])
        else:
            self.centres = state[None]
        return len(self.centres) - 1


def merger(space: Space, keys: Keys, mode: str = "max") -> Callable[[list[Node]], list[Node]]:
    """A beam `merge` hook: candidates (best first) with equal keys join the first of them."""
    if mode not in MODES:
        raise ValueError(f"merge mode must be one of {', '.join(MODES)}, not {mode!r}")

    def merge(candidates: list[Node]) -> list[Node]:
        groups: dict[Hashable, list[Node]] = {}
        for node, key in zip(candidates, keys(candidates)):
            groups.setdefault(key, []).append(node)
        merged = [_join(space, group, mode) for group in groups.values()]
        return sorted(merged, key=lambda n: -n.score)

    return merge


def _join(space: Space, group: list[Node], mode: str) -> Node:
    head = group[0]
    for other in group[1:]:
        space.tree.merged_into[other.id] = head.id
    if mode == "max" or len(group) == 1:
        return head
    return dataclasses.replace(head, score=logsumexp([n.score for n in group]))


def recombine(space: Space, keys: Keys, width: int = 4, mode: str = "max", length_penalty: float = 1.0,
              early_stopping: bool | str = False) -> SearchResult:
    """Beam search with recombination; the result's `extra` counts the merged hypotheses."""
    out = beam_search(space, width, length_penalty, early_stopping, merge=merger(space, keys, mode))
    out.extra["merged"] = len(space.tree.merged_into)
    return out


@dataclass(frozen=True)
class RecombineConfig(BeamConfig):
    key: str = opt("last:2", 'state key: "last:N" (the last N tokens) or "hidden:COSINE" (bucketed hidden states)')
    merge: str = opt("max", "merged score: max (Viterbi) or logsumexp (forward)", MODES)

    def __post_init__(self):
        super().__post_init__()
        if self.merge not in MODES:
            raise ValueError(f"merge must be one of {', '.join(MODES)}, not {self.merge!r}")
        self.key_policy()  # fail early on a bad key

    def key_policy(self) -> tuple[str, float]:
        kind, _, arg = self.key.partition(":")
        try:
            value = int(arg) if kind == "last" else float(arg)
        except ValueError:
            value = None
        if kind not in ("last", "hidden") or value is None or (kind == "last" and value <= 0) or (
                kind == "hidden" and not -1 <= value <= 1):
            raise ValueError(f'key must be "last:N" (N > 0) or "hidden:COSINE" (COSINE in [-1, 1]), not {self.key!r}')
        return kind, value

    @property
    def needs_hidden(self) -> bool:
        return self.key_policy()[0] == "hidden"


@register("recombine", RecombineConfig, "dynamic programming: beam search merging hypotheses with equal states")
def _run(space, config: RecombineConfig, context) -> SearchResult:
    kind, arg = config.key_policy()
    keys = last_tokens(int(arg)) if kind == "last" else HiddenBuckets(space, arg)
    return recombine(space, keys, config.width, config.merge, config.length_penalty, STOPPING[config.early_stopping])
