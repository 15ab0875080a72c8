"""`latentsearch reproduce`: every phase in order, one summary line each, and an interrupted run picks up
where it stopped (the quick schedule: the same code path as the real one, in seconds)."""

import json

from latentsearch.cli import main


def test_reproduce_runs_every_phase_and_resumes_where_it_stopped(tmp_path, capsys, real_valid_path):
    out = tmp_path / "repro"
    assert main(["reproduce", "prosqa", "-o", str(out), "--quick", "--real", str(real_valid_path)]) == 0
    printed = capsys.readouterr().out
    for phase in ("data", "cot", "curriculum", "deeper", "choose", "eval", "report", "done"):
        assert f"[{phase}] " in printed, phase
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chosen"] in ("curriculum", "deeper") and 0 <= summary["real_accuracy"] <= 1
    assert (out / "report" / "report.html").is_file()
    deeper = json.loads((out / "deeper" / "done.json").read_text())
    assert deeper["phase"]["add_layers"] == 1
    curriculum = [json.loads(line) for line in (out / "curriculum" / "metrics.jsonl").read_text().splitlines()]
    assert any(row.get("frontier_nll", 0) > 0 for row in curriculum)  # the schedule's frontier loss reached training
    before = (out / "cot" / "metrics.jsonl").read_bytes()
    (out / "deeper" / "done.json").unlink()  # as if the run had been killed during its last phase
    (out / "choose" / "done.json").unlink()
    assert main(["reproduce", "prosqa", "-o", str(out), "--quick", "--real", str(real_valid_path)]) == 0
    again = capsys.readouterr().out
    assert "[data]" not in again and "[cot]" not in again and "[deeper]" in again and "[choose]" in again
    assert (out / "cot" / "metrics.jsonl").read_bytes() == before  # finished phases are not run again


def test_a_budget_stops_each_phase_at_its_share(tmp_path, capsys):
    out = tmp_path / "tight"
    assert main(["reproduce", "prosqa", "-o", str(out), "--quick", "--budget-minutes", "0.001"]) == 0
    capsys.readouterr()
    cot = json.loads((out / "cot" / "done.json").read_text())
    assert cot["stopped_by_budget"] and cot["epochs"] == 0
    assert json.loads((out / "summary.json").read_text())["chosen"]


def test_a_folder_of_other_files_is_refused_and_left_as_it_was(tmp_path, capsys):
    """`-o` naming a folder of one's own (say with a data/ of one's own) would have its files replaced."""
    mine = tmp_path / "project"
    (mine / "data").mkdir(parents=True)
    (mine / "data" / "train.jsonl").write_text("my own data\n")
    assert main(["reproduce", "prosqa", "-o", str(mine), "--quick"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a reproduce run" in err[0] and "'data'" in err[0], err
    assert sorted(p.name for p in mine.rglob("*")) == ["data", "train.jsonl"]  # no .lock, no mark
    assert (mine / "data" / "train.jsonl").read_text() == "my own data\n"


def test_a_run_resumes_only_with_its_own_settings(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "reproduce.json").write_text(json.dumps({"task": "prosqa", "schedule": "quick", "seed": 0,
                                                    "real_sha256": "", "precision": "fp32", "compile": "off"}))
    (out / "data").mkdir()  # as if a run had begun there
    assert main(["reproduce", "prosqa", "-o", str(out), "--quick", "--seed", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seed = 0, not 1" in err[0], err
    (out / "reproduce.json").write_text('{"task": "prosqa", ')  # a damaged mark
    assert main(["reproduce", "prosqa", "-o", str(out), "--quick"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "reproduce.json: not JSON" in err[0], err
    assert sorted(p.name for p in out.iterdir()) == ["data", "reproduce.json"]
