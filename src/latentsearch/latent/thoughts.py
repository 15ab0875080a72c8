"""Batched continuous thought (Coconut) for any HF causal LM, with one shared KV cache.

After the prompt (which ends with `<bot>`), the model does not decode: the last-layer hidden state
that the LM head reads becomes the next input embedding. One prefix pass, then one single-position
pass per thought. Rows may have different prompt lengths (left padding) and different numbers of
thoughts: thoughts are right-aligned, and a row that has not started thinking yet feeds a masked
placeholder, so every row sees exactly the positions it would see alone. Gradients flow through
every pass.
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from latentsearch.decode import DecodeState, continue_greedy, prefill, step
from latentsearch.kv import append_column


def think(model, state: DecodeState, n_thoughts: list[int]) -> DecodeState:
    """Run max(n_thoughts) continuous thoughts; row i thinks during the last n_thoughts[i] of them."""
    counts = torch.as_tensor(n_thoughts, device=state.hidden.device)
    total = int(counts.max()) if len(n_thoughts) else 0
    hidden, mask, pos, cache = state.hidden, state.mask, state.next_pos, state.cache
    thoughts = []
    for s in range(total):
        active = counts >= total - s  # (batch,) rows that think at this step
        mask = append_column(mask, active)
        thoughts.append(torch.where(active[:, None], hidden, torch.zeros_like(hidden)))  # what row i feeds
        new, cache = step(model, mask, hidden[:, None], pos, cache)
        hidden = torch.where(active[:, None], new[:, -1], hidden)
        pos = pos + active[:, None].to(pos.dtype)
    stacked = torch.stack(thoughts, dim=1) if thoughts else state.thoughts
    logits = model.get_output_embeddings()(hidden)
    return DecodeState(logits, hidden, stacked, cache, mask, pos, state.forward_passes + total)


def think_then_feed(model, state: DecodeState, n_thoughts: list[int], tokens: torch.Tensor
                    ) -> tuple[DecodeState, torch.Tensor]:
    """think(), then `tokens` (batch, length) appended to every row, with the last thought fed in the
    tokens' pass: nothing after it depends on its output but the tokens, and every pass costs a fixed
    overhead that one ordinary pass over the same positions would not pay.

    Returns the state after the tokens (its `thoughts`: every vector fed back) and the hidden states
    (batch, 1 + length, d_model): the state after the last thought, then every token's. Right padding
    in `tokens` is harmless: causal attention keeps it after every real token.
    """
    counts = torch.as_tensor(n_thoughts, device=state.hidden.device)
    thinks = bool(len(n_thoughts)) and int(counts.max()) > 0
    if thinks:
        state = think(model, state, (counts - 1).clamp(min=0).tolist())  # every step but the last
    last = (counts > 0).to(state.mask.dtype)[:, None]  # rows that think at the last step (thoughts are right-aligned)
    ones = torch.ones_like(tokens, dtype=state.mask.dtype)
    steps = torch.arange(tokens.shape[1], device=tokens.device)
    embeds = model.get_input_embeddings()(tokens)
    if thinks:
        mask = torch.cat([state.mask, last, ones], dim=1)
        pos = state.next_pos + torch.cat([torch.zeros_like(last), last + steps], dim=1)
        embeds = torch.cat([state.hidden[:, None], embeds], dim=1)
    else:
        mask, pos = torch.cat([state.mask, ones], dim=1), state.next_pos + steps
    out, cache = step(model, mask, embeds, pos, state.cache)
    if thinks:
        fed = torch.where(last.bool(), state.hidden, torch.zeros_like(state.hidden))  # as think() records it
        thoughts = torch.cat([state.thoughts, fed[:, None]], dim=1)
        hidden = torch.cat([torch.where(last.bool(), out[:, 0], state.hidden)[:, None], out[:, 1:]], dim=1)
    else:
        thoughts, hidden = state.thoughts, torch.cat([state.hidden[:, None], out], dim=1)
    next_pos = state.next_pos + last * thinks + tokens.shape[1]
    return DecodeState(model.get_output_embeddings()(hidden[:, -1]), hidden[:, -1], thoughts, cache, mask, next_pos,
                       state.forward_passes + 1), hidden


@torch.no_grad()
def answer_after_thoughts(model, prompts, n_thoughts, after: list[int], eos_id: int, pad_id: int,
                          max_new_tokens: int = 16, static: bool = True) -> tuple[list[list[int]], DecodeState]:
    """Prompt (ending with <bot>) -> thoughts -> `after` (e.g. [<eot>]) -> greedy tokens until <eos>.

    Returns the generated tokens of every row and the last state, whose `thoughts` are the vectors
    fed back (for probing). `static`: preallocate the KV cache for all of it.
    """
    room = max(n_thoughts) + len(after) + max_new_tokens if static and len(n_thoughts) else 0
    state = prefill(model, prompts, pad_id, room)
    if after:
        tokens = torch.tensor([after] * len(prompts), device=state.hidden.device)
        state, _ = think_then_feed(model, state, n_thoughts, tokens)
    else:
        state = think(model, state, n_thoughts)
    return continue_greedy(model, state, [], eos_id, pad_id, max_new_tokens)


def latent_generate(model, prompts, n_thoughts, after, eos_id, pad_id, max_new_tokens=16, batch_size=64,
                    progress=False, static=True) -> tuple[list[list[int]], list[torch.Tensor]]:
    """answer_after_thoughts over many questions, batched by similar length.

    Returns every row's generated tokens and its thought vectors (n_thoughts[i], d_model).
    """
    order = sorted(range(len(prompts)), key=lambda i: (n_thoughts[i], len(prompts[i])))
    outputs: list[list[int]] = [[] for _ in prompts]
    thoughts: list[torch.Tensor] = [torch.empty(0) for _ in prompts]
    for start in tqdm(range(0, len(order), batch_size), desc="think+decode", disable=not progress):
        chunk = order[start : start + batch_size]
        rows, state = answer_after_thoughts(model, [list(prompts[i]) for i in chunk], [n_thoughts[i] for i in chunk],
                                            after, eos_id, pad_id, max_new_tokens, static)
        width = state.thoughts.shape[1]
        for row, i in enumerate(chunk):
            outputs[i], thoughts[i] = rows[row], state.thoughts[row, width - n_thoughts[i] :].cpu()
    return outputs, thoughts
