"""One search run from a config: the dataclass the CLI fills, and the dispatch to an algorithm."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Hashable

from latentsearch.search.base import Node, SearchResult, Space, Warp
from latentsearch.search.beam import beam_search
from latentsearch.search.best_first import best_first
from latentsearch.search.greedy import greedy
from latentsearch.search.mcts import mcts
from latentsearch.search.recombine import MODES, HiddenBuckets, last_tokens, recombine
from latentsearch.search.sampling import sample
from latentsearch.search.self_consistency import self_consistency

ALGORITHMS = ("greedy", "sample", "beam", "best-first", "recombine", "self-consistency", "mcts")


@dataclass
class SearchConfig:
    algo: str = "beam"  # one of ALGORITHMS
    width: int = 4  # beam width (beam, recombine); samples (sample, self-consistency); branch (mcts)
    max_new_tokens: int = 64  # longest continuation
    length_penalty: float = 1.0  # beam score = logprob / length ** length_penalty
    early_stopping: bool | str = False  # beam: True, False or "never" (as in transformers)
    warp: Warp = Warp()  # temperature / top-k / top-p / min-p for the sampling algorithms
    seed: int = 0  # sampling seed: same seed, same output
    budget: int = 0  # best-first: most expansions (0 = unlimited)
    branch: int = 0  # best-first: children kept per node (0 = all)
    key: str = "last:2"  # recombine: "last:N" (last N tokens) or "hidden:COSINE" (bucketed hidden state)
    merge: str = "max"  # recombine: max (Viterbi) or logsumexp (forward)
    iterations: int = 8  # mcts iterations

    def __post_init__(self):
        if self.algo not in ALGORITHMS:
            raise ValueError(f"algo must be one of {', '.join(ALGORITHMS)}, not {self.algo!r}")
        for name in ("width", "max_new_tokens", "iterations"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.budget < 0 or self.branch < 0:
            raise ValueError("budget and branch must be >= 0 (0 = unlimited)")
        if self.merge not in MODES:
            raise ValueError(f"merge must be one of {', '.join(MODES)}, not {self.merge!r}")
        self.key_policy()  # fail early on a bad key

    def key_policy(self) -> tuple[str, float]:
        kind, _, arg = self.key.partition(":")
        try:
            value = int(arg) if kind == "last" else float(arg)
        except ValueError:
            value = None
        if kind not in ("last", "hidden") or value is None:
            raise ValueError(f'key must be "last:N" or "hidden:COSINE", not {self.key!r}')
        return kind, value

    @property
    def needs_hidden(self) -> bool:
        return self.algo == "recombine" and self.key_policy()[0] == "hidden"


def run(space: Space, config: SearchConfig, answer: Callable[[list[int]], Hashable] | None = None,
        value: Callable[[Node], float] | None = None, delimiter: int | None = None) -> SearchResult:
    """Run `config.algo`; self-consistency needs `answer`, mcts a `delimiter` (value: mean token prob)."""
    c = config
    if c.algo == "greedy":
        return greedy(space)
    if c.algo == "sample":
        return sample(space, c.width, c.warp, c.seed)
    if c.algo == "beam":
        return beam_search(space, c.width, c.length_penalty, c.early_stopping)
    if c.algo == "best-first":
        return best_first(space, budget=c.budget or None, branch=c.branch or None)
    if c.algo == "recombine":
        return recombine(space, _keys(space, c), c.width, c.merge, c.length_penalty, c.early_stopping)
    if c.algo == "self-consistency":
        if answer is None:
            raise ValueError("self-consistency needs an answer extractor")
        return self_consistency(space, answer, c.width, c.warp, c.seed)
    if delimiter is None:
        raise ValueError("mcts needs a step delimiter token")
    return mcts(space, value or mean_token_prob, delimiter, c.iterations, c.width, warp=c.warp, seed=c.seed)


def _keys(space: Space, config: SearchConfig):
    kind, arg = config.key_policy()
    return last_tokens(int(arg)) if kind == "last" else HiddenBuckets(space, arg)


def mean_token_prob(node: Node) -> float:
    """The geometric mean of the node's token probabilities, in [0, 1]."""
    return math.exp(node.logprob / max(len(node.tokens), 1))
