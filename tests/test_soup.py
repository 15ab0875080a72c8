"""scripts/soup.py: weight averages of a checkpoint and its fine-tuned descendant."""

import importlib.util
from pathlib import Path

import pytest
import torch

from latentsearch.models.factory import ModelConfig, build_model

spec = importlib.util.spec_from_file_location("soup", Path(__file__).parents[1] / "scripts" / "soup.py")
soup_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soup_script)


def tiny(vocab: int, seed: int, layers: int = 2):
    return build_model(ModelConfig(family="gpt2", n_layer=layers, d_model=32, n_head=2), vocab, 0, 1, seed=seed)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_soup_averages_shared_weights_and_keeps_the_new_words(alpha):
    parent, child = tiny(40, seed=0), tiny(50, seed=1)
    a, b = parent.state_dict(), {k: v.clone() for k, v in child.state_dict().items()}
    soup_script.soup(parent, child, alpha)
    mixed = child.state_dict()  # GPT-2 ties the unembedding to the embedding: averaged once, not twice
    for name, value in mixed.items():
        shared = a[name].shape[0]
        torch.testing.assert_close(value[:shared], (1 - alpha) * a[name] + alpha * b[name][:shared])
        torch.testing.assert_close(value[shared:], b[name][shared:])  # only the embedding has rows past A's
    assert mixed["transformer.wte.weight"].shape[0] == 50


def test_soup_refuses_another_architecture():
    with pytest.raises(SystemExit, match="shape"):
        soup_script.soup(tiny(50, seed=0), tiny(40, seed=1), 0.5)
    with pytest.raises(SystemExit, match="differ in"):
        soup_script.soup(tiny(40, seed=0, layers=1), tiny(40, seed=1, layers=2), 0.5)


def test_the_rows_of_words_a_never_trained_are_taken_from_b():
    parent, child = tiny(40, seed=0), tiny(40, seed=1)
    a, b = parent.state_dict()["transformer.wte.weight"], child.state_dict()["transformer.wte.weight"].clone()
    soup_script.soup(parent, child, 0.5, keep_b=[7, 9])
    mixed = child.state_dict()["transformer.wte.weight"]
    torch.testing.assert_close(mixed[[7, 9]], b[[7, 9]])
    torch.testing.assert_close(mixed[[0, 8, 39]], 0.5 * a[[0, 8, 39]] + 0.5 * b[[0, 8, 39]])
