"""Batched continuous thought (Coconut) for any HF causal LM, with one shared KV cache.

After the prompt (which ends with `<bot>`), the model does not decode: the last-layer hidden state
that the LM head reads becomes the next input embedding. One prefix pass, then one single-position
pass per thought. Rows may have different prompt lengths (left padding) and different numbers of
thoughts: thoughts are right-aligned, and a row that has not started thinking yet feeds a masked
placeholder, so every row sees exactly the positions it would see alone. Gradients flow through
every pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from latentsearch.generate import left_pad, positions, trim_at_eos


@dataclass
class LatentState:
    """Where a batch stands after its thoughts; decoding continues from here."""

    logits: torch.Tensor  # (batch, vocab) next-token logits after the last thought
    hidden: torch.Tensor  # (batch, d_model) the last hidden state of every row
    thoughts: torch.Tensor  # (batch, max_thoughts, d_model) the vectors fed back, right-aligned; zeros where a row has fewer
    cache: object  # the transformers Cache shared by all passes
    mask: torch.Tensor  # (batch, positions) attention mask so far
    next_pos: torch.Tensor  # (batch, 1) position id of every row's next token
    forward_passes: int = 0


def step(model, mask, embeds, pos, cache):
    """One pass of the base model; returns (last hidden states, cache). The LM head reads these states."""
    out = model.base_model(inputs_embeds=embeds, attention_mask=mask, position_ids=pos,
                           cache=cache, use_cache=True)
    return out.last_hidden_state, out.cache


def prefill(model, prompts: list[list[int]], pad_id: int) -> LatentState:
    ids, mask = left_pad(prompts, pad_id)
    return prefill_padded(model, ids.to(model.device), mask.to(model.device))


def prefill_padded(model, ids: torch.Tensor, mask: torch.Tensor) -> LatentState:
    """The prompt pass over left-padded `ids` (batch, width) with its attention `mask`."""
    hidden, cache = step(model, mask, model.get_input_embeddings()(ids), positions(mask), None)
    last = hidden[:, -1]
    no_thoughts = last.new_zeros(len(ids), 0, last.shape[-1])
    return LatentState(model.get_output_embeddings()(last), last, no_thoughts, cache, mask,
                       mask.sum(-1, keepdim=True), forward_passes=1)


def think(model, state: LatentState, n_thoughts: list[int]) -> LatentState:
    """Run max(n_thoughts) continuous thoughts; row i thinks during the last n_thoughts[i] of them."""
    counts = torch.as_tensor(n_thoughts, device=state.hidden.device)
    total = int(counts.max()) if len(n_thoughts) else 0
    hidden, mask, pos, cache = state.hidden, state.mask, state.next_pos, state.cache
    thoughts = []
    for s in range(total):
        active = counts >= total - s  # (batch,) rows that think at this step
        mask = torch.cat([mask, active[:, None].to(mask.dtype)], dim=1)
        thoughts.append(torch.where(active[:, None], hidden, torch.zeros_like(hidden)))  # what row i feeds
        new, cache = step(model, mask, hidden[:, None], pos, cache)
        hidden = torch.where(active[:, None], new[:, -1], hidden)
        pos = pos + active[:, None].to(pos.dtype)
    stacked = torch.stack(thoughts, dim=1) if thoughts else state.thoughts
    logits = model.get_output_embeddings()(hidden)
    return LatentState(logits, hidden, stacked, cache, mask, pos, state.forward_passes + total)


def continue_with(model, state: LatentState, tokens: torch.Tensor) -> torch.Tensor:
    """Hidden states of `tokens` (batch, length) appended after the state, in one pass (training).

    Right padding in `tokens` is harmless: causal attention keeps it after every real token.
    """
    mask = torch.cat([state.mask, torch.ones_like(tokens)], dim=1)
    pos = state.next_pos + torch.arange(tokens.shape[1], device=tokens.device)
    hidden, _ = step(model, mask, model.get_input_embeddings()(tokens), pos, state.cache)
    return hidden


def feed_tokens(model, state: LatentState, tokens: torch.Tensor) -> LatentState:
    """Append one token per row (e.g. `<eot>` or the next answer token) and take its logits."""
    mask = torch.cat([state.mask, torch.ones_like(state.next_pos)], dim=1)
    embeds = model.get_input_embeddings()(tokens[:, None])
    new, cache = step(model, mask, embeds, state.next_pos, state.cache)
    hidden = new[:, -1]
    return LatentState(model.get_output_embeddings()(hidden), hidden, state.thoughts, cache, mask,
                       state.next_pos + 1, state.forward_passes + 1)


@torch.no_grad()
def answer_after_thoughts(model, prompts, n_thoughts, after: list[int], eos_id: int, pad_id: int,
                          max_new_tokens: int = 16) -> tuple[list[list[int]], LatentState]:
    """Prompt (ending with <bot>) -> thoughts -> `after` (e.g. [<eot>]) -> greedy tokens until <eos>.

    Returns the generated tokens of every row and the state right after the thoughts, whose
    `thoughts` are the vectors fed back (for probing).
    """
    thought_state = think(model, prefill(model, prompts, pad_id), n_thoughts)
    rows, state = continue_greedy(model, thought_state, after, eos_id, pad_id, max_new_tokens)
    thought_state.forward_passes = state.forward_passes
    return rows, thought_state


@torch.no_grad()
def continue_greedy(model, state: LatentState, after: list[int], eos_id: int, pad_id: int,
                    max_new_tokens: int) -> tuple[list[list[int]], LatentState]:
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


def latent_generate(model, prompts, n_thoughts, after, eos_id, pad_id, max_new_tokens=16, batch_size=64,
                    progress=False) -> tuple[list[list[int]], list[torch.Tensor]]:
    """answer_after_thoughts over many questions, batched by similar length.

    Returns every row's generated tokens and its thought vectors (n_thoughts[i], d_model).
    """
    order = sorted(range(len(prompts)), key=lambda i: (n_thoughts[i], len(prompts[i])))
    outputs: list[list[int]] = [[] for _ in prompts]
    thoughts: list[torch.Tensor] = [torch.empty(0) for _ in prompts]
    for start in tqdm(range(0, len(order), batch_size), desc="think+decode", disable=not progress):
        chunk = order[start : start + batch_size]
        rows, state = answer_after_thoughts(model, [list(prompts[i]) for i in chunk], [n_thoughts[i] for i in chunk],
                                            after, eos_id, pad_id, max_new_tokens)
        width = state.thoughts.shape[1]
        for row, i in enumerate(chunk):
            outputs[i], thoughts[i] = rows[row], state.thoughts[row, width - n_thoughts[i] :].cpu()
    return outputs, thoughts
