"""Every search algorithm by name: its options (a config dataclass) and the function that runs it.

An algorithm file registers itself:

    @register("beam", BeamConfig, "beam search: BFS with a width, as transformers' generate")
    def _run(space, config: BeamConfig, context: Context) -> SearchResult: ...

and the command line builds its flags from the config's fields (`opt(default, help)` gives each
field its help line). `run(space, "beam", width=8)` runs one by name from Python.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Hashable

from latentsearch.search.base import Node, SearchResult, Space


@dataclass
class Context:
    """What some algorithms need beyond the space: how to read an answer, a value, a step's end."""

    answer: Callable[[Node], Hashable | None] | None = None  # self-consistency: the answer a final node gives
    value: Callable[[Node], float] | None = None  # mcts: a final node's value in [0, 1]
    delimiter: int | None = None  # mcts: the token that ends a reasoning step


@dataclass(frozen=True)
class Algorithm:
    name: str
    config: type  # a dataclass of the algorithm's options
    run: Callable[[Space, Any, Context], SearchResult]
    description: str  # one line, for --help

    def make_config(self, **options):
        """The config from keyword options; an option the algorithm does not have is an error."""
        known = {f.name for f in dataclasses.fields(self.config)}
        unknown = sorted(set(options) - known)
        if unknown:
            listed = ", ".join(sorted(known)) or "none"
            raise ValueError(f"{self.name} has no option {unknown[0]!r} (its options: {listed})")
        return self.config(**options)


ALGORITHMS: dict[str, Algorithm] = {}


def register(name: str, config: type, description: str):
    def add(run):
        ALGORITHMS[name] = Algorithm(name, config, run, description)
        return run

    return add


def get(name: str) -> Algorithm:
    import latentsearch.search  # noqa: F401  (importing the package registers every algorithm)

    if name not in ALGORITHMS:
        raise ValueError(f"unknown search algorithm {name!r}; choose from {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]


def run(space: Space, name: str, context: Context | None = None, **options) -> SearchResult:
    """Run algorithm `name` on `space` with these options (the fields of its config)."""
    algorithm = get(name)
    return algorithm.run(space, algorithm.make_config(**options), context or Context())
