"""The task protocol: what the rest of the library asks of a task, and the registry of tasks by name.

A task says how its records are checked, rendered to text for a tokenizer, answered and scored,
which answers are candidates, and -- when it has one -- the graph behind a question, so that
probes can measure a thought against the BFS frontier. Everything else (tokenizer, training,
evaluation, search, probes, the report, the command line) goes through `get(name)`.

To add a task: a module with a `Task` subclass and `register(YourTask())`, and its import in
`tasks/__init__.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from latentsearch.errors import DatasetError

if TYPE_CHECKING:
    from latentsearch.data.schema import Record

ANSWER_MARK = "###"  # the answer follows the last `#` (Coconut's rule)


@dataclass(frozen=True)
class Rendered:
    """A record as strings: the prompt, one string per reasoning step, and the answer."""

    question: str
    steps: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Graph:
    """The search problem behind a question, as probes and figures need it."""

    symbols: tuple[str, ...]  # node index -> its name
    edges: tuple[tuple[int, int], ...]  # (a, b): a step of the search may go from a to b
    root: int  # where the search starts
    candidates: tuple[int, ...] = ()  # answer nodes, measured apart from the BFS classes (target first)
    target: int | None = None  # the node the answer path ends at
    path: tuple[int, ...] = ()  # one shortest answer path, root first

    def to_dict(self, frontiers) -> dict:
        return {"symbols": list(self.symbols), "edges": [list(e) for e in self.edges], "root": self.root,
                "candidates": list(self.candidates), "target": self.target, "path": list(self.path),
                "frontiers": [list(f) for f in frontiers]}


class Task:
    """Defaults for a task without a graph; subclasses override what differs."""

    name = "text"
    renderings: tuple[str, ...] = ("text",)
    description = "question, steps and answer as plain text (any model with its own tokenizer)"

    # --- records ----------------------------------------------------------------------------------
    def claims(self, obj: dict) -> bool:
        """Whether a JSON record without a "task" field looks like this task's."""
        return False

    def parse(self, obj: dict, where: str) -> dict:
        """The task's own fields of a JSON record, checked: keyword arguments of `Record`."""
        return {}

    def check(self, record: Record, where: str) -> None:
        """Raise a DatasetError unless the record's text, graph, steps and answer agree."""

    # --- tokens -----------------------------------------------------------------------------------
    def vocabulary(self, rendering: str) -> list[str]:
        """The words of a closed word-level vocabulary for this rendering (special tokens apart)."""
        return []

    def render(self, record: Record, rendering: str) -> Rendered:
        self._check_rendering(rendering)
        return Rendered(record.question, record.steps, record.answer)

    def _check_rendering(self, rendering: str) -> None:
        if rendering not in self.renderings:
            from latentsearch.errors import TokenizerError

            raise TokenizerError(f"task {self.name} has no rendering {rendering!r}; choose from "
                                 f"{', '.join(self.renderings)}")

    # --- answers ----------------------------------------------------------------------------------
    def candidates(self, record: Record, rendering: str) -> list[str]:
        """The answers a question allows, the right one first (empty: any text)."""
        return []

    def score(self, predicted: str, record: Record, rendering: str) -> tuple[bool, bool]:
        """(exact match, flexible match) of a predicted answer."""
        gold = self.render(record, rendering).answer
        return predicted == gold, bool(predicted) and normalize(predicted) == normalize(gold)

    def valid_path(self, steps_text: str, record: Record) -> bool | None:
        """Whether generated steps are a valid chain of the question's facts (None: not checkable)."""
        return None

    # --- probes -----------------------------------------------------------------------------------
    def graph(self, record: Record) -> Graph | None:
        return None

    def node_words(self, record: Record, node: int) -> list[str]:
        """The words that name a node (their probability is the node's): its symbol by default."""
        return [record.idx_to_symbol[node]]

    def path_class(self, record: Record, k: int, steps_text: str, correct: bool) -> str | None:
        """Coconut's class of a language continuation after k thoughts (None: the task has none)."""
        return None

    # --- training ---------------------------------------------------------------------------------
    drills: tuple[str, ...] = ()  # names of the task's drills (`train --drill NAME`)

    def drill(self, name: str, record: Record, rng) -> tuple[str, ...]:
        """New steps for a training record: an exercise in place of its chain (a `random.Random` draws it)."""
        self.check_drill(name)
        raise NotImplementedError(f"task {self.name} lists drill {name!r} but does not draw it")

    def check_drill(self, name: str) -> None:
        if name not in self.drills:
            choices = f"choose from {', '.join(self.drills)}" if self.drills else "it has none"
            raise ValueError(f"task {self.name} has no drill {name!r}; {choices}")


def normalize(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    TASKS[task.name] = task
    return task


def get(name: str) -> Task:
    import latentsearch.tasks  # noqa: F401  (importing the package registers every task)

    if name not in TASKS:
        raise DatasetError(f"unknown task {name!r}; choose from {', '.join(sorted(TASKS))}")
    return TASKS[name]


def detect(obj: dict) -> Task:
    """The task a JSON record names in its "task" field, or the first that claims it, else plain text."""
    import latentsearch.tasks  # noqa: F401

    named = obj.get("task")
    if named is not None:
        if not isinstance(named, str):
            raise DatasetError(f'"task" must be a string naming a task, got {type(named).__name__}')
        return get(named)
    return next((t for t in TASKS.values() if t.claims(obj)), TASKS["text"])


register(Task())
