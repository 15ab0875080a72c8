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


def continue_with(model, state: DecodeState, tokens: torch.Tensor) -> torch.Tensor:
    """Hidden states of `tokens` (batch, length) appended after the state, in one pass (training).

    Right padding in `tokens` is harmless: causal attention keeps it after every real token.
    """
    mask = torch.cat([state.mask, torch.ones_like(tokens)], dim=1)  # the whole suffix at once
    pos = state.next_pos + torch.arange(tokens.shape[1], device=tokens.device)
    hidden, _ = step(model, mask, model.get_input_embeddings()(tokens), pos, state.cache)
    return hidden


@torch.no_grad()
def answer_after_thoughts(model, prompts, n_thoughts, after: list[int], eos_id: int, pad_id: int,
                          max_new_tokens: int = 16, static: bool = True) -> tuple[list[list[int]], DecodeState]:
    """Prompt (ending with <bot>) -> thoughts -> `after` (e.g. [<eot>]) -> greedy tokens until <eos>.

    Returns the generated tokens of every row and the state right after the thoughts, whose
    `thoughts` are the vectors fed back (for probing). `static`: preallocate the KV cache for all of it.
    """
    room = max(n_thoughts) + len(after) + max_new_tokens if static and len(n_thoughts) else 0
    thought_state = think(model, prefill(model, prompts, pad_id, room), n_thoughts)
    rows, state = continue_greedy(model, thought_state, after, eos_id, pad_id, max_new_tokens)
    thought_state.forward_passes = state.forward_passes
    return rows, thought_state


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
