"""The Coconut family: curriculum items, the latent training loss, and training through thoughts."""

import json
import random

import pytest
import torch

from latentsearch.cli import main
from latentsearch.data.examples import IGNORE, encode_record
from latentsearch.data.tokenizer import Codec
from latentsearch.methods import Curriculum, Item, Recipe
from latentsearch.models.checkpoint import load_checkpoint
from latentsearch.models.factory import ModelConfig, build_model
from latentsearch.train.loss import ItemLoss, collate, target_tokens
from latentsearch.train.trainer import Trainer
from test_train import config_for

CODEC = Codec.build("symbolic")


@pytest.fixture(scope="module")
def example(small_records):
    return encode_record(next(r for r in small_records if len(r.steps) == 2), CODEC)


def test_coconut_stage_k_replaces_the_first_k_steps(example):
    recipe = Recipe.of("coconut", CODEC, Curriculum(thoughts_per_step=2, max_stage=1))
    bot, eot = recipe.special.bot, recipe.special.eot
    s0, s1, final = (recipe.item(example, stage) for stage in (0, 1, 2))
    assert s0 == Item(example.question + (bot,), 0, (eot,), example.steps[0] + example.steps[1] + example.answer)
    assert s1 == Item(example.question + (bot,), 2, (eot,), example.steps[1] + example.answer)
    assert final == Item(example.question + (bot,), 2, (eot,), example.answer)  # all steps latent past the last stage
    assert [recipe.stage(e) for e in range(14)] == [0] * 5 + [1] * 5 + [2] * 4


def test_a_continuation_can_start_and_stay_at_one_stage():
    held = Recipe.of("coconut", CODEC, Curriculum(max_stage=6, start_stage=5, epochs_per_stage=100))
    assert [held.stage(e) for e in range(3)] == [5, 5, 5]
    onward = Recipe.of("coconut", CODEC, Curriculum(max_stage=6, start_stage=5, epochs_per_stage=1))
    assert [onward.stage(e) for e in range(4)] == [5, 6, 7, 7]
    with pytest.raises(ValueError, match="start_stage must be in"):
        Curriculum(max_stage=6, start_stage=8)


def test_thought_count_past_the_last_stage(example):
    padded = Recipe.of("coconut", CODEC, Curriculum(max_stage=4))
    unpadded = Recipe.of("coconut", CODEC, Curriculum(max_stage=4, pad_thoughts=False))
    assert padded.item(example, 5).n_thoughts == 4 and unpadded.item(example, 5).n_thoughts == 2


def test_thoughts_cover_deep_questions_and_extra_thoughts_are_drawn(example):
    deep = Recipe.of("coconut", CODEC, Curriculum(max_stage=1, cover_steps=True))
    assert deep.item(example, 2).n_thoughts == 2  # two steps, more than max_stage
    extra = Recipe.of("coconut", CODEC, Curriculum(max_stage=1, extra_thoughts=2))
    rng = random.Random(0)
    assert {extra.item(example, 2, rng).n_thoughts for _ in range(60)} == {1, 2, 3}
    assert extra.prompt_item(example, 2).n_thoughts == 1  # evaluation draws none


def test_ablations_and_pause(example):
    curriculum = Curriculum(max_stage=2, pause_tokens=3)
    sp = Recipe.of("cot", CODEC).special
    pause_as_thought = Recipe.of("pause-as-thought", CODEC, curriculum).item(example, 1)
    assert pause_as_thought.n_thoughts == 0 and pause_as_thought.after == (sp.pause, sp.eot)
    no_thought = Recipe.of("coconut-no-thought", CODEC, curriculum).item(example, 1)
    assert no_thought.n_thoughts == 0 and no_thought.target == example.steps[1] + example.answer
    no_curriculum = Recipe.of("coconut-no-curriculum", CODEC, curriculum)
    assert no_curriculum.stage(0) == 3 and no_curriculum.item(example, 3).target == example.answer
    pause = Recipe.of("pause", CODEC, curriculum).item(example, 0)
    assert pause == Item(example.question, 0, (sp.pause,) * 3, example.answer)


def test_stage_mixing_draws_random_stages(example):
    recipe = Recipe.of("coconut", CODEC, Curriculum(max_stage=2, mix_prob=1.0))
    rng = random.Random(0)
    thoughts = {recipe.item(example, 3, rng).n_thoughts for _ in range(50)}
    assert thoughts == {0, 1, 2}  # stages 0..len(steps), whatever the scheduled stage


def test_cot_with_stage_mixing_trains_some_examples_as_coconut(example):
    """CoT's --mix-prob: a mixed example trains as Coconut's stage k, k drawn from 0 (the plain proof) to its steps."""
    recipe = Recipe.of("cot", CODEC, Curriculum(max_stage=2, mix_prob=0.5))
    coconut = Recipe.of("coconut", CODEC, Curriculum(max_stage=2))
    plain = Recipe.of("cot", CODEC).item(example, 0)
    rng = random.Random(0)
    drawn = [recipe.item(example, recipe.stage(0), rng) for _ in range(200)]
    assert set(drawn) == {plain, coconut.item(example, 1), coconut.item(example, 2)}
    assert 0.5 < drawn.count(plain) / len(drawn) < 0.8  # 1/2 unmixed + 1/2 of the mixed at stage 0
    assert recipe.prompt_item(example, recipe.stage(0)) == Item(example.question, 0, (), ())  # decoding is CoT's


def test_prompt_item_drops_the_target_and_can_change_the_thought_count(example):
    recipe = Recipe.of("coconut", CODEC)
    item = recipe.prompt_item(example, recipe.curriculum.final_stage, n_thoughts=3)
    assert item.target == () and item.n_thoughts == 3
    assert Recipe.of("cot", CODEC).prompt_item(example, 0, n_thoughts=3).n_thoughts == 0


def tiny(family="gpt2"):
    return build_model(ModelConfig(family=family, n_layer=2, d_model=32, n_head=2), len(CODEC), CODEC.pad_id,
                       CODEC.eos_id, seed=0)


def reference_loss(model, item: Item) -> torch.Tensor:
    """Thoughts computed by re-running the whole prefix (no cache), then one pass over everything."""
    embed = model.get_input_embeddings()
    embeds = embed(torch.tensor([item.prompt]))
    for _ in range(item.n_thoughts):
        last = model.base_model(inputs_embeds=embeds).last_hidden_state[:, -1:]
        embeds = torch.cat([embeds, last], dim=1)
    embeds = torch.cat([embeds, embed(torch.tensor([item.after + item.target]))], dim=1)
    logits = model(inputs_embeds=embeds).logits[0, :-1]
    labels = torch.tensor([IGNORE] * (len(item) - len(item.target)) + list(item.target))[1:]
    return torch.nn.functional.cross_entropy(logits, labels, ignore_index=IGNORE, reduction="sum")


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
def test_latent_loss_equals_recompute_reference(small_records, family):
    recipe, model = Recipe.of("coconut", CODEC, Curriculum(max_stage=1)), tiny(family)
    items = [recipe.item(encode_record(r, CODEC), stage) for r, stage in zip(small_records[:4], (0, 1, 2, 1))]
    batch = collate(items, CODEC.pad_id, recipe.special.thought)
    assert "prefix_ids" in batch and target_tokens(batch) == sum(len(i.target) for i in items)
    loss = ItemLoss(model)(batch)
    expected = sum(reference_loss(model, item) for item in items)
    torch.testing.assert_close(loss, expected, atol=1e-4, rtol=1e-5)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    ref_grads = torch.autograd.grad(expected, list(model.parameters()))
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r, atol=1e-4, rtol=1e-4)


def test_plain_batch_loss_equals_the_hf_loss(small_records):
    recipe, model = Recipe.of("cot", CODEC), tiny()
    items = [recipe.item(encode_record(r, CODEC), 0) for r in small_records[:4]]
    batch = collate(items, CODEC.pad_id, recipe.special.thought)
    mean = ItemLoss(model)(batch) / target_tokens(batch)
    torch.testing.assert_close(mean, model(input_ids=batch["ids"], labels=batch["labels"]).loss)


def coconut_config(data, out, **overrides):
    settings = {"method": "coconut", "curriculum": Curriculum(epochs_per_stage=1, max_stage=1), **overrides}
    return config_for(data, out, **settings)


def test_coconut_learns_through_thoughts_and_evaluates(one_hop, tmp_path, capsys):
    summary = Trainer(coconut_config(one_hop, tmp_path / "run", epochs=4), progress_bar=False).run()
    assert summary["accuracy"] >= 0.9 and summary["thoughts_per_answer"] == 1, summary
    meta = json.loads((tmp_path / "run" / "best" / "meta.json").read_text())
    assert meta["method"] == "coconut" and meta["stage"] == 2
    assert main(["eval", str(tmp_path / "run" / "best"), str(one_hop / "val.jsonl"), "--thoughts", "2"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["thoughts_per_answer"] == 2 and printed["stage"] == 2


@pytest.mark.parametrize("keep", [False, True])
def test_optimizer_resets_when_the_stage_changes(one_hop, tmp_path, keep):
    config = coconut_config(one_hop, tmp_path / "run", epochs=2, val="",
                            curriculum=Curriculum(epochs_per_stage=1, max_stage=1, reset_optimizer=not keep))
    trainer = Trainer(config, progress_bar=False)
    trainer.run()
    adam_steps = next(iter(trainer.optimizer.state.values()))["step"].item()
    assert adam_steps == trainer.steps_per_epoch * (2 if keep else 1)


def test_resume_across_a_stage_change_equals_uninterrupted(one_hop, tmp_path):
    settings = dict(epochs=3, val="", save_every=7)
    Trainer(coconut_config(one_hop, tmp_path / "full", **settings), progress_bar=False).run()
    Trainer(coconut_config(one_hop, tmp_path / "cut", **settings), progress_bar=False).run(until_epoch=1)
    Trainer(coconut_config(one_hop, tmp_path / "cut", **settings), resume=True, progress_bar=False).run()
    a, _, _ = load_checkpoint(tmp_path / "full" / "checkpoint")
    b, _, _ = load_checkpoint(tmp_path / "cut" / "checkpoint")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
