"""Question records in Coconut's JSON format: the `Record` type, validation, loading and saving.

A record holds a question, its reasoning steps and its answer. ProsQA-style records also carry
the graph behind the question (`idx_to_symbol`, `edges`, `root`, `target`, `neg_target`, and
optionally the BFS `frontiers` from the root). Files are either a JSON list of records (`.json`)
or one record per line (`.jsonl`). Every problem found while loading raises a `DatasetError`
that names the file, the record (or line) and the field.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from latentsearch.errors import DatasetError, kind
from latentsearch.io import atomic_write_text, read_text

GRAPH_FIELDS = ("idx_to_symbol", "edges", "root", "target", "neg_target")


@dataclass(frozen=True)
class Record:
    question: str  # the facts and the question, as one string
    steps: tuple[str, ...]  # reasoning steps, one sentence each (empty for no-CoT data)
    answer: str  # the answer sentence
    idx_to_symbol: tuple[str, ...] | None = None  # node index -> its word (graph fields: all or none)
    edges: tuple[tuple[int, int], ...] | None = None  # (a, b): "every a is a b"
    root: int | None = None  # the person the question is about
    target: int | None = None  # the right candidate, reachable from root
    neg_target: int | None = None  # the wrong candidate, unreachable from root
    frontiers: tuple[tuple[int, ...], ...] | None = None  # BFS frontiers from root, depth 0 = (root,)
    task: str = "text"  # the task the record belongs to (tasks.get(task)); ProsQA files do not name it
    extra: dict = field(default_factory=dict, hash=False)  # a task's own JSON fields, kept as they were

    @property
    def has_graph(self) -> bool:
        return self.idx_to_symbol is not None

    def to_dict(self) -> dict:
        """A plain JSON-able dict in Coconut's key order, without the fields that are None."""
        out = {"question": self.question, "answer": self.answer, "steps": list(self.steps)}
        if self.has_graph:
            out["idx_to_symbol"] = list(self.idx_to_symbol)
            out["edges"] = [list(e) for e in self.edges]
            out.update({k: getattr(self, k) for k in ("root", "target", "neg_target") if getattr(self, k) is not None})
        if self.frontiers is not None:
            out["frontiers"] = [list(f) for f in self.frontiers]
        out.update(self.extra)
        if self.task not in ("text", "prosqa"):  # ProsQA records keep Coconut's exact format
            out["task"] = self.task
        return out


# ----------------------------------------------------------------------------- validation


def parse_record(obj, source: str, index: int) -> Record:
    """Check one decoded JSON value and build a `Record`; `index` counts records from 0."""
    return _parse(obj, f"{source}, record {index}")


def _parse(obj, where: str) -> Record:
    """The common fields here, the task's own fields and consistency by the task (tasks/)."""
    from latentsearch.tasks import detect

    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: a record must be a JSON object, got {kind(obj)}")
    for key in ("question", "steps", "answer"):
        if key not in obj:
            raise DatasetError(f'{where}: missing field "{key}"')
    question = _text(obj, "question", where)
    answer = _text(obj, "answer", where)
    steps = _steps(obj["steps"], where)
    try:
        task = detect(obj)
    except DatasetError as err:
        raise DatasetError(f"{where}: {err}") from None
    record = Record(question, steps, answer, task=task.name, **task.parse(obj, where))
    task.check(record, where)
    return record


def _text(obj: dict, key: str, where: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        got = "only white space" if isinstance(value, str) else kind(value)
        raise DatasetError(f'{where}: "{key}" must be a non-empty string, got {got}')
    return _unicode(value, f'"{key}"', where)


def _unicode(value: str, what: str, where: str) -> str:
    """Text that is valid Unicode: a lone surrogate (possible in JSON escapes) cannot be encoded or shown."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise DatasetError(f"{where}: {what} holds invalid Unicode (a lone surrogate) at character "
                           f"{err.start}") from None
    return value


def _steps(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise DatasetError(f'{where}: "steps" must be a list of strings, got {kind(value)}')
    for i, step in enumerate(value):
        if not isinstance(step, str):
            raise DatasetError(f'{where}: "steps" must be a list of strings '
                               f"(item {i} is {kind(step)})")
        _unicode(step, f'"steps"[{i}]', where)
    return tuple(value)


# ----------------------------------------------------------------------------- files


def load_records(path: str | os.PathLike) -> list[Record]:
    """Read a `.json` (a list of records) or `.jsonl` (one record per line) file."""
    path = Path(path)
    suffix = data_suffix(path)
    text = read_text(path, DatasetError)
    if suffix == ".jsonl":
        return _load_jsonl(text, path.name)
    data = _decode(text, path.name)
    if not isinstance(data, list):
        raise DatasetError(f"{path.name}: the top level must be a JSON list of records, "
                           f"got {kind(data)}")
    return _nonempty([parse_record(obj, path.name, i) for i, obj in enumerate(data)], path.name)


def _nonempty(records: list[Record], name: str) -> list[Record]:
    """A file holds records, all of one task (plain-text records go with any)."""
    if not records:
        raise DatasetError(f"{name}: no records")
    first = next((r for r in records if r.task != "text"), None)
    other = next((i for i, r in enumerate(records) if r.task not in ("text", first.task)), None) if first else None
    if other is not None:
        raise DatasetError(f"{name}, record {other}: a {records[other].task} question in a file of {first.task} "
                           "questions; a data file holds one task")
    return records


def save_records(records, path: str | os.PathLike) -> None:
    """Write records atomically, as a JSON list (`.json`) or one per line (`.jsonl`)."""
    path = Path(path)
    rows = [r.to_dict() for r in records]
    if data_suffix(path) == ".jsonl":
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    else:
        text = json.dumps(rows, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)


def data_suffix(path: Path) -> str:
    if path.suffix not in (".json", ".jsonl"):
        raise DatasetError(f"{path}: unknown file type {path.suffix!r}; expected .json or .jsonl")
    return path.suffix


def _decode(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DatasetError(f"{where}: invalid JSON at line {err.lineno}, column {err.colno}: "
                           f"{err.msg}") from None
    except RecursionError:
        raise DatasetError(f"{where}: JSON nested too deeply to be a record") from None
    except ValueError as err:  # e.g. an integer of thousands of digits
        digits = "digits" in str(err)
        raise DatasetError(f"{where}: " + ("holds an integer of more than 4300 digits" if digits else
                                           f"unreadable JSON value ({str(err).splitlines()[0][:120]})")) from None


def _load_jsonl(text: str, name: str) -> list[Record]:
    records = []
    for number, line in enumerate(text.split("\n"), 1):  # not splitlines(): it also splits at U+0085, U+2028
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise DatasetError(f"{where}: invalid JSON at column {err.colno}: {err.msg}") from None
        except (RecursionError, ValueError):
            obj = _decode(line, where)  # raises the clear error
        records.append(_parse(obj, where))
    return _nonempty(records, name)
