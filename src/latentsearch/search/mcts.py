"""Monte Carlo tree search over reasoning steps: a step is the sampled text up to a delimiter token.

Each iteration walks down by UCT to a leaf, samples `branch` next steps from it (one batch), rolls
every new step out to the end (one batch) and scores each finished rollout with the caller's
`value(node)` (answer likelihood from `node.score`, a verifier of `node.tokens`: anything in
[0, 1]); values are backed up the path.
The result is the best rollout (highest value, then log-prob); `extra` holds the most visited path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from latentsearch.options import opt
from latentsearch.search.base import Node, SearchResult, Space, Warp, check_counts, result
from latentsearch.search.registry import register
from latentsearch.search.sampling import SamplingOptions, sample_until

if TYPE_CHECKING:
    import torch

Value = Callable[[Node], float]


@dataclass(eq=False)
class _Step:
    node: Node  # the search node at the end of this step
    parent: "_Step | None" = None
    children: list["_Step"] = field(default_factory=list)
    visits: int = 0
    total: float = 0.0  # sum of backed-up values

    def uct(self, c: float) -> float:
        if self.visits == 0:
            return math.inf
        return self.total / self.visits + c * math.sqrt(math.log(self.parent.visits) / self.visits)


def mcts(space: Space, value: Value, delimiter: int, iterations: int = 8, branch: int = 3, c: float = 1.0,
         warp: Warp | None = None, seed: int = 0, generator: torch.Generator | None = None) -> SearchResult:
    if iterations <= 0 or branch <= 0:
        raise ValueError("iterations and branch must be positive")
    import torch  # here, not at the top: the command line lists options without importing torch

    generator = generator or torch.Generator().manual_seed(seed)
    root, rollouts = _Step(space.root()), []
    for _ in range(iterations):
        leaf = _select(space, root, c)
        if space.is_final(leaf.node):
            _backup(leaf, value(leaf.node))
            continue
        stop = lambda n: n.tokens[-1] == delimiter  # noqa: E731
        steps = sample_until(space, [leaf.node] * branch, generator, warp, stop)
        leaf.children = [_Step(n, leaf) for n in _unique(steps)]
        ends = sample_until(space, [s.node for s in leaf.children], generator, warp)
        for step, end in zip(leaf.children, ends):
            rollouts.append((value(end), end))
            _backup(step, rollouts[-1][0])
    rollouts.sort(key=lambda pair: (-pair[0], -pair[1].score))
    return result(space, [n for _, n in rollouts], [v for v, _ in rollouts], iterations=iterations,
                  most_visited=list(_most_visited(root).node.tokens))


def _select(space: Space, step: _Step, c: float) -> _Step:
    while step.children and not space.is_final(step.node):
        step = max(step.children, key=lambda s: s.uct(c))
    return step


def _backup(step: _Step | None, value: float) -> None:
    while step is not None:
        step.visits += 1
        step.total += value
        step = step.parent


def _unique(nodes: list[Node]) -> list[Node]:
    seen: dict[tuple[int, ...], Node] = {}
    for node in nodes:
        seen.setdefault(node.tokens, node)
    return list(seen.values())


def _most_visited(step: _Step) -> _Step:
    while step.children:
        step = max(step.children, key=lambda s: s.visits)
    return step


def mean_token_prob(node: Node) -> float:
    """The geometric mean of the node's token probabilities, in [0, 1]."""
    return math.exp(node.score / max(len(node.tokens), 1))


@dataclass(frozen=True)
class MCTSConfig(SamplingOptions):
    iterations: int = opt(8, "selection-expansion-rollout rounds")
    branch: int = opt(4, "steps sampled from a leaf per expansion")
    exploration: float = opt(1.0, "UCT exploration constant c")

    def __post_init__(self):
        super().__post_init__()
        check_counts(self, "iterations", "branch")


@register("mcts", MCTSConfig, "Monte Carlo tree search over reasoning steps (a step ends at a delimiter token)")
def _run(space, config: MCTSConfig, context) -> SearchResult:
    if context.delimiter is None:
        raise ValueError("mcts needs a step delimiter token (Context.delimiter)")
    return mcts(space, context.value or mean_token_prob, context.delimiter, config.iterations, config.branch,
                config.exploration, config.warp, config.seed)
