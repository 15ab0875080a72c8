"""Answer accuracy (exact and flexible match) and the validity of generated reasoning paths."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from latentsearch.data.examples import encode_records
from latentsearch.data.schema import Record
from latentsearch.data.tokenizer import ANSWER_MARK, Codec, render
from latentsearch.generate import greedy_generate
from latentsearch.models.factory import context_length
from latentsearch.train.methods import Method


def extract_answer(text: str) -> str:
    """Coconut's rule: the text after the last `#`."""
    return text.rsplit("#", 1)[-1].strip()


def normalize(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def flexible_match(predicted: str, record: Record, gold: str) -> bool:
    """The answer names the target and not the distractor (graph tasks), else normalized equality."""
    words = set(normalize(predicted).split())
    if record.has_graph:
        sym = record.idx_to_symbol
        return sym[record.target].lower() in words and sym[record.neg_target].lower() not in words
    return normalize(predicted) == normalize(gold)


def path_nodes(steps_text: str, record: Record) -> list[int] | None:
    """Node indices a generated chain of steps visits after the root, or None when a word is not a node."""
    index = {s: i for i, s in enumerate(record.idx_to_symbol)}
    sentences = [s for s in re.split(r"[.\n]", steps_text) if s.strip()]
    if " is a " not in steps_text:  # symbolic rendering: one node token per step
        sentences = steps_text.split()
    nodes = []
    for sentence in sentences:
        words = re.findall(r"\w+", sentence)
        if not words or words[-1] not in index:
            return None
        nodes.append(index[words[-1]])
    return nodes


def is_valid_path(steps_text: str, record: Record) -> bool:
    """Every step follows an edge of the graph, starting from the root."""
    nodes = path_nodes(steps_text, record)
    if not nodes:
        return False
    edges = set(map(tuple, record.edges))
    chain = [record.root] + nodes
    return all((a, b) in edges for a, b in zip(chain, chain[1:]))


@dataclass
class EvalResult:
    summary: dict
    rows: list[dict]


def evaluate(model, codec: Codec, records: list[Record], method: Method, batch_size: int = 64,
             max_new_tokens: int | None = None, progress: bool = False) -> EvalResult:
    """Greedy-decode every record and score it."""
    examples = encode_records(records, codec)
    prompts = [method.prompt(e) for e in examples]
    if max_new_tokens is None:
        longest = max(len(e.answer) + sum(map(len, e.steps)) for e in examples)
        max_new_tokens = min(2 * longest + 8, context_length(model) - max(map(len, prompts)))
    start = time.perf_counter()
    outputs = greedy_generate(model, prompts, codec.eos_id, codec.pad_id, max_new_tokens, batch_size, progress)
    seconds = time.perf_counter() - start
    rows = [score_output(i, r, codec, out) for i, (r, out) in enumerate(zip(records, outputs))]
    return EvalResult(_summarize(rows, seconds), rows)


def score_output(index: int, record: Record, codec: Codec, output: list[int]) -> dict:
    text = codec.decode(output)
    gold = render(record, codec.rendering).answer
    predicted = extract_answer(text) if ANSWER_MARK in text else ""
    row = {"index": index, "output": text, "predicted": predicted, "gold": gold,
           "exact": predicted == gold, "flexible": bool(predicted) and flexible_match(predicted, record, gold),
           "generated_tokens": len(output)}
    if record.has_graph:
        steps_text = text.split(ANSWER_MARK)[0]
        row["valid_path"] = is_valid_path(steps_text, record) if steps_text.strip() else None
    return row


def _summarize(rows: list[dict], seconds: float) -> dict:
    n = len(rows)
    summary = {
        "n": n,
        "accuracy": sum(r["exact"] for r in rows) / n,
        "flexible_accuracy": sum(r["flexible"] for r in rows) / n,
        "tokens_per_answer": sum(r["generated_tokens"] for r in rows) / n,
        "seconds": round(seconds, 3),
    }
    with_steps = [r["valid_path"] for r in rows if r.get("valid_path") is not None]
    if with_steps:
        summary["valid_path_rate"] = sum(with_steps) / n
    return summary
