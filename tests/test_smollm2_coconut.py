"""Coconut on the embedded pretrained LM: text-rendered records through SmolLM2's own tokenizer."""

import pytest

from latentsearch.data.schema import save_records
from latentsearch.methods import Curriculum
from latentsearch.models.factory import ModelConfig
from latentsearch.tasks.prosqa_gen import ProsQAConfig, generate
from latentsearch.train.config import TrainConfig
from latentsearch.train.trainer import Trainer

pytestmark = pytest.mark.slow


def test_coconut_steps_and_batched_latent_inference_on_smollm2(tmp_path):
    pytest.importorskip("gguf")
    records = generate(12, seed=3, config=ProsQAConfig.sized(nodes=6, depth=2))
    save_records(records[:8], tmp_path / "train.jsonl")
    save_records(records[8:], tmp_path / "val.jsonl")
    config = TrainConfig(train=str(tmp_path / "train.jsonl"), val=str(tmp_path / "val.jsonl"),
                         out=str(tmp_path / "run"), method="coconut", rendering="text", init="smollm2",
                         model=ModelConfig(), epochs=2, batch_size=4, lr=1e-5, warmup_steps=1,
                         curriculum=Curriculum(epochs_per_stage=1, max_stage=1))
    trainer = Trainer(config, progress_bar=False)
    assert trainer.codec.open and trainer.recipe.special.bot >= 49152  # added to SmolLM2's vocabulary
    before = trainer.model.get_input_embeddings().weight.detach().clone()
    summary = trainer.run()  # epoch 1 in language (stage 0), epoch 2 with one thought per question
    assert trainer.state.step == 4
    assert not before.equal(trainer.model.get_input_embeddings().weight.detach())
    assert summary["n"] == 4 and summary["thoughts_per_answer"] == 1  # batched latent inference ran
    assert (tmp_path / "run" / "best" / "model.safetensors").is_file()
