"""`latentsearch demo`: answer a freshly generated question step by step with a shipped model, print
each continuous thought beside the true BFS frontier, and write the HTML report."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from latentsearch import tasks
from latentsearch.data.examples import encode_record
from latentsearch.data.schema import Record, load_records
from latentsearch.data.tokenizer import ANSWER_MARK
from latentsearch.evaluate import evaluate
from latentsearch.latent.value import load_valuer
from latentsearch.methods import Recipe
from latentsearch.models import shipped
from latentsearch.models.checkpoint import CheckpointError, load_checkpoint
from latentsearch.tasks.graphs import bfs_frontiers


def shipped_checkpoint() -> Path:
    folder = shipped.assets() / shipped.DEFAULT
    if not (folder / "model.safetensors").is_file():
        raise CheckpointError(f"the shipped model is missing from {folder}; reinstall latentsearch")
    return folder


def demo_questions(task, settings: dict, seed: int, question_file: str, n: int) -> list[Record]:
    """The question to ask (generated from `seed`, or the first of a file), then n - 1 more for the report."""
    options = task.generate_options(**settings.get("generator", {}))
    first = load_records(question_file)[:1] if question_file else task.generate(1, seed, options)
    return first + task.generate(n - 1, seed + 1_000_003, options, exclude_questions={first[0].question})


def demo(seed: int = 0, question_file: str = "", checkpoint: str = "", report_dir: str = "latentsearch-demo",
         report_questions: int = 40) -> None:
    start = time.perf_counter()
    folder = Path(shipped.resolve(checkpoint)) if checkpoint else shipped_checkpoint()
    model, codec, meta = load_checkpoint(folder)
    task = tasks.get(codec.task)
    settings = shipped.card(folder.name) if folder.parent == shipped.assets() else {}
    records = demo_questions(task, settings, seed, question_file, report_questions if report_dir else 1)
    record = records[0]
    recipe, stage = Recipe.from_meta(meta, codec)
    source = Path(question_file).name or "the question"
    result = evaluate(model, codec, [record], recipe, stage=stage, source=source)
    row = result.rows[0]
    print(f"Model: {meta.get('method')} model for {task.name}, {sum(p.numel() for p in model.parameters()):,} "
          f"parameters, {codec.rendering} rendering, from {folder}")
    if settings.get("note"):
        print(settings["note"])
    print(f"\nQuestion:\n  {record.question}\n")
    if result.thoughts is not None and task.graph(record):
        _print_thoughts(model, codec, task, record, result.thoughts[0])
    steps = row["output"].split(ANSWER_MARK)[0].strip()
    print(f"Model's reasoning in language: {steps or '(none: it answered straight after its thoughts)'}")
    verdict = "correct" if row["exact"] else f"wrong (the answer is {row['gold']!r})"
    print(f"\nAnswer: {row['predicted'] or '(none)'}  -> {verdict}")
    print("Reference reasoning: " + " ".join(record.steps))
    item = recipe.prompt_item(encode_record(record, codec), stage)
    thinking = (f"then {item.n_thoughts} continuous thoughts (each last hidden state fed back as the next "
                f"input embedding, sharing one KV cache) and <eot>; " if item.n_thoughts else "")
    print(f"\nWhat happened: the question was rendered as {len(item.prompt)} tokens; {thinking}the model "
          f"decoded greedily with a KV cache until <eos> ({row['generated_tokens']} tokens), and the text after "
          f"'###' was compared with the true answer. Took {time.perf_counter() - start:.1f}s.")
    if result.thoughts is not None and report_dir:
        _write_report(model, codec, recipe, records, report_dir, load_valuer(folder), source)


def _write_report(model, codec, recipe, records: list[Record], folder: str, valuer=None,
                  source: str = "data") -> None:
    """Probe the model's thoughts on these questions and write the HTML report (the first is the demo's)."""
    from latentsearch.probe.report import write_report
    from latentsearch.probe.run import probe, write_probe

    start = time.perf_counter()
    result = probe(model, codec, records, recipe, recipe.curriculum.final_stage, trees=1, progress=True,
                   valuer=valuer, source=source)
    write_probe(result, folder, figures=1)
    path = write_report(folder, Path(folder) / "report.html")
    print(f"\nReport on {len(records)} questions (this one first): {path.resolve()} "
          f"({time.perf_counter() - start:.1f}s; open it in a browser)")


@torch.no_grad()
def _print_thoughts(model, codec, task, record: Record, thoughts: torch.Tensor, top: int = 5) -> None:
    """Each thought through the LM head (logit lens), beside the true BFS frontier at that depth."""
    graph = task.graph(record)
    frontiers = bfs_frontiers(len(graph.symbols), graph.edges, graph.root)
    probs = model.get_output_embeddings()(thoughts.to(model.device)).softmax(-1)
    print(f"Continuous thoughts (never decoded; read through the LM head, top {top} tokens):")
    for k, p in enumerate(probs, 1):
        values, ids = p.topk(min(top, p.shape[-1]))
        tokens = "  ".join(f"{codec.decode([i]) or '?'} {v:.2f}" for v, i in zip(values.tolist(), ids.tolist()))
        frontier = " ".join(graph.symbols[n] for n in frontiers[k]) if k < len(frontiers) else "(none)"
        print(f"  thought {k}: {tokens}\n             BFS frontier at depth {k}: {frontier}")
    print()
