"""Beam search (breadth-first with a width), step for step the algorithm of transformers' `generate`.

Each step scores all children of the running beams, keeps the best 2·width candidates, moves
those that end (end-of-sequence or length limit) among the first `width` into the finished pool
(score = logprob / length ** length_penalty), and keeps the best `width` unfinished ones running.
`early_stopping`: True stops when `width` hypotheses are finished; False and "never" use
transformers' heuristics. An optional `merge` hook (see recombine.py) joins candidates first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from latentsearch.options import opt
from latentsearch.search.base import Node, SearchResult, Space, check_counts, length_score, result
from latentsearch.search.registry import register

if TYPE_CHECKING:
    pass

Merge = Callable[[list[Node]], list[Node]]


class _Finished:
    """The best `width` finished hypotheses, as transformers keeps them."""

    def __init__(self, width: int):
        self.width, self.items = width, []  # (score, node), best first

    @property
    def full(self) -> bool:
        return len(self.items) >= self.width

    def worst(self) -> float:
        return self.items[-1][0] if self.full else -1e9

    def add(self, score: float, node: Node) -> None:
        self.items.append((score, node.detached()))
        self.items.sort(key=lambda item: -item[0])
        del self.items[self.width:]


def beam_search(space: Space, width: int = 4, length_penalty: float = 1.0,
                early_stopping: bool | str = False, merge: Merge | None = None) -> SearchResult:
    if width <= 0:
        raise ValueError(f"beam width must be positive, got {width}")
    if early_stopping not in (True, False, "never"):
        raise ValueError(f'early_stopping must be True, False or "never", not {early_stopping!r}')
    running, finished, improvable = [space.root()], _Finished(width), True
    while running:
        candidates = _candidates(space, running, 2 * width)
        if merge is not None:
            candidates = merge(candidates)
        if not candidates:  # every continuation was ruled out (-inf)
            break
        length = len(candidates[0].tokens)
        ends = [space.is_final(c) for c in candidates]
        stop_adding = not improvable or (finished.full and early_stopping is True)
        for rank, (node, end) in enumerate(zip(candidates, ends)):
            if end and rank < width and not stop_adding:
                finished.add(length_score(node.score, length, length_penalty), node)
        running = [c for c, end in zip(candidates, ends) if not end][:width]
        if not running or (finished.full and early_stopping is True):
            break
        best_len = space.max_new_tokens if early_stopping == "never" and length_penalty > 0 else length
        improvable = improvable and running[0].score / best_len ** length_penalty > finished.worst()
        if not improvable:
            break
    nodes = [node for _, node in finished.items]
    return result(space, nodes, [score for score, _ in finished.items])


def _candidates(space: Space, running: Sequence[Node], k: int) -> list[Node]:
    """The k best children of the running beams by cumulative log-prob, best first."""
    import torch  # here, not at the top: the command line lists options without importing torch

    logprobs = space.expand(running)  # (beams, vocab)
    total = logprobs + torch.tensor([n.score for n in running])[:, None]  # (beams, vocab)
    vocab = total.shape[1]
    top, index = torch.topk(total.flatten(), k=min(k, total.numel()))
    return [space.child(running[i // vocab], i % vocab, float(score))
            for score, i in zip(top.tolist(), index.tolist()) if score > -math.inf]


STOPPING = {"true": True, "false": False, "never": "never"}


@dataclass(frozen=True)
class BeamConfig:
    width: int = opt(4, "beams kept at every step")
    length_penalty: float = opt(1.0, "a finished beam's score = log-prob / length ** this (0 = the plain sum)")
    early_stopping: str = opt("false", "stopping rule, as in transformers", ("true", "false", "never"))

    def __post_init__(self):
        check_counts(self, "width")
        if not math.isfinite(self.length_penalty):
            raise ValueError(f"length_penalty must be a finite number, got {self.length_penalty}")
        if self.early_stopping not in STOPPING:
            raise ValueError(f"early_stopping must be one of {', '.join(STOPPING)}, not {self.early_stopping!r}")


@register("beam", BeamConfig, "beam search: breadth-first with a width, step for step transformers' generate")
def _run(space, config: BeamConfig, context) -> SearchResult:
    return beam_search(space, config.width, config.length_penalty, STOPPING[config.early_stopping])
