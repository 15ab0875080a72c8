"""The ProntoQA-style generator: valid proofs, Coconut's format and figures, determinism, checks."""

from __future__ import annotations

import copy
import json
import os
import random
import re
import statistics
import subprocess
import sys
from collections import deque

import pytest

from latentsearch.tasks.prontoqa_gen import (
    ADJECTIVES,
    CONCEPTS,
    NAMES,
    QUERY_PREFIX,
    Fact,
    ProntoQAConfig,
    check_record,
    generate,
    generate_record,
    parse,
    say,
    sentences,
    vocabulary,
)

WORD = re.compile(r"<[a-z]+>|###|\w+|[^\w\s]")  # the word-level tokenizer's split


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return generate(2000, seed=0)


def distances(record: dict) -> dict[int, int]:
    """BFS from the root over the edges, written apart from the package."""
    dist, queue = {record["root"]: 0}, deque([record["root"]])
    while queue:
        u = queue.popleft()
        for a, b in record["edges"]:
            if a == u and b not in dist:
                dist[b] = dist[u] + 1
                queue.append(b)
    return dist


def context_of(record: dict) -> list[str]:
    return sentences(record["question"].rpartition(" " + QUERY_PREFIX)[0])


def chain_of(record: dict) -> list[str]:
    """The concepts the steps pass through, read from "X is a A." at the start of each hop."""
    return [step.split(". ")[0].split()[-1] for step in record["steps"][:-1]]


# ----------------------------------------------------------------------------- well-formed records


def test_records_pass_the_check(records):
    for record in records:
        check_record(record)


def test_steps_follow_coconuts_format(records):
    hops = ProntoQAConfig().hops
    for record in records:
        name, steps = record["idx_to_symbol"][0], record["steps"]
        assert len(steps) == hops + 1
        for step in steps[:-1]:
            first, second = sentences(step)
            assert step == f"{first} {second}" and re.fullmatch(rf"{name} is an? [a-z]+\.", first)
        assert re.fullmatch(rf"{name} is (not )?[a-z]+\.", steps[-1])
        assert set(record) == {"question", "steps", "answer", "idx_to_symbol", "edges", "root", "target",
                               "properties", "task"}
        assert record["question"].count(QUERY_PREFIX) == 1
        assert re.fullmatch(rf"{name} is (not )?[a-z]+\.", record["question"].rpartition(QUERY_PREFIX)[2])


def test_chain_is_a_proof_in_the_ontology(records):
    for record in records:
        sym, dist = record["idx_to_symbol"], distances(record)
        index = {s: i for i, s in enumerate(sym)}
        chain = [index[c] for c in chain_of(record)]
        hop_edges = {tuple(e) for e in record["edges"]}
        assert all((a, b) in hop_edges for a, b in zip([0] + chain, chain))
        assert [dist[c] for c in chain] == list(range(1, len(chain) + 1))  # chain concept k is in F_k
        assert chain[-1] == record["target"]
        conclusion = parse(record["steps"][-1])
        assert [record["target"], conclusion.value, conclusion.negated] in record["properties"]
        # the answer is what the proof gives
        query = parse(record["question"].rpartition(QUERY_PREFIX)[2])
        assert record["answer"] == ("True" if query == conclusion else "False")


def test_distractors_are_present(records):
    for record in records[:200]:
        dist = distances(record)
        conclusion = parse(record["steps"][-1])
        # two memberships, so the first hop already branches
        assert sum(1 for a, _ in record["edges"] if a == 0) == 2
        # the opposite of the conclusion sits on a concept the person never reaches
        opposite = [p for p in record["properties"] if p[1] == conclusion.value and p[2] != conclusion.negated]
        assert len(opposite) == 1 and opposite[0][0] not in dist
        # every concept of the chain has a second, distractor parent
        index = {s: i for i, s in enumerate(record["idx_to_symbol"])}
        for concept in chain_of(record):
            assert sum(1 for a, _ in record["edges"] if a == index[concept]) == 2


def test_every_hop_count_and_the_distractor_free_variant():
    for hops in range(1, 7):
        for distractors in (True, False):
            config = ProntoQAConfig(hops=hops, distractors=distractors)
            for record in generate(30, seed=hops, config=config):
                check_record(record)
                assert len(record["steps"]) == hops + 1
                assert len(context_of(record)) == (4 * hops + 5 if distractors else hops + 1)


# ----------------------------------------------------------------------------- figures


def test_answers_are_balanced(records):
    share = sum(r["answer"] == "True" for r in records) / len(records)
    assert abs(share - 0.5) < 0.04, f"True share {share:.3f}"


def test_lengths_and_word_types_match_coconuts_files(records):
    counts = [len(context_of(r)) for r in records]
    words = [len(re.findall(r"\w+", r["question"])) for r in records]
    types = {w.lower() for r in records for w in re.findall(r"\w+", r["question"])}
    summary = (f"mean sentences {statistics.mean(counts):.1f}, mean words {statistics.mean(words):.1f} "
               f"(range {min(words)}-{max(words)}), {len(types)} word types (lowercased)")
    assert counts == [25] * len(records), summary  # 23 facts + 2 memberships, as in Coconut's example
    assert 100 <= statistics.mean(words) <= 108 and min(words) >= 85 and max(words) <= 125, summary
    assert 90 <= len(types) <= 110, summary


def test_negations_match_the_original_generator(records):
    """The original's 800 5-hop test questions (Coconut's file): 15.5% of context sentences say "not",
    and 45.1% of proofs end on a negated property. Within 5% of each (2000 records: about 1% noise)."""
    context = [s for r in records for s in context_of(r)]
    with_not = sum(" not " in s for s in context) / len(context)
    deciding = sum(" not " in r["steps"][-1] for r in records) / len(records)
    assert abs(with_not / 0.155 - 1) < 0.05, f"context sentences with not: {with_not:.3f}"
    assert abs(deciding / 0.451 - 1) < 0.05, f"negated deciding property: {deciding:.3f}"


def test_every_word_is_in_the_vocabulary(records):
    vocab = vocabulary()
    assert vocab == sorted(set(vocab)) and {".", ":", "Every", "Each", "Impuses", "impuses", "an"} <= set(vocab)
    assert set(NAMES) | set(CONCEPTS) | set(ADJECTIVES) <= set(vocab)
    texts = [text for r in records for text in [r["question"], r["answer"], *r["steps"]]]
    emitted = {word for text in texts for word in WORD.findall(text)}
    assert emitted <= set(vocab), sorted(emitted - set(vocab))


def test_templates():
    every = say(parse("Every zumpus is an impus."), "every")
    assert every == "Every zumpus is an impus."
    assert say(parse("Impuses are not floral."), "plural") == "Impuses are not floral."
    assert say(parse("Each lorpus is floral."), "plural") == "Lorpuses are floral."
    assert say(parse("Stella is an impus.")) == "Stella is an impus."
    for bad in ("Every zumpus is a impus.", "Zumpuses are impus.", "Every zumpus is not a gorpus.",
                "Stella is a dog.", "every zumpus is a gorpus.", "Bob is a zumpus."):
        with pytest.raises(ValueError):
            parse(bad)


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_records_and_other_seed_differs():
    assert generate(20, seed=5) == generate(20, seed=5)
    assert generate(20, seed=5) != generate(20, seed=6)
    assert generate_record(random.Random(9)) == generate_record(random.Random(9))


def test_same_records_under_another_hash_seed():
    code = ("import json; from latentsearch.tasks.prontoqa_gen import generate; "
            "print(json.dumps(generate(10, seed=2)))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == generate(10, seed=2)


def test_distinct_questions_and_exclusion():
    first = generate(30, seed=11)
    again = generate(30, seed=11, exclude_questions={r["question"] for r in first[:10]})
    assert not {r["question"] for r in again} & {r["question"] for r in first[:10]}
    assert again[:20] == first[10:30]  # the same stream, the excluded ones skipped
    assert generate(0) == []


def test_config_checks():
    for kwargs in (dict(hops=0), dict(hops=7), dict(hops=2.0), dict(hops=True), dict(distractors=1),
                   dict(true_share=1.5), dict(negated_share=-0.1), dict(plural_share="half")):
        with pytest.raises(ValueError):
            ProntoQAConfig(**kwargs)
    assert generate(5, config=ProntoQAConfig(true_share=1.0))[0]["answer"] == "True"


# ----------------------------------------------------------------------------- check_record rejects


@pytest.fixture()
def record(records) -> dict:
    return copy.deepcopy(records[0])


def rejected(record: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_record(record)


def test_rejects_a_broken_chain(record):
    steps = record["steps"]
    steps[1], steps[2] = steps[2], steps[1]  # hops out of order
    rejected(record, "the step before gave")


def test_rejects_a_dropped_hop(record):
    del record["steps"][2]
    rejected(record, "the step before gave")


def test_rejects_a_wrong_answer(record):
    record["answer"] = "False" if record["answer"] == "True" else "True"
    rejected(record, "the proof gives")


def test_rejects_a_step_the_context_does_not_state(record):
    first, rule = sentences(record["steps"][0])
    concept = parse(first).value
    unused = next(c for c in CONCEPTS if c not in record["idx_to_symbol"])
    record["steps"][0] = f"{first} Every {concept} is {'an' if unused[0] in 'aeiou' else 'a'} {unused}."
    rejected(record, "which the context does not state")


def test_rejects_a_wrong_conclusion_and_start(record):
    bad = copy.deepcopy(record)
    conclusion = parse(bad["steps"][-1])
    bad["steps"][-1] = say(conclusion._replace(negated=not conclusion.negated))
    rejected(bad, "the last step must be the conclusion")
    name = record["idx_to_symbol"][0]
    other = next(n for n in NAMES if n != name)
    record["steps"][0] = record["steps"][0].replace(name, other, 1)
    rejected(record, "must start")


def test_rejects_graph_fields_that_disagree_with_the_text(record):
    unused = next(c for c in CONCEPTS if c not in record["idx_to_symbol"])
    chain_start = record["idx_to_symbol"].index(chain_of(record)[0])
    changes = {"edges": lambda r: r["edges"].pop(),
               "properties": lambda r: r["properties"][0].__setitem__(2, not r["properties"][0][2]),
               "target": lambda r: r.__setitem__("target", chain_start),
               "idx_to_symbol": lambda r: r["idx_to_symbol"].append(unused)}
    for key, change in changes.items():
        bad = copy.deepcopy(record)
        change(bad)
        assert bad[key] != record[key]
        with pytest.raises(ValueError, match="edges|properties|target|never mentions"):
            check_record(bad)


def test_rejects_a_self_contradicting_context(record):
    conclusion = parse(record["steps"][-1])
    name = record["idx_to_symbol"][0]
    fooling = next(p for p in record["properties"] if p[1] == conclusion.value and p[2] != conclusion.negated)
    fooled = record["idx_to_symbol"][fooling[0]]
    # make the person a member of the concept that carries the opposite property
    membership = say(Fact("member", name, fooled))
    record["question"] = record["question"].replace(f" {QUERY_PREFIX}", f" {membership} {QUERY_PREFIX}")
    record["edges"].append([0, fooling[0]])
    rejected(record, "contradicts itself")
    with pytest.raises(ValueError, match="expected a dict"):
        check_record([])


def test_rejects_malformed_fields(record):
    for key, value in (("edges", [[0]]), ("properties", [[1, "hot"]]), ("answer", "Yes"), ("root", 1),
                       ("steps", "Stella is hot."), ("task", "prosqa"), ("idx_to_symbol", ["Stella", 3])):
        with pytest.raises(ValueError, match=key):
            check_record({**record, key: value})
