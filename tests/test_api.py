"""The Python API: a model by name, think / eval / probe / search in a line each."""

import pytest
import torch

import latentsearch as ls
from latentsearch.errors import CheckpointError

QUESTION = "Tom is a wumpus. Every wumpus is a yumpus. Sam is a zumpus. Is Tom a yumpus or zumpus?"


@pytest.fixture(scope="module")
def coconut():
    return ls.load("prosqa-coconut")


def test_think_answers_a_typed_question_and_shows_each_thought(coconut):
    out = coconut.think(QUESTION)
    assert out.answer == "yumpus" and out.thoughts.shape == (6, 128)
    assert len(out.top_tokens) == 6 and out.top_tokens[0][0][0] == "wumpus"  # thought 1: the root's child
    many = coconut.think([QUESTION, QUESTION.replace("Tom is a wumpus", "Tom is a zumpus")], thoughts=3)
    assert [t.answer for t in many] == ["yumpus", "zumpus"] and many[0].thoughts.shape == (3, 128)


def test_eval_with_and_without_a_latent_search(coconut, small_records):
    plain = coconut.eval(small_records[:8])
    assert plain["summary"]["n"] == 8 and len(plain["rows"]) == 8
    voted = coconut.eval(small_records[:8], search="vote:2", sigma=0.2)
    assert voted["summary"]["search"] == "vote:2" and voted["summary"]["thoughts_per_question"] == 12
    auto = coconut.eval(small_records[:8], thoughts="auto")
    assert auto["summary"]["search"].startswith("adaptive:mass") and auto["summary"]["thoughts_used"] <= 6


@pytest.mark.parametrize("kwargs, fragment", [
    ({"sigma": 0.2}, "sigma shapes a latent search"),
    ({"search": "anytime:4", "seed": 3}, "seed does not apply to search anytime:4"),
    ({"search": "anytime:4", "thoughts": 6}, "thoughts does not apply"),
    ({"search": "vote:2", "noise": "dropout", "sigma": 0.3}, "not noise dropout"),
    ({"value": "somewhere"}, "give search too"),
    ({"search": "vote:2", "batch_size": 8}, "one question at a time"),
])
def test_eval_refuses_options_it_would_ignore(coconut, small_records, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        coconut.eval(small_records[:2], **kwargs)


def test_probe_and_token_search(coconut, small_records):
    probe = coconut.probe(small_records[:3], thoughts=2)
    assert probe["n"] == 3 and len(probe["frontier"]) == 2
    cot = ls.load("prosqa-cot")
    result = cot.search("Tom Sam wumpus yumpus | Tom wumpus wumpus yumpus", algo="beam", width=2, max_new_tokens=4)
    assert len(result.sequences) == 2 and result.extra["texts"][0] and result.tree["parent"][0] == -1
    with pytest.raises(ValueError, match="has no continuous thoughts"):
        cot.probe(small_records[:1])
    with pytest.raises(ValueError, match="the prompt is text, got NoneType"):
        cot.search(None)


def test_unknown_names_are_clear_errors():
    with pytest.raises(CheckpointError, match="not-a-model"):
        ls.load("not-a-model")
    with pytest.raises(AttributeError):
        ls.nothing  # noqa: B018
    assert torch.get_num_threads() >= 1
