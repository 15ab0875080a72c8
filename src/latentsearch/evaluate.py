"""Answer every question of a data set (greedy, through continuous thoughts for latent methods) and
score it by its task's rules: exact and flexible match, and the validity of generated reasoning steps."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from latentsearch import limits, tasks
from latentsearch.data.examples import encode_records
from latentsearch.data.schema import DatasetError, Record
from latentsearch.data.tokenizer import ANSWER_MARK, Codec
from latentsearch.decode import greedy_generate
from latentsearch.latent.thoughts import latent_generate
from latentsearch.methods import Recipe
from latentsearch.models.factory import check_context, context_length

BATCH_SIZE = 64  # questions decoded together by default


def extract_answer(text: str) -> str:
    """Coconut's rule: the text after the last `#`."""
    return text.rsplit("#", 1)[-1].strip()


def candidate_answers(record: Record, codec: Codec) -> list[list[int]]:
    """Token ids of `### answer` for every answer the task allows, the right one first."""
    answers = tasks.get(codec.task).candidates(record, codec.rendering)
    return [codec.encode(f"{ANSWER_MARK} {answer}") for answer in answers]


def check_request(records, n_thoughts=None, batch_size: int = 1, source: str = "data") -> None:
    """What a caller of the library asks for, before any work: records, a thought count, a batch size."""
    if not records:
        raise DatasetError(f"{source}: no records")
    odd = next((i for i, r in enumerate(records) if not isinstance(r, Record)), None)
    if odd is not None:
        raise DatasetError(f"{source}, record {odd}: expected a Record (or a data file), got "
                           f"{type(records[odd]).__name__}")
    if not (n_thoughts in (None, "steps") or is_count(n_thoughts)):
        raise ValueError(f'thoughts must be a count >= 0, "steps" or None, got {n_thoughts!r}')
    if not is_count(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass
class EvalResult:
    summary: dict
    rows: list[dict]
    thoughts: list[torch.Tensor] | None = None  # per record (n_thoughts, d_model), for latent methods


def evaluate(model, codec: Codec, records: list[Record], recipe: Recipe | str, stage: int | None = None,
             n_thoughts: int | None = None, batch_size: int = BATCH_SIZE, max_new_tokens: int | None = None,
             progress: bool = False, source: str = "data") -> EvalResult:
    """Greedy-decode every record (through continuous thoughts for latent methods) and score it.

    `stage` defaults to the curriculum's final stage; `n_thoughts` overrides the thought count ("steps":
    at least one per reasoning step).
    """
    check_request(records, n_thoughts, batch_size, source)
    recipe = Recipe.of(recipe, codec) if isinstance(recipe, str) else recipe
    stage = recipe.curriculum.final_stage if stage is None else stage
    examples = encode_records(records, codec, source)
    items = [_prompt(recipe, e, stage, n_thoughts) for e in examples]
    for i, item in enumerate(items):
        check_context(model, len(item.prompt) + item.n_thoughts + len(item.after) + 1, f"{source}, record {i}")
    if max_new_tokens is None:
        longest = max(len(e.answer) + sum(map(len, e.steps)) for e in examples)
        max_new_tokens = min(2 * longest + 8, context_length(model) - max(map(len, items)))
    rows = min(batch_size, len(items))
    limits.check(f"decoding {rows} questions at once", limits.forward_bytes(
        model, rows, max(map(len, items)) + max_new_tokens, training=False))
    start, thoughts = time.perf_counter(), None
    if any(item.n_thoughts for item in items):
        outputs, thoughts = latent_generate(
            model, [i.prompt for i in items], [i.n_thoughts for i in items], list(items[0].after), codec.eos_id,
            codec.pad_id, max_new_tokens, batch_size, progress)
    else:
        prompts = [item.prompt + item.after for item in items]
        outputs = greedy_generate(model, prompts, codec.eos_id, codec.pad_id, max_new_tokens, batch_size, progress)
    seconds = time.perf_counter() - start
    rows = [score_output(i, r, codec, out) | {"thoughts": item.n_thoughts}
            for i, (r, out, item) in enumerate(zip(records, outputs, items))]
    return EvalResult(_summarize(rows, seconds), rows, thoughts)


def _prompt(recipe: Recipe, example, stage: int, n_thoughts: int | str | None):
    """The prompt item; "steps" gives a question at least one thought per reasoning step (thoughts = depth)."""
    if n_thoughts != "steps":
        return recipe.prompt_item(example, stage, n_thoughts)
    default = recipe.prompt_item(example, stage).n_thoughts
    return recipe.prompt_item(example, stage, max(default, len(example.steps)))


def score_output(index: int, record: Record, codec: Codec, output: list[int]) -> dict:
    task = tasks.get(codec.task)
    text = codec.decode(output)
    gold = codec.render(record).answer
    predicted = extract_answer(text) if ANSWER_MARK in text else ""
    exact, flexible = task.score(predicted, record, codec.rendering)
    row = {"index": index, "output": text, "predicted": predicted, "gold": gold, "exact": exact,
           "flexible": bool(predicted) and flexible, "generated_tokens": len(output)}
    steps_text = text.split(ANSWER_MARK)[0]
    valid = task.valid_path(steps_text, record) if steps_text.strip() else None
    if valid is not None or record.has_graph:
        row["valid_path"] = valid
    return row


def _summarize(rows: list[dict], seconds: float) -> dict:
    n = len(rows)
    summary = {
        "n": n,
        "accuracy": sum(r["exact"] for r in rows) / n,
        "flexible_accuracy": sum(r["flexible"] for r in rows) / n,
        "tokens_per_answer": sum(r["generated_tokens"] for r in rows) / n,
        "thoughts_per_answer": sum(r["thoughts"] for r in rows) / n,
        "seconds": round(seconds, 3),
    }
    with_steps = [r["valid_path"] for r in rows if r.get("valid_path") is not None]
    if with_steps:
        summary["valid_path_rate"] = sum(with_steps) / n
    return summary
