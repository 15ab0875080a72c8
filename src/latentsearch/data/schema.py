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
from dataclasses import dataclass
from pathlib import Path

from latentsearch.io import atomic_write_text, read_text

GRAPH_FIELDS = ("idx_to_symbol", "edges", "root", "target", "neg_target")


class DatasetError(ValueError):
    """A data file or record that cannot be used, with a message saying where and why."""


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

    @property
    def has_graph(self) -> bool:
        return self.idx_to_symbol is not None

    def to_dict(self) -> dict:
        """A plain JSON-able dict in Coconut's key order, without the fields that are None."""
        out = {"question": self.question, "answer": self.answer, "steps": list(self.steps)}
        if self.has_graph:
            out["idx_to_symbol"] = list(self.idx_to_symbol)
            out["edges"] = [list(e) for e in self.edges]
            out.update(root=self.root, target=self.target, neg_target=self.neg_target)
        if self.frontiers is not None:
            out["frontiers"] = [list(f) for f in self.frontiers]
        return out


# ----------------------------------------------------------------------------- validation


def parse_record(obj, source: str, index: int) -> Record:
    """Check one decoded JSON value and build a `Record`; `index` counts records from 0."""
    return _parse(obj, f"{source}, record {index}")


def _parse(obj, where: str) -> Record:
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: a record must be a JSON object, got {_kind(obj)}")
    for key in ("question", "steps", "answer"):
        if key not in obj:
            raise DatasetError(f'{where}: missing field "{key}"')
    question = _text(obj, "question", where)
    answer = _text(obj, "answer", where)
    steps = _steps(obj["steps"], where)
    graph = _graph(obj, where)
    return Record(question, steps, answer, **graph)


def _kind(value) -> str:
    """The JSON name of a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    names = {dict: "an object", list: "a list", str: "a string", int: "an integer",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _text(obj: dict, key: str, where: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f'{where}: "{key}" must be a non-empty string, got {_kind(value)}')
    return value


def _steps(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise DatasetError(f'{where}: "steps" must be a list of strings, got {_kind(value)}')
    for i, step in enumerate(value):
        if not isinstance(step, str):
            raise DatasetError(f'{where}: "steps" must be a list of strings '
                               f"(item {i} is {_kind(step)})")
    return tuple(value)


def _graph(obj: dict, where: str) -> dict:
    """The graph fields, checked together; {} when the record has none."""
    present = [k for k in GRAPH_FIELDS if k in obj]
    if not present:
        if "frontiers" in obj:
            raise DatasetError(f'{where}: "frontiers" needs the graph fields {", ".join(GRAPH_FIELDS)}')
        return {}
    missing = [k for k in GRAPH_FIELDS if k not in obj]
    if missing:
        raise DatasetError(f'{where}: graph fields come together; "{missing[0]}" is missing '
                           f'(present: {", ".join(present)})')
    symbols = _symbols(obj["idx_to_symbol"], where)
    n = len(symbols)
    edges = _edges(obj["edges"], n, where)
    ends = {k: _node(obj[k], k, n, where) for k in ("root", "target", "neg_target")}
    if ends["target"] == ends["neg_target"]:
        raise DatasetError(f'{where}: "target" and "neg_target" must differ')
    _check_acyclic(n, edges, symbols, where)
    _check_candidates(edges, symbols, ends, where)
    if not obj["steps"]:
        raise DatasetError(f'{where}: "steps" is empty; a graph question needs the path from root to target')
    frontiers = _frontiers(obj["frontiers"], n, where) if "frontiers" in obj else None
    return dict(idx_to_symbol=symbols, edges=edges, frontiers=frontiers, **ends)


def _symbols(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise DatasetError(f'{where}: "idx_to_symbol" must be a non-empty list of strings')
    for i, s in enumerate(value):
        if not isinstance(s, str) or not s or any(c.isspace() for c in s):
            raise DatasetError(f'{where}: "idx_to_symbol"[{i}] must be a non-empty string without '
                               f"whitespace, got {s!r}")
    if len(set(value)) != len(value):
        dup = next(s for s in value if value.count(s) > 1)
        raise DatasetError(f'{where}: "idx_to_symbol" lists {dup!r} more than once')
    return tuple(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not node 1


def _node(value, key: str, n: int, where: str) -> int:
    if not _is_int(value) or not 0 <= value < n:
        raise DatasetError(f'{where}: "{key}" must be a node index in 0..{n - 1}, got {value!r}')
    return value


def _edges(value, n: int, where: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list):
        raise DatasetError(f'{where}: "edges" must be a list of [from, to] pairs, got {_kind(value)}')
    edges = []
    for i, e in enumerate(value):
        if not (isinstance(e, list) and len(e) == 2 and all(_is_int(x) for x in e)):
            raise DatasetError(f'{where}: "edges"[{i}] must be a pair of integers, got {e!r}')
        if not all(0 <= x < n for x in e):
            raise DatasetError(f'{where}: "edges"[{i}] = {e} is out of range (nodes 0..{n - 1})')
        if e[0] == e[1]:
            raise DatasetError(f'{where}: "edges"[{i}] = {e} is a self loop')
        edges.append((e[0], e[1]))
    if len(set(edges)) != len(edges):
        dup = next(e for e in edges if edges.count(e) > 1)
        raise DatasetError(f'{where}: "edges" lists {list(dup)} more than once')
    return tuple(edges)


def _check_acyclic(n: int, edges, symbols, where: str) -> None:
    """Kahn's algorithm; the nodes it cannot remove lie on or after a cycle."""
    indegree = [0] * n
    children = [[] for _ in range(n)]
    for a, b in edges:
        children[a].append(b)
        indegree[b] += 1
    ready = [v for v in range(n) if indegree[v] == 0]
    removed = 0
    while ready:
        v = ready.pop()
        removed += 1
        for c in children[v]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if removed < n:
        node = _node_on_cycle(children, indegree)
        raise DatasetError(f'{where}: "edges": graph has a cycle through node {node} '
                           f"({symbols[node]!r})")


def _check_candidates(edges, symbols, ends: dict, where: str) -> None:
    """Exactly one candidate is reachable from the root: the target."""
    children: dict[int, list[int]] = {}
    for a, b in edges:
        children.setdefault(a, []).append(b)
    reached, stack = {ends["root"]}, [ends["root"]]
    while stack:
        for c in children.get(stack.pop(), ()):
            if c not in reached:
                reached.add(c)
                stack.append(c)
    root = symbols[ends["root"]]
    if ends["target"] not in reached:
        raise DatasetError(f'{where}: "target" ({symbols[ends["target"]]}) is not reachable from "root" ({root})')
    if ends["neg_target"] in reached:
        raise DatasetError(f'{where}: "neg_target" ({symbols[ends["neg_target"]]}) is reachable from "root" ({root})')


def _node_on_cycle(children, indegree) -> int:
    """A node on a cycle: walk the leftover graph (every node there has a leftover parent) backwards."""
    parents = {}
    for a, kids in enumerate(children):
        for b in kids:
            if indegree[a] > 0 and indegree[b] > 0:
                parents.setdefault(b, a)
    v = min(parents)
    seen = set()
    while v not in seen:
        seen.add(v)
        v = parents[v]
    return v


def _frontiers(value, n: int, where: str) -> tuple[tuple[int, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(f, list) for f in value):
        raise DatasetError(f'{where}: "frontiers" must be a list of lists of node indices')
    for depth, frontier in enumerate(value):
        for v in frontier:
            if not _is_int(v) or not 0 <= v < n:
                raise DatasetError(f'{where}: "frontiers"[{depth}] holds {v!r}, not a node index in '
                                   f"0..{n - 1}")
    return tuple(tuple(f) for f in value)


# ----------------------------------------------------------------------------- files


def load_records(path: str | os.PathLike) -> list[Record]:
    """Read a `.json` (a list of records) or `.jsonl` (one record per line) file."""
    path = Path(path)
    suffix = _suffix(path)
    text = read_text(path, DatasetError)
    if suffix == ".jsonl":
        return _load_jsonl(text, path.name)
    data = _decode(text, path.name)
    if not isinstance(data, list):
        raise DatasetError(f"{path.name}: the top level must be a JSON list of records, "
                           f"got {_kind(data)}")
    return _nonempty([parse_record(obj, path.name, i) for i, obj in enumerate(data)], path.name)


def _nonempty(records: list[Record], name: str) -> list[Record]:
    if not records:
        raise DatasetError(f"{name}: no records")
    return records


def save_records(records, path: str | os.PathLike) -> None:
    """Write records atomically, as a JSON list (`.json`) or one per line (`.jsonl`)."""
    path = Path(path)
    rows = [r.to_dict() for r in records]
    if _suffix(path) == ".jsonl":
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    else:
        text = json.dumps(rows, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)


def _suffix(path: Path) -> str:
    if path.suffix not in (".json", ".jsonl"):
        raise DatasetError(f"{path}: unknown file type {path.suffix!r}; expected .json or .jsonl")
    return path.suffix


def _decode(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DatasetError(f"{where}: invalid JSON at line {err.lineno}, column {err.colno}: "
                           f"{err.msg}") from None


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
        records.append(_parse(obj, where))
    return _nonempty(records, name)
