import pytest
import torch

from latentsearch.data.tokenizer import Codec
from latentsearch.decode import greedy_batch, greedy_generate
from latentsearch.models import checkpoint as ckpt
from latentsearch.models.factory import FAMILIES, ModelConfig, build_model


def tiny(family: str, vocab: int = 40):
    return build_model(ModelConfig(family=family, n_layer=2, d_model=32, n_head=2), vocab, 0, 1, seed=3).eval()


def random_prompts(n: int, vocab: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, 9, (n,), generator=g).tolist()
    return [torch.randint(2, vocab, (k,), generator=g).tolist() for k in lengths]


@pytest.mark.parametrize("family", FAMILIES)
def test_greedy_matches_transformers_generate(family):
    model = tiny(family)
    for prompt in random_prompts(4, 40):
        ours = greedy_batch(model, [prompt], eos_id=1, pad_id=0, max_new_tokens=12)[0]
        theirs = model.generate(torch.tensor([prompt]), max_new_tokens=12, do_sample=False, eos_token_id=1,
                                pad_token_id=0)[0, len(prompt):].tolist()
        assert ours == theirs[: len(ours)] and (len(ours) == len(theirs) or ours[-1] == 1)


@pytest.mark.parametrize("family", FAMILIES)
def test_batched_rows_equal_single_rows(family):
    model = tiny(family)
    prompts = random_prompts(6, 40, seed=1)
    batched = greedy_generate(model, prompts, eos_id=1, pad_id=0, max_new_tokens=10, batch_size=6)
    alone = [greedy_batch(model, [p], eos_id=1, pad_id=0, max_new_tokens=10)[0] for p in prompts]
    assert batched == alone


@pytest.mark.parametrize("family", FAMILIES)
def test_checkpoint_round_trip(tmp_path, family):
    codec = Codec.build("symbolic")
    model = build_model(ModelConfig(family=family, d_model=32, n_head=2), len(codec), codec.pad_id, codec.eos_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(input_ids=torch.tensor([[5, 6, 7]]), labels=torch.tensor([[5, 6, 7]])).loss.backward()
    optimizer.step()
    ckpt.save_checkpoint(tmp_path / "c", model, codec, {"step": 1, "method": "cot"}, optimizer=optimizer,
                         state={"step": 1})
    loaded, loaded_codec, meta = ckpt.load_checkpoint(tmp_path / "c")
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    fresh = torch.optim.AdamW(loaded.parameters(), lr=1e-3)
    ckpt.load_optimizer(tmp_path / "c", fresh)
    saved, restored = optimizer.state_dict()["state"], fresh.state_dict()["state"]
    assert saved.keys() == restored.keys()
    for param in saved:
        assert all(torch.equal(saved[param][k], restored[param][k]) for k in saved[param])
    assert meta["step"] == 1 and meta["torch"] == torch.__version__
    assert loaded_codec.vocab == codec.vocab
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob("*.old"))


def test_checkpoint_missing_file_is_a_clear_error(tmp_path):
    codec = Codec.build("symbolic")
    model = build_model(ModelConfig(d_model=32, n_head=2), len(codec), codec.pad_id, codec.eos_id)
    ckpt.save_checkpoint(tmp_path / "c", model, codec, {})
    (tmp_path / "c" / "tokenizer.json").unlink()
    with pytest.raises(ckpt.CheckpointError, match="missing tokenizer.json"):
        ckpt.load_checkpoint(tmp_path / "c")


def test_model_config_rejects_bad_values():
    with pytest.raises(ValueError, match="family"):
        ModelConfig(family="bert")
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig(d_model=30, n_head=4)
