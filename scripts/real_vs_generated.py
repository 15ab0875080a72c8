"""Where real ProsQA questions differ from generated ones, and whether the difference costs accuracy.

For two data files (Coconut's format with the graph fields: `edges`, `root`, `target`, `neg_target`) and
a model's per-question answers on each (`latentsearch eval MODEL FILE -o OUT.jsonl`), print the mean
of graph statistics that `latentsearch data stats` does not compare, the accuracy on each file by
how many nodes lead to the distractor, and the generated file's accuracy reweighted to the real
file's mix of that count.

    python scripts/real_vs_generated.py REAL.json REAL_EVAL.jsonl GEN.jsonl GEN_EVAL.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from statistics import mean

from latentsearch.data.schema import Record, load_records
from latentsearch.tasks.graphs import reachable

CAP = 8  # distractor-ancestor counts from here on share one bin


def read_records(path: str) -> list[Record]:
    """Through the project's loader, which names a bad file and its line."""
    records = load_records(path)
    if not all(r.has_graph for r in records):
        raise SystemExit(f"{path}: every record needs the graph fields (edges, root, target, neg_target)")
    return records


def read_answers(path: str) -> list[dict]:
    """`latentsearch eval ... -o` output: one JSON object per question, with `exact`."""
    answers = [json.loads(line) for line in open(path) if line.strip()]
    if not all(isinstance(a, dict) and "exact" in a for a in answers):
        raise SystemExit(f"{path}: not a `latentsearch eval -o` output (every line needs `exact`)")
    return answers


def ancestors(record: Record, node: int) -> int:
    """Nodes with a path to `node`: those the reversed graph reaches from it."""
    flipped = [(b, a) for a, b in record.edges]
    return len(reachable(len(record.idx_to_symbol), flipped, node)) - 1


def path_in_order(record: dict) -> bool:
    """Whether the path's facts appear in the question in the order the path takes them."""
    sentences = [s.strip() + "." for s in record.question.rsplit(".", 1)[0].split(".") if s.strip()]
    at = {s: i for i, s in enumerate(sentences)}
    places = [at[step] for step in record.steps if step in at]
    return all(a < b for a, b in zip(places, places[1:]))


def statistics(record: Record) -> dict[str, float]:
    indegree = Counter(b for _, b in record.edges)
    nodes = len(record.idx_to_symbol)
    from_root = reachable(nodes, record.edges, record.root)
    return {"answer in-degree": indegree[record.target], "distractor in-degree": indegree[record.neg_target],
            "answer ancestors": ancestors(record, record.target),
            "distractor ancestors": ancestors(record, record.neg_target),
            "answer index / nodes": record.target / nodes, "distractor index / nodes": record.neg_target / nodes,
            "root's out-degree": sum(a == record.root for a, _ in record.edges),
            "nodes reachable from the root": len(from_root),
            "edges into the root's reach from outside it": sum(a not in from_root and b in from_root
                                                               for a, b in record.edges),
            "path facts in path order": path_in_order(record)}


def accuracy_by_bin(records: list[Record], answers: list[dict]) -> dict[int, list[bool]]:
    if len(records) != len(answers):
        raise SystemExit(f"{len(records)} questions but {len(answers)} answers: pass each file's own eval output")
    bins = defaultdict(list)
    for record, answer in zip(records, answers):
        bins[min(ancestors(record, record.neg_target), CAP)].append(bool(answer["exact"]))
    return bins


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        raise SystemExit(__doc__.strip().splitlines()[-1].strip())
    try:
        real, gen = read_records(argv[0]), read_records(argv[2])
        real_answers, gen_answers = read_answers(argv[1]), read_answers(argv[3])
    except (OSError, ValueError) as error:
        raise SystemExit(str(error)) from None
    print("| statistic (mean) | real | generated |\n|---|---:|---:|")
    real_stats, gen_stats = [statistics(r) for r in real], [statistics(r) for r in gen]
    for key in real_stats[0]:
        print(f"| {key} | {mean(s[key] for s in real_stats):.3f} | {mean(s[key] for s in gen_stats):.3f} |")
    real_bins, gen_bins = accuracy_by_bin(real, real_answers), accuracy_by_bin(gen, gen_answers)
    print("\n| distractor ancestors | real: share, accuracy | generated: share, accuracy |\n|---|---:|---:|")
    for k in sorted(set(real_bins) | set(gen_bins)):
        cells = [f"{len(b) / n:.3f}, {100 * mean(b):.1f}%" if b else "-"
                 for b, n in ((real_bins.get(k), len(real)), (gen_bins.get(k), len(gen)))]
        print(f"| {k}{'+' if k == CAP else ''} | {cells[0]} | {cells[1]} |")
    reweighted = sum(len(real_bins[k]) / len(real) * mean(gen_bins[k]) for k in real_bins if gen_bins.get(k))
    print(f"\ngenerated accuracy {100 * mean(a['exact'] for a in gen_answers):.2f}%, reweighted to the real mix "
          f"{100 * reweighted:.2f}%; real accuracy {100 * mean(a['exact'] for a in real_answers):.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
