"""A ProsQA-style question generator whose graphs follow the real ProsQA distribution.

A question lists facts ("Every A is a B.", "Tom is a B.") forming a directed acyclic graph and
asks whether a person (the root) is one of two concepts; exactly one of them is reachable from
the root. The graph is built from parts:

* the root's side: a levelled DAG in which every node at level l has a parent at level l-1 and
  none higher, so that its BFS distance from the root is l; the target sits at level `depth`;
* the distractor's side: the same shape for the second main person, holding `neg_target`;
* edges from the distractor's side into the root's side (never towards the target), and
  sideways or backward edges inside each side, which add facts without adding paths;
* a few extra people pointing into the graph.

Nodes 0 and 1 are the two main people, the other nodes follow in a random topological order,
as in the real files. The graph itself is built in prosqa_graph.py; this module draws its shape,
names its nodes and writes the record. Randomness comes only from the `random.Random` passed in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from latentsearch.data.schema import Record
from latentsearch.tasks.graphs import bfs_frontiers, shortest_paths
from latentsearch.tasks.prosqa_graph import (
    LevelGraph,
    Side,
    add_cross_edges,
    add_extra_people,
    build_side,
    geometric,
    poisson,
    weighted,
)

PERSON_NAMES = ("Alex", "Bob", "Carol", "Davis", "Eva", "Fae", "Gabriel", "Jack", "Max", "Oliver",
                "Polly", "Rex", "Sally", "Sam", "Stella", "Tom", "Wren")
CONCEPT_WORDS = ("bompus", "boompus", "brimpus", "chorpus", "dumpus", "felpus", "fompus", "gerpus",
                 "gorpus", "grimpus", "gwompus", "hilpus", "impus", "jelpus", "jompus", "kerpus",
                 "lempus", "lorpus", "numpus", "quimpus", "rempus", "rompus", "rorpus", "scrompus",
                 "shumpus", "sterpus", "storpus", "terpus", "timpus", "tumpus", "vumpus", "worpus",
                 "wumpus", "yerpus", "yimpus", "yumpus", "zhorpus", "zumpus")
SYMBOLS = PERSON_NAMES + CONCEPT_WORDS
# Made-up words in the same style for graphs larger than the real ones (`more_words`): 38 real concept
# words cap a graph at 40 nodes.
EXTRA_CONCEPT_WORDS = (
    "blimpus", "blorpus", "blulpus", "brampus", "brorpus", "brulpus", "brurpus", "clompus", "crilpus",
    "crompus", "crumpus", "dampus", "delpus", "derpus", "dompus", "drarpus", "drempus", "drilpus", "drorpus",
    "flerpus", "florpus", "frolpus", "frompus", "frulpus", "gimpus", "glarpus", "glelpus", "glulpus",
    "glumpus", "grirpus", "grolpus", "gumpus", "halpus", "hempus", "jilpus", "jumpus", "kolpus", "mompus",
    "mumpus", "murpus", "norpus", "pirpus", "plalpus", "plelpus", "plolpus", "porpus", "prerpus", "purpus",
    "ralpus", "rolpus", "rumpus", "salpus", "slalpus", "slirpus", "slulpus", "snampus", "snarpus", "snelpus",
    "snempus", "snumpus", "solpus", "spalpus", "sparpus", "spempus", "starpus", "stimpus", "stumpus",
    "sulpus", "sumpus", "tempus", "trolpus", "turpus", "vampus", "velpus", "verpus", "wimpus", "wirpus",
    "wolpus", "wulpus", "zimpus")
ALL_SYMBOLS = SYMBOLS + EXTRA_CONCEPT_WORDS  # the vocabulary of every new codec (old ones keep theirs)

# Shapes measured on the real validation split; they describe ProsQA rather than act as knobs.
_ROOT_HEIGHT_WEIGHTS = {3: 77, 4: 13, 5: 7, 6: 3}  # the root side reaches max(depth, this) levels
_DISTRACTOR_HEIGHT_WEIGHTS = {1: 4, 2: 100, 3: 110, 4: 25, 5: 3}  # likewise for the distractor
_NEW_CONCEPT = 0.22  # chance that an extra person's fact names a concept nobody else reaches
_MORE_FACTS = 0.15  # Poisson mean of an extra person's facts beyond the first
_ROOT_SECOND = 0.65  # chance the root is node 1 rather than node 0 (real: 195 of 300)
_SIZE_SPREAD = 5.4  # (max_nodes - min_nodes) / standard deviation of the graph size (real: 11 / 2.04)
_SHARE_SD = 0.12  # spread of the root side's share of the free nodes
_REAL_NODES = 22.82  # mean graph size of the real split, for scaling counts in `sized`


@dataclass(frozen=True)
class ProsQAConfig:
    depths: tuple[int, ...] = (3, 4, 5, 6)  # possible reasoning depths (shortest root->target path)
    depth_weights: tuple[float, ...] = (124, 133, 36, 7)  # relative frequency of each depth
    neg_depths: tuple[int, ...] = (1, 2, 3, 4)  # possible distances distractor person -> neg_target
    neg_depth_weights: tuple[float, ...] = (63, 158, 72, 7)  # relative frequency of each
    min_nodes: int = 17  # smallest graph, people included
    max_nodes: int = 28  # largest graph (at most 2 + the number of concept words)
    mean_nodes: float = 22.82  # average size (sizes are normal, sd = (max - min) / 5.4, cut to range)
    root_share: float = 0.6  # mean share of the free nodes (beyond both spines) on the root's side
    extra_parent_prob: float = 0.078  # chance of each further parent one level up (more shortest paths)
    side_edges: float = 0.53  # sideways/backward edges per node of each side (facts that add no path)
    cross_edges: float = 1.62  # mean number of edges from the distractor's side into the root's side
    extra_people: float = 0.51  # mean number of people besides the two main ones (Poisson)
    more_words: bool = False  # name concepts from the real words and EXTRA_CONCEPT_WORDS (graphs over 40 nodes)

    def __post_init__(self):
        for name in ("depths", "depth_weights", "neg_depths", "neg_depth_weights"):
            object.__setattr__(self, name, tuple(getattr(self, name)))  # lists from JSON are fine
        _check_choices("depths", self.depths, self.depth_weights)
        _check_choices("neg_depths", self.neg_depths, self.neg_depth_weights)
        if self.min_nodes < max(self.depths) + 3:
            raise ValueError(f"min_nodes={self.min_nodes} is too small for depth {max(self.depths)} "
                             f"(needs depth + 3: the path, the distractor and its candidate)")
        if self.max_nodes > 2 + len(self.concept_words):
            more = "" if self.more_words else "; more_words (--more-words) adds made-up concept words"
            raise ValueError(f"graphs of up to {self.max_nodes} nodes need more than the {len(self.concept_words)} "
                             f"concept words{more}")
        if not self.min_nodes <= self.max_nodes:
            raise ValueError(f"need min_nodes <= max_nodes, got {self.min_nodes} and {self.max_nodes}")
        if not self.min_nodes <= self.mean_nodes <= self.max_nodes:
            raise ValueError(f"mean_nodes={self.mean_nodes} must lie in [min_nodes, max_nodes]")
        for name in ("root_share", "extra_parent_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {getattr(self, name)}")
        for name in ("side_edges", "cross_edges", "extra_people"):
            if not 0.0 <= getattr(self, name) <= 10.0:
                raise ValueError(f"{name} must be in [0, 10], got {getattr(self, name)}")

    @property
    def concept_words(self) -> tuple[str, ...]:
        return CONCEPT_WORDS + EXTRA_CONCEPT_WORDS if self.more_words else CONCEPT_WORDS

    @classmethod
    def sized(cls, nodes: int | None = None, depth: int | None = None, more_words: bool = False) -> ProsQAConfig:
        """The real distribution, or graphs of about `nodes` nodes (+-25%) and/or a fixed `depth`.

        Without `more_words` the 38 real concept words cap graphs at 40 nodes (as before they existed)."""
        kw = {"more_words": more_words}
        if depth is not None:
            kw.update(depths=(depth,), depth_weights=(1.0,))
        if nodes is not None:
            words = CONCEPT_WORDS + EXTRA_CONCEPT_WORDS if more_words else CONCEPT_WORDS
            if nodes > 2 + len(words):
                raise ValueError(f"graphs of {nodes} nodes need more than the {len(words)} concept words"
                                 + ("" if more_words else "; pass --more-words to add made-up ones"))
            low, high = nodes - nodes // 4, min(nodes + nodes // 4, 2 + len(words))
            scale = nodes / _REAL_NODES  # fewer extras in smaller graphs
            kw.update(min_nodes=low, max_nodes=high, mean_nodes=float(min(nodes, high)),
                      cross_edges=cls.cross_edges * scale, extra_people=cls.extra_people * scale)
            if depth is None:
                kw.update(_depths_that_fit(cls.depths, cls.depth_weights, low))
        return cls(**kw)


def _check_choices(name: str, values, weights) -> None:
    if not values or len(values) != len(weights):
        raise ValueError(f"{name} and its weights must be non-empty and of equal length")
    positive = all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values)
    if not positive or len(set(values)) < len(values):
        raise ValueError(f"{name} must be distinct positive integers, got {values}")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"{name} weights must be non-negative with a positive sum, got {weights}")


def _depths_that_fit(depths, weights, min_nodes: int) -> dict:
    kept = [(d, w) for d, w in zip(depths, weights) if d + 3 <= min_nodes]
    if not kept:
        raise ValueError(f"no depth in {depths} fits graphs of {min_nodes} nodes; pass a smaller depth")
    return dict(depths=tuple(d for d, _ in kept), depth_weights=tuple(w for _, w in kept))


# ----------------------------------------------------------------------------- one record


@dataclass
class _Shape:
    """The sizes drawn for one question before any node is placed."""

    depth: int
    neg_depth: int
    root_size: int
    other_size: int
    root_height: int
    other_height: int
    people_plan: list[list[bool]]  # per extra person: for each fact, whether it names a new concept


def _draw_shape(rng, config: ProsQAConfig) -> _Shape:
    n = _graph_size(rng, config)
    depth = weighted(rng, config.depths, config.depth_weights)
    plan = _draw_people(rng, config, n - depth - 3)
    main = n - len(plan) - sum(map(sum, plan))
    neg = min(weighted(rng, config.neg_depths, config.neg_depth_weights), main - depth - 2)
    free = main - (depth + 1) - (neg + 1)
    share = min(1.0, max(0.0, rng.gauss(config.root_share, _SHARE_SD)))
    root_size = depth + 1 + round(free * share)
    root_height = depth + max(0, weighted(rng, *zip(*_ROOT_HEIGHT_WEIGHTS.items())) - max(depth, 3))
    other_height = max(neg, weighted(rng, *zip(*_DISTRACTOR_HEIGHT_WEIGHTS.items())))
    other_size = main - root_size
    return _Shape(depth, neg, root_size, other_size, _fit_height(root_height, depth, root_size),
                  _fit_height(other_height, neg, other_size), plan)


def _graph_size(rng, config: ProsQAConfig) -> int:
    """A rounded normal around mean_nodes, redrawn until within [min_nodes, max_nodes]."""
    sd = (config.max_nodes - config.min_nodes) / _SIZE_SPREAD
    while True:
        n = round(rng.gauss(config.mean_nodes, sd))
        if config.min_nodes <= n <= config.max_nodes:
            return n


def _draw_people(rng, config: ProsQAConfig, room: int) -> list[list[bool]]:
    """Facts of each extra person, using at most `room` nodes (people and their own concepts)."""
    plan = []
    for _ in range(min(poisson(rng, config.extra_people), len(PERSON_NAMES) - 2)):
        facts = [rng.random() < _NEW_CONCEPT for _ in range(1 + poisson(rng, _MORE_FACTS))]
        if 1 + sum(facts) > room:
            break
        room -= 1 + sum(facts)
        plan.append(facts)
    return plan


def _fit_height(height: int, special_level: int, size: int) -> int:
    """Levels beyond the candidate need a sibling plus one node per level; drop them if no room."""
    return height if height == special_level or size >= height + 2 else special_level


def generate_record(rng: random.Random, config: ProsQAConfig = ProsQAConfig()) -> Record:
    """One ProsQA-style question, with its graph fields and BFS frontiers."""
    shape = _draw_shape(rng, config)
    g = LevelGraph()
    root = build_side(rng, g, 0, shape.root_size, shape.depth, shape.root_height, config,
                       narrow_from=shape.depth - 1)
    other = build_side(rng, g, 1, shape.other_size, shape.neg_depth, shape.other_height, config,
                        narrow_from=shape.other_height)
    count = geometric(rng, config.cross_edges / 2) + geometric(rng, config.cross_edges / 2)
    add_cross_edges(rng, g, root, other, count)  # negative binomial: as spread as the real counts
    add_extra_people(rng, g, shape.people_plan)
    return _to_record(rng, g, root, other, config.concept_words)


def _to_record(rng, g: LevelGraph, root: Side, other: Side, concept_words: tuple[str, ...]) -> Record:
    firsts = [other.person, root.person]
    if rng.random() >= _ROOT_SECOND:
        firsts.reverse()
    order = firsts + _topological_order(rng, g, set(firsts))
    new = {old: i for i, old in enumerate(order)}
    edges = []
    for child in order:
        parents = [new[p] for p in g.parents[child]]
        rng.shuffle(parents)
        edges.extend((p, new[child]) for p in parents)
    symbols = _name_nodes(rng, g, order, concept_words)
    r, t, nt = new[root.person], new[root.special], new[other.special]
    _, path = shortest_paths(len(order), edges, r, t, rng)
    return Record(
        question=_question(rng, symbols, edges, r, t, nt),
        steps=tuple(_sentence(symbols, a, b) for a, b in zip(path, path[1:])),
        answer=f"{symbols[r]} is a {symbols[t]}.",
        idx_to_symbol=tuple(symbols), edges=tuple(edges), root=r, target=t, neg_target=nt,
        frontiers=tuple(map(tuple, bfs_frontiers(len(order), edges, r))), task="prosqa",
    )


def _topological_order(rng, g: LevelGraph, placed: set[int]) -> list[int]:
    """The nodes not yet placed, each after its parents.

    Among the nodes ready to go, one is drawn with weight (height + 1), height being its longest
    path down to a sink. Uniform draws put the distractor early (mean relative index 0.60 vs 0.80 in
    the real files) and list the target's last incoming edge after the distractor's in 69% of
    questions vs 60%: a cue for the answer that does not transfer. With this weighting: 0.73, 58%.
    """
    height = _heights(g)
    waiting = [len(g.parents[v]) for v in range(len(g.level))]
    for v in sorted(placed):
        for c in g.children[v]:
            waiting[c] -= 1
    ready = [v for v in range(len(g.level)) if waiting[v] == 0 and v not in placed]
    order = []
    while ready:
        pick = rng.choices(range(len(ready)), weights=[height[v] + 1 for v in ready])[0]
        v = ready.pop(pick)
        order.append(v)
        for c in g.children[v]:
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    return order


def _heights(g: LevelGraph) -> list[int]:
    """Longest path from every node down to a sink."""
    height: dict[int, int] = {}

    def visit(v: int) -> int:
        if v not in height:
            height[v] = max((visit(c) + 1 for c in g.children[v]), default=0)
        return height[v]

    return [visit(v) for v in range(len(g.level))]


def _name_nodes(rng, g: LevelGraph, order: list[int], concept_words: tuple[str, ...]) -> list[str]:
    """Random distinct names: people (nodes without parents) get names, the rest concept words."""
    n_people = sum(not g.parents[v] for v in order)
    people = iter(rng.sample(PERSON_NAMES, n_people))
    concepts = iter(rng.sample(concept_words, len(order) - n_people))
    return [next(concepts) if g.parents[v] else next(people) for v in order]


def _sentence(symbols, a: int, b: int) -> str:
    subject = symbols[a] if symbols[a][0].isupper() else f"Every {symbols[a]}"
    return f"{subject} is a {symbols[b]}."


def _question(rng, symbols, edges, root: int, target: int, neg_target: int) -> str:
    facts = [_sentence(symbols, a, b) for a, b in edges]
    rng.shuffle(facts)
    options = [symbols[target], symbols[neg_target]]
    rng.shuffle(options)  # the real split puts the target first in 144 of 300 questions
    return " ".join(facts) + f" Is {symbols[root]} a {options[0]} or {options[1]}?"


# ----------------------------------------------------------------------------- many records


def generate(n: int, seed: int = 0, config: ProsQAConfig = ProsQAConfig(),
             exclude_questions: set[str] | frozenset = frozenset(),
             progress: bool = False) -> list[Record]:
    """`n` distinct questions, none of them in `exclude_questions`; the same seed, the same list."""
    from tqdm import tqdm

    rng = random.Random(seed)
    seen = set(exclude_questions)
    records, misses = [], 0
    with tqdm(total=n, desc="generating", unit="q", disable=not progress) as bar:
        while len(records) < n and misses < 1000:  # repeats are rare; a run of them: the config has few graphs
            record = generate_record(rng, config)
            misses = misses + 1 if record.question in seen else 0
            if not misses:
                seen.add(record.question)
                records.append(record)
                bar.update(1)
    if len(records) < n:
        raise ValueError(f"found only {len(records)} distinct new questions of {n}; the config "
                         "allows too few different graphs")
    return records
