"""Graph-task probes: how a thought's LM-head probability spreads over the BFS layers, and the
path classes of Coconut's Figure 5 when decoding is forced into language after k thoughts.

Frontier classes at thought k (../shared/DESIGN.md §5), with d(v) the BFS distance from the root:
  frontier     d(v) == k            (F_k)
  reached      d(v) <  k            (R_k minus F_k)
  later        d(v) >  k            (reachable, but only in more steps)
  unreachable  never reachable from the root
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from latentsearch.data.graphs import children_of, distances_from, shortest_path
from latentsearch.data.schema import Record

CLASSES = ("frontier", "reached", "later", "unreachable")
CANDIDATES = ("target", "distractor")
PATH_CLASSES = ("correct path", "longer path", "hallucination", "wrong target", "correct label", "incorrect label")


def node_classes(record: Record, k: int) -> dict[str, list[int]]:
    """Node indices of each frontier class at thought k."""
    dist = distances_from(children_of(len(record.idx_to_symbol), record.edges), record.root)
    classes = {name: [] for name in CLASSES}
    for v in range(len(record.idx_to_symbol)):
        d = dist.get(v)
        name = "unreachable" if d is None else "frontier" if d == k else "reached" if d < k else "later"
        classes[name].append(v)
    return classes


@dataclass
class FrontierMass:
    total: dict[str, float]  # probability on the nodes of each class, then on the two answer candidates
    per_node: dict[str, float]  # that mass divided by the class's node count (nan when empty)


def frontier_mass(probs: torch.Tensor, record: Record, k: int, node_token: list[int]) -> FrontierMass:
    """`probs` (vocab,) of thought k; `node_token[v]` is node v's token id. The two answer candidates
    are left out of the BFS classes and measured on their own ("target", "distractor"): a thought
    that leans towards an answer must not pass for one that spreads over a BFS layer."""
    total, per_node = {}, {}
    candidates = {record.target, record.neg_target}
    groups = {name: [v for v in nodes if v not in candidates] for name, nodes in node_classes(record, k).items()}
    groups |= {"target": [record.target], "distractor": [record.neg_target]}
    for name, nodes in groups.items():
        mass = float(probs[[node_token[v] for v in nodes]].sum()) if nodes else 0.0
        total[name], per_node[name] = mass, mass / len(nodes) if nodes else float("nan")
    return FrontierMass(total, per_node)


def walk_reachable(record: Record, k: int) -> set[int]:
    """Nodes at the end of some walk of exactly k edges from the root."""
    children = children_of(len(record.idx_to_symbol), record.edges)
    layer = {record.root}
    for _ in range(k):
        layer = {v for u in layer for v in children[u]}
    return layer


def path_class(record: Record, k: int, nodes: list[int] | None, answer_correct: bool) -> str:
    """Coconut's classes for a language continuation after k thoughts: `nodes` are the nodes its
    steps reach (None when a step names no node)."""
    if nodes is not None and not nodes:
        return "correct label" if answer_correct else "incorrect label"
    edges = set(map(tuple, record.edges))
    starts = walk_reachable(record, k)
    if nodes is None or not any((u, nodes[0]) in edges for u in starts) \
            or not all((a, b) in edges for a, b in zip(nodes, nodes[1:])):
        return "hallucination"
    if nodes[-1] != record.target:
        return "wrong target"
    shortest = len(shortest_path(len(record.idx_to_symbol), record.edges, record.root, record.target)) - 1
    return "correct path" if k + len(nodes) == shortest else "longer path"
