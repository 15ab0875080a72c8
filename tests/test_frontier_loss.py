"""Frontier supervision (train/frontier.py): the thought's lens pulled onto the BFS layer it should hold."""

import json

import pytest
import torch

from latentsearch.cli import main
from latentsearch.data.examples import encode_record
from latentsearch.methods import Curriculum, Recipe
from latentsearch.tasks import get
from latentsearch.train.frontier import layer_tokens, with_lens_targets
from latentsearch.train.loss import ItemLoss, collate
from latentsearch.train.trainer import Trainer
from test_coconut import CODEC, coconut_config, reference_loss, tiny

PROSQA = get("prosqa")


def test_layers_are_the_generators_stored_frontiers(small_records):
    for record in small_records[:10]:
        layers = layer_tokens(PROSQA, record, CODEC)
        stored = [[CODEC.token_id(record.idx_to_symbol[v]) for v in frontier] for frontier in record.frontiers]
        assert [sorted(layer) for layer in layers] == [sorted(f) for f in stored]


def test_thought_j_serves_layer_j_over_c_plus_one(small_records):
    record = small_records[0]
    layers = layer_tokens(PROSQA, record, CODEC)
    recipe = Recipe.of("coconut", CODEC, Curriculum(thoughts_per_step=2, max_stage=4))
    item = with_lens_targets(recipe.item(encode_record(record, CODEC), 3), layers, 2)
    assert item.n_thoughts == 6
    assert item.lens_targets == tuple(layers[k] if k < len(layers) else () for k in (1, 1, 2, 2, 3, 3))


def reference_frontier(model, item) -> torch.Tensor:
    """Row alone, every prefix recomputed: -log P_lens(layer tokens) summed over the thoughts."""
    embeds, total = model.get_input_embeddings()(torch.tensor([item.prompt])), torch.zeros(())
    for tokens in item.lens_targets:
        last = model.base_model(inputs_embeds=embeds).last_hidden_state[:, -1:]
        if tokens:
            log_probs = model.get_output_embeddings()(last)[0, 0].log_softmax(-1)
            total = total - log_probs[sorted(set(tokens))].logsumexp(-1)
        embeds = torch.cat([embeds, last], dim=1)
    return total


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_batched_term_equals_rows_alone(small_records, family):
    """Rows of different thought counts (right-aligned in the batch) each read their own thoughts."""
    recipe, model = Recipe.of("coconut", CODEC, Curriculum(max_stage=2)), tiny(family)
    items = [with_lens_targets(recipe.item(encode_record(r, CODEC), stage), layer_tokens(PROSQA, r, CODEC), 1)
             for r, stage in zip(small_records[:4], (1, 3, 0, 2))]
    batch = collate(items, CODEC.pad_id, recipe.special.thought)
    plain = ItemLoss(model)(batch)
    torch.testing.assert_close(plain, sum(reference_loss(model, item) for item in items), atol=1e-4, rtol=1e-5)
    supervised = ItemLoss(model, frontier_weight=0.5)(batch)
    expected = plain + 0.5 * sum(reference_frontier(model, item) for item in items)
    torch.testing.assert_close(supervised, expected, atol=1e-4, rtol=1e-5)
    assert float((expected - plain).detach()) > 0


def test_training_with_it_lowers_the_term(one_hop, tmp_path):
    config = coconut_config(one_hop, tmp_path / "run", epochs=3, val="", log_every=5, frontier_loss=1.0,
                            curriculum=Curriculum(epochs_per_stage=1, max_stage=1))
    Trainer(config, progress_bar=False).run()
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    terms = [line["frontier_nll"] for line in lines if "frontier_nll" in line and line["stage"] > 0]
    assert len(terms) >= 4 and sum(terms[-2:]) < sum(terms[:2]) / 2, terms


def test_it_is_refused_without_thoughts_or_graphs(one_hop, tmp_path, capsys):
    args = ["train", "--train", str(one_hop / "train.jsonl"), "--frontier-loss", "0.5", "--epochs", "1"]
    assert main([*args, "--method", "cot", "-o", str(tmp_path / "a")]) != 0
    assert "has none" in capsys.readouterr().err
    graphless = [{key: record[key] for key in ("question", "steps", "answer")}
                 for record in map(json.loads, (one_hop / "train.jsonl").read_text().splitlines()[:8])]
    (tmp_path / "text.jsonl").write_text("".join(json.dumps(r) + "\n" for r in graphless))
    assert main(["train", "--train", str(tmp_path / "text.jsonl"), "--frontier-loss", "0.5", "--method", "coconut",
                 "-o", str(tmp_path / "b")]) != 0
    err = capsys.readouterr().err
    assert "text.jsonl" in err and "graph" in err and "Traceback" not in err
