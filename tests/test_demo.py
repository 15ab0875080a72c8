"""The demo runs offline on the shipped Coconut model, shows its thoughts and writes the report."""

import json

from latentsearch.cli import main
from latentsearch.demo import shipped_checkpoint
from latentsearch.models import shipped


def test_shipped_models_are_small_safetensors():
    assert {"prosqa-coconut", "prosqa-coconut-deep", "prosqa-cot", "prontoqa-coconut"} <= set(shipped.names())
    for name in shipped.names():
        folder = shipped_checkpoint().with_name(name)
        assert (folder / "model.safetensors").stat().st_size < 10_000_000
        assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pt"))


def test_demo_thinks_answers_and_writes_the_report(tmp_path, capsys):
    assert main(["demo", "--seed", "1", "--report-dir", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "Question" in out and "thought 1:" in out and "thought 6:" in out and "Answer:" in out
    assert "BFS frontier at depth 1" in out and "What happened" in out
    assert (tmp_path / "r" / "report.html").stat().st_size > 10_000 and str(tmp_path / "r") in out


def test_demo_reads_a_question_file(tmp_path, capsys, small_records):
    from latentsearch.data.schema import save_records

    save_records(small_records[:1], tmp_path / "q.json")
    assert main(["demo", "--question-file", str(tmp_path / "q.json"), "--report-dir", ""]) == 0
    assert small_records[0].question in capsys.readouterr().out


def test_demo_with_the_cot_model_writes_steps(capsys):
    assert main(["demo", "--checkpoint", str(shipped_checkpoint().with_name("prosqa-cot")), "--report-dir", ""]) == 0
    out = capsys.readouterr().out
    assert "Model's reasoning in language: " in out and "(none" not in out.split("reasoning in language:")[1][:8]


def test_the_prontoqa_model_answers_fresh_questions_by_its_short_name(tmp_path, capsys):
    """prontoqa-coconut loads by name and answers 5-hop questions it never saw (measured: 99.9% of 2,500).

    It decodes at its curriculum stage 5: five thoughts, then the conclusion in words."""
    assert main(["data", "prontoqa", "--n", "40", "--seed", "777", "-o", str(tmp_path / "q.jsonl")]) == 0
    capsys.readouterr()
    assert main(["eval", "prontoqa-coconut", str(tmp_path / "q.jsonl")]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["thoughts_per_answer"] == 5 and result["stage"] == 5 and result["accuracy"] >= 0.95
    assert main(["demo", "--checkpoint", "prontoqa-coconut", "--report-dir", ""]) == 0
    out = capsys.readouterr().out
    assert "True or false:" in out and "thought 5:" in out and "BFS frontier at depth 1" in out


def test_models_lists_every_shipped_model_with_aligned_summaries(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == shipped.names()
    starts = {len(line) - len(line.split(None, 1)[1]) for line in lines}
    assert len(starts) == 1  # every summary starts in the same column, however long a name is
