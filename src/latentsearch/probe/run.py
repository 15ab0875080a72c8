"""`latentsearch probe`: read every continuous thought of a checkpoint on graph questions.

For each question: run N thoughts, read each through the logit lens (top tokens, entropy, top-k
mass), measure its frontier mass, then -- for k = 0..N -- force language after k thoughts and
classify the path (Coconut's Figure 5). Writes probe.json (summary + per-question readings) and,
with matplotlib, the figures, into one folder that `latentsearch report` turns into a page.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from latentsearch.data.examples import encode_record
from latentsearch.data.graphs import bfs_frontiers
from latentsearch.data.schema import Record
from latentsearch.data.tokenizer import ANSWER_MARK, Codec
from latentsearch.evaluate import candidate_answers, evaluate, path_nodes
from latentsearch.latent.space import LatentSearchConfig, LatentSpace
from latentsearch.io import atomic_write_json
from latentsearch.probe.frontier import CANDIDATES, CLASSES, PATH_CLASSES, frontier_mass, path_class
from latentsearch.probe.lens import lens_logits, read
from latentsearch.search import beam_search
from latentsearch.train.methods import Recipe


def probe(model, codec: Codec, records: list[Record], recipe: Recipe, stage: int, n_thoughts: int,
          top: int = 5, trees: int = 10, tree_width: int = 4, source: str = "data") -> dict:
    """Thought readings and frontier mass with `n_thoughts` thoughts; path classes for k = 0..n_thoughts;
    the latent beam trees of the first `trees` questions (for the report)."""
    if not recipe.method.uses_thoughts():
        raise ValueError(f"method {recipe.method.name!r} has no continuous thoughts to probe")
    if not all(r.has_graph for r in records):
        raise ValueError("probing needs graph records (idx_to_symbol, edges, root, target)")
    run = evaluate(model, codec, records, recipe, stage=stage, n_thoughts=n_thoughts, source=source)
    questions = [_question(model, codec, r, thoughts, row, top) for r, thoughts, row in
                 zip(records, run.thoughts, run.rows)]
    classes = {k: _path_classes(model, codec, records, recipe, stage, k) for k in range(n_thoughts + 1)}
    for question, record in zip(questions[:trees], records):
        question["tree"] = latent_tree(model, codec, record, recipe, n_thoughts, tree_width)
    return {"n": len(records), "thoughts": n_thoughts, "accuracy": run.summary["accuracy"],
            "frontier": _mean_mass(questions, n_thoughts), "path_classes": classes, "questions": questions}


def _question(model, codec, record: Record, thoughts, row: dict, top: int) -> dict:
    node_token = [codec.token_id(s) for s in record.idx_to_symbol]
    logits = lens_logits(model, thoughts)  # (n_thoughts, vocab)
    readings = []
    for k, (reading, probs) in enumerate(zip(read(logits, top), logits.float().softmax(-1)), 1):
        mass = frontier_mass(probs.cpu(), record, k, node_token)
        readings.append({"top": [codec.decode([i]) for i in reading.top_ids], "probs": reading.top_probs,
                         "entropy": reading.entropy, "top_mass": reading.top_mass,
                         "mass": mass.total, "mass_per_node": mass.per_node})
    frontiers = bfs_frontiers(len(record.idx_to_symbol), record.edges, record.root)
    return {"question": record.question, "answer": row["gold"], "predicted": row["predicted"],
            "correct": row["exact"], "thoughts": readings,
            "frontier_tokens": {k: [record.idx_to_symbol[v] for v in f] for k, f in enumerate(frontiers) if k}}


ACTION_NAMES = ("thought", "token 1", "token 2", "mixture")


def latent_tree(model, codec, record: Record, recipe: Recipe, n_thoughts: int, width: int) -> dict:
    """The explored tree of a latent beam search on one question, nested, for drawing."""
    item = recipe.prompt_item(encode_record(record, codec), recipe.curriculum.final_stage, n_thoughts)
    names = [record.idx_to_symbol[record.target], record.idx_to_symbol[record.neg_target]]
    space = LatentSpace(model, item.prompt, item.after, candidate_answers(record, codec),
                        LatentSearchConfig(n_thoughts, top_k=2))
    out = beam_search(space, width=width, length_penalty=0.0)
    tree = out.tree
    nodes = [{"label": f"root: answer {names[space.root().handle.answer]}", "children": []}]
    for i in range(1, len(tree["parent"])):
        label = f"{ACTION_NAMES[tree['token'][i]]}  score {tree['logprob'][i]:+.2f}"
        nodes.append({"label": label + ("" if tree["expanded"][i] else "  (not expanded)"), "children": []})
        nodes[tree["parent"][i]]["children"].append(nodes[i])
    nodes[0]["label"] += f"; best path {' > '.join(ACTION_NAMES[a] for a in out.sequences[0])}"
    return nodes[0]


def _mean_mass(questions: list[dict], n_thoughts: int) -> list[dict]:
    """Per thought k: mean class mass and mean per-node mass over questions (nan-aware)."""
    out = []
    for k in range(n_thoughts):
        entry = {}
        for key in ("mass", "mass_per_node"):
            values = {c: [q["thoughts"][k][key][c] for q in questions] for c in CLASSES + CANDIDATES}
            entry[key] = {c: _nanmean(v) for c, v in values.items()}
        per = entry["mass_per_node"]
        entry["frontier_over_unreachable"] = per["frontier"] / per["unreachable"] if per["unreachable"] else math.nan
        out.append(entry)
    return out


def _nanmean(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def _path_classes(model, codec, records, recipe, stage, k: int) -> dict[str, float]:
    """Share of each path class when language is forced after k thoughts."""
    rows = evaluate(model, codec, records, recipe, stage=stage, n_thoughts=k).rows
    counts = Counter()
    for record, row in zip(records, rows):
        steps = row["output"].split(ANSWER_MARK)[0]
        nodes = path_nodes(steps, record) if steps.strip() else []
        counts[path_class(record, k, nodes, row["exact"])] += 1
    return {name: counts[name] / len(records) for name in PATH_CLASSES}


def _finite(value):
    """NaN (an empty class) as null, so that probe.json is strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def write_probe(result: dict, folder: str | Path, plots: bool = True) -> list[Path]:
    """probe.json and, when matplotlib is installed, the figures; returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "probe.json", _finite(result))
    written = [folder / "probe.json"]
    if plots:
        from latentsearch.probe.plots import plot_frontier, plot_path_classes

        written += [plot_frontier(result, folder / "frontier_mass.png"),
                    plot_path_classes(result, folder / "path_classes.png")]
    return written
