"""How a thought's LM-head probability spreads over the BFS layers of a question's graph.

Frontier classes at thought k (../shared/DESIGN.md §5), with d(v) the BFS distance from the root:
  frontier     d(v) == k            (F_k)
  reached      d(v) <  k            (R_k minus F_k)
  later        d(v) >  k            (reachable, but only in more steps)
  unreachable  never reachable from the root
The task's answer candidates (ProsQA's target and distractor) are measured apart, so that a thought
that leans towards an answer does not pass for one that spreads over a BFS layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from latentsearch.tasks import Graph
from latentsearch.tasks.graphs import children_of, distances_from

CLASSES = ("frontier", "reached", "later", "unreachable")
CANDIDATES = ("target", "distractor")


def node_classes(graph: Graph, k: int) -> dict[str, list[int]]:
    """Node indices of each frontier class at thought k."""
    dist = distances_from(children_of(len(graph.symbols), graph.edges), graph.root)
    classes = {name: [] for name in CLASSES}
    for v in range(len(graph.symbols)):
        d = dist.get(v)
        name = "unreachable" if d is None else "frontier" if d == k else "reached" if d < k else "later"
        classes[name].append(v)
    return classes


@dataclass
class FrontierMass:
    total: dict[str, float]  # probability on the nodes of each class, then on the answer candidates
    per_node: dict[str, float]  # that mass divided by the class's node count (nan when empty)


def node_tokens(task, record, codec, graph: Graph) -> list[list[int]]:
    """`[v]`: the token ids that name node v in the codec's vocabulary (the task says which words)."""
    return [[codec.token_id(w) for w in task.node_words(record, v) if w in codec.vocab]
            for v in range(len(graph.symbols))]


def frontier_mass(probs: torch.Tensor, graph: Graph, k: int, node_tokens: list[list[int]]) -> FrontierMass:
    """`probs` (vocab,) of thought k; `node_tokens[v]` are the token ids that name node v."""
    candidates = set(graph.candidates)
    groups = {name: [v for v in nodes if v not in candidates] for name, nodes in node_classes(graph, k).items()}
    groups |= {name: [v] for name, v in zip(CANDIDATES, graph.candidates)}
    total, per_node = {}, {}
    for name in CLASSES + CANDIDATES:
        nodes = groups.get(name, [])
        mass = float(probs[[t for v in nodes for t in node_tokens[v]]].sum()) if nodes else 0.0
        total[name], per_node[name] = mass, mass / len(nodes) if nodes else float("nan")
    return FrontierMass(total, per_node)


# ----------------------------------------------------------------------------- the HMM reading of a thought

REFERENCES = ("frontier", "walk", "reachable")


def reference_distributions(graph: Graph, k: int) -> dict[str, torch.Tensor]:
    """Three readings of "thought k is BFS": (n_nodes,) distributions over the graph's nodes --
    uniform on the frontier F_k; the forward message alpha_k of a random walk from the root (an HMM whose
    states are the nodes, each step to a uniformly drawn child; a node without children keeps its mass);
    uniform on everything reachable within k steps (R_k)."""
    n = len(graph.symbols)
    dist = distances_from(children_of(n, graph.edges), graph.root)
    children = children_of(n, graph.edges)
    walk = torch.zeros(n)
    walk[graph.root] = 1.0
    for _ in range(k):
        step = torch.zeros(n)
        for u in range(n):
            for v in children[u] or [u]:
                step[v] += walk[u] / max(len(children[u]), 1)
        walk = step
    uniform = lambda nodes: torch.zeros(n).index_fill_(0, torch.tensor(nodes, dtype=torch.long), 1.0 / len(nodes)) \
        if nodes else torch.full((n,), math.nan)  # noqa: E731
    return {"frontier": uniform([v for v, d in dist.items() if d == k]), "walk": walk,
            "reachable": uniform([v for v, d in dist.items() if d <= k])}


def total_variation(node_probs: torch.Tensor, graph: Graph, k: int) -> dict[str, float]:
    """Total variation between thought k's lens distribution over the nodes (renormalised over them) and
    each reference distribution (nan where the reference is empty, e.g. F_k past the graph's depth)."""
    p = node_probs / node_probs.sum().clamp(min=1e-30)
    return {name: float(0.5 * (p - q).abs().sum()) for name, q in reference_distributions(graph, k).items()}
