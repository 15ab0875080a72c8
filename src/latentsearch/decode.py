"""Batched decoding with a KV cache for any HF causal LM: the prompt pass, one token at a time, greedy.

`DecodeState` is where a batch stands: next-token logits, the last hidden state, the cache, the
attention mask and every row's next position. Prompts of different lengths are left-padded and
position ids come from the mask, so each row sees the same positions it would see alone (this
matters for learned absolute positions). Continuous thought (latent/thoughts.py) and soft
thinking (latent/soft.py) extend the same state.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from latentsearch.kv import append_column, left_pad, positions


@dataclass
class DecodeState:
    """Where a batch stands; decoding continues from here."""

    logits: torch.Tensor  # (batch, vocab) next-token logits
    hidden: torch.Tensor  # (batch, d_model) the last hidden state of every row
    thoughts: torch.Tensor  # (batch, max_thoughts, d_model) thoughts fed back, right-aligned (zeros where fewer)
    cache: object  # the transformers Cache shared by all passes
    mask: torch.Tensor  # (batch, positions) attention mask so far
    next_pos: torch.Tensor  # (batch, 1) position id of every row's next token
    forward_passes: int = 0


def static_cache(model, length: int):
    """A KV cache preallocated for `length` positions (transformers' StaticCache), written in place."""
    from transformers import StaticCache

    return StaticCache(config=model.config, max_cache_len=length)


def step(model, mask, embeds, pos, cache):
    """One pass of the base model; returns (last hidden states, cache). The LM head reads these states."""
    out = model.base_model(inputs_embeds=embeds, attention_mask=mask, position_ids=pos,
                           cache=cache, use_cache=True)
    return out.last_hidden_state, out.cache


def prefill(model, prompts: list[list[int]], pad_id: int, room: int = 0) -> DecodeState:
    """The prompt pass; with `room` > 0 the KV cache is preallocated for that many more positions (a
    static cache: every later pass writes in place instead of growing the cache with torch.cat)."""
    ids, mask = left_pad(prompts, pad_id)
    return prefill_padded(model, ids.to(model.device), mask.to(model.device), room)


def prefill_padded(model, ids: torch.Tensor, mask: torch.Tensor, room: int = 0, cache=None) -> DecodeState:
    """The prompt pass over left-padded `ids` (batch, width) with its attention `mask`; `cache` (empty)
    replaces the one the model would make."""
    if room:
        cache = static_cache(model, ids.shape[1] + room)
    hidden, cache = step(model, mask, model.get_input_embeddings()(ids), positions(mask), cache)
    last = hidden[:, -1]
    no_thoughts = last.new_zeros(len(ids), 0, last.shape[-1])
    return DecodeState(model.get_output_embeddings()(last), last, no_thoughts, cache, mask,
                       mask.sum(-1, keepdim=True), forward_passes=1)


def feed_tokens(model, state: DecodeState, tokens: torch.Tensor) -> DecodeState:
    """Append one token per row (e.g. `<eot>` or the next answer token) and take its logits."""
    mask = append_column(state.mask)
    embeds = model.get_input_embeddings()(tokens[:, None])
    new, cache = step(model, mask, embeds, state.next_pos, state.cache)
    hidden = new[:, -1]
    return DecodeState(model.get_output_embeddings()(hidden), hidden, state.thoughts, cache, mask,
                       state.next_pos + 1, state.forward_passes + 1)


@torch.no_grad()
def continue_greedy(model, state: DecodeState, after: list[int], eos_id: int, pad_id: int,
                    max_new_tokens: int) -> tuple[list[list[int]], DecodeState]:
    """Feed `after` to every row, then decode greedily with the cache until <eos>."""
    device = state.hidden.device
    rows = len(state.hidden)
    for token in after:
        state = feed_tokens(model, state, torch.full((rows,), token, device=device))
    finished = torch.zeros(rows, dtype=torch.bool, device=device)
    generated = []
    for _ in range(max_new_tokens):
        token = state.logits.argmax(-1).masked_fill(finished, pad_id)
        generated.append(token)
        finished |= token == eos_id
        if finished.all():
            break
        state = feed_tokens(model, state, token)
    out = torch.stack(generated, 1).tolist() if generated else [[] for _ in range(rows)]
    return trim_at_eos(out, eos_id), state


def trim_at_eos(rows: list[list[int]], eos_id: int) -> list[list[int]]:
    return [row[: row.index(eos_id) + 1] if eos_id in row else row for row in rows]


@torch.no_grad()
def greedy_batch(model, prompts: list[list[int]], eos_id: int, pad_id: int, max_new_tokens: int,
                 static: bool = True) -> list[list[int]]:
    """Greedy continuation of each prompt, up to and including `eos_id` (or `max_new_tokens`)."""
    state = prefill(model, prompts, pad_id, room=max_new_tokens if static else 0)
    rows, _ = continue_greedy(model, state, [], eos_id, pad_id, max_new_tokens)
    return rows


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
