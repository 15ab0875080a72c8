"""Frontier supervision: an extra loss that pulls thought k's logit lens onto the BFS frontier F_k.

Coconut's thoughts hold the BFS frontier without being told to, but on graphs deeper than training
they settle into a fixed point after about a dozen thoughts and the frontier fades (docs/results.md,
Depth). This term says where the search should be at every thought: minus the log of the lens
probability on the nodes of F_k, summed over the thoughts whose layer exists. With c thoughts per
step, thought j (0-based) serves layer j // c + 1, as the curriculum replaces steps. Tasks with a
graph only (ProsQA; ProntoQA's ontology).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from latentsearch.methods import Item
from latentsearch.probe.frontier import node_tokens
from latentsearch.tasks.graphs import bfs_frontiers


def layer_tokens(task, record, codec) -> tuple[tuple[int, ...], ...]:
    """Token ids naming the nodes of each BFS layer of the record's graph (layer 0: the root); () without a graph."""
    graph = task.graph(record)
    if graph is None:
        return ()
    tokens_of = node_tokens(task, record, codec, graph)
    layers = bfs_frontiers(len(graph.symbols), graph.edges, graph.root)
    return tuple(tuple(token for v in layer for token in tokens_of[v]) for layer in layers)


def with_lens_targets(item: Item, layers: tuple[tuple[int, ...], ...], thoughts_per_step: int) -> Item:
    """The item with thought j's target: the tokens of layer j // c + 1 (none past the graph's last layer)."""
    depth = [j // thoughts_per_step + 1 for j in range(item.n_thoughts)]
    return replace(item, lens_targets=tuple(layers[k] if k < len(layers) else () for k in depth))


def target_index(items: list[Item]) -> torch.Tensor:
    """(N, 3) rows of (batch row, thought column, token): thoughts are right-aligned in a batch."""
    width = max(item.n_thoughts for item in items)
    index = [(row, width - item.n_thoughts + j, token) for row, item in enumerate(items)
             for j, tokens in enumerate(item.lens_targets) for token in tokens]
    return torch.tensor(index, dtype=torch.long).reshape(-1, 3)


def frontier_nll(model, thoughts: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """-log P_lens(F_k) of every thought (batch, width, d_model) that `index` gives a target, as one vector."""
    log_probs = model.get_output_embeddings()(thoughts).float().log_softmax(-1)
    on_target = torch.zeros_like(log_probs, dtype=torch.bool)
    on_target[index[:, 0], index[:, 1], index[:, 2]] = True
    mass = log_probs.masked_fill(~on_target, float("-inf")).logsumexp(-1)
    return -mass[on_target.any(-1)]
