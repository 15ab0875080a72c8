"""Graph statistics of ProsQA-style records, and a Markdown table comparing several files."""

from __future__ import annotations

from collections import Counter

from latentsearch.data.graphs import shortest_paths
from latentsearch.data.schema import DatasetError, Record


def graph_stats(records) -> dict:
    """Means and the path-length histogram of records that carry graph fields.

    Keys: n, nodes, edges, steps (mean number of reasoning steps), shortest_path (mean root->target
    distance), shortest_paths (mean number of shortest paths), step_hist ({path length: fraction}).
    """
    records = list(records)
    if not records:
        raise DatasetError("graph statistics need at least one record")
    lengths, counts = zip(*(_paths(record, i) for i, record in enumerate(records)))
    n = len(records)
    histogram = Counter(lengths)
    return {
        "n": n,
        "nodes": sum(len(r.idx_to_symbol) for r in records) / n,
        "edges": sum(len(r.edges) for r in records) / n,
        "steps": sum(len(r.steps) for r in records) / n,
        "shortest_path": sum(lengths) / n,
        "shortest_paths": sum(counts) / n,
        "step_hist": {k: histogram[k] / n for k in sorted(histogram)},
    }


def _paths(record: Record, index: int) -> tuple[int, int]:
    """(shortest root->target distance, number of shortest paths) of one record."""
    if not record.has_graph:
        raise DatasetError(f"record {index}: graph statistics need the graph fields "
                           "(idx_to_symbol, edges, root, target, neg_target)")
    count, path = shortest_paths(len(record.idx_to_symbol), record.edges, record.root, record.target)
    if path is None:
        raise DatasetError(f"record {index}: the target is not reachable from the root")
    return len(path) - 1, count


def format_stats_table(named: dict[str, dict]) -> str:
    """A Markdown table with one column per `graph_stats` result, keyed by its name (e.g. a file)."""
    names = list(named)
    rows = [
        ("records", lambda s: f"{s['n']:,}"),
        ("nodes (mean)", lambda s: f"{s['nodes']:.2f}"),
        ("edges (mean)", lambda s: f"{s['edges']:.2f}"),
        ("reasoning steps (mean)", lambda s: f"{s['steps']:.3f}"),
        ("shortest path (mean)", lambda s: f"{s['shortest_path']:.3f}"),
        ("#shortest paths (mean)", lambda s: f"{s['shortest_paths']:.3f}"),
    ]
    depths = sorted({k for s in named.values() for k in s["step_hist"]})
    rows += [(f"steps={k}", lambda s, k=k: f"{100 * s['step_hist'].get(k, 0.0):.1f}%") for k in depths]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(named[name]) for name in names) + " |")
    return "\n".join(lines)
