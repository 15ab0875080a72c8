"""The demo runs offline on the shipped model and explains what it did."""

from latentsearch.cli import main
from latentsearch.demo import shipped_checkpoint


def test_shipped_model_is_small_safetensors():
    folder = shipped_checkpoint()
    assert (folder / "model.safetensors").stat().st_size < 10_000_000
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pt"))


def test_demo_answers_step_by_step(capsys):
    assert main(["demo", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "Question" in out and "step 1:" in out and "Answer:" in out and "What happened" in out


def test_demo_reads_a_question_file(tmp_path, capsys, small_records):
    from latentsearch.data.schema import save_records

    save_records(small_records[:1], tmp_path / "q.json")
    assert main(["demo", "--question-file", str(tmp_path / "q.json")]) == 0
    assert small_records[0].question in capsys.readouterr().out
