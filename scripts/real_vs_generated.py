"""Where real ProsQA questions differ from generated ones, and whether the difference costs accuracy.

For two data files (Coconut's JSON with the graph fields: `edges`, `root`, `target`, `neg_target`) and
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

CAP = 8  # distractor-ancestor counts from here on share one bin


def read(path: str) -> list[dict]:
    try:
        text = open(path).read()
        return json.loads(text) if path.endswith(".json") else [json.loads(line) for line in text.splitlines() if line]
    except (OSError, ValueError) as error:
        raise SystemExit(f"{path}: {error}") from None


def closure(record: dict, node: int, upward: bool) -> set[int]:
    """`node` and every node with a path to it (upward) or from it."""
    neighbours = defaultdict(list)
    for a, b in record["edges"]:
        if upward:
            neighbours[b].append(a)
        else:
            neighbours[a].append(b)
    seen, queue = {node}, [node]
    for u in queue:
        for v in neighbours[u]:
            if v not in seen:
                seen.add(v)
                queue.append(v)
    return seen


def ancestors(record: dict, node: int) -> int:
    return len(closure(record, node, upward=True)) - 1


def path_in_order(record: dict) -> bool:
    """Whether the path's facts appear in the question in the order the path takes them."""
    sentences = [s.strip() + "." for s in record["question"].rsplit(".", 1)[0].split(".") if s.strip()]
    at = {s: i for i, s in enumerate(sentences)}
    places = [at[step] for step in record["steps"] if step in at]
    return all(a < b for a, b in zip(places, places[1:]))


def statistics(record: dict) -> dict[str, float]:
    indegree = Counter(b for _, b in record["edges"])
    nodes = len(record["idx_to_symbol"])
    from_root = closure(record, record["root"], upward=False)
    return {"answer in-degree": indegree[record["target"]], "distractor in-degree": indegree[record["neg_target"]],
            "answer ancestors": ancestors(record, record["target"]),
            "distractor ancestors": ancestors(record, record["neg_target"]),
            "answer index / nodes": record["target"] / nodes, "distractor index / nodes": record["neg_target"] / nodes,
            "root's out-degree": sum(a == record["root"] for a, _ in record["edges"]),
            "nodes reachable from the root": len(from_root),
            "edges into the root's reach from outside it": sum(a not in from_root and b in from_root
                                                               for a, b in record["edges"]),
            "path facts in path order": path_in_order(record)}


def accuracy_by_bin(records: list[dict], answers: list[dict]) -> dict[int, list[bool]]:
    if len(records) != len(answers):
        raise SystemExit(f"{len(records)} questions but {len(answers)} answers: pass each file's own eval output")
    bins = defaultdict(list)
    for record, answer in zip(records, answers):
        bins[min(ancestors(record, record["neg_target"]), CAP)].append(bool(answer["exact"]))
    return bins


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        raise SystemExit(__doc__.strip().splitlines()[-1].strip())
    real, real_answers, gen, gen_answers = read(argv[0]), read(argv[1]), read(argv[2]), read(argv[3])
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
