"""`latentsearch demo`: answer a ProsQA question step by step with the model the package ships."""

from __future__ import annotations

import json
import random
import time
from importlib import resources
from pathlib import Path

import torch

from latentsearch.data.examples import encode_record
from latentsearch.data.graphs import bfs_frontiers, shortest_path
from latentsearch.data.prosqa import ProsQAConfig, generate_record
from latentsearch.data.schema import Record, load_records
from latentsearch.data.tokenizer import ANSWER_MARK
from latentsearch.evaluate import evaluate, is_valid_path, path_nodes
from latentsearch.models.checkpoint import CheckpointError, load_checkpoint
from latentsearch.train.methods import Recipe

SHIPPED = "prosqa-coconut"  # folder under latentsearch/assets


def shipped_checkpoint() -> Path:
    folder = Path(str(resources.files("latentsearch") / "assets" / SHIPPED))
    if not (folder / "model.safetensors").is_file():
        raise CheckpointError(f"the shipped model is missing from {folder}; reinstall latentsearch")
    return folder


def demo_settings(folder: Path) -> dict:
    """demo.json beside a shipped model: the graph sizes it was trained on and a note on its accuracy."""
    path = folder / "demo.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def demo_question(settings: dict, seed: int, question_file: str) -> Record:
    if question_file:
        return load_records(question_file)[0]
    return generate_record(random.Random(seed), ProsQAConfig.sized(**settings.get("generator", {})))


def edge_sentence(record: Record, a: int, b: int) -> str:
    sym = record.idx_to_symbol
    return f"{sym[a]} is a {sym[b]}." if sym[a][0].isupper() else f"Every {sym[a]} is a {sym[b]}."


def demo(seed: int = 0, question_file: str = "", checkpoint: str = "", report_dir: str = "latentsearch-demo",
         report_questions: int = 40) -> None:
    start = time.perf_counter()
    folder = Path(checkpoint) if checkpoint else shipped_checkpoint()
    model, codec, meta = load_checkpoint(folder)
    settings = demo_settings(folder)
    record = demo_question(settings, seed, question_file)
    recipe, stage = Recipe.from_meta(meta, codec)
    result = evaluate(model, codec, [record], recipe, stage=stage)
    row = result.rows[0]
    print(f"Model: {meta.get('method')} model, {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{codec.rendering} rendering, from {folder}")
    if settings.get("note"):
        print(settings["note"])
    print(f"\nQuestion ({len(record.edges)} facts):\n  {record.question}\n")
    if result.thoughts is not None:
        _print_thoughts(model, codec, record, result.thoughts[0])
    _print_steps(record, row["output"].split(ANSWER_MARK)[0], codec.rendering)
    verdict = "correct" if row["exact"] else f"wrong (the answer is {row['gold']!r})"
    print(f"\nAnswer: {row['predicted'] or '(none)'}  -> {verdict}")
    print("Reference path (BFS): " + " ".join(edge_sentence(record, a, b) for a, b in _true_path(record)))
    item = recipe.prompt_item(encode_record(record, codec), stage)
    thinking = (f"then {item.n_thoughts} continuous thoughts (each last hidden state fed back as the next "
                f"input embedding, sharing one KV cache) and <eot>; " if item.n_thoughts else "")
    print(f"\nWhat happened: the question was rendered as {len(item.prompt)} tokens; {thinking}the model "
          f"decoded greedily with a KV cache until <eos> ({row['generated_tokens']} tokens), and the text after "
          f"'###' was compared with the true answer. Took {time.perf_counter() - start:.1f}s.")
    if result.thoughts is not None and report_dir:
        _write_report(model, codec, recipe, [record] + _more_questions(settings, seed, report_questions - 1),
                      report_dir)


def _more_questions(settings: dict, seed: int, n: int) -> list[Record]:
    rng = random.Random(f"report-{seed}")
    config = ProsQAConfig.sized(**settings.get("generator", {}))
    return [generate_record(rng, config) for _ in range(n)]


def _write_report(model, codec, recipe, records: list[Record], folder: str) -> None:
    """Probe the model's thoughts on these questions and write the HTML report (the first is the demo's)."""
    import importlib.util

    from latentsearch.probe.report import write_report
    from latentsearch.probe.run import probe, write_probe

    start = time.perf_counter()
    thoughts = recipe.curriculum.max_stage * recipe.curriculum.thoughts_per_step
    result = probe(model, codec, records, recipe, recipe.curriculum.final_stage, thoughts, trees=1)
    write_probe(result, folder, plots=importlib.util.find_spec("matplotlib") is not None)
    path = write_report(folder, Path(folder) / "report.html")
    print(f"\nReport on {len(records)} questions (this one first): {path.resolve()} "
          f"({time.perf_counter() - start:.1f}s; open it in a browser)")


@torch.no_grad()
def _print_thoughts(model, codec, record: Record, thoughts: torch.Tensor, top: int = 5) -> None:
    """Each thought through the LM head (logit lens), beside the true BFS frontier at that depth."""
    sym = record.idx_to_symbol
    frontiers = bfs_frontiers(len(sym), record.edges, record.root)
    probs = model.get_output_embeddings()(thoughts.to(model.device)).softmax(-1)
    print("Continuous thoughts (never decoded; read through the LM head, top 5 tokens):")
    for k, p in enumerate(probs, 1):
        values, ids = p.topk(top)
        tokens = "  ".join(f"{codec.decode([i]) or '?'} {v:.2f}" for v, i in zip(values.tolist(), ids.tolist()))
        frontier = " ".join(sym[n] for n in frontiers[k]) if k < len(frontiers) else "(none)"
        print(f"  thought {k}: {tokens}\n             BFS frontier at depth {k}: {frontier}")


def _print_steps(record: Record, steps_text: str, rendering: str) -> None:
    nodes = path_nodes(steps_text, record) if steps_text.strip() else []
    print("Model's reasoning in language:" if nodes else "Model's reasoning in language: (none)")
    chain = [record.root] + (nodes or [])
    for k, (a, b) in enumerate(zip(chain, chain[1:]), 1):
        ok = "edge of the graph" if (a, b) in set(map(tuple, record.edges)) else "NOT an edge of the graph"
        print(f"  step {k}: {edge_sentence(record, a, b):<34} ({ok})")
    if nodes:
        print("  the steps form a valid path from the root" if is_valid_path(steps_text, record)
              else "  the steps do not form a valid path")


def _true_path(record: Record) -> list[tuple[int, int]]:
    path = shortest_path(len(record.idx_to_symbol), record.edges, record.root, record.target)
    return list(zip(path, path[1:]))
