"""The logit lens: a hidden state read through the model's final norm and LM head.

The last layer's state (what `base_model` returns, and what a continuous thought feeds back) has
the final norm applied already, so the lens on it is exactly the model's own next-token logits
(tested). Earlier layers get the final norm first; it is found by name on `base_model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

FINAL_NORMS = ("norm", "ln_f", "final_layernorm", "final_layer_norm")


def final_norm(model) -> torch.nn.Module:
    for name in FINAL_NORMS:
        module = getattr(model.base_model, name, None)
        if module is not None:
            return module
    raise ValueError(f"cannot find the final norm of {type(model).__name__} (looked for {', '.join(FINAL_NORMS)})")


@torch.no_grad()
def lens_logits(model, states: torch.Tensor, last_layer: bool = True) -> torch.Tensor:
    """(..., d_model) hidden states -> (..., vocab) logits."""
    states = states.to(model.device)
    return model.get_output_embeddings()(states if last_layer else final_norm(model)(states))


@dataclass
class LensReading:
    """What the LM head makes of one state."""

    top_ids: list[int]  # the k most probable tokens
    top_probs: list[float]
    entropy: float  # nats
    top_mass: float  # probability on the k most probable tokens


def read(logits: torch.Tensor, k: int = 5) -> list[LensReading]:
    """(n, vocab) logits -> one reading per row."""
    probs = logits.float().softmax(-1)
    entropy = -(probs * probs.clamp(min=1e-30).log()).sum(-1)
    values, ids = probs.topk(k, dim=-1)
    return [LensReading(i.tolist(), v.tolist(), float(e), float(v.sum())) for i, v, e in zip(ids, values, entropy)]
