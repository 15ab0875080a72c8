"""benchmarks/depth_vs_size.py: its graph edits keep every question true and change only what they say."""

import importlib.util
import random
from pathlib import Path

from latentsearch.tasks import get
from latentsearch.tasks.graphs import bfs_frontiers, reachable
from latentsearch.tasks.prosqa import GenerateOptions

spec = importlib.util.spec_from_file_location("dvs", Path(__file__).parents[1] / "benchmarks" / "depth_vs_size.py")
dvs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dvs)

RECORDS = get("prosqa").generate(20, 5, GenerateOptions(nodes=30, depth=10))


def depth_of(record) -> int:
    layers = bfs_frontiers(len(record.idx_to_symbol), record.edges, record.root)
    return next(d for d, layer in enumerate(layers) if record.target in layer)


def test_anchoring_at_the_true_layer_shortens_the_question_and_keeps_its_answer():
    rng = random.Random(0)
    for record in RECORDS:
        layers = bfs_frontiers(len(record.idx_to_symbol), record.edges, record.root)
        new, left = dvs.anchored(record, 6, rng)
        assert left == depth_of(new) == depth_of(record) - 5
        first = {b for a, b in new.edges if a == new.root}
        assert first == set(layers[6])  # the person's memberships are F_6, every one of them true
        assert new.neg_target not in reachable(len(new.idx_to_symbol), new.edges, new.root)
        assert {e for e in new.edges if e[0] != new.root} == {e for e in record.edges if e[0] != record.root}


def test_more_ancestors_grow_the_distractor_side_only():
    rng = random.Random(0)
    for record in RECORDS:
        n = len(record.idx_to_symbol)
        new = dvs.more_ancestors(record, 3, rng)
        added = set(new.edges) - set(record.edges)
        assert 0 < len(added) <= 3 and all(b == record.neg_target for _, b in added)
        assert reachable(n, new.edges, new.root) == reachable(n, record.edges, record.root)
        assert depth_of(new) == depth_of(record)
