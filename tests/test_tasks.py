"""Tasks as plug-ins: the registry, detection, and the second task (ProntoQA) through every part."""

import json

import pytest
import torch

from latentsearch import tasks
from latentsearch.cli import main
from latentsearch.data.examples import encode_record
from latentsearch.data.schema import load_records, parse_record, save_records
from latentsearch.data.tokenizer import Codec
from latentsearch.errors import DatasetError
from latentsearch.models import checkpoint as ckpt
from latentsearch.models.factory import ModelConfig, build_model
from latentsearch.tasks import prontoqa_gen


@pytest.fixture(scope="module")
def pronto():
    task = tasks.get("prontoqa")
    return task.generate(40, seed=5, options=task.generate_options())


def test_the_registry_names_every_task_and_rejects_an_unknown_one_in_one_line(tmp_path, capsys):
    assert {"prosqa", "prontoqa", "text"} <= set(tasks.TASKS)
    with pytest.raises(DatasetError, match="unknown task 'gsm9k'; choose from"):
        tasks.get("gsm9k")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "q", "steps": [], "answer": "a", "task": "gsm9k"}) + "\n")
    assert main(["data", "stats", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: DatasetError: bad.jsonl, line 1: unknown task 'gsm9k'; choose from prontoqa, prosqa, text"]


def test_records_say_or_show_their_task(pronto, small_records):
    assert all(r.task == "prontoqa" for r in pronto) and all(r.task == "prosqa" for r in small_records)
    plain = parse_record({"question": "What is 2 + 2?", "steps": [], "answer": "4"}, "x", 0)
    assert plain.task == "text"
    original = {"question": pronto[0].question, "steps": list(pronto[0].steps), "answer": pronto[0].answer}
    assert parse_record(original, "original generator", 0).task == "prontoqa"  # no graph, no "task": by its text


def test_prontoqa_records_round_trip_and_a_broken_proof_is_refused(pronto, tmp_path):
    save_records(pronto, tmp_path / "p.jsonl")
    assert load_records(tmp_path / "p.jsonl") == pronto
    broken = pronto[0].to_dict()
    broken["answer"] = "True" if broken["answer"] == "False" else "False"
    with pytest.raises(DatasetError, match="record 0: ProntoQA record: the proof gives"):
        parse_record(broken, "p.json", 0)


def test_the_codec_of_a_task_encodes_its_records_and_nothing_else(pronto, small_records):
    codec = Codec.build("text", "prontoqa")
    example = encode_record(pronto[0], codec)
    assert codec.decode(example.question) == pronto[0].question
    assert codec.decode(example.answer) == f"### {pronto[0].answer}"
    with pytest.raises(DatasetError, match="a prosqa question, but the model was trained on prontoqa"):
        from latentsearch.data.examples import encode_records

        encode_records(small_records[:1], codec, "mixed.json")
    with pytest.raises(ValueError, match="task prontoqa has no rendering 'symbolic'"):
        Codec.build("symbolic", "prontoqa")


def test_prontoqa_candidates_scores_and_frontiers(pronto):
    task = tasks.get("prontoqa")
    record = pronto[0]
    candidates = task.candidates(record, "text")
    assert candidates[0] == record.answer and set(candidates) == {"True", "False"}
    assert task.score(record.answer, record, "text") == (True, True)
    assert task.valid_path(" ".join(record.steps), record) is True
    assert task.valid_path(" ".join(record.steps[1:]), record) is False
    # a rule cited in another of its forms is the same fact; a rule the context lacks is not
    held, rule = record.steps[0].split(". ")
    other_form = next(s for s in prontoqa_gen._forms(prontoqa_gen.parse(rule)) if s != rule)
    reworded = [f"{held}. {other_form}", *record.steps[1:]]
    assert task.valid_path(" ".join(reworded), record) is True
    with pytest.raises(ValueError, match="does not state"):
        prontoqa_gen.check_record({**record.to_dict(), "steps": reworded})
    skip = prontoqa_gen.parse(record.steps[1].split(". ")[1])  # the grandparent: an is-a fact no tree states
    leap = prontoqa_gen.say(prontoqa_gen.Fact("isa", prontoqa_gen.parse(rule).subject, skip.value))
    with pytest.raises(ValueError, match="does not state"):
        prontoqa_gen.check_record({**record.to_dict(), "steps": [f"{held}. {leap}", *record.steps[1:]]}, verbatim=False)
    graph = task.graph(record)
    assert graph.root == 0 and len(graph.path) == 6 and graph.path[-1] == record.target  # 5 hops up from the person
    assert "wumpuses" in task.node_words(record, 1) + task.node_words(record, 2) + [
        w for v in range(len(graph.symbols)) for w in task.node_words(record, v)]


def coconut_format(record) -> dict:
    """A record as Coconut's ProntoQA files carry it: their own graph fields (no edges from the person, a
    neg_target and the chain's concepts), no "properties", no "task"."""
    obj = record.to_dict()
    chain = [step.split(". ")[0].split(" ")[-1] for step in record.steps[:-1]]
    return {"question": obj["question"], "steps": obj["steps"], "answer": obj["answer"],
            "idx_to_symbol": obj["idx_to_symbol"], "edges": [e for e in obj["edges"] if e[0] != 0],
            "root": 0, "target": obj["target"], "neg_target": 1, "chain_concepts": chain}


def test_coconut_format_prontoqa_files_load_with_the_ontology_rebuilt_from_their_text(pronto, tmp_path):
    path = tmp_path / "coconut_prontoqa.json"
    path.write_text(json.dumps([coconut_format(r) for r in pronto[:5]]))
    loaded = load_records(path)
    task = tasks.get("prontoqa")
    for ours, theirs in zip(pronto, loaded):
        assert theirs.task == "prontoqa" and theirs.has_graph
        def named(r, nodes):
            return [r.idx_to_symbol[v] for v in nodes]

        assert sorted(map(tuple, (named(theirs, e) for e in theirs.edges))) == sorted(
            map(tuple, (named(ours, e) for e in ours.edges)))  # the person's memberships are back
        assert named(theirs, task.graph(theirs).path) == named(ours, task.graph(ours).path)
        assert task.valid_path(" ".join(ours.steps), theirs) is True
    broken = coconut_format(pronto[0]) | {"question": "Wumpuses are blorpy. " + pronto[0].question}
    path.write_text(json.dumps([broken]))
    with pytest.raises(DatasetError, match=r"record 0: no \"properties\".*blorpy"):
        load_records(path)


def test_a_prontoqa_model_trains_evaluates_and_is_probed_through_the_cli(pronto, tmp_path, capsys):
    save_records(pronto[:30], tmp_path / "train.jsonl")
    save_records(pronto[30:], tmp_path / "val.jsonl")
    assert main(["train", "--method", "coconut", "--train", str(tmp_path / "train.jsonl"), "--val",
                 str(tmp_path / "val.jsonl"), "-o", str(tmp_path / "run"), "--d-model", "32", "--heads", "2",
                 "--layers", "1", "--epochs", "2", "--epochs-per-stage", "1", "--max-stage", "1",
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert (tmp_path / "run" / "best" / "task.txt").read_text().strip() == "prontoqa"
    assert main(["eval", str(tmp_path / "run" / "best"), str(tmp_path / "val.jsonl")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n"] == 10 and 0 <= summary["accuracy"] <= 1
    assert main(["probe", str(tmp_path / "run" / "best"), str(tmp_path / "val.jsonl"), "--thoughts", "2", "--trees",
                 "1", "--figures", "1", "-o", str(tmp_path / "probe")]) == 0
    probe = json.loads((tmp_path / "probe" / "probe.json").read_text())
    assert probe["task"] == "prontoqa" and probe["path_classes"] == {}
    assert probe["questions"][0]["graph"]["candidates"] == [] and (tmp_path / "probe" / "thoughts_q0.svg").is_file()
    assert main(["report", str(tmp_path / "probe"), "-o", str(tmp_path / "r.html")]) == 0


def test_an_old_checkpoint_without_task_txt_is_prosqa(tmp_path):
    codec = Codec.build("symbolic")
    model = build_model(ModelConfig(d_model=32, n_head=2), len(codec), codec.pad_id, codec.eos_id)
    ckpt.save_checkpoint(tmp_path / "c", model, codec, {"method": "cot"})
    (tmp_path / "c" / "task.txt").unlink()
    assert ckpt.load_checkpoint(tmp_path / "c")[1].task == "prosqa"
    torch.manual_seed(0)


def test_drill_steps_come_from_the_context_and_a_subject_drill_names_its_concept_first(pronto):
    import random

    from latentsearch.tasks import prontoqa_gen as gen
    from latentsearch.tasks.prontoqa_drill import context_sentences

    task = tasks.get("prontoqa")
    for record in pronto[:10]:
        context, person = context_sentences(record.question), record.idx_to_symbol[0]
        copied = task.drill("copy", record, random.Random(1))
        assert len(copied) == 3 and all(s in context for step in copied for s in gen.sentences(step))
        subject = task.drill("subject", record, random.Random(1))
        assert subject == task.drill("subject", record, random.Random(1))  # the rng decides everything
        for step in subject:
            named, about = gen.sentences(step)
            member = gen.parse(named)
            assert member.kind == "member" and member.subject == person
            assert about in context and gen.parse(about).subject == member.value


def test_training_drills_a_fresh_share_of_records_each_epoch_and_rejects_an_unknown_drill(pronto, tmp_path, capsys):
    from latentsearch.train.config import TrainConfig
    from latentsearch.train.trainer import Trainer

    save_records(pronto, tmp_path / "train.jsonl")
    model = ModelConfig(n_layer=1, d_model=32, n_head=2)
    config = TrainConfig(train=str(tmp_path / "train.jsonl"), out=str(tmp_path / "run"), model=model,
                         drill="subject", drill_share=0.5, drill_epochs=2)
    trainer = Trainer(config, progress_bar=False)
    drilled = [{i for i, (a, b) in enumerate(zip(trainer._examples(e), trainer.examples)) if a != b}
               for e in range(3)]
    assert 8 <= len(drilled[0]) <= 32 and drilled[0] != drilled[1] and drilled[2] == set()
    again = Trainer(config, progress_bar=False)  # a resumed run draws the same drills
    assert again._examples(0) == trainer._examples(0)
    assert main(["train", "--train", str(tmp_path / "train.jsonl"), "-o", str(tmp_path / "bad"), "--drill", "recite",
                 "--no-progress"]) == 2
    expected = "error: ValueError: task prontoqa has no drill 'recite'; choose from copy, subject"
    assert capsys.readouterr().err.strip() == expected
