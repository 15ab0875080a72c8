"""The random DAG behind a ProsQA-style question: two main people's levelled sides, the edges
between and within them, and extra people (tasks/prosqa_gen.py draws the sizes and turns the graph
into a record). Randomness comes only from the `random.Random` passed in.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from latentsearch.tasks.prosqa_gen import ProsQAConfig

# Shapes measured on the real validation split (see prosqa_gen.py for the others).
_FIRST_LEVEL_WEIGHTS = (30, 92, 95, 50, 23, 8, 2)  # children of a main person: 1..7 (root out-degree)
_DEEP_PARENT_WEIGHT = 0.5  # pull of root-side parents from the level above the target and deeper
_ATTACHMENT = 1.0  # extra pull on a parent per child it already has
_SIDE_ATTACHMENT = 0.8  # extra pull on a sideways edge's source per child it already has
_CROSS_FROM_PERSON = 0.23  # share of distractor->root edges that start at the distractor person
_PEOPLE_TO_ROOT_SIDE = 0.82  # share of extra people's facts about existing concepts on the root side
_LEAF_LANDING = 0.9  # share of distractor->root edges that end at a leaf (real: 411 of 457)
_TRIES = 20  # attempts to place one sideways edge before giving up on it


# ----------------------------------------------------------------------------- sampling helpers


def poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def geometric(rng: random.Random, mean: float) -> int:
    k, more = 0, mean / (1.0 + mean)
    while rng.random() < more:
        k += 1
    return k


def weighted(rng: random.Random, values, weights):
    return rng.choices(list(values), list(weights))[0]


# ----------------------------------------------------------------------------- graph building


@dataclass
class LevelGraph:
    """A graph under construction: one level and one side per node, parent and child lists."""

    level: list[int] = field(default_factory=list)
    side: list[int] = field(default_factory=list)  # 0 root's side, 1 distractor's, 2 extra people
    children: list[list[int]] = field(default_factory=list)
    parents: list[list[int]] = field(default_factory=list)

    def add_node(self, level: int, side: int) -> int:
        self.level.append(level)
        self.side.append(side)
        self.children.append([])
        self.parents.append([])
        return len(self.level) - 1

    def add_edge(self, a: int, b: int) -> None:
        self.children[a].append(b)
        self.parents[b].append(a)

    def reaches(self, src: int, dst: int) -> bool:
        seen, stack = {src}, [src]
        while stack:
            for v in self.children[stack.pop()]:
                if v == dst:
                    return True
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        return src == dst


@dataclass
class Side:
    """One main person's levelled DAG: `levels[l]` holds the nodes at BFS distance l."""

    levels: list[list[int]]
    special: int  # the candidate on this side; it never gets children

    @property
    def person(self) -> int:
        return self.levels[0][0]

    def nodes(self) -> list[int]:
        return [v for level in self.levels for v in level]


def build_side(rng, g: LevelGraph, side: int, size: int, special_level: int, height: int,
                config: ProsQAConfig, narrow_from: int) -> Side:
    """A levelled DAG of `size` nodes, `height` levels below its person, candidate at `special_level`."""
    levels = [[g.add_node(0, side)]] + [[] for _ in range(height)]
    _chain(g, levels, levels[0][0], 1, special_level)
    s = Side(levels, levels[special_level][0])
    if height > special_level:  # a sibling of the candidate carries the levels below it
        parent = rng.choice(levels[special_level - 1])
        _chain(g, levels, parent, special_level, height)
    room = size - len(s.nodes()) + len(levels[1])  # nodes level 1 may hold
    width = min(weighted(rng, range(1, 8), _FIRST_LEVEL_WEIGHTS), room)
    while len(levels[1]) < width:
        _attach(g, levels, s.person)
    _grow(rng, g, s, size, narrow_from)
    _add_extra_parents(rng, g, s, config.extra_parent_prob)
    _add_side_edges(rng, g, s, poisson(rng, config.side_edges * size))
    return s


def _chain(g: LevelGraph, levels, parent: int, first: int, last: int) -> None:
    for _ in range(first, last + 1):
        parent = _attach(g, levels, parent)


def _attach(g: LevelGraph, levels, parent: int) -> int:
    """A new node one level below `parent`, on its side."""
    v = g.add_node(g.level[parent] + 1, g.side[parent])
    g.add_edge(parent, v)
    levels[g.level[v]].append(v)
    return v


def _grow(rng, g: LevelGraph, s: Side, size: int, narrow_from: int) -> None:
    """Add nodes until `size`, each under a random node of levels 1..height-1.

    A parent is drawn with weight growing with its children (preferential attachment), which
    gives the real bulge at levels 2-3, many leaves and a few hubs; parents at levels >=
    `narrow_from` count less, which keeps the target's level as narrow as in ProsQA.
    """
    height = len(s.levels) - 1
    eligible = [v for level in s.levels[1:height] for v in level if v != s.special]
    weights = [_parent_weight(g, v, narrow_from) for v in eligible]
    for _ in range(size - len(s.nodes())):
        i = rng.choices(range(len(eligible)), weights)[0] if eligible else None
        v = _attach(g, s.levels, s.person if i is None else eligible[i])
        if i is not None:
            weights[i] = _parent_weight(g, eligible[i], narrow_from)
        if g.level[v] < height:
            eligible.append(v)
            weights.append(_parent_weight(g, v, narrow_from))


def _parent_weight(g: LevelGraph, v: int, narrow_from: int) -> float:
    pull = _DEEP_PARENT_WEIGHT if g.level[v] >= narrow_from else 1.0
    return pull * (1.0 + _ATTACHMENT * len(g.children[v]))


def _add_extra_parents(rng, g: LevelGraph, s: Side, p: float) -> None:
    """Each node may gain further parents one level up: these make several shortest paths."""
    for level in range(2, len(s.levels)):
        for v in s.levels[level]:
            for u in s.levels[level - 1]:
                if u != s.special and u not in g.parents[v] and rng.random() < p:
                    g.add_edge(u, v)


def _add_side_edges(rng, g: LevelGraph, s: Side, count: int) -> None:
    """Edges u->v with level(v) <= level(u): new facts that cannot shorten any distance.

    Sources are drawn with weight growing with their children, so that as in ProsQA a few
    nodes have many facts and many have none.
    """
    sources = [v for v in s.nodes() if g.level[v] > 0 and v != s.special]
    if not sources:
        return
    for _ in range(count):
        weights = [1.0 + _SIDE_ATTACHMENT * len(g.children[u]) for u in sources]
        for _ in range(_TRIES):
            u = rng.choices(sources, weights)[0]
            v = rng.choice([w for level in s.levels[1:g.level[u] + 1] for w in level])
            if v != u and v not in g.children[u] and not g.reaches(v, u):
                g.add_edge(u, v)
                break


def add_cross_edges(rng, g: LevelGraph, root: Side, other: Side, count: int) -> None:
    """Edges from the distractor's side into the root's side, never towards the target."""
    sources = [v for v in other.nodes()[1:] if v != other.special]
    landings = [v for v in root.nodes()[1:] if not g.reaches(v, root.special)]
    leaves = [v for v in landings if not g.children[v]]
    for _ in range(count):
        pool = leaves if leaves and rng.random() < _LEAF_LANDING else landings
        u = rng.choice(sources) if sources and rng.random() > _CROSS_FROM_PERSON else other.person
        v = rng.choice(pool) if pool else None
        if v is not None and v not in g.children[u]:
            g.add_edge(u, v)


def add_extra_people(rng, g: LevelGraph, plan: list[list[bool]]) -> None:
    """Extra people, each with facts about existing concepts or about a concept of its own."""
    concepts = [v for v in range(len(g.level)) if g.parents[v]]
    by_side = [[v for v in concepts if g.side[v] == side] for side in (0, 1)]
    for facts in plan:
        person = g.add_node(0, 2)
        for new in facts:
            if new:
                g.add_edge(person, g.add_node(1, 2))
                continue
            pool = by_side[0] if rng.random() < _PEOPLE_TO_ROOT_SIDE else by_side[1]
            options = [v for v in pool if v not in g.children[person]]
            if options:
                g.add_edge(person, rng.choice(options))
