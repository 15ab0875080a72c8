"""Statistics of data files, side by side: size, answers, steps, question length, vocabulary, and the
graph behind the questions when the records carry one."""

from __future__ import annotations

import re
from collections import Counter

from latentsearch.errors import DatasetError
from latentsearch.tasks.graphs import shortest_paths


def text_stats(records) -> dict:
    """Keys: n, answers ({answer: share}, the 5 commonest), steps (mean count), question_words (mean),
    question_sentences (mean), word_types (distinct words over questions, steps and answers), not_sentences
    (share of question sentences with the word "not"), not_last_step (share of records whose last step has it:
    in ProntoQA, a negated deciding property)."""
    records = list(records)
    if not records:
        raise DatasetError("statistics need at least one record")
    n = len(records)
    words = [re.findall(r"\w+|[^\w\s]", r.question) for r in records]
    sentences = [s for r in records for s in re.split(r"(?<=[.?!])\s+", r.question.strip())]
    vocabulary = {w for r in records for text in (r.question, r.answer, *r.steps) for w in re.findall(r"\w+", text)}
    return {
        "n": n,
        "answers": {a: c / n for a, c in Counter(r.answer for r in records).most_common(5)},
        "steps": sum(len(r.steps) for r in records) / n,
        "question_words": sum(sum(w[0].isalnum() for w in ws) for ws in words) / n,
        "question_sentences": sum(len(re.findall(r"[.?!](?:\s|$)", r.question)) for r in records) / n,
        "word_types": len(vocabulary),
        "not_sentences": sum(_says_not(s) for s in sentences) / len(sentences),
        "not_last_step": sum(bool(r.steps) and _says_not(r.steps[-1]) for r in records) / n,
    }


def _says_not(text: str) -> bool:
    return re.search(r"\bnot\b", text) is not None


def graph_stats(records) -> dict:
    """Means and the path-length histogram of records that carry a graph with a target.

    Keys: n, nodes, edges, shortest_path (mean root->target distance), shortest_paths (mean number of
    shortest paths), step_hist ({path length: fraction}).
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


def _paths(record, index: int) -> tuple[int, int]:
    """(shortest root->target distance, number of shortest paths) of one record."""
    if not record.has_graph or record.target is None:
        raise DatasetError(f"record {index}: graph statistics need the graph fields "
                           "(idx_to_symbol, edges, root, target)")
    count, path = shortest_paths(len(record.idx_to_symbol), record.edges, record.root, record.target)
    if path is None:
        raise DatasetError(f"record {index}: the target is not reachable from the root")
    return len(path) - 1, count


def stats(records) -> dict:
    """text_stats, plus graph_stats under "graph" when every record has a graph with a target."""
    out = text_stats(records)
    if all(r.has_graph and r.target is not None for r in records):
        out["graph"] = graph_stats(records)
    return out


def format_stats_table(named: dict[str, dict]) -> str:
    """A Markdown table with one column per `stats` result, keyed by its name (e.g. a file)."""
    names = list(named)
    answers = sorted({a for s in named.values() for a in s["answers"]})[:6]
    rows = [
        ("records", lambda s: f"{s['n']:,}"),
        *[(f"answer {a!r}", lambda s, a=a: _share(s["answers"].get(a))) for a in answers if len(answers) <= 4],
        ("reasoning steps (mean)", lambda s: f"{s['steps']:.3f}"),
        ("question words (mean)", lambda s: f"{s['question_words']:.2f}"),
        ("question sentences (mean)", lambda s: f"{s['question_sentences']:.2f}"),
        ("word types", lambda s: f"{s['word_types']:,}"),
    ]
    if any(s["not_sentences"] or s["not_last_step"] for s in named.values()):  # ProsQA never says "not"
        rows += [('question sentences with "not"', lambda s: _share(s["not_sentences"])),
                 ('last step with "not"', lambda s: _share(s["not_last_step"]))]
    if all("graph" in s for s in named.values()):
        rows += _graph_rows(named)
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(named[name]) for name in names) + " |")
    return "\n".join(lines)


def _share(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _graph_rows(named: dict[str, dict]) -> list:
    rows = [
        ("nodes (mean)", lambda s: f"{s['graph']['nodes']:.2f}"),
        ("edges (mean)", lambda s: f"{s['graph']['edges']:.2f}"),
        ("shortest path (mean)", lambda s: f"{s['graph']['shortest_path']:.3f}"),
        ("#shortest paths (mean)", lambda s: f"{s['graph']['shortest_paths']:.3f}"),
    ]
    depths = sorted({k for s in named.values() for k in s["graph"]["step_hist"]})
    return rows + [(f"path length {k}", lambda s, k=k: _share(s["graph"]["step_hist"].get(k, 0.0))) for k in depths]
