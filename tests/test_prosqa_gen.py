"""The ProsQA-style generator: determinism, well-formed questions, and the real split's statistics."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

from latentsearch.data.schema import DatasetError, Record, load_records, parse_record
from latentsearch.data.stats import format_stats_table, graph_stats
from latentsearch.data.stats import stats as all_stats
from latentsearch.tasks.graphs import bfs_frontiers, shortest_path, shortest_paths
from latentsearch.tasks.prosqa_gen import (
    CONCEPT_WORDS,
    EXTRA_CONCEPT_WORDS,
    PERSON_NAMES,
    SYMBOLS,
    ProsQAConfig,
    generate,
    generate_record,
)

REAL_VALID = Path(__file__).resolve().parents[2] / "shared" / "data" / "prosqa_valid.json"
SMALL = ProsQAConfig.sized(nodes=8, depth=2)


def real_records() -> list[Record]:
    if not REAL_VALID.is_file():
        pytest.skip(f"the real ProsQA validation split is not at {REAL_VALID}")
    return load_records(REAL_VALID)


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return generate(300, seed=3)


def distances(record: Record, source: int) -> dict[int, int]:
    """BFS written apart from the package's, to check it."""
    dist, queue = {source: 0}, deque([source])
    while queue:
        u = queue.popleft()
        for a, b in record.edges:
            if a == u and b not in dist:
                dist[b] = dist[u] + 1
                queue.append(b)
    return dist


def sentence(record: Record, a: int, b: int) -> str:
    sym = record.idx_to_symbol
    return f"{sym[a]} is a {sym[b]}." if sym[a] in PERSON_NAMES else f"Every {sym[a]} is a {sym[b]}."


# ----------------------------------------------------------------------------- graph helpers


def test_graph_helpers_on_a_diamond():
    edges = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (0, 4)]
    assert bfs_frontiers(6, edges, 0) == [[0], [1, 2, 4], [3]]
    assert shortest_paths(6, edges, 0, 3) == (2, [0, 1, 3])
    assert shortest_paths(6, edges, 0, 5) == (0, None)
    assert shortest_path(6, edges, 0, 4) == [0, 4]
    drawn = {tuple(shortest_path(6, edges, 0, 3, random.Random(s))) for s in range(50)}
    assert drawn == {(0, 1, 3), (0, 2, 3)}


def test_symbols_match_prosqa():
    assert len(PERSON_NAMES) == 17 and len(CONCEPT_WORDS) == 38 and len(set(SYMBOLS)) == 55
    assert all(p[0].isupper() for p in PERSON_NAMES) and all(c.islower() for c in CONCEPT_WORDS)


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_records_and_other_seed_differs():
    assert generate(20, seed=5) == generate(20, seed=5)
    assert generate(20, seed=5) != generate(20, seed=6)
    assert generate_record(random.Random(9), SMALL) == generate_record(random.Random(9), SMALL)


def test_same_records_under_another_hash_seed():
    code = ("import json; from latentsearch.tasks.prosqa_gen import generate; "
            "print(json.dumps([r.to_dict() for r in generate(10, seed=2)]))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == [r.to_dict() for r in generate(10, seed=2)]


# ----------------------------------------------------------------------------- well-formed records


def test_records_pass_validation_and_round_trip(records):
    for i, record in enumerate(records):
        assert parse_record(record.to_dict(), "generated", i) == record


def test_exactly_one_candidate_reachable(records):
    for record in records:
        from_root = distances(record, record.root)
        assert record.target in from_root and record.neg_target not in from_root
        assert record.neg_target in distances(record, 1 - record.root)  # the distractor's candidate
        assert record.root in (0, 1)


def test_candidates_are_leaves_and_people_are_sources(records):
    for record in records:
        sources = {a for a, _ in record.edges}
        children = {b for _, b in record.edges}
        assert record.target not in sources and record.neg_target not in sources
        people = {i for i, s in enumerate(record.idx_to_symbol) if s in PERSON_NAMES}
        assert people == set(range(len(record.idx_to_symbol))) - children
        assert all(a < b for a, b in record.edges)  # nodes in topological order, as in ProsQA


def test_steps_are_a_shortest_path_and_text_matches_graph(records):
    for record in records:
        sym = record.idx_to_symbol
        index = {s: i for i, s in enumerate(sym)}
        chain = [record.root] + [index[step.split()[-1].rstrip(".")] for step in record.steps]
        assert chain[-1] == record.target
        assert len(record.steps) == distances(record, record.root)[record.target]
        assert list(record.steps) == [sentence(record, a, b) for a, b in zip(chain, chain[1:])]
        assert all((a, b) in set(record.edges) for a, b in zip(chain, chain[1:]))
        assert record.answer == f"{sym[record.root]} is a {sym[record.target]}."
        facts, _, ask = record.question.partition(" Is ")
        assert sorted(f + "." for f in facts.rstrip(".").split(". ")) == sorted(
            sentence(record, a, b) for a, b in record.edges)
        options = {f"{sym[record.root]} a {sym[record.target]} or {sym[record.neg_target]}?",
                   f"{sym[record.root]} a {sym[record.neg_target]} or {sym[record.target]}?"}
        assert ask in options


def test_frontiers_match_an_independent_bfs(records):
    for record in records:
        dist = distances(record, record.root)
        expected = [sorted(v for v, d in dist.items() if d == k) for k in range(max(dist.values()) + 1)]
        assert [list(f) for f in record.frontiers] == expected
        assert record.frontiers[0] == (record.root,)


def test_small_graph_config():
    records = generate(200, seed=1, config=SMALL)
    assert all(SMALL.min_nodes <= len(r.idx_to_symbol) <= SMALL.max_nodes for r in records)
    assert (SMALL.min_nodes, SMALL.max_nodes) == (6, 10)
    assert all(len(r.steps) == 2 for r in records)
    one_step = generate(50, seed=1, config=ProsQAConfig.sized(nodes=6, depth=1))
    assert all(len(r.steps) == 1 and len(r.frontiers) >= 2 for r in one_step)
    for i, record in enumerate(records + one_step):
        parse_record(record.to_dict(), "small", i)


def test_config_checks():
    assert ProsQAConfig.sized() == ProsQAConfig()
    assert ProsQAConfig(depths=[2, 3], depth_weights=[1, 1]).depths == (2, 3)  # lists from JSON
    bad = [dict(depths=(3, 4), depth_weights=(1,)), dict(depths=(0,), depth_weights=(1,)),
           dict(depth_weights=(0, 0, 0, 0)), dict(min_nodes=8), dict(max_nodes=50),
           dict(mean_nodes=30.0), dict(extra_parent_prob=1.5), dict(side_edges=-1.0)]
    for kwargs in bad:
        with pytest.raises(ValueError):
            ProsQAConfig(**kwargs)
    with pytest.raises(ValueError, match="too small for depth"):
        ProsQAConfig.sized(nodes=6, depth=5)


def test_large_graphs_take_made_up_words_only_when_asked():
    with pytest.raises(ValueError, match="--more-words"):
        ProsQAConfig.sized(nodes=50, depth=24)
    config = ProsQAConfig.sized(nodes=56, depth=24, more_words=True)
    records = generate(20, seed=4, config=config)
    real_words = set(SYMBOLS)
    assert all(config.min_nodes <= len(r.idx_to_symbol) <= config.max_nodes and len(r.steps) == 24 for r in records)
    assert any(set(r.idx_to_symbol) - real_words for r in records)
    assert set().union(*(r.idx_to_symbol for r in records)) <= real_words | set(EXTRA_CONCEPT_WORDS)
    for i, record in enumerate(records):
        parse_record(record.to_dict(), "large", i)
        assert list(map(list, record.frontiers)) == bfs_frontiers(len(record.idx_to_symbol), record.edges, record.root)
    # real-size data is unchanged by the flag's existence: the same seed, the same questions as before
    assert not set(EXTRA_CONCEPT_WORDS) & set(CONCEPT_WORDS)
    assert all(set(r.idx_to_symbol) <= real_words for r in generate(50, seed=2))


def test_exclude_questions_and_progress(capsys):
    first = generate(30, seed=11)
    again = generate(30, seed=11, exclude_questions={r.question for r in first[:10]}, progress=True)
    assert not {r.question for r in again} & {r.question for r in first[:10]}
    assert again[:20] == first[10:30]  # the same stream, the excluded ones skipped
    assert "30/30" in capsys.readouterr().err
    assert len({r.question for r in generate(500, seed=0, config=SMALL)}) == 500


def test_no_generated_question_is_a_real_one():
    real = {r.question for r in real_records()}
    assert not real & {r.question for r in generate(2000, seed=0)}


# ----------------------------------------------------------------------------- statistics


def check_against_real(n: int, mean_tol: float, hist_tol: float) -> None:
    real = graph_stats(real_records())
    ours = graph_stats(generate(n, seed=0))
    table = format_stats_table({"real": all_stats(real_records()), "generated": all_stats(generate(200, seed=0))})
    for key in ("nodes", "edges", "steps", "shortest_path", "shortest_paths"):
        assert abs(ours[key] - real[key]) <= mean_tol * real[key], f"{key}\n{table}"
    for depth in set(real["step_hist"]) | set(ours["step_hist"]):
        gap = abs(ours["step_hist"].get(depth, 0) - real["step_hist"].get(depth, 0))
        assert gap <= hist_tol, f"steps={depth}\n{table}"


@pytest.mark.slow
def test_statistics_match_the_real_split():
    check_against_real(20_000, mean_tol=0.05, hist_tol=0.05)


def test_statistics_match_the_real_split_roughly():
    check_against_real(2_000, mean_tol=0.08, hist_tol=0.06)


def test_stats_need_graph_fields_and_table_lists_files():
    with pytest.raises(DatasetError, match="record 1: graph statistics need the graph fields"):
        graph_stats([generate_record(random.Random(0), SMALL), Record("q?", (), "a")])
    numbers = graph_stats(generate(40, seed=0, config=SMALL))
    assert numbers["n"] == 40 and numbers["step_hist"] == {2: 1.0} and numbers["steps"] == 2.0
    table = format_stats_table({"a.json": all_stats(generate(40, seed=0, config=SMALL)),
                                "b.json": all_stats(generate(40, seed=1))})
    lines = table.splitlines()
    assert lines[0] == "| | a.json | b.json |"
    assert any(line.startswith("| path length 2 | 100.0% |") for line in lines)
    assert any(line.startswith("| records | 40 | 40 |") for line in lines)
    assert any(line.startswith("| question words (mean) |") for line in lines)
