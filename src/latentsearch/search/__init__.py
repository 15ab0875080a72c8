"""Decoding as search: one protocol (base.py), one file per algorithm, each registered by name
(registry.py), and the engine (engine.py), the `Space` over an HF causal LM.

The algorithms import neither transformers nor a tokenizer. To add one: a file with the algorithm,
its config dataclass and `@register(name, Config, description)`, plus its import below.
"""

from latentsearch.search.base import Node, SearchResult, Space, Tree, Warp
from latentsearch.search.beam import beam_search
from latentsearch.search.best_first import best_first
from latentsearch.search.greedy import greedy
from latentsearch.search.mcts import mcts
from latentsearch.search.recombine import HiddenBuckets, by_tokens, last_tokens, recombine
from latentsearch.search.registry import ALGORITHMS, Context, register, run
from latentsearch.search.sampling import sample, sample_until
from latentsearch.search.self_consistency import self_consistency

__all__ = [
    "ALGORITHMS", "Context", "Node", "SearchResult", "Space", "Tree", "Warp", "beam_search", "best_first", "greedy",
    "mcts", "HiddenBuckets", "by_tokens", "last_tokens", "recombine", "register", "run", "sample", "sample_until",
    "self_consistency",
]
