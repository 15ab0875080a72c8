"""Best-first search (A*-style): always expand the open node with the highest log-prob + heuristic.

With a zero heuristic (or any optimistic one: never below the best reachable completion's
remaining log-prob, i.e. >= that negative number) and an unlimited budget, the first final node
taken from the queue is the most probable sequence. `branch` keeps only the most probable children
of each node (exact only when it covers the vocabulary); `batch` expands several open nodes per
forward pass.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from latentsearch.options import opt
from latentsearch.search.base import Node, SearchResult, Space, check_counts, result
from latentsearch.search.registry import register

if TYPE_CHECKING:
    pass

Heuristic = Callable[[Node], float]


def best_first(space: Space, budget: int | None = None, branch: int | None = None, batch: int = 1,
               heuristic: Heuristic | None = None) -> SearchResult:
    if budget is not None and budget <= 0:
        raise ValueError(f"expansion budget must be positive, got {budget}")
    if batch <= 0 or (branch is not None and branch <= 0):
        raise ValueError("batch and branch must be positive")
    priority = lambda n: n.score + (heuristic(n) if heuristic else 0.0)  # noqa: E731
    order = itertools.count()  # ties: first pushed, first popped
    queue = [(-priority(space.root()), next(order), space.root())]
    best_final: Node | None = None
    while queue and (budget is None or space.expansions < budget):
        room = batch if budget is None else min(batch, budget - space.expansions)
        popped = _pop_open(space, queue, room)
        if not popped:  # the queue's best node is final: nothing open can beat it
            best_final = queue[0][2]
            return result(space, [best_final], [best_final.score], optimal=True)
        for node in _children(space, popped, branch):
            if space.is_final(node):
                node = node.detached()
                best_final = node if best_final is None or node.score > best_final.score else best_final
            heapq.heappush(queue, (-priority(node), next(order), node))
    node = best_final or (queue[0][2] if queue else space.root())
    return result(space, [node], [node.score], optimal=not queue)


def _pop_open(space: Space, queue: list, batch: int) -> list[Node]:
    """Up to `batch` open nodes in priority order, stopping before the first final one."""
    popped = []
    while queue and len(popped) < batch and not space.is_final(queue[0][2]):
        popped.append(heapq.heappop(queue)[2])
    return popped


def _children(space: Space, nodes: list[Node], branch: int | None) -> list[Node]:
    import torch  # here, not at the top: the command line lists options without importing torch

    logprobs = space.expand(nodes)  # (nodes, vocab)
    k = logprobs.shape[1] if branch is None else min(branch, logprobs.shape[1])
    top, tokens = torch.topk(logprobs, k)  # (nodes, k)
    return [space.child(node, token, node.score + score)
            for node, row_scores, row_tokens in zip(nodes, top.tolist(), tokens.tolist())
            for score, token in zip(row_scores, row_tokens) if score > -math.inf]


@dataclass(frozen=True)
class BestFirstConfig:
    budget: int = opt(0, "most expansions (0 = unlimited: exact)")
    branch: int = opt(8, "children kept per node (0 = all)")

    def __post_init__(self):
        if self.budget < 0:
            raise ValueError("budget must be >= 0 (0 = unlimited)")
        check_counts(self, "branch", low=0)  # 0 = every token


@register("best-first", BestFirstConfig, "A*-style: expand the most probable open node; exact with no budget")
def _run(space, config: BestFirstConfig, context) -> SearchResult:
    return best_first(space, budget=config.budget or None, branch=config.branch or None)
