"""Inputs an attacker would try, by class: nothing a user wrote is lost, nothing hangs or fills the memory,
every bad input is one line (exit 2) before any long work, nothing silently wrong is accepted."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from latentsearch import io
from latentsearch.cli import main
from test_bad_inputs import COCONUT, CORPUS, COT, GOOD, expect_clean_failure

TINY = ["--d-model", "32", "--layers", "1", "--heads", "2", "--epochs", "1", "--no-progress"]


def copy_checkpoint(tmp_path: Path, name="ckpt") -> Path:
    folder = tmp_path / name
    shutil.copytree(COCONUT, folder)
    return folder


# ----------------------------------------------------------------------------- data is never lost


def test_train_refuses_a_folder_with_other_files_and_an_existing_run(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    expect_clean_failure(["train", "--train", GOOD, "-o", str(mine), *TINY], "holds other files (notes.txt)", capsys)
    assert (mine / "notes.txt").read_text() == "my notes" and sorted(os.listdir(mine)) == ["notes.txt"]
    run = tmp_path / "run"
    assert main(["train", "--train", GOOD, "-o", str(run), *TINY]) == 0
    before = (run / "metrics.jsonl").read_bytes()
    expect_clean_failure(["train", "--train", GOOD, "-o", str(run), *TINY], "holds a run already; pass --resume",
                         capsys)
    for change, field in ((["--lr", "0.002"], "lr"), (["--method", "nocot"], "method"), (["--d-model", "64"], "model")):
        argv = ["train", "--train", GOOD, "-o", str(run), *TINY, "--resume", *change]
        expect_clean_failure(argv, f"but {field} differ", capsys)
    assert (run / "metrics.jsonl").read_bytes() == before
    longer = ["train", "--train", GOOD, "-o", str(run), *TINY[:-3], "--epochs", "2", "--no-progress", "--resume"]
    assert main(longer) == 0
    copy = tmp_path / "copy"  # the same run under another name, and its data under another spelling
    shutil.copytree(run, copy)
    again = ["train", "--train", str(Path(GOOD).resolve()), "-o", f"{copy}/", *TINY[:-3], "--epochs", "3",
             "--no-progress", "--resume"]
    assert main(again) == 0


def test_a_second_training_process_on_one_folder_stops(tmp_path, capsys):
    with io.FolderLock(tmp_path / "run"):
        expect_clean_failure(["train", "--train", GOOD, "-o", str(tmp_path / "run"), *TINY], "another process (pid",
                             capsys)
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


def test_an_output_is_never_an_input(tmp_path, capsys):
    data = tmp_path / "data.json"
    shutil.copy(GOOD, data)
    before = data.read_bytes()
    expect_clean_failure(["eval", COCONUT, str(data), "-o", str(data)], "this output is also an input", capsys)
    expect_clean_failure(["data", "prosqa", "--n", "3", "--exclude", str(data), "-o", str(data)],
                         "this output is also an input", capsys)
    assert data.read_bytes() == before


def test_a_symlinked_output_is_written_through_not_replaced(tmp_path):
    target = tmp_path / "real.jsonl"
    target.write_text("")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert main(["data", "prosqa", "--n", "3", "-o", str(link)]) == 0
    assert link.is_symlink() and len(target.read_text().splitlines()) == 3


def test_a_short_append_is_cut_back_not_left_half_written(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    io.append_line(path, '{"step": 1}')
    monkeypatch.setattr(os, "write", lambda fd, data: len(data) // 2)  # a full disk takes half a line
    with pytest.raises(OSError, match="short write"):
        io.append_line(path, '{"step": 2, "loss": 0.5}')
    assert path.read_text() == '{"step": 1}\n'


def test_a_full_disk_leaves_every_output_whole_or_absent(tmp_path, capsys):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        code = main(["data", "prosqa", "--n", "400", "-o", str(disk / "big.jsonl")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and err[-1].startswith("error: OSError: [Errno 28] No space left on device")
        assert not any("Traceback" in line for line in err)
        assert not list(disk.iterdir())  # no half file, no temporary file
    finally:
        subprocess.run(["umount", str(disk)])


def test_a_read_only_disk_is_one_line_for_every_output(tmp_path, capsys):
    disk = tmp_path / "ro"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(disk)]
    if subprocess.run(mount, capture_output=True).returncode:
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        for argv in (["data", "prosqa", "--n", "3", "-o", str(disk / "d.jsonl")],
                     ["eval", COCONUT, GOOD, "-o", str(disk / "rows.jsonl")],
                     ["train", "--train", GOOD, "-o", str(disk / "run"), *TINY],
                     ["probe", COCONUT, GOOD, "--trees", "0", "--no-plots", "-o", str(disk / "p")],
                     ["demo", "--report-dir", str(disk / "demo")],
                     ["reproduce", "prosqa", "--quick", "-o", str(disk / "r")],
                     ["search", "--model", COCONUT, "--tree", str(disk / "t.svg"), "Rex wumpus"]):
            assert main(argv) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert "Read-only file system" in err[-1] and err[-1].startswith("error: "), err[-1]
            assert "cannot write in" in err[-1], f"{argv[0]} found out only after its work: {err[-1]}"
    finally:
        subprocess.run(["umount", str(disk)])


# ----------------------------------------------------------------------------- nothing hangs


def test_fifo_device_loop_and_odd_paths_are_refused_at_once(tmp_path, capsys):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    expect_clean_failure(["data", "stats", str(fifo)], "is not a regular file", capsys)
    device = tmp_path / "zero.json"
    device.symlink_to("/dev/zero")
    expect_clean_failure(["data", "stats", str(device)], "is not a regular file", capsys)
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    expect_clean_failure(["data", "stats", str(loop)], "loop.json", capsys)
    expect_clean_failure(["data", "stats", GOOD + "/inside.json"], "inside.json", capsys)
    expect_clean_failure(["data", "stats", str(tmp_path / ("x" * 300 + ".json"))], "x" * 20, capsys)


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--train", GOOD, "--layers", "1000000"], "training a model of"),
    (["train", "--train", GOOD, "--init", COCONUT, "--add-layers", "1000000"], "training a model of"),
    (["--memory-budget", "100M", "train", "--train", GOOD, "--d-model", "1024", "--layers", "24"], "needs about"),
])
def test_huge_models_are_refused_before_they_are_built(argv, fragment, tmp_path, capsys):
    expect_clean_failure([*argv, "-o", str(tmp_path / "run")], fragment, capsys, [tmp_path / "run"])


def test_a_checkpoint_config_of_a_huge_model_is_refused_before_building(tmp_path, capsys):
    folder = copy_checkpoint(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    for value, fragment in ((1e6, "n_layer must be an integer"), (10**6, "needs about")):
        (folder / "config.json").write_text(json.dumps({**config, "n_layer": value}))
        expect_clean_failure(["eval", str(folder), GOOD], fragment, capsys)


# ----------------------------------------------------------------------------- damaged model files


def damage(folder: Path, how: str) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    if how in ("stage -3", "stage seven", "unknown curriculum key", "null curriculum value"):
        change = {"stage -3": {"stage": -3}, "stage seven": {"stage": "seven"},
                  "unknown curriculum key": {"curriculum": {**meta["curriculum"], "warp_speed": 9}},
                  "null curriculum value": {"curriculum": {**meta["curriculum"], "max_stage": None}}}[how]
        (folder / "meta.json").write_text(json.dumps({**meta, **change}))
    elif how == "no <bot>":
        tokenizer = json.loads((folder / "tokenizer.json").read_text())
        tokenizer["added_tokens"] = [t for t in tokenizer["added_tokens"] if t["content"] != "<bot>"]
        tokenizer["model"]["vocab"].pop("<bot>")
        (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    elif how == "more tokens than embeddings":
        tokenizer = json.loads((folder / "tokenizer.json").read_text())
        tokenizer["model"]["vocab"]["zorblax"] = 500
        (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    elif how in ("a missing tensor", "an extra tensor", "integer weights"):
        tensors = load_file(str(folder / "model.safetensors"))
        if how == "a missing tensor":
            del tensors["transformer.ln_f.weight"]
        elif how == "an extra tensor":
            tensors["bogus.weight"] = torch.zeros(2)
        else:
            tensors["transformer.ln_f.bias"] = tensors["transformer.ln_f.bias"].to(torch.int32)
        save_file(tensors, str(folder / "model.safetensors"))
    elif how == "no method":
        (folder / "meta.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "method"}))
    elif how in ("nan weights", "inf weights"):
        tensors = load_file(str(folder / "model.safetensors"))
        name = next(iter(tensors))
        tensors[name][0] = float("nan") if how == "nan weights" else float("inf")
        save_file(tensors, str(folder / "model.safetensors"))


DAMAGE = {
    "stage -3": '"stage" must be an integer in [0, 7], got -3',
    "stage seven": "\"stage\" must be an integer in [0, 7], got 'seven'",
    "unknown curriculum key": "unknown curriculum key 'warp_speed'",
    "null curriculum value": "curriculum max_stage must be int, got None",
    "no <bot>": "lacks the special token <bot>",
    "more tokens than embeddings": "the tokenizer uses token ids up to 500 but the model has only 63 embeddings",
    "nan weights": "the weights hold NaN or infinite numbers",
    "inf weights": "the weights hold NaN or infinite numbers",
    "a missing tensor": "lacks transformer.ln_f.weight",
    "an extra tensor": "holds tensors the model does not have, e.g. bogus.weight",
    "integer weights": "transformer.ln_f.bias is stored as I32",
    "no method": 'lacks "method"',
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_a_damaged_checkpoint_is_one_line_at_every_entry(how, tmp_path, capsys):
    folder = copy_checkpoint(tmp_path)
    damage(folder, how)
    for argv in (["eval", str(folder), GOOD], ["probe", str(folder), GOOD, "-o", str(tmp_path / "p")],
                 ["demo", "--checkpoint", str(folder), "--report-dir", ""]):
        expect_clean_failure(argv, DAMAGE[how], capsys, [tmp_path / "p"])


# ----------------------------------------------------------------------------- nothing silently wrong


@pytest.mark.parametrize("flags, fragment", [
    (["--lr", "1e30"], "lr must be at most 1.0"),
    (["--weight-decay", "1e6"], "weight_decay must be at most 1.0"),
    (["--min-lr-ratio", "1000"], "min_lr_ratio must be at most 1.0"),
])
def test_training_settings_that_can_only_diverge_are_refused(flags, fragment, tmp_path, capsys):
    expect_clean_failure(["train", "--train", GOOD, "-o", str(tmp_path / "run"), *flags], fragment, capsys,
                         [tmp_path / "run"])


def test_training_stops_at_the_first_non_finite_loss_and_keeps_the_last_good_state(tmp_path, monkeypatch, one_hop):
    from latentsearch.train.trainer import Trainer, TrainingDiverged
    from test_train import config_for

    trainer = Trainer(config_for(one_hop, tmp_path / "run", epochs=2, save_every=5), progress_bar=False)
    real_step = trainer._step
    nan_from_step_8 = lambda batch: (float("nan"), 1) if trainer.state.step >= 7 else real_step(batch)  # noqa: E731
    monkeypatch.setattr(trainer, "_step", nan_from_step_8)
    with pytest.raises(TrainingDiverged, match="loss is nan at step 8"):
        trainer.run()
    saved = json.loads((tmp_path / "run" / "checkpoint" / "trainer_state.json").read_text())
    assert saved["step"] == 5 and not (tmp_path / "run" / "best").exists()


def test_hmm_that_does_not_fit_the_model_or_holds_nan_is_refused(tmp_path, capsys):
    from latentsearch.hmm.hmm import HMM

    hmm = HMM(torch.zeros(4).log_softmax(0), torch.zeros(4, 4).log_softmax(1), torch.zeros(4, 10).log_softmax(1))
    hmm.save(tmp_path / "small", {})
    expect_clean_failure(["search", "--model", COT, "--hmm", str(tmp_path / "small"), "--keywords", "wumpus",
                          "Rex wumpus"], "the HMM emits 10 symbols but the model has 63 tokens", capsys)
    hmm.log_trans[0, 0] = float("nan")
    hmm.save(tmp_path / "nan", {})
    expect_clean_failure(["search", "--model", COT, "--hmm", str(tmp_path / "nan"), "--keywords", "wumpus",
                          "Rex wumpus"], "log_trans holds NaN", capsys)


def test_an_hmm_whose_rows_are_not_distributions_or_not_floats_is_refused(tmp_path, capsys):
    from latentsearch.hmm.hmm import HMM

    uniform = lambda *shape: torch.zeros(*shape).log_softmax(-1)  # noqa: E731
    for name, hmm, fragment in (
            ("unnormalised", HMM(uniform(4), torch.zeros(4, 4), uniform(4, 63)), "log_trans is not a log-probability"),
            ("all -inf", HMM(uniform(4), uniform(4, 4), torch.full((4, 63), -torch.inf)), "sum to 0"),
            ("half", HMM(uniform(4).half(), uniform(4, 4), uniform(4, 63)), "log_init is stored as torch.float16")):
        hmm.save(tmp_path / name, {})
        expect_clean_failure(["search", "--model", COT, "--hmm", str(tmp_path / name), "--keywords", "wumpus",
                              "Rex wumpus"], fragment, capsys)


@pytest.mark.parametrize("argv, fragment", [
    (["eval", COCONUT, GOOD, "--search", "anytime:600"], "record 0 with anytime:600: 632 tokens exceed"),
    (["eval", COCONUT, GOOD, "--search", "adaptive:entropy:0", "--max-thoughts", "600"], "exceed the model's context"),
    (["eval", COCONUT, GOOD, "--search", "beam:2", "--children", "1000000000"], "children must be a whole number"),
    (["search", "--model", COT, "--width", "100000", "Rex wumpus"], "width must be a whole number from 1 to 4096"),
    (["search", "--model", COT, "--algo", "sample", "--samples", "5000", "Rex wumpus"], "samples must be"),
    (["value", COCONUT, "--train", GOOD, "--rollouts", "1000000000", "-o", "v"], "--rollouts must be from 1"),
    (["search", "--model", COT, "--tree", "tree.txt", "Rex wumpus"], "give a .svg or .png file name"),
    (["eval", COCONUT, GOOD, "--thoughts", "auto", "--auto-mass", "2"], "--auto-mass must be a probability"),
    (["search", "--model", COT, "--algo", "recombine", "--key", "hidden:2", "Rex wumpus"], "COSINE in [-1, 1]"),
])
def test_sizes_past_the_context_or_the_count_bound_are_one_line_at_once(argv, fragment, capsys, tmp_path,
                                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    expect_clean_failure(argv, fragment, capsys, [tmp_path / "v", tmp_path / "tree.txt"])


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--method", "cot", "--max-stage", "3"], "--max-stage does not apply to --method cot"),
    (["train", "--method", "nocot", "--keep-optimizer"], "--keep-optimizer does not apply to --method nocot"),
    (["train", "--method", "coconut-no-curriculum", "--epochs-per-stage", "2"], "--epochs-per-stage does not apply"),
    (["train", "--method", "coconut-no-thought", "--extra-thoughts", "2"], "--extra-thoughts does not apply"),
    (["train", "--method", "pause", "--mix-prob", "0.3"], "--mix-prob does not apply to --method pause"),
    (["train", "--method", "coconut", "--pause-tokens", "3"], "--pause-tokens does not apply"),
    (["train", "--init", COT, "--layers", "4"], "--layers shapes a fresh model"),
    (["train", "--init", COT, "--rendering", "text"], "renders records as symbolic"),
    (["train", "--val-limit", "10"], "--val-limit limits the validation set: give --val"),
    (["eval", COCONUT, GOOD, "--sigma", "0.2"], "--sigma shapes a latent search: give a search SPEC"),
    (["eval", COCONUT, GOOD, "--search", "anytime:8", "--seed", "3"], "--seed does not apply to search anytime:8"),
    (["eval", COCONUT, GOOD, "--search", "vote:2", "--children", "3"], "--children does not apply"),
    (["eval", COCONUT, GOOD, "--thoughts", "auto", "--children", "3"], "(the options it reads: --max-thoughts"),
    (["eval", COCONUT, GOOD, "--search", "vote:2", "--noise", "dropout", "--sigma", "0.3"], "not noise dropout"),
    (["eval", COCONUT, GOOD, "--search", "vote:2", "--layer", "1"], "--layer shapes layer noise"),
    (["eval", COCONUT, GOOD, "--search", "anytime:8", "--thoughts", "4"], "--thoughts does not apply"),
    (["eval", COCONUT, GOOD, "--search", "vote:2", "--thoughts", "auto"], "--thoughts auto is the adaptive search"),
    (["eval", COCONUT, GOOD, "--search", "vote:2", "--batch-size", "8"], "--search answers one question at a time"),
    (["eval", COCONUT, GOOD, "--auto-mass", "0.3"], "give --thoughts auto too"),
    (["eval", COT, GOOD, "--thoughts", "3"], "a cot model has no continuous thoughts"),
    (["eval", COT, GOOD, "--stage", "3"], "a cot model has no curriculum stages"),
    (["probe", COCONUT, GOOD, "--no-plots", "--figures", "5", "-o", "p"], "give one of the two"),
    (["search", "--model", COT, "--delimiter", "|", "Rex wumpus"], "--algo beam does not read it"),
    (["value", COCONUT, "--train", GOOD, "--noise", "dropout", "--sigmas", "0.2", "-o", "v"], "no scale"),
])
def test_an_option_the_command_would_ignore_is_refused(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if argv[0] == "train":
        argv = [*argv, "--train", GOOD, "-o", "run", "--no-progress"]
    expect_clean_failure(argv, fragment, capsys, [tmp_path / "run", tmp_path / "p", tmp_path / "v"])


def test_options_that_apply_still_run(tmp_path, capsys):
    assert main(["train", "--method", "coconut-no-curriculum", "--max-stage", "2", "--mix-prob", "0.3", "--train",
                 GOOD, "-o", str(tmp_path / "run"), *TINY]) == 0
    assert main(["eval", COCONUT, GOOD, "--search", "vote:2", "--noise", "layer", "--layer", "0", "--sigma", "0.2",
                 "--seed", "1"]) == 0
    assert main(["eval", COCONUT, GOOD, "--thoughts", "auto", "--auto-mass", "0.3", "--max-thoughts", "8"]) == 0


def test_no_output_is_written_into_a_model_folder(tmp_path, capsys):
    folder = copy_checkpoint(tmp_path)
    weights = (folder / "model.safetensors").read_bytes()
    for argv in (["eval", str(folder), GOOD, "-o", str(folder / "model.safetensors")],
                 ["eval", str(folder), GOOD, "-o", str(folder / "value" / "value.json")],
                 ["search", "--model", str(folder), "--max-new-tokens", "2", "--tree", str(folder / "t.svg"),
                  "Rex wumpus"],
                 ["eval", str(folder), GOOD, "-o", str(tmp_path / "new") + "/"]):
        expect_clean_failure(argv, "write outside it" if "new" not in argv[-1] else "give a file name", capsys)
    assert (folder / "model.safetensors").read_bytes() == weights and not (tmp_path / "new").exists()


def test_probe_report_and_distill_bounds(tmp_path, capsys):
    argv = ["probe", COCONUT, GOOD, "--top", "1000000", "--trees", "0", "--no-plots", "-o", str(tmp_path / "p")]
    assert main(argv) == 0
    capsys.readouterr()
    probe = json.loads((tmp_path / "p" / "probe.json").read_text())
    assert len(probe["questions"][0]["thoughts"][0]["top"]) == 63  # the whole vocabulary, no more
    (tmp_path / "p" / "report.html").mkdir()
    expect_clean_failure(["report", str(tmp_path / "p"), "-o", str(tmp_path / "p" / "report.html")], "is a folder",
                         capsys)
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "probe.json").write_text(json.dumps({"n": 1}))
    expect_clean_failure(["report", str(tmp_path / "q"), "-o", str(tmp_path / "r.html")], "not written by", capsys)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("Rex wumpus fompus\n" * 4)
    expect_clean_failure(["hmm", "distill", "--model", COT, "--corpus", str(corpus), "--layer", "100", "-o",
                          str(tmp_path / "h")], "--layer 100 is outside", capsys, [tmp_path / "h"])


def test_the_report_escapes_everything_a_question_holds(tmp_path):
    from latentsearch.probe.report import _json_for_script

    text = _json_for_script({"q": "<!--<script>alert(1)</script>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"q": "<!--<script>alert(1)</script>&"}


def test_a_five_megabyte_word_gives_a_short_error_line(tmp_path, capsys):
    record = json.loads(Path(GOOD).read_text())[0]
    record["question"] = record["question"].replace("Rex", "Rex" + "z" * 5_000_000, 1)
    path = tmp_path / "long.json"
    path.write_text(json.dumps([record]))
    line = expect_clean_failure(["eval", COT, str(path)], "long.json, record 0", capsys)
    assert len(line) < 500


def test_the_corpus_directory_holds_the_new_classes():
    for name in ("answer_names_distractor.json", "steps_not_a_path.json", "question_of_another_record.json",
                 "deep_nesting.json", "huge_integer.json", "lone_surrogate.json"):
        assert (CORPUS / name).is_file(), name


def test_paths_that_lead_nowhere_say_why(tmp_path, capsys):
    (tmp_path / "a.json").symlink_to(tmp_path / "b.json")
    (tmp_path / "b.json").symlink_to(tmp_path / "a.json")
    (tmp_path / "dangling.json").symlink_to(tmp_path / "gone.json")
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "huge.json").write_text('[{"question": ' + "1" * 5000 + "}]")
    for name, why in (("a.json", "a symlink loop"), ("dangling.json", "a symlink to nothing"),
                      ("file.txt/q.json", "file.txt is a file, not a folder"),
                      ("huge.json", "holds an integer of more than 4300 digits")):
        expect_clean_failure(["eval", COCONUT, str(tmp_path / name)], why, capsys)


def test_one_file_twice_a_wrong_task_for_reproduce_and_nan_in_json(tmp_path, capsys):
    (tmp_path / "link.json").symlink_to(Path(GOOD).resolve())
    expect_clean_failure(["data", "stats", GOOD, str(tmp_path / "link.json")], "are the same file", capsys)
    pronto = tmp_path / "pq.jsonl"
    assert main(["data", "prontoqa", "--n", "3", "-o", str(pronto)]) == 0
    expect_clean_failure(["reproduce", "prosqa", "--quick", "--real", str(pronto), "-o", str(tmp_path / "r")],
                         "record 0 is not a prosqa question", capsys, [tmp_path / "r"])
    io.atomic_write_json(tmp_path / "x.json", {"auc": float("nan"), "rows": [float("inf"), 1.5]})
    assert json.loads((tmp_path / "x.json").read_text()) == {"auc": None, "rows": [None, 1.5]}
