"""The GPU speed-ups (accel.py) change no result: bf16 stays close, compiled passes equal eager ones."""

import pytest
import torch

from latentsearch import accel
from latentsearch.data.examples import encode_record
from latentsearch.latent.thoughts import latent_generate
from latentsearch.methods import Curriculum, Recipe
from latentsearch.train.config import TrainConfig
from latentsearch.train.loss import ItemLoss, collate
from latentsearch.train.trainer import Trainer
from test_coconut import CODEC, coconut_config, tiny


@pytest.fixture(scope="module")
def latent_batch(small_records):
    recipe = Recipe.of("coconut", CODEC, Curriculum(max_stage=2))
    items = [recipe.item(encode_record(r, CODEC), stage) for r, stage in zip(small_records[:6], (0, 1, 2, 1, 2, 2))]
    return recipe, collate(items, CODEC.pad_id, recipe.special.thought)


def test_bf16_loss_is_close_to_fp32_and_trains(latent_batch):
    _, batch = latent_batch
    model = tiny()
    exact = ItemLoss(model)(batch)
    with accel.autocast("cpu", "bf16"):
        low = ItemLoss(model)(batch)
    assert low.dtype == torch.float32  # the loss itself stays float32
    torch.testing.assert_close(low, exact, rtol=3e-2, atol=0)
    low.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_compiled_passes_equal_eager_ones(latent_batch):
    recipe, batch = latent_batch
    model = tiny().eval()
    prompts = [row[mask.bool()].tolist() for row, mask in zip(batch["prefix_ids"], batch["prefix_mask"])]
    counts, after = batch["n_thoughts"].tolist(), [recipe.special.eot]
    eager_loss = ItemLoss(model)(batch)
    eager = latent_generate(model, prompts, counts, after, CODEC.eos_id, CODEC.pad_id, 6)
    keys = set(model.state_dict())
    accel.compile_passes(model, "default", backend="aot_eager")  # dynamo's capture, without code generation
    torch.testing.assert_close(ItemLoss(model)(batch), eager_loss, rtol=1e-5, atol=1e-5)
    compiled = latent_generate(model, prompts, counts, after, CODEC.eos_id, CODEC.pad_id, 6)
    assert compiled[0] == eager[0]
    for a, b in zip(compiled[1], eager[1]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert set(model.state_dict()) == keys  # checkpoints save the same tensors


def test_training_in_bf16_and_bad_settings(one_hop, tmp_path):
    trainer = Trainer(coconut_config(one_hop, tmp_path / "run", epochs=1, precision="bf16"), progress_bar=False)
    summary = trainer.run()
    assert 0 <= summary["accuracy"] <= 1 and (tmp_path / "run" / "best" / "model.safetensors").is_file()
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        coconut_config(one_hop, tmp_path / "x", precision="fp16")
    with pytest.raises(ValueError, match="unknown compile mode 'fast'"):
        coconut_config(one_hop, tmp_path / "x", compile="fast")


def test_a_run_saved_before_these_fields_still_resumes(one_hop, tmp_path):
    config = coconut_config(one_hop, tmp_path / "run")
    saved = {k: v for k, v in config.to_dict().items() if k not in ("precision", "compile")}
    assert config.differences(saved) == []
    assert TrainConfig(**{**config.to_dict(), "precision": "bf16"}).differences(saved) == ["precision"]
