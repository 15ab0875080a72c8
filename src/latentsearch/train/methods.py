"""Training methods as named objects: how an example becomes a training sequence and a prompt."""

from __future__ import annotations

from dataclasses import dataclass

from latentsearch.data.examples import Example, Sequence


@dataclass(frozen=True)
class Method:
    name: str
    description: str  # one line, shown by `latentsearch train --help`

    def sequence(self, example: Example) -> Sequence:
        raise NotImplementedError

    def prompt(self, example: Example) -> list[int]:
        """What the model is given at evaluation time; it generates the rest."""
        return list(example.question)


@dataclass(frozen=True)
class NoCoT(Method):
    def sequence(self, example: Example) -> Sequence:
        return Sequence.join(example.question, example.answer)


@dataclass(frozen=True)
class CoT(Method):
    def sequence(self, example: Example) -> Sequence:
        steps = tuple(token for step in example.steps for token in step)
        return Sequence.join(example.question, steps + example.answer)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        NoCoT("nocot", "answer straight after the question, no reasoning steps"),
        CoT("cot", "write the reasoning steps in language, then the answer"),
    )
}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
    return METHODS[name]
