"""Bad inputs to the newer parts, by class: ProntoQA records and files, the generators' options, drills,
latent search SPECs and value models, and the Python API. Each is one line (exit 2) or one latentsearch
error, before any long work, and nothing silently wrong is accepted."""

import json
from pathlib import Path

import pytest

import latentsearch as ls
from latentsearch.cli import main
from latentsearch.errors import CheckpointError, DatasetError
from latentsearch.latent.value import ValueConfig, ValueModel
from latentsearch.tasks import prontoqa_gen as gen
from test_bad_inputs import COCONUT, CORPUS, GOOD, data_entry_points, expect_clean_failure

PRONTO = gen.generate(1, seed=1, config=gen.ProntoQAConfig(hops=2))[0]
PROSQA = json.loads((CORPUS / "good.json").read_text())[0]
ORIGINAL = {k: PRONTO[k] for k in ("question", "steps", "answer")}  # the original generator's format


def changed(record: dict = PRONTO, **fields) -> dict:
    """The record with some fields replaced; a value of ... removes the field."""
    return {k: v for k, v in {**record, **fields}.items() if v is not ...}


def negated(sentence: str) -> str:
    return sentence.replace(" is not ", " is ") if " is not " in sentence else sentence.replace(" is ", " is not ")


FLIPPED = "False" if PRONTO["answer"] == "True" else "True"
QUERY = PRONTO["question"].rpartition(gen.QUERY_PREFIX)[2]
# name -> (the records of a file, what the error line must say)
CASES = {
    "answer_yes": ([changed(answer="Yes", task=...)], '"answer" must be "True" or "False", got \'Yes\''),
    "answer_flipped": ([changed(answer=FLIPPED)], f'the proof gives "{PRONTO["answer"]}"'),
    "no_query": ([changed(question=PRONTO["question"].replace(gen.QUERY_PREFIX, ""))],
                 'the question must end with "True or false: <sentence>"'),
    "steps_not_strings": ([changed(steps=[1, 2, 3])], '"steps" must be a list of strings (item 0 is an integer)'),
    "steps_empty": ([changed(steps=[])], "a proof needs at least two steps, got 0"),
    "proof_not_valid": ([changed(steps=[PRONTO["steps"][0], "Max is a wumpus.", PRONTO["steps"][-1]])],
                        "step 1 must be two sentences"),
    "root_not_person": ([changed(root=1)], '"root" must be 0 (the person)'),
    "target_out_of_range": ([changed(target=99)], '"target" must be a node index in 0..'),
    "properties_not_list": ([changed(properties="blue")], '"properties" must be a list of [node, adjective, negated]'),
    "property_row": ([changed(properties=[[1, "blue"]])], '"properties" must be [node, adjective, negated] rows'),
    "property_node": ([changed(properties=[[55, "blue", False]])], '"properties"[0] names node 55, not a node'),
    "property_adjective": ([changed(properties=[[1, "purple", False]])], "names 'purple', not an adjective"),
    "word_outside": ([changed(question=PRONTO["question"].replace(gen.QUERY_PREFIX, "Max is a zorblax. "
                                                                  + gen.QUERY_PREFIX))], "not a ProntoQA sentence"),
    "nul": ([changed(steps=[PRONTO["steps"][0].replace(" ", "\x00 ", 1), *PRONTO["steps"][1:]])],
            "not a ProntoQA sentence"),
    "huge_sentence": ([changed(question="Every " + "w" * 1_000_000 + " is a wumpus. " + PRONTO["question"])],
                      "not a ProntoQA sentence"),
    "frontiers_not_bfs": ([changed(frontiers=[[0], [1]])], '"frontiers" are not the BFS frontiers'),
    "mixed_tasks": ([PRONTO, PROSQA], "record 1: a prosqa question in a file of prontoqa questions"),
    "original_no_steps": ([changed(ORIGINAL, steps=[])], '"steps" must be the proof'),
    "original_not_concluded": ([changed(ORIGINAL, steps=PRONTO["steps"][:-1])], "must conclude the query"),
    "original_flipped": ([changed(ORIGINAL, answer=FLIPPED)], f'the proof gives "{PRONTO["answer"]}"'),
    "original_bad_answer": ([changed(ORIGINAL, answer="Maybe")], '"answer" must be "True" or "False"'),
}


@pytest.mark.parametrize("point", ["data stats", "eval", "train", "train --val", "probe", "demo"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_prontoqa_records(name, point, tmp_path, capsys):
    records, fragment = CASES[name]
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    argv, outputs = data_entry_points(str(path), tmp_path)[point]
    line = expect_clean_failure(argv, fragment, capsys, outputs)
    assert path.name in line


def test_good_prontoqa_records_in_both_formats_load(tmp_path, capsys):
    path = tmp_path / "good.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (PRONTO, ORIGINAL, changed(ORIGINAL, task="prontoqa"))))
    assert main(["data", "stats", str(path)]) == 0
    query_true = changed(ORIGINAL, steps=[*ORIGINAL["steps"][:-1], QUERY], answer="True")
    query_false = changed(ORIGINAL, steps=[*ORIGINAL["steps"][:-1], negated(QUERY)], answer="False")
    path.write_text(json.dumps(query_true) + "\n" + json.dumps(query_false) + "\n")
    assert main(["data", "stats", str(path)]) == 0


# ----------------------------------------------------------------------------- data prontoqa / stats


@pytest.mark.parametrize("extra, fragment", [
    (["--n", "0"], "argument --n: must be in [1,"), (["--n", "-3"], "argument --n: must be in [1,"),
    (["--n", "ten"], "argument --n: expected an integer"), (["--seed", "x"], "argument --seed: invalid int"),
    (["--hops", "0"], "--hops 0: hops must be an integer from 1 to 6"), (["--hops", "7"], "--hops 7: hops must"),
    (["--hops", "-1"], "argument --hops: must be in"), (["--hops", "1.5"], "argument --hops: expected an integer"),
    (["--n", "1000000000"], "generating 1,000,000,000 records needs about"),
])
def test_bad_generator_options(extra, fragment, tmp_path, capsys):
    out = tmp_path / "d.jsonl"
    expect_clean_failure(["data", "prontoqa", *extra, "-o", str(out)], fragment, capsys, [out])


def test_generator_outputs_are_checked_before_generating(tmp_path, capsys):
    expect_clean_failure(["data", "prontoqa", "--n", "1000000", "-o", str(tmp_path / "d.txt")],
                         "unknown file type '.txt'", capsys, [tmp_path / "d.txt"])  # at once, not after a minute
    expect_clean_failure(["data", "prontoqa", "--n", "3", "-o", str(tmp_path)], "is a folder", capsys)
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps(PRONTO) + "\n")
    expect_clean_failure(["data", "prontoqa", "--n", "3", "--exclude", str(data), "-o", str(data)],
                         "this output is also an input", capsys)
    assert json.loads(data.read_text()) == PRONTO


def test_generators_stop_soon_when_the_questions_run_out(monkeypatch):
    from latentsearch.tasks import prosqa_gen

    monkeypatch.setattr(gen, "generate_record", lambda rng, config: dict(PRONTO))
    with pytest.raises(ValueError, match="found only 1 distinct new questions of the 5"):
        gen.generate(5)
    record = prosqa_gen.generate(1)[0]
    monkeypatch.setattr(prosqa_gen, "generate_record", lambda rng, config: record)
    with pytest.raises(ValueError, match="found only 1 distinct new questions of 5"):  # was a RuntimeError
        prosqa_gen.generate(5)


def test_data_stats_gives_every_file_a_column_and_names_the_bad_one(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "val.jsonl").write_text(json.dumps(PRONTO) + "\n")
    a, b = str(tmp_path / "a" / "val.jsonl"), str(tmp_path / "b" / "val.jsonl")
    assert main(["data", "stats", a, b]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"| | {a} | {b} |"  # two columns, not one
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(changed(answer="Yes")) + "\n")
    expect_clean_failure(["data", "stats", a, str(bad), b], "bad.jsonl, line 1", capsys)
    expect_clean_failure(["data", "stats", a, a], "is given twice", capsys)


# ----------------------------------------------------------------------------- drills


@pytest.mark.parametrize("extra, fragment", [
    (["--drill", "nope"], "task prontoqa has no drill 'nope'; choose from copy, subject"),
    (["--drill", "copy", "--drill-share", "0"], "drill_share must be in (0, 1]"),
    (["--drill", "copy", "--drill-share", "1.5"], "drill_share must be in (0, 1]"),
    (["--drill", "copy", "--drill-share", "nan"], "argument --drill-share: must be a finite number"),
    (["--drill", "copy", "--drill-epochs", "-1"], "argument --drill-epochs: must be in [0,"),
    (["--drill-share", "0.2"], "name one with drill (--drill)"),  # not silently ignored
    (["--drill-epochs", "2"], "name one with drill (--drill)"),
])
def test_bad_drills(extra, fragment, tmp_path, capsys):
    data = tmp_path / "pq.jsonl"
    data.write_text(json.dumps(PRONTO) + "\n")
    out = tmp_path / "run"
    expect_clean_failure(["train", "--train", str(data), "-o", str(out), *extra], fragment, capsys, [out])
    if extra[:2] == ["--drill", "nope"]:  # a ProsQA file has no drills at all
        expect_clean_failure(["train", "--train", GOOD, "-o", str(out), "--drill", "copy"],
                             "task prosqa has no drill 'copy'; it has none", capsys, [out])


# ----------------------------------------------------------------------------- eval --search and --value


@pytest.mark.parametrize("spec, fragment", [
    ("vote:", "vote takes an argument"), ("vote:-1", "search 'vote:-1': expected a count from 1 to 4096"),
    ("beam:1e9", "search 'beam:1e9': expected a count"), ("anytime:0", "search 'anytime:0': expected a count"),
    ("vote:３", "expected a count"), ("vote: 3", "expected a count"), ("vöte:3", "unknown search 'vöte:3'"),
    ("adaptive:mass:2", "the mass threshold must be in [0, 1]"), ("adaptive:entropy:-1", "must be >= 0"),
])
def test_odd_search_specs(spec, fragment, capsys):
    expect_clean_failure(["eval", COCONUT, GOOD, "--search", spec], fragment, capsys)


def damaged_value(tmp_path: Path, how: str) -> Path:
    folder = tmp_path / how
    config = {"d_state": 64 if how == "other_model" else 128, "d_model": 32, "layers": 1, "heads": 4,
              "max_thoughts": 64}
    ValueModel(ValueConfig(**config)).save(folder, {})
    if how == "truncated":
        data = (folder / "value.safetensors").read_bytes()
        (folder / "value.safetensors").write_bytes(data[: len(data) // 3])
    elif how == "no_weights":
        (folder / "value.safetensors").unlink()
    elif how in ("huge", "bool"):
        config.update({"d_model": 400_000_000, "heads": 1} if how == "huge" else {"layers": True})
        (folder / "value.json").write_text(json.dumps({"config": config}))
    return folder


@pytest.mark.parametrize("how, fragment", [
    ("truncated", "cannot load the value model (Error while deserializing header"),
    ("no_weights", "not a value model folder (value.safetensors is missing)"),
    ("huge", "MemoryBudgetError: the value model of"),  # refused before building it
    ("bool", "bad value-model config"),
    ("other_model", "the value model reads thoughts of size 64, but this model's are of size 128"),
])
def test_damaged_value_models(how, fragment, tmp_path, capsys):
    folder = damaged_value(tmp_path, how)
    expect_clean_failure(["eval", COCONUT, GOOD, "--search", "weighted-vote:2", "--value", str(folder)], fragment,
                         capsys)


# ----------------------------------------------------------------------------- the Python API


@pytest.fixture(scope="module")
def coconut():
    return ls.load("prosqa-coconut")


@pytest.mark.parametrize("spec", ["", None, 5])
def test_api_load_refuses_what_is_not_a_model_name(spec):
    with pytest.raises(CheckpointError, match="a model is a shipped name"):
        ls.load(spec)


def test_api_refuses_bad_questions_data_and_settings_with_our_errors(coconut, tmp_path):
    question = "Tom is a wumpus. Every wumpus is a yumpus. Sam is a zumpus. Is Tom a yumpus or zumpus?"
    for bad, message in (("", "a question is non-empty text"), (None, "think takes a question"),
                         ([], "no records"), ("hello", 'must end with "Is NAME a CONCEPT or CONCEPT')):
        with pytest.raises(DatasetError, match=message):
            coconut.think(bad)
    with pytest.raises(ValueError, match="thoughts must be a count >= 0"):
        coconut.think(question, thoughts=-1)
    with pytest.raises(ValueError, match="top must be a count >= 0"):
        coconut.think(question, top=-1)
    data = tmp_path / "pq.jsonl"
    data.write_text(json.dumps(PRONTO) + "\n")
    with pytest.raises(DatasetError, match=r"^pq\.jsonl, record 0: a prontoqa question"):  # the file, not "data"
        coconut.eval(str(data))
    for kwargs, error, message in (
            ({"data": []}, DatasetError, "no records"),
            ({"data": ["a question"]}, DatasetError, "record 0: expected a Record"),
            ({"data": GOOD, "thoughts": "x"}, ValueError, "thoughts must be a count"),
            ({"data": GOOD, "batch_size": 0}, ValueError, "batch_size must be a positive integer"),
            ({"data": GOOD, "search": "vote:2", "bogus": 1}, ValueError, "eval has no option 'bogus'"),
            ({"data": GOOD, "search": 8}, ValueError, "a search SPEC is a string")):
        with pytest.raises(error, match=message):
            coconut.eval(**kwargs)
    with pytest.raises(ValueError, match="probe needs thoughts >= 1"):
        coconut.probe(GOOD, thoughts=-1)
    with pytest.raises(ValueError, match="exceed the model's context of 512"):
        coconut.search("Rex wumpus", max_new_tokens=10**6)
    with pytest.raises(ValueError, match="max_new_tokens must be a positive integer"):
        coconut.search("Rex wumpus", max_new_tokens="x")


def test_api_prontoqa_question_needs_its_query():
    from latentsearch.tasks import get

    with pytest.raises(DatasetError, match='the question must end with "True or false: <sentence>"'):
        get("prontoqa").question_record("Every wumpus is bright. Max is a wumpus.")
    assert get("prontoqa").question_record(PRONTO["question"]).task == "prontoqa"
