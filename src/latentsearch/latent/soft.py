"""Soft thinking (training-free, any model): feed back a probability-weighted mixture of token embeddings.

At each thinking step the next-token distribution is tempered, cut to its top-k tokens and to those
above min-p times the top probability, optionally perturbed (Gumbel noise on the logits or a
Dirichlet draw around the probabilities), and the mixture sum_i p_i * embed(token_i) becomes the
next input embedding. A row stops thinking after `max_steps`, when its most likely token is a stop
token (e.g. `###`: the model wants to answer), or when its entropy stays below `cold_entropy` for
`cold_patience` steps in a row ("cold stop"). Stopped rows feed masked placeholders, so each row
sees exactly its own thoughts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from latentsearch.decode import DecodeState, continue_greedy, prefill, step
from latentsearch.kv import append_column


@dataclass(frozen=True)
class SoftConfig:
    max_steps: int = 8  # most thinking steps
    top_k: int = 5  # tokens in the mixture
    temperature: float = 1.0  # logits / temperature before the softmax
    min_p: float = 0.0  # drop tokens below min_p times the top probability
    noise: str = "none"  # none, gumbel or dirichlet
    noise_scale: float = 1.0  # Gumbel scale, or Dirichlet concentration = probs * (1 / scale) * top_k
    cold_entropy: float = 0.0  # nats; 0 = no cold stop
    cold_patience: int = 2  # low-entropy steps in a row before a cold stop

    def __post_init__(self):
        if self.max_steps < 0 or self.top_k <= 0 or self.temperature <= 0 or self.cold_patience <= 0:
            raise ValueError("max_steps >= 0, top_k > 0, temperature > 0 and cold_patience > 0 are required")
        if self.noise not in ("none", "gumbel", "dirichlet"):
            raise ValueError(f"noise must be none, gumbel or dirichlet, not {self.noise!r}")
        if not 0 <= self.min_p < 1:
            raise ValueError(f"min_p must be in [0, 1), got {self.min_p}")


def mixture_weights(logits: torch.Tensor, config: SoftConfig, generator: torch.Generator | None = None):
    """(batch, vocab) logits -> (batch, k) weights over (batch, k) token ids, each row summing to 1."""
    logits = logits.float() / config.temperature
    if config.noise == "gumbel":
        uniform = torch.rand(logits.shape, generator=generator).to(logits.device).clamp(1e-9, 1 - 1e-9)
        logits = logits - config.noise_scale * torch.log(-torch.log(uniform))
    probs, ids = logits.softmax(-1).topk(config.top_k, dim=-1)
    probs = torch.where(probs >= config.min_p * probs[:, :1], probs, torch.zeros_like(probs))
    probs = probs / probs.sum(-1, keepdim=True)
    if config.noise == "dirichlet":
        alpha = (probs * config.top_k / config.noise_scale).clamp(min=1e-3).cpu()
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))  # Dirichlet takes no generator
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            draw = torch.distributions.Dirichlet(alpha).sample()
        probs = draw.to(probs.device) * (probs > 0)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs, ids


def soft_think(model, state: DecodeState, config: SoftConfig, stop_ids: tuple[int, ...] = (),
               generator: torch.Generator | None = None) -> tuple[DecodeState, list[int]]:
    """Think softly from `state` (after the prompt); returns the new state and each row's step count."""
    embed = model.get_input_embeddings()
    rows = len(state.logits)
    active = torch.ones(rows, dtype=torch.bool, device=state.logits.device)
    cold = torch.zeros(rows, dtype=torch.long, device=state.logits.device)
    logits, hidden, mask, pos, cache = state.logits, state.hidden, state.mask, state.next_pos, state.cache
    steps, passes = torch.zeros(rows, dtype=torch.long), state.forward_passes
    for _ in range(config.max_steps):
        active &= ~_wants_to_stop(logits, stop_ids)
        if not active.any():
            break
        weights, ids = mixture_weights(logits, config, generator)
        inputs = (weights[:, :, None] * embed(ids)).sum(1)  # (batch, d_model)
        mask = append_column(mask, active)
        new, cache = step(model, mask, inputs[:, None], pos, cache)
        passes += 1
        logits = torch.where(active[:, None], model.get_output_embeddings()(new[:, -1]), logits)
        hidden = torch.where(active[:, None], new[:, -1], hidden)
        pos = pos + active[:, None].to(pos.dtype)
        steps += active.cpu().long()
        cold = _cold_counter(logits, cold, config)
        active &= cold < config.cold_patience
    # `thoughts` stays as it was: soft steps are mixtures of token embeddings, not fed-back states.
    return DecodeState(logits, hidden, state.thoughts, cache, mask, pos, passes), steps.tolist()


def _wants_to_stop(logits: torch.Tensor, stop_ids: tuple[int, ...]) -> torch.Tensor:
    if not stop_ids:
        return torch.zeros(len(logits), dtype=torch.bool, device=logits.device)
    return torch.isin(logits.argmax(-1), torch.tensor(stop_ids, device=logits.device))


def _cold_counter(logits: torch.Tensor, cold: torch.Tensor, config: SoftConfig) -> torch.Tensor:
    if config.cold_entropy <= 0:
        return cold
    probs = logits.float().softmax(-1)
    entropy = -(probs * probs.clamp(min=1e-30).log()).sum(-1)
    return torch.where(entropy < config.cold_entropy, cold + 1, torch.zeros_like(cold))


@torch.no_grad()
def soft_answer(model, prompts: list[list[int]], config: SoftConfig, after: list[int], eos_id: int, pad_id: int,
                max_new_tokens: int = 16, stop_ids: tuple[int, ...] = (), seed: int = 0):
    """Prompt -> soft thinking -> `after` tokens -> greedy answer. Returns (tokens per row, steps per row,
    forward passes of the batch)."""
    generator = torch.Generator().manual_seed(seed)
    state, steps = soft_think(model, prefill(model, prompts, pad_id), config, stop_ids, generator)
    rows, state = continue_greedy(model, state, after, eos_id, pad_id, max_new_tokens)
    return rows, steps, state.forward_passes
