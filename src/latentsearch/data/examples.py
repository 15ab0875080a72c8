"""Records as token ids, training sequences with loss masks, and length-bucketed batches."""

from __future__ import annotations

import random
from dataclasses import dataclass

from latentsearch.data.schema import DatasetError, Record
from latentsearch.data.tokenizer import ANSWER_MARK, EOS, Codec, TokenizerError

IGNORE = -100  # label value that the loss skips


@dataclass(frozen=True)
class Example:
    """One record as token ids: the prompt, each reasoning step, and `### answer <eos>`."""

    question: tuple[int, ...]
    steps: tuple[tuple[int, ...], ...]
    answer: tuple[int, ...]


def encode_record(record: Record, codec: Codec) -> Example:
    rendered = codec.render(record)
    return Example(
        question=tuple(codec.encode(rendered.question)),
        steps=tuple(tuple(codec.encode(step)) for step in rendered.steps),
        answer=(*codec.encode(ANSWER_MARK), *codec.encode(rendered.answer), codec.token_id(EOS)),
    )


def encode_records(records: list[Record], codec: Codec, source: str = "data") -> list[Example]:
    check_task(records, codec, source)
    examples = []
    for index, record in enumerate(records):
        try:
            examples.append(encode_record(record, codec))
        except TokenizerError as err:
            raise DatasetError(f"{source}, record {index}: {err}") from None
    return examples


@dataclass(frozen=True)
class Sequence:
    """A training sequence: input ids and per-position labels (IGNORE where there is no loss)."""

    ids: tuple[int, ...]
    labels: tuple[int, ...]

    @classmethod
    def join(cls, prompt: tuple[int, ...] | list[int], target: tuple[int, ...] | list[int]) -> "Sequence":
        """Loss on `target` only: the prompt is context."""
        return cls(tuple(prompt) + tuple(target), (IGNORE,) * len(prompt) + tuple(target))


def bucket_batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Batches of similar length, in a random order that depends only on `seed`.

    Sorting by length with a random tie-break keeps padding small; shuffling the batches keeps the
    order of lengths from becoming a curriculum.
    """
    rng = random.Random(seed)
    keys = [(length, rng.random()) for length in lengths]
    order = sorted(range(len(lengths)), key=keys.__getitem__)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def check_task(records: list[Record], codec: Codec, source: str) -> None:
    """Records of another task than the model's cannot be rendered in its vocabulary: say so at once."""
    for index, record in enumerate(records):
        if record.task not in (codec.task, "text"):
            raise DatasetError(f"{source}, record {index}: a {record.task} question, but the model was trained "
                               f"on {codec.task}")
