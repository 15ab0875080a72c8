"""Shared fixtures: small generated data, the real split when present, tiny models."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from latentsearch.data.schema import Record, parse_record, save_records
from latentsearch.tasks.prosqa_gen import CONCEPT_WORDS, PERSON_NAMES

REAL_VALID = Path(__file__).resolve().parents[2] / "shared" / "data" / "prosqa_valid.json"


@pytest.fixture(scope="session")
def real_valid_path() -> Path:
    if not REAL_VALID.is_file():
        pytest.skip(f"the real ProsQA validation split is not at {REAL_VALID}")
    return REAL_VALID


@pytest.fixture(scope="session")
def small_records():
    from latentsearch.tasks.prosqa_gen import ProsQAConfig, generate

    return generate(64, seed=1, config=ProsQAConfig.sized(nodes=8, depth=2))


def graph_record(symbols, edges, root: int, target: int, neg_target: int, path) -> Record:
    """A consistent ProsQA record for this graph: its facts as the question, `path` (nodes after the root)
    as the steps."""
    sentence = lambda a, b: f"{symbols[a]} is a {symbols[b]}." if symbols[a][0].isupper() \
        else f"Every {symbols[a]} is a {symbols[b]}."  # noqa: E731
    chain = [root, *path]
    question = " ".join(sentence(a, b) for a, b in edges) + \
        f" Is {symbols[root]} a {symbols[target]} or {symbols[neg_target]}?"
    return parse_record({
        "question": question, "steps": [sentence(a, b) for a, b in zip(chain, chain[1:])],
        "answer": f"{symbols[root]} is a {symbols[target]}.", "idx_to_symbol": list(symbols),
        "edges": [list(e) for e in edges], "root": root, "target": target, "neg_target": neg_target,
    }, "graph", 0)


def one_fact(rng: random.Random, concepts=CONCEPT_WORDS) -> Record:
    """'Tom is a X. Is Tom a X or Y?': the answer is the candidate that the single fact names."""
    person, target, other = rng.choice(PERSON_NAMES), *rng.sample(concepts, 2)
    first, second = rng.sample([target, other], 2)
    return parse_record({
        "question": f"{person} is a {target}. Is {person} a {first} or {second}?",
        "steps": [f"{person} is a {target}."], "answer": f"{person} is a {target}.",
        "idx_to_symbol": [person, target, other], "edges": [[0, 1]], "root": 0, "target": 1, "neg_target": 2,
    }, "one_fact", 0)


@pytest.fixture(scope="module")
def one_hop(tmp_path_factory):
    """A task a tiny model learns in seconds; a coin flip between the candidates scores 50%."""
    folder = tmp_path_factory.mktemp("data")
    rng = random.Random(0)
    save_records([one_fact(rng) for _ in range(1500)], folder / "train.jsonl")
    save_records([one_fact(rng) for _ in range(200)], folder / "val.jsonl")
    return folder
