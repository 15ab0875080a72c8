"""Graphs on edge lists: children, BFS distances and frontiers, shortest paths, reachability; and the
checks of a record's graph fields (symbols, edges, node indices, acyclic, frontiers)."""

from __future__ import annotations

import random
from collections import deque

from latentsearch.errors import DatasetError, kind


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


def reachable(n_nodes: int, edges, root: int) -> set[int]:
    """Every node a path from `root` reaches, `root` included."""
    return set(distances_from(children_of(n_nodes, edges), root))


# ----------------------------------------------------------------------------- checks of graph fields


def parse_graph(obj: dict, where: str, nodes: tuple[str, ...]) -> dict:
    """The graph fields `idx_to_symbol`, `edges` and the node fields `nodes` (e.g. root, target), checked
    together: keyword arguments of `Record`, {} when the record has none. The graph must be acyclic."""
    required = ("idx_to_symbol", "edges", *nodes)
    present = [k for k in required if k in obj]
    if not present:
        if "frontiers" in obj:
            raise DatasetError(f'{where}: "frontiers" needs the graph fields {", ".join(required)}')
        return {}
    missing = [k for k in required if k not in obj]
    if missing:
        raise DatasetError(f'{where}: graph fields come together; "{missing[0]}" is missing '
                           f'(present: {", ".join(present)})')
    symbols = _symbols(obj["idx_to_symbol"], where)
    n = len(symbols)
    edges = _edges(obj["edges"], n, where)
    ends = {k: _node(obj[k], k, n, where) for k in nodes}
    _check_acyclic(n, edges, symbols, where)
    frontiers = _frontiers(obj["frontiers"], n, where) if "frontiers" in obj else None
    if frontiers is not None and [sorted(f) for f in frontiers] != bfs_frontiers(n, edges, ends[nodes[0]]):
        raise DatasetError(f'{where}: "frontiers" are not the BFS frontiers of the graph from "{nodes[0]}"')
    return dict(idx_to_symbol=symbols, edges=edges, frontiers=frontiers, **ends)


def _symbols(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise DatasetError(f'{where}: "idx_to_symbol" must be a non-empty list of strings')
    for i, s in enumerate(value):
        if not isinstance(s, str) or not s or any(c.isspace() for c in s):
            raise DatasetError(f'{where}: "idx_to_symbol"[{i}] must be a non-empty string without '
                               f"whitespace, got {s!r}")
    if len(set(value)) != len(value):
        dup = next(s for s in value if value.count(s) > 1)
        raise DatasetError(f'{where}: "idx_to_symbol" lists {dup!r} more than once')
    return tuple(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not node 1


def _node(value, key: str, n: int, where: str) -> int:
    if not _is_int(value) or not 0 <= value < n:
        raise DatasetError(f'{where}: "{key}" must be a node index in 0..{n - 1}, got {value!r}')
    return value


def _edges(value, n: int, where: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list):
        raise DatasetError(f'{where}: "edges" must be a list of [from, to] pairs, got {kind(value)}')
    edges = []
    for i, e in enumerate(value):
        if not (isinstance(e, list) and len(e) == 2 and all(_is_int(x) for x in e)):
            raise DatasetError(f'{where}: "edges"[{i}] must be a pair of integers, got {e!r}')
        if not all(0 <= x < n for x in e):
            raise DatasetError(f'{where}: "edges"[{i}] = {e} is out of range (nodes 0..{n - 1})')
        if e[0] == e[1]:
            raise DatasetError(f'{where}: "edges"[{i}] = {e} is a self loop')
        edges.append((e[0], e[1]))
    if len(set(edges)) != len(edges):
        dup = next(e for e in edges if edges.count(e) > 1)
        raise DatasetError(f'{where}: "edges" lists {list(dup)} more than once')
    return tuple(edges)


def _check_acyclic(n: int, edges, symbols, where: str) -> None:
    """Kahn's algorithm; the nodes it cannot remove lie on or after a cycle."""
    indegree = [0] * n
    children = [[] for _ in range(n)]
    for a, b in edges:
        children[a].append(b)
        indegree[b] += 1
    ready = [v for v in range(n) if indegree[v] == 0]
    removed = 0
    while ready:
        v = ready.pop()
        removed += 1
        for c in children[v]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if removed < n:
        node = _node_on_cycle(children, indegree)
        raise DatasetError(f'{where}: "edges": graph has a cycle through node {node} '
                           f"({symbols[node]!r})")


def _node_on_cycle(children, indegree) -> int:
    """A node on a cycle: walk the leftover graph (every node there has a leftover parent) backwards."""
    parents = {}
    for a, kids in enumerate(children):
        for b in kids:
            if indegree[a] > 0 and indegree[b] > 0:
                parents.setdefault(b, a)
    v = min(parents)
    seen = set()
    while v not in seen:
        seen.add(v)
        v = parents[v]
    return v


def _frontiers(value, n: int, where: str) -> tuple[tuple[int, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(f, list) for f in value):
        raise DatasetError(f'{where}: "frontiers" must be a list of lists of node indices')
    for depth, frontier in enumerate(value):
        for v in frontier:
            if not _is_int(v) or not 0 <= v < n:
                raise DatasetError(f'{where}: "frontiers"[{depth}] holds {v!r}, not a node index in '
                                   f"0..{n - 1}")
    return tuple(tuple(f) for f in value)
