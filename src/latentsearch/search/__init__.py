"""Decoding as search in token space: one protocol (base.py), one file per algorithm, one engine.

The algorithms import neither transformers nor a tokenizer; `engine.Engine` is the `Space` over
an HF causal LM.
"""

from latentsearch.search.base import Node, SearchResult, Space, Tree, Warp
from latentsearch.search.beam import beam_search
from latentsearch.search.best_first import best_first
from latentsearch.search.greedy import greedy
from latentsearch.search.mcts import mcts
from latentsearch.search.recombine import HiddenBuckets, by_tokens, last_tokens, recombine
from latentsearch.search.sampling import sample, sample_until
from latentsearch.search.self_consistency import self_consistency

__all__ = [
    "Node", "SearchResult", "Space", "Tree", "Warp", "beam_search", "best_first", "greedy", "mcts",
    "HiddenBuckets", "by_tokens", "last_tokens", "recombine", "sample", "sample_until", "self_consistency",
]
