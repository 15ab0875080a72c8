"""`latentsearch probe`: read every continuous thought of a checkpoint on graph questions.

For each question: run N thoughts, read each through the logit lens (top tokens, entropy, top-k
mass), measure its mass on the BFS classes of the question's graph (the task says what the graph
is), then -- for tasks with Coconut's path classes (ProsQA) -- force language after k = 0..N
thoughts and classify the path (Coconut's Figure 5). Writes probe.json (summary + per-question
readings) and, with matplotlib, the figures, into one folder that `latentsearch report` turns into
a page.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path

import torch
from tqdm.auto import tqdm

from latentsearch import tasks
from latentsearch.data.examples import encode_record
from latentsearch.data.schema import Record
from latentsearch.data.tokenizer import ANSWER_MARK, Codec
from latentsearch.evaluate import candidate_answers, check_request, evaluate, is_count
from latentsearch.io import atomic_write_json
from latentsearch.latent.space import LatentSpace
from latentsearch.latent.specs import LatentOptions
from latentsearch.methods import Recipe
from latentsearch.probe.frontier import CANDIDATES, CLASSES, REFERENCES, frontier_mass, node_tokens, total_variation
from latentsearch.probe.lens import lens_logits, read
from latentsearch.probe.plots import plot_libraries_missing
from latentsearch.search import beam_search
from latentsearch.tasks.graphs import bfs_frontiers


def probe(model, codec: Codec, records: list[Record], recipe: Recipe, stage: int, n_thoughts: int | None = None,
          top: int = 5, trees: int = 10, tree_width: int = 4, source: str = "data", progress: bool = False,
          valuer=None) -> dict:
    """Thought readings and frontier mass with `n_thoughts` thoughts; path classes for k = 0..n_thoughts
    (tasks that define them); the latent beam trees of the first `trees` questions (for the report), ranked
    by `valuer` (latent/value.py) when given, else by the answer's likelihood.
    `progress`: one bar over the passes (the thoughts, each k of the path classes, each tree).
    `n_thoughts` defaults to the checkpoint's own count, the one `evaluate` answers with."""
    task = tasks.get(codec.task)
    n_thoughts = recipe.curriculum.final_thoughts if n_thoughts is None else n_thoughts
    if not recipe.method.uses_thoughts():
        raise ValueError(f"method {recipe.method.name!r} has no continuous thoughts to probe")
    if not is_count(n_thoughts) or n_thoughts < 1 or not is_count(top) or top < 1 or not is_count(trees):
        raise ValueError(f"probe needs thoughts >= 1, top >= 1 and trees >= 0, got {n_thoughts!r}, {top!r}, {trees!r}")
    check_request(records, source=source)
    missing = next((i for i, r in enumerate(records) if task.graph(r) is None), None)
    if missing is not None:
        raise ValueError(f"{source}, record {missing}: probing needs the graph behind a question "
                         "(ProsQA's idx_to_symbol, edges, root, target; ProntoQA's ontology)")
    ks = range(n_thoughts + 1) if getattr(task, "path_classes", None) else range(0)
    run = evaluate(model, codec, records, recipe, stage=stage, n_thoughts=n_thoughts, source=source)  # checks them
    bar = tqdm(total=1 + len(ks) + min(trees, len(records)), initial=1, desc="probe", disable=not progress)
    questions = [_question(model, codec, task, r, thoughts, row, top) for r, thoughts, row in
                 zip(records, run.thoughts, run.rows)]
    classes = {}
    for k in ks:
        classes[k] = _path_classes(model, codec, task, records, recipe, stage, k)
        bar.update(1)
    for question, record in zip(questions[:trees], records):
        question["tree"] = latent_tree(model, codec, record, recipe, n_thoughts, tree_width, question["predicted"],
                                       valuer)
        bar.update(1)
    bar.close()
    return {"n": len(records), "thoughts": n_thoughts, "task": task.name, "accuracy": run.summary["accuracy"],
            "frontier": _mean_mass(questions, n_thoughts), "path_classes": classes, "questions": questions}


def _question(model, codec, task, record: Record, thoughts, row: dict, top: int) -> dict:
    graph = task.graph(record)
    tokens_of = node_tokens(task, record, codec, graph)
    logits = lens_logits(model, thoughts)  # (n_thoughts, vocab)
    readings, node_probs = [], []
    for k, (reading, probs) in enumerate(zip(read(logits, top), logits.float().softmax(-1).cpu()), 1):
        mass = frontier_mass(probs, graph, k, tokens_of)
        readings.append({"top": [codec.decode([i]) for i in reading.top_ids], "probs": reading.top_probs,
                         "entropy": reading.entropy, "top_mass": reading.top_mass,
                         "mass": mass.total, "mass_per_node": mass.per_node})
        node_probs.append([round(float(probs[ids].sum()), 6) for ids in tokens_of])
        readings[-1]["tv"] = total_variation(torch.tensor(node_probs[-1]), graph, k)
        readings[-1]["cosine_to_previous"] = _cosine(thoughts[k - 1], thoughts[k - 2]) if k > 1 else math.nan
    frontiers = bfs_frontiers(len(graph.symbols), graph.edges, graph.root)
    return {"question": record.question, "answer": row["gold"], "predicted": row["predicted"],
            "correct": row["exact"], "thoughts": readings, "node_probs": node_probs,
            "graph": graph.to_dict(frontiers),
            "frontier_tokens": {k: [graph.symbols[v] for v in f] for k, f in enumerate(frontiers) if k}}


def latent_tree(model, codec, record: Record, recipe: Recipe, n_thoughts: int, width: int, model_answer: str,
                valuer=None) -> dict:
    """One question's latent beam search as plain data for drawing: the tree, each node's move named, the
    chosen path. Children are on-distribution (the plain thought and one gaussian-noise continuation, as
    `eval --search beam:W`), ranked by the value model when given."""
    item = recipe.prompt_item(encode_record(record, codec), recipe.curriculum.final_stage, n_thoughts)
    answers = tasks.get(codec.task).candidates(record, codec.rendering)
    space = LatentSpace(model, item.prompt, item.after, candidate_answers(record, codec),
                        LatentOptions().space_config(n_thoughts, children=2), valuer=valuer,
                        token_name=lambda i: codec.decode([i]) or str(i))
    out = beam_search(space, width=width, length_penalty=0.0)
    tree_answer = answers[out.nodes[0].handle.answer]
    ranked_by = "a learned value of each partial path" if valuer else "how surely each path answers"
    note = "" if tree_answer == model_answer else (
        f"The tree's best path answers {tree_answer}, the model's own single path {model_answer or '(nothing)'}: the "
        f"search ranks noisy continuations of the thoughts by {ranked_by}, and here that ranking disagrees "
        "with the plain path (which is always in the tree, as the first child of every node).")
    return {"tree": out.tree, "labels": [space.labels.get(i, "?") for i in range(len(out.tree["parent"]))],
            "chosen": out.path(), "answer": tree_answer, "note": note, "ranked_by": ranked_by}


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
        entry["tv"] = {r: _nanmean([q["thoughts"][k]["tv"][r] for q in questions]) for r in REFERENCES}
        entry["cosine_to_previous"] = _nanmean([q["thoughts"][k]["cosine_to_previous"] for q in questions])
        out.append(entry)
    return out


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """How far a thought moved from the one before: near 1, the thoughts have stopped stepping (a fixed
    point, which is how the frontier fades on graphs deeper than training)."""
    return round(float(torch.nn.functional.cosine_similarity(a.float(), b.float(), dim=0)), 6)


def _nanmean(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def _path_classes(model, codec, task, records, recipe, stage, k: int) -> dict[str, float]:
    """Share of each path class when language is forced after k thoughts."""
    rows = evaluate(model, codec, records, recipe, stage=stage, n_thoughts=k).rows
    counts = Counter(task.path_class(record, k, row["output"].split(ANSWER_MARK)[0], row["exact"])
                     for record, row in zip(records, rows))
    return {name: counts[name] / len(records) for name in task.path_classes}


def write_probe(result: dict, folder: str | Path, plots: bool = True, figures: int = 3) -> list[Path]:
    """probe.json and, when matplotlib is installed, the figures (the thoughts on the graph of the first
    `figures` questions among them); returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "probe.json", result)  # NaN (an empty class) as null
    written = [folder / "probe.json"]
    missing = plot_libraries_missing() if plots else []
    if missing:
        print(f"note: no figures in {folder}: {' and '.join(missing)} not installed "
              "(pip install 'latentsearch[plot]')", file=sys.stderr)
    if plots and not missing:
        from latentsearch.probe.plots import plot_frontier, plot_path_classes

        written.append(plot_frontier(result, folder / "frontier_mass.png"))
        if result["path_classes"]:
            written.append(plot_path_classes(result, folder / "path_classes.png"))
        written += _graph_figures(result, folder, figures)
    return written


def _graph_figures(result: dict, folder: Path, count: int) -> list[Path]:
    """thoughts_q{i}.svg: question i's graph once per thought, lit by that thought's node probabilities."""
    from latentsearch.io import atomic_write_bytes
    from latentsearch.probe.figures import thoughts_on_graph

    written = []
    for i, question in enumerate(result["questions"][:count]):
        graph = question["graph"]
        path = folder / f"thoughts_q{i}.svg"
        verdict = "right" if question["correct"] else "wrong"
        title = f"question {i}: answer {question['predicted'] or '(none)'} ({verdict})"
        atomic_write_bytes(path, thoughts_on_graph(graph, question["node_probs"], graph["path"], title=title))
        written.append(path)
    return written
