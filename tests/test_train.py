"""End-to-end: train -> checkpoint -> eval on a task a tiny model learns in seconds; resume."""

import json

import pytest
import torch

from latentsearch.cli import main
from latentsearch.models.checkpoint import load_checkpoint
from latentsearch.models.factory import ModelConfig
from latentsearch.train.config import TrainConfig
from latentsearch.train.trainer import Trainer


def config_for(data, out, **overrides) -> TrainConfig:
    settings = dict(train=str(data / "train.jsonl"), val=str(data / "val.jsonl"), out=str(out), method="nocot",
                    model=ModelConfig(n_layer=2, d_model=64, n_head=4, max_positions=64), epochs=4,
                    batch_size=32, lr=3e-3, warmup_steps=20, val_limit=200)
    return TrainConfig(**{**settings, **overrides})


def test_train_then_eval_beats_chance(one_hop, tmp_path, capsys):
    summary = Trainer(config_for(one_hop, tmp_path / "run"), progress_bar=False).run()
    assert summary["accuracy"] >= 0.9, summary  # a coin flip between the candidates scores 0.5
    assert main(["eval", str(tmp_path / "run" / "best"), str(one_hop / "val.jsonl"),
                 "--output", str(tmp_path / "rows.jsonl")]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["accuracy"] >= 0.9
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 200 and {"output", "predicted", "exact", "flexible"} <= rows[0].keys()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["method"] == "nocot"
    losses = [json.loads(line)["val_loss"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
              if "val_loss" in line]
    assert len(losses) == 4 and losses[-1] < losses[0] < 2.0  # per target token: the answer and <eos>


def test_resume_equals_uninterrupted(one_hop, tmp_path):
    full = Trainer(config_for(one_hop, tmp_path / "full", epochs=2, val=""), progress_bar=False)
    full.run()
    Trainer(config_for(one_hop, tmp_path / "cut", epochs=2, val=""), progress_bar=False).run(until_epoch=1)
    resumed = Trainer(config_for(one_hop, tmp_path / "cut", epochs=2, val=""), resume=True, progress_bar=False)
    assert resumed.state.epoch == 1
    resumed.run()
    a, _, _ = load_checkpoint(tmp_path / "full" / "checkpoint")
    b, _, _ = load_checkpoint(tmp_path / "cut" / "checkpoint")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


def test_cot_sequences_put_loss_on_steps_and_answer(small_records):
    from latentsearch.data.examples import IGNORE, encode_record
    from latentsearch.data.tokenizer import Codec
    from latentsearch.methods import Recipe

    codec = Codec.build("symbolic")
    example = encode_record(small_records[0], codec)
    cot, nocot = (Recipe.of(m, codec).item(example, 0).flat(0) for m in ("cot", "nocot"))
    n_q = len(example.question)
    assert cot.labels[:n_q] == (IGNORE,) * n_q and IGNORE not in cot.labels[n_q:]
    assert len(cot.ids) == len(nocot.ids) + sum(map(len, example.steps))


def test_bad_config_values_are_rejected(tmp_path):
    for bad in ({"lr": float("nan")}, {"epochs": 0}, {"batch_size": -1}, {"method": "magic"}):
        with pytest.raises(ValueError):
            TrainConfig(train="x", out=str(tmp_path), **bad)


def test_text_rendering_trains_too(one_hop, tmp_path):
    summary = Trainer(config_for(one_hop, tmp_path / "text", rendering="text", method="cot"), progress_bar=False).run()
    assert summary["accuracy"] >= 0.9 and summary["valid_path_rate"] >= 0.9, summary


def test_add_layers_grows_the_init_model_without_changing_it(one_hop, tmp_path):
    before = Trainer(config_for(one_hop, tmp_path / "small", epochs=2), progress_bar=False).run()
    source, _, _ = load_checkpoint(tmp_path / "small" / "best")
    grown = Trainer(config_for(one_hop, tmp_path / "grown", epochs=1, lr=1e-3, init=str(tmp_path / "small" / "best"),
                               add_layers=1), progress_bar=False)
    ids = torch.tensor([[5, 6, 7, 8, 9, 10]])
    with torch.no_grad():
        torch.testing.assert_close(grown.model.eval()(ids).logits, source(ids).logits, atol=1e-5, rtol=0)
    summary = grown.run()
    saved, _, _ = load_checkpoint(tmp_path / "grown" / "best")
    assert saved.config.num_hidden_layers == 3
    assert saved.transformer.h[2].mlp.c_proj.weight.abs().sum() > 0  # the new block left the identity
    assert summary["accuracy"] >= before["accuracy"] - 0.02, (before, summary)
    with pytest.raises(ValueError, match="add_layers"):
        config_for(one_hop, tmp_path / "x", add_layers=1)
