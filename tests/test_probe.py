"""Probes: the logit lens against the model's own logits, BFS classes, path classes, the probe CLI."""

import json

import pytest
import torch

from conftest import graph_record
from latentsearch.cli import main
from latentsearch.decode import prefill
from latentsearch.latent.thoughts import think
from latentsearch.models.factory import FAMILIES, ModelConfig, build_model
from latentsearch.probe.frontier import frontier_mass, node_classes
from latentsearch.probe.lens import lens_logits, read
from latentsearch.tasks import get
from latentsearch.tasks.prosqa import walk_reachable

# root 0 -> 1 -> 3 -> 4 (target); 0 -> 2 -> 3; 5 unreachable (neg target); 6 -> 5
RECORD = graph_record(["Tom", "a", "b", "c", "d", "e", "Sam"], [(0, 1), (1, 3), (3, 4), (0, 2), (2, 3), (6, 5)],
                      root=0, target=4, neg_target=5, path=[1, 3, 4])
PROSQA = get("prosqa")
GRAPH = PROSQA.graph(RECORD)


@pytest.mark.parametrize("family", FAMILIES)
def test_last_layer_lens_equals_the_model_logits(family):
    model = build_model(ModelConfig(family=family, n_layer=2, d_model=32, n_head=2), 40, 0, 1, seed=0).eval()
    prompt = [5, 6, 7, 8]
    with torch.no_grad():
        state = think(model, prefill(model, [prompt], 0), [2])
        plain = model(input_ids=torch.tensor([prompt])).logits[0, -1]
        hidden = model(input_ids=torch.tensor([prompt]), output_hidden_states=True).hidden_states
    torch.testing.assert_close(lens_logits(model, state.thoughts[0, 0]), plain, atol=1e-5, rtol=0)
    torch.testing.assert_close(lens_logits(model, state.hidden), state.logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(lens_logits(model, hidden[-1][0, -1]), plain, atol=1e-5, rtol=0)
    # an earlier layer gets the final norm first, so its reading differs from the raw product
    assert not torch.allclose(lens_logits(model, hidden[1][0, -1], last_layer=False),
                              model.get_output_embeddings()(hidden[1][0, -1]))


def test_lens_reading_entropy_and_top_mass():
    reading = read(torch.log(torch.tensor([[0.5, 0.25, 0.25]])), k=2)[0]
    assert reading.top_ids[0] == 0 and reading.top_mass == pytest.approx(0.75)
    assert reading.entropy == pytest.approx(1.5 * torch.log(torch.tensor(2.0)).item())


def test_bfs_classes_and_mass():
    assert node_classes(GRAPH, 1) == {"frontier": [1, 2], "reached": [0], "later": [3, 4], "unreachable": [5, 6]}
    probs = torch.zeros(10)
    probs[torch.tensor([3, 4])] = torch.tensor([0.4, 0.2])  # nodes 1 and 2 as tokens 3, 4
    tokens = [[t] for t in range(2, 9)]
    mass = frontier_mass(probs, GRAPH, 1, tokens)
    assert mass.total["frontier"] == pytest.approx(0.6) and mass.per_node["frontier"] == pytest.approx(0.3)
    probs[6] = 0.3  # the target (node 4, token 6) counts on its own, not in "later"
    mass = frontier_mass(probs, GRAPH, 1, tokens)
    assert mass.total["target"] == pytest.approx(0.3) and mass.total["later"] == 0.0
    assert walk_reachable(RECORD, 2) == {3}


def test_path_classes():
    path_class = lambda k, steps, correct: PROSQA.path_class(RECORD, k, steps, correct)  # noqa: E731
    assert path_class(0, "a c d", True) == "correct path"
    assert path_class(1, "c d", True) == "correct path"  # after one thought, from a child of the root
    assert path_class(0, "Tom is a a. Every a is a c.", False) == "wrong target"  # the text rendering too
    assert path_class(0, "a d", False) == "hallucination"  # a -> d is not an edge
    assert path_class(2, "a c d", True) == "hallucination"  # does not start after two steps
    assert path_class(0, "", True) == "correct label" and path_class(0, " ", False) == "incorrect label"
    assert path_class(0, "a zz", False) == "hallucination"  # a word that is no node


def test_probe_cli_on_a_coconut_checkpoint(tmp_path, capsys, small_records):
    from latentsearch.data.schema import save_records
    from latentsearch.data.tokenizer import Codec
    from latentsearch.models import checkpoint as ckpt

    codec = Codec.build("symbolic")
    model = build_model(ModelConfig(d_model=32, n_head=2), len(codec), codec.pad_id, codec.eos_id, seed=0)
    ckpt.save_checkpoint(tmp_path / "c", model, codec, {"method": "coconut", "stage": 7})
    save_records(small_records[:6], tmp_path / "q.json")
    assert main(["probe", str(tmp_path / "c"), str(tmp_path / "q.json"), "--thoughts", "2", "-o",
                 str(tmp_path / "p")]) == 0
    result = json.loads((tmp_path / "p" / "probe.json").read_text())
    assert result["n"] == 6 and len(result["frontier"]) == 2 and set(result["path_classes"]) == {"0", "1", "2"}
    assert len(result["questions"][0]["thoughts"][1]["top"]) == 5
    assert (tmp_path / "p" / "frontier_mass.png").stat().st_size > 1000
    for k in ("0", "1", "2"):
        assert sum(result["path_classes"][k].values()) == pytest.approx(1.0)
    import latentsearch as ls  # how far each thought moved, against the thoughts the API hands back
    thoughts = ls.load(str(tmp_path / "c")).think(small_records[:1], thoughts=2)[0].thoughts
    moved = torch.nn.functional.cosine_similarity(thoughts[1], thoughts[0], dim=0)
    first, second = result["questions"][0]["thoughts"]
    assert first["cosine_to_previous"] is None and second["cosine_to_previous"] == pytest.approx(float(moved), abs=1e-5)
    assert result["frontier"][1]["cosine_to_previous"] == pytest.approx(
        sum(q["thoughts"][1]["cosine_to_previous"] for q in result["questions"]) / 6)
    cot = tmp_path / "cot"
    ckpt.save_checkpoint(cot, model, codec, {"method": "cot"})
    assert main(["probe", str(cot), str(tmp_path / "q.json"), "-o", str(tmp_path / "p2")]) == 2
    assert "no continuous thoughts" in capsys.readouterr().err


def test_probe_thinks_as_long_as_eval_by_default(tmp_path, capsys, small_records):
    """Without --thoughts, probe reads the checkpoint's own thought count, the one eval answers with."""
    from latentsearch.data.schema import save_records
    from latentsearch.data.tokenizer import Codec
    from latentsearch.models import checkpoint as ckpt

    codec = Codec.build("symbolic")
    model = build_model(ModelConfig(d_model=32, n_head=2), len(codec), codec.pad_id, codec.eos_id, seed=0)
    ckpt.save_checkpoint(tmp_path / "c", model, codec,
                         {"method": "coconut", "stage": 4, "curriculum": {"max_stage": 3}})
    save_records(small_records[:4], tmp_path / "q.json")
    assert main(["eval", str(tmp_path / "c"), str(tmp_path / "q.json")]) == 0
    eval_thoughts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["thoughts_per_answer"]
    assert main(["probe", str(tmp_path / "c"), str(tmp_path / "q.json"), "--no-plots", "--trees", "0",
                 "-o", str(tmp_path / "p")]) == 0
    result = json.loads((tmp_path / "p" / "probe.json").read_text())
    assert result["thoughts"] == eval_thoughts == 3 and len(result["frontier"]) == 3


def test_probe_without_the_plot_extra_writes_its_json_and_says_why_no_figures(tmp_path, monkeypatch, capsys):
    """Without matplotlib a probe (or reproduce's last phase, hours in) used to end in an ImportError."""
    import importlib.util

    from latentsearch.probe import plots, run

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else
                        real_find_spec(name, *a))
    assert plots.plot_libraries_missing() == ["matplotlib"]
    written = run.write_probe({"accuracy": 1.0, "frontier": []}, tmp_path / "p")
    assert written == [tmp_path / "p" / "probe.json"]
    assert sorted(f.name for f in (tmp_path / "p").iterdir()) == ["probe.json"]
    assert "matplotlib not installed" in capsys.readouterr().err


def test_search_tree_without_the_plot_extra_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    from latentsearch.probe import plots

    monkeypatch.setattr(plots, "plot_libraries_missing", lambda: ["networkx"])
    tree = tmp_path / "t.svg"
    assert main(["search", "--model", str(tmp_path / "no-such-model"), "--tree", str(tree), "Rex"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--tree needs networkx" in err and "latentsearch[plot]" in err
    assert not tree.exists()
