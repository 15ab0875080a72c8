"""Graph queries on edge lists: children, BFS distances and frontiers, shortest paths."""

from __future__ import annotations

import random
from collections import deque


def children_of(n_nodes: int, edges) -> list[list[int]]:
    children = [[] for _ in range(n_nodes)]
    for a, b in edges:
        children[a].append(b)
    return children


def distances_from(children, root: int) -> dict[int, int]:
    dist = {root: 0}
    queue = deque([root])
    while queue:
        u = queue.popleft()
        for v in children[u]:
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist


def bfs_frontiers(n_nodes: int, edges, root: int) -> list[list[int]]:
    """Nodes reachable from `root`, grouped by BFS depth (depth 0 = [root]), each group sorted."""
    dist = distances_from(children_of(n_nodes, edges), root)
    frontiers = [[] for _ in range(max(dist.values()) + 1)]
    for v, d in dist.items():
        frontiers[d].append(v)
    return [sorted(f) for f in frontiers]


def shortest_paths(n_nodes: int, edges, root: int, target: int,
                   rng: random.Random | None = None) -> tuple[int, list[int] | None]:
    """(number of shortest root->target paths, one of them) or (0, None) when unreachable.

    With `rng` the path is drawn uniformly among all shortest paths; without, the path takes the
    smallest node index at every step back from the target.
    """
    children = children_of(n_nodes, edges)
    dist = distances_from(children, root)
    if target not in dist:
        return 0, None
    count = {root: 1}
    for u in sorted(dist, key=dist.get):  # BFS order: a node's count is final before it is used
        for v in children[u]:
            if dist[v] == dist[u] + 1:
                count[v] = count.get(v, 0) + count[u]
    parents = {}
    for a, b in edges:
        if a in dist and b in dist and dist[b] == dist[a] + 1:
            parents.setdefault(b, []).append(a)
    path = [target]
    while path[-1] != root:
        options = sorted(parents[path[-1]])
        weights = [count[u] for u in options]
        path.append(rng.choices(options, weights)[0] if rng else options[0])
    return count[target], path[::-1]


def shortest_path(n_nodes: int, edges, root: int, target: int,
                  rng: random.Random | None = None) -> list[int] | None:
    """One shortest root->target path as node indices (None when unreachable); see `shortest_paths`."""
    return shortest_paths(n_nodes, edges, root, target, rng)[1]
