"""The command line: help, data commands, and one clear line (exit 2) for bad input."""

import json

import pytest

from latentsearch.cli import main


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("data", "train", "eval", "demo", "search", "hmm"):
        assert command in out


def test_help_does_not_import_torch():
    """`latentsearch --help` stays instant: building every command's flags must not import torch."""
    import subprocess
    import sys

    code = ("import sys\nfrom latentsearch.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


def test_train_help_describes_every_method(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for method in ("nocot", "cot", "pause", "coconut", "pause-as-thought", "coconut-no-curriculum",
                   "coconut-no-thought"):
        assert f"{method}:" in out


def test_generate_is_deterministic_and_stats_print(tmp_path, capsys):
    for name in ("a.jsonl", "b.jsonl"):
        assert main(["data", "prosqa", "--n", "50", "--seed", "3", "-o", str(tmp_path / name)]) == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    capsys.readouterr()
    assert main(["data", "stats", str(tmp_path / "a.jsonl")]) == 0
    assert "| nodes (mean) |" in capsys.readouterr().out


def test_prontoqa_negation_shares_reach_the_generator_and_stats(tmp_path, capsys):
    never, always = tmp_path / "never.jsonl", tmp_path / "always.jsonl"
    assert main(["data", "prontoqa", "--n", "40", "--negated-share", "0", "--target-negated-share", "0",
                 "-o", str(never)]) == 0
    assert main(["data", "prontoqa", "--n", "40", "--target-negated-share", "1", "-o", str(always)]) == 0
    capsys.readouterr()
    assert main(["data", "stats", str(never), str(always)]) == 0
    assert '| last step with "not" | 0.0% | 100.0% |' in capsys.readouterr().out
    assert main(["data", "prontoqa", "--n", "4", "--negated-share", "1.5", "-o", str(never)]) == 2
    assert "must be between 0 and 1" in capsys.readouterr().err


@pytest.mark.parametrize("content, expected", [
    ('[{"question": "q", "steps": "x", "answer": "a"}]', 'record 0: "steps" must be a list of strings'),
    ('{"question": "q"}', "list"),
    ('[{"question": "q", "steps": [], "answer": "a"', "bad.json"),
])
def test_bad_data_is_one_line_and_exit_2(tmp_path, capsys, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["data", "stats", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "bad.json" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_checkpoint_is_a_clear_error(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"question": "q", "steps": [], "answer": "a"}) + "\n")
    assert main(["eval", str(tmp_path / "nowhere"), str(data)]) == 2
    assert "checkpoint folder not found" in capsys.readouterr().err


def test_unknown_method_is_rejected(capsys):
    assert main(["train", "--method", "magic", "--train", "x", "--out", "y"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and len(err.strip().splitlines()) == 1
