"""Stochastic continuous thoughts: on-distribution ways to branch a thought, each with explicit generators.

Three named perturbations of a thought pass (the pass that computes the next thought):
  gaussian  noise added to the fed-back thought: h + sigma * |h| / sqrt(d) * N(0, I)
  dropout   MC-dropout inside the pass, at the model's own dropout rate (on-distribution only for a
            model trained with dropout: `latentsearch train --dropout`); attention stays exact
  layer     noise added to the output of one block (`layer`), scaled like `gaussian`
Every row draws from its own `torch.Generator` (None: the row stays exact), so a row's noise does not
depend on the rows batched with it, and sigma = 0 (or kind "none") is the plain pass, bit for bit.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Sequence

import torch

from latentsearch.latent.specs import Perturb

Gens = Sequence["torch.Generator | None"]


def generators(seeds: Sequence[int | None]) -> list[torch.Generator | None]:
    """One generator per row from its seed; None (a row that stays exact) stays None."""
    return [None if s is None else torch.Generator().manual_seed(int(s) % (2**63)) for s in seeds]


def _draw(shape, gen, uniform: bool) -> torch.Tensor:
    if gen is None:
        return torch.ones(shape) if uniform else torch.zeros(shape)
    return torch.rand(shape, generator=gen) if uniform else torch.randn(shape, generator=gen)


def scaled_noise(x: torch.Tensor, sigma: float, gens: Gens) -> torch.Tensor:
    """sigma * |x_r| / sqrt(d) * N(0, I) for every row r of x (rows, ..., d), row r from gens[r]."""
    draws = torch.stack([_draw(x.shape[1:], g, uniform=False) for g in gens]).to(x.device, x.dtype)
    scale = x.norm(dim=-1, keepdim=True) / math.sqrt(x.shape[-1])
    return sigma * scale * draws


def perturb_input(thought: torch.Tensor, perturb: Perturb, gens: Gens) -> torch.Tensor:
    """The fed-back thoughts (rows, d_model), with gaussian noise when that is the perturbation."""
    if perturb.kind != "gaussian" or perturb.off:
        return thought
    return thought + scaled_noise(thought, perturb.sigma, gens)


@contextmanager
def perturbed(model, perturb: Perturb, gens: Gens):
    """Within the block, every forward pass of `model` (rows = len(gens)) is perturbed as `perturb` says
    inside the network (dropout, layer); gaussian noise is on the input (`perturb_input`)."""
    hooks = []
    if perturb.kind == "dropout":
        rate = dropout_rate(model)
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.Dropout) and rate > 0 and "attn_dropout" not in name:
                hooks.append(module.register_forward_hook(_row_dropout(rate, gens)))
    elif perturb.kind == "layer" and not perturb.off:
        hooks.append(_block(model, perturb.layer).register_forward_hook(_row_noise(perturb.sigma, gens)))
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()


def dropout_rate(model) -> float:
    """The residual dropout the model was trained with (0 for our default models)."""
    config = model.config
    return float(next((getattr(config, k) for k in ("resid_pdrop", "hidden_dropout", "attention_dropout")
                       if getattr(config, k, None)), 0.0))


def _row_dropout(rate: float, gens):
    def hook(module, inputs, output):
        if output.shape[0] != len(gens):  # not a pass over our rows (e.g. attention weights): leave it
            return output
        keep = torch.stack([_draw(output.shape[1:], g, uniform=True) >= rate for g in gens]).to(output.device)
        exact = torch.tensor([g is None for g in gens], device=output.device).view(-1, *[1] * (output.dim() - 1))
        return torch.where(exact, output, output * keep / (1 - rate))

    return hook


def _row_noise(sigma: float, gens):
    def hook(module, inputs, output):
        hidden = output[0] if isinstance(output, tuple) else output
        noisy = hidden + scaled_noise(hidden, sigma, gens)
        return (noisy, *output[1:]) if isinstance(output, tuple) else noisy

    return hook


def _block(model, layer: int):
    from latentsearch.models.deepen import block_list

    blocks = block_list(model)
    if not -len(blocks) <= layer < len(blocks):
        raise ValueError(f"layer {layer} is outside the model's {len(blocks)} blocks")
    return blocks[layer]
