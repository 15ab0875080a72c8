"""Records in Coconut's JSON format: malformed files give a DatasetError that says where and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from latentsearch.data.schema import DatasetError, Record, load_records, parse_record, save_records

REAL_VALID = Path(__file__).resolve().parents[2] / "shared" / "data" / "prosqa_valid.json"

GOOD = {
    "question": "Tom is a wumpus. Every wumpus is a yumpus. Sam is a zumpus. Is Tom a yumpus or zumpus?",
    "answer": "Tom is a yumpus.",
    "steps": ["Tom is a wumpus.", "Every wumpus is a yumpus."],
    "idx_to_symbol": ["Tom", "Sam", "wumpus", "yumpus", "zumpus"],
    "edges": [[0, 2], [2, 3], [1, 4]],
    "root": 0,
    "target": 3,
    "neg_target": 4,
}


def changed(**fields) -> dict:
    """GOOD with some fields replaced; a value of ... removes the field."""
    record = {**GOOD, **fields}
    return {k: v for k, v in record.items() if v is not ...}


def as_json(*records) -> str:
    return json.dumps(list(records))


# (file name, file content, words the message must contain): the bad record is always the second,
# so the message must say "record 1" (records count from 0) or "line 2" (lines count from 1).
MALFORMED = {
    "truncated json": ("train.json", as_json(GOOD)[:-20], ["train.json", "invalid JSON", "line 1"]),
    "not utf-8": ("train.json", b'[{"question": "Tom \xff"}]', ["train.json", "UTF-8", "line 1"]),
    "object, not list": ("train.json", json.dumps(GOOD), ["train.json", "top level", "list"]),
    "record not an object": ("train.json", as_json(GOOD, ["a"]), ["train.json", "record 1", "object"]),
    "missing question": ("train.json", as_json(GOOD, changed(question=...)),
                         ["train.json", "record 1", '"question"', "missing"]),
    "missing steps": ("train.json", as_json(GOOD, changed(steps=...)),
                      ["train.json", "record 1", '"steps"']),
    "empty answer": ("train.json", as_json(GOOD, changed(answer="")),
                     ["train.json", "record 1", '"answer"', "non-empty string"]),
    "question a number": ("train.json", as_json(GOOD, changed(question=3)),
                          ["train.json", "record 1", '"question"']),
    "steps a string": ("train.json", as_json(GOOD, changed(steps="Tom is a wumpus.")),
                       ["train.json", "record 1", '"steps" must be a list of strings']),
    "steps hold a number": ("train.json", as_json(GOOD, changed(steps=["Tom is a wumpus.", 7])),
                            ["train.json", "record 1", '"steps" must be a list of strings', "item 1"]),
    "edge out of range": ("train.json", as_json(GOOD, changed(edges=[[0, 2], [2, 9], [1, 4]])),
                          ["train.json", "record 1", '"edges"[1]', "out of range"]),
    "edge of booleans": ("train.json", as_json(GOOD, changed(edges=[[0, 2], [True, 3], [1, 4]])),
                         ["train.json", "record 1", '"edges"[1]', "pair of integers"]),
    "self loop": ("train.json", as_json(GOOD, changed(edges=[[0, 2], [2, 2], [1, 4]])),
                  ["train.json", "record 1", '"edges"[1]', "self loop"]),
    "cyclic graph": ("train.json", as_json(GOOD, changed(edges=[[0, 2], [2, 3], [3, 2], [1, 4]])),
                     ["train.json", "record 1", '"edges"', "cycle"]),
    "partial graph fields": ("train.json", as_json(GOOD, changed(neg_target=...)),
                             ["train.json", "record 1", '"neg_target"', "missing"]),
    "root out of range": ("train.json", as_json(GOOD, changed(root=5)),
                          ["train.json", "record 1", '"root"', "0..4"]),
    "target a string": ("train.json", as_json(GOOD, changed(target="3")),
                        ["train.json", "record 1", '"target"']),
    "symbol with a space": ("train.json", as_json(GOOD, changed(idx_to_symbol=["Tom", "Sam", "wum pus", "y", "z"])),
                            ["train.json", "record 1", '"idx_to_symbol"[2]', "whitespace"]),
    "repeated symbol": ("train.json", as_json(GOOD, changed(idx_to_symbol=["Tom", "Sam", "y", "y", "z"])),
                        ["train.json", "record 1", '"idx_to_symbol"', "more than once"]),
    "frontier out of range": ("train.json", as_json(GOOD, changed(frontiers=[[0], [2], [3, 8]])),
                              ["train.json", "record 1", '"frontiers"[2]']),
    "bad jsonl line": ("train.jsonl", json.dumps(GOOD) + "\n{not json}\n",
                       ["train.jsonl", "line 2", "invalid JSON"]),
    "jsonl record without answer": ("train.jsonl", json.dumps(GOOD) + "\n" + json.dumps(changed(answer=...)),
                                    ["train.jsonl", "line 2", '"answer"']),
    "jsonl line not an object": ("train.jsonl", json.dumps(GOOD) + "\n[1, 2]\n",
                                 ["train.jsonl", "line 2", "object"]),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_input_names_file_place_and_field(tmp_path, case):
    name, content, words = MALFORMED[case]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_records(path)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {str(info.value)!r}"


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_records(tmp_path / "absent.json")
    (tmp_path / "data.csv").write_text("question,answer\n")
    with pytest.raises(DatasetError, match="expected .json or .jsonl"):
        load_records(tmp_path / "data.csv")
    with pytest.raises(DatasetError, match="expected .json or .jsonl"):
        save_records([], tmp_path / "data.txt")


def test_parse_record_names_source_and_index():
    with pytest.raises(DatasetError, match=r'^val\.json, record 17: "steps" must be a list of strings'):
        parse_record(changed(steps=[1]), "val.json", 17)


def test_graph_fields_and_extras():
    record = parse_record({**GOOD, "note": "ignored", "frontiers": [[0], [2], [3]]}, "x.json", 0)
    assert record.has_graph and record.edges == ((0, 2), (2, 3), (1, 4))
    assert record.frontiers == ((0,), (2,), (3,))
    plain = parse_record({"question": "2+2?", "steps": [], "answer": "4"}, "x.json", 0)
    assert not plain.has_graph and plain.steps == ()
    assert plain.to_dict() == {"question": "2+2?", "answer": "4", "steps": []}


def sample_records() -> list[Record]:
    with_graph = parse_record({**GOOD, "frontiers": [[0], [2], [3]]}, "x.json", 0)
    no_cot = Record(question="What is 2 + 2?", steps=(), answer="4")
    unicode = Record(question="Café? — yes", steps=("step ü",), answer="naïve")
    return [with_graph, no_cot, unicode, parse_record(GOOD, "x.json", 1)]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_round_trip(tmp_path, suffix):
    records = sample_records()
    path = tmp_path / f"data{suffix}"
    save_records(records, path)
    assert load_records(path) == records
    assert not list(tmp_path.glob("*.tmp"))  # the atomic write left no temporary file


def test_jsonl_skips_blank_lines_and_is_one_record_per_line(tmp_path):
    path = tmp_path / "data.jsonl"
    save_records(sample_records(), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(sample_records())
    path.write_text("\n" + "\n\n".join(lines) + "\n\n", encoding="utf-8")
    assert load_records(path) == sample_records()


def test_real_split_loads_and_round_trips():
    if not REAL_VALID.is_file():
        pytest.skip(f"the real ProsQA validation split is not at {REAL_VALID}")
    records = load_records(REAL_VALID)
    raw = json.loads(REAL_VALID.read_text(encoding="utf-8"))
    assert len(records) == len(raw) == 300
    assert all(r.has_graph and r.frontiers is None for r in records)
    assert [r.to_dict() for r in records] == raw  # same keys and values as the file


def test_jsonl_keeps_unicode_line_separators_inside_strings(tmp_path):
    """Found by hypothesis: str.splitlines() also splits at U+0085 and U+2028, which JSON strings may hold."""
    records = [Record(question="q\x85r\u2028s", steps=("a\u2029b",), answer="x")]
    save_records(records, tmp_path / "d.jsonl")
    assert load_records(tmp_path / "d.jsonl") == records
