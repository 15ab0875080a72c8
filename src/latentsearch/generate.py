"""Batched greedy decoding with a KV cache, for any HF causal LM.

Prompts of different lengths are left-padded; position ids come from the attention mask, so each
row sees the same positions it would see alone (this matters for learned absolute positions).
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm


def left_pad(prompts: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(batch, width) ids and attention mask, prompts aligned to the right edge."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
        mask[row, width - len(prompt) :] = 1
    return ids, mask


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position of every token counting only real ones; pads get 0 (they are masked anyway)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


@torch.no_grad()
def greedy_batch(model, prompts: list[list[int]], eos_id: int, pad_id: int, max_new_tokens: int) -> list[list[int]]:
    """Greedy continuation of each prompt, up to and including `eos_id` (or `max_new_tokens`)."""
    from latentsearch.latent.thoughts import continue_greedy, prefill  # thoughts builds on this module

    rows, _ = continue_greedy(model, prefill(model, prompts, pad_id), [], eos_id, pad_id, max_new_tokens)
    return rows


def trim_at_eos(rows: list[list[int]], eos_id: int) -> list[list[int]]:
    return [row[: row.index(eos_id) + 1] if eos_id in row else row for row in rows]


def greedy_generate(model, prompts, eos_id, pad_id, max_new_tokens=64, batch_size=64, progress=False):
    """Greedy continuations for many prompts, batched by similar length."""
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    results: list[list[int]] = [[] for _ in prompts]
    starts = range(0, len(order), batch_size)
    for start in tqdm(starts, desc="decode", disable=not progress):
        chunk = order[start : start + batch_size]
        outputs = greedy_batch(model, [list(prompts[i]) for i in chunk], eos_id, pad_id, max_new_tokens)
        for i, output in zip(chunk, outputs):
            results[i] = output
    return results
