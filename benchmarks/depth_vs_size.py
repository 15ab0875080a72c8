"""Is it depth or size that the deep splits test? Three readings of a Coconut model, thoughts = depth.

1. Sweep: accuracy on generated graphs of one size at many depths (`--sweep NODES:DEPTH,DEPTH,...`),
   so depth and size are varied one at a time.
2. Re-anchoring, an oracle: the person's memberships are replaced by the true BFS layer F_k of the
   question's graph ("Tom is a X" for every X at distance k; true, since membership is transitive), so
   the same graph is asked at depth - k + 1. If depth were what fails, the shallower question would be
   easier; the graph, its size and its distractors are unchanged.
3. More ancestors for the distractor (`--more-ancestors FILE:K,...`): K edges from nodes the root cannot
   reach into the distractor, a check of whether the distractor's side (which correlates with errors)
   causes them.

Run: python benchmarks/depth_vs_size.py --checkpoint prosqa-coconut-deep --sweep 40:3,6,8,12,14,24 30:6,10 \
        --anchor d18n40.jsonl:6,12 d14n30.jsonl:8 --more-ancestors d18n40.jsonl:2,4
The sweep's files are `latentsearch data prosqa --n N --seed 7713{depth}{nodes} --depth D --nodes N`.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from collections import defaultdict

from latentsearch.data.schema import load_records
from latentsearch.evaluate import evaluate
from latentsearch.methods import Recipe
from latentsearch.models.checkpoint import load_checkpoint
from latentsearch.tasks import get
from latentsearch.tasks.graphs import bfs_frontiers, reachable
from latentsearch.tasks.prosqa import GenerateOptions


def accuracy(model, codec, recipe, records, thoughts="steps") -> float:
    """Accuracy with one thought count for all, or per record (thoughts[i] for records[i]), batched by count."""
    if isinstance(thoughts, str):
        return evaluate(model, codec, records, recipe, n_thoughts=thoughts).summary["accuracy"]
    groups = defaultdict(list)
    for i, count in enumerate(thoughts):
        groups[count].append(i)
    right = sum(row["exact"] for count, rows in groups.items()
                for row in evaluate(model, codec, [records[i] for i in rows], recipe, n_thoughts=count).rows)
    return right / len(records)


def file_and_counts(spec: str) -> tuple[list, list[int]]:
    """FILE:K,K,... -> the file's records and the counts."""
    path, counts = spec.rsplit(":", 1)
    return load_records(path), [int(k) for k in counts.split(",")]


def anchored(record, k: int, rng: random.Random):
    """The record with the root's memberships replaced by F_k, and its new depth."""
    layers = bfs_frontiers(len(record.idx_to_symbol), record.edges, record.root)
    depth = next(d for d, layer in enumerate(layers) if record.target in layer)
    edges = [e for e in record.edges if e[0] != record.root]
    for node in layers[k]:
        edges.insert(rng.randrange(len(edges) + 1), (record.root, node))
    return dataclasses.replace(record, edges=tuple(edges), frontiers=None), depth - k + 1


def more_ancestors(record, k: int, rng: random.Random):
    """The record with k new edges into the distractor from nodes the root cannot reach and that do not
    lead to it yet (people excluded: they only ever start a path)."""
    n = len(record.idx_to_symbol)
    reach = reachable(n, record.edges, record.root)
    leading = reachable(n, [(b, a) for a, b in record.edges], record.neg_target)  # its ancestors, and itself
    free = [u for u in range(n) if u not in reach | leading and not record.idx_to_symbol[u][0].isupper()]
    edges = list(record.edges)
    for u in rng.sample(free, min(k, len(free))):
        edges.insert(rng.randrange(len(edges) + 1), (u, record.neg_target))
    return dataclasses.replace(record, edges=tuple(edges), frontiers=None)


def sweep(read, spec: str, n: int) -> str:
    nodes, depths = spec.split(":")
    made = lambda depth: get("prosqa").generate(n, int(f"7713{depth}{nodes}"), GenerateOptions(int(nodes), depth))  # noqa: E731
    cells = [f"depth {depth}: {read(made(depth)):.1%}" for depth in map(int, depths.split(","))]
    return f"{nodes} nodes, thoughts = depth: " + ", ".join(cells)


def anchor(read, spec: str, min_thoughts: int) -> str:
    records, ks = file_and_counts(spec)
    cells = [f"as asked {read(records):.1%}"]
    for k in ks:
        rng = random.Random(0)
        pairs = [anchored(r, k, rng) for r in records]
        acc = read([p[0] for p in pairs], [max(p[1], min_thoughts) for p in pairs])
        cells.append(f"anchored at F_{k} ({sum(p[1] for p in pairs) / len(pairs):.1f} steps left) {acc:.1%}")
    return f"{spec.rsplit(':', 1)[0]}: " + ", ".join(cells)


def grow(read, spec: str) -> str:
    records, ks = file_and_counts(spec)
    cells = []
    for k in ks:
        rng = random.Random(k)
        cells.append(f"+{k}: {read([more_ancestors(r, k, rng) for r in records]):.1%}")
    return f"{spec.rsplit(':', 1)[0]}, edges added into the distractor: " + ", ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="prosqa-coconut")
    parser.add_argument("--n", type=int, default=300, help="questions per sweep point")
    parser.add_argument("--sweep", nargs="*", default=[], help="NODES:DEPTH,DEPTH,...")
    parser.add_argument("--anchor", nargs="*", default=[], help="FILE:K,K,... (a file of one depth)")
    parser.add_argument("--more-ancestors", nargs="*", default=[], help="FILE:K,K,...")
    args = parser.parse_args()
    model, codec, meta = load_checkpoint(args.checkpoint)
    recipe, _ = Recipe.from_meta(meta, codec)
    read = lambda records, thoughts="steps": accuracy(model, codec, recipe, records, thoughts)  # noqa: E731
    min_thoughts = recipe.curriculum.final_thoughts  # "thoughts = depth" never goes below the trained count
    for spec in args.sweep:  # each line printed as it ends: a reading takes a minute or more
        print(f"{args.checkpoint}, {sweep(read, spec, args.n)}", flush=True)
    for spec in args.anchor:
        print(f"{args.checkpoint}, {anchor(read, spec, min_thoughts)}", flush=True)
    for spec in args.more_ancestors:
        print(f"{args.checkpoint}, {grow(read, spec)}", flush=True)


if __name__ == "__main__":
    main()
