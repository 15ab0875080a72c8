"""KV-cache handling, in one place: padding, row handles, gathering rows into a batch, cache objects.

A `CacheBlock` is what one batched forward pass leaves behind: per-layer keys and values, the
attention mask, and the last position's log-probabilities and hidden state. A row handle is any
object with `.block` and `.row` (the search engine's and the latent space's nodes hold one).
`gather` builds the cache of a new batch from rows of several blocks (left-padding the shorter
ones, masked), and `make` wraps tensors as a transformers cache without copying them.
Rows of different lengths are left-padded; position ids come from the mask, so every row sees
exactly the positions it would see alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import torch
import torch.nn.functional as F
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


def left_pad(prompts: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(batch, width) ids and attention mask, prompts aligned to the right edge."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.tensor(list(prompt), dtype=torch.long)
        mask[row, width - len(prompt) :] = 1
    return ids, mask


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position of every token counting only real ones; pads get 0 (they are masked anyway)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def append_column(mask: torch.Tensor, column: torch.Tensor | None = None) -> torch.Tensor:
    """The mask with one more position: 1 for every row, or `column` (batch,) for rows that take it."""
    column = torch.ones(len(mask), dtype=mask.dtype, device=mask.device) if column is None else column
    return torch.cat([mask, column[:, None].to(mask.dtype)], dim=1)


@dataclass
class CacheBlock:
    keys: list[torch.Tensor]  # per layer (rows, kv_heads, seq, head_dim)
    values: list[torch.Tensor]  # per layer, same shape
    mask: torch.Tensor  # (rows, seq) 1 for real tokens
    logprobs: torch.Tensor  # (rows, vocab) log_softmax of the last position's logits
    hidden: torch.Tensor | None  # (rows, d_model) last-layer hidden state of the last position

    @classmethod
    def of(cls, cache, mask: torch.Tensor, logits: torch.Tensor, hidden: torch.Tensor | None) -> "CacheBlock":
        """The block a forward pass left in `cache` (full-attention layers only) with its last logits."""
        layers = cache.layers
        if any(type(layer) is not DynamicLayer for layer in layers):
            raise ValueError("the search engine supports full-attention caches only (no sliding window)")
        return cls([la.keys for la in layers], [la.values for la in layers], mask,
                   torch.log_softmax(logits.float(), dim=-1), hidden)


class Row(Protocol):
    block: CacheBlock
    row: int


def gather(rows: Sequence[Row]) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """Per-layer keys/values and the mask of these rows; rows from several blocks are left-padded."""
    blocks = list({id(r.block): r.block for r in rows}.values())
    if len(blocks) == 1:
        return _select(blocks[0], torch.tensor([r.row for r in rows]))
    width = max(b.mask.shape[1] for b in blocks)
    parts = [_pad_left(_select(r.block, torch.tensor([r.row])), width) for r in rows]
    n_layers = len(parts[0][0])
    keys = [torch.cat([p[0][i] for p in parts]) for i in range(n_layers)]
    values = [torch.cat([p[1][i] for p in parts]) for i in range(n_layers)]
    return keys, values, torch.cat([p[2] for p in parts])


def _select(block: CacheBlock, rows: torch.Tensor):
    """Rows of a block by index; the identity selection shares the tensors (the model never edits them)."""
    if len(rows) == block.mask.shape[0] and torch.equal(rows, torch.arange(len(rows))):
        return block.keys, block.values, block.mask
    pick = lambda t: t.index_select(0, rows.to(t.device))  # noqa: E731
    return [pick(k) for k in block.keys], [pick(v) for v in block.values], pick(block.mask)


def _pad_left(part, width: int):
    keys, values, mask = part
    extra = width - mask.shape[1]
    if extra == 0:
        return part
    pad = lambda t: F.pad(t, (0, 0, extra, 0))  # noqa: E731  (rows, heads, seq, dim): pad seq in front
    return [pad(k) for k in keys], [pad(v) for v in values], F.pad(mask, (extra, 0))


def make(config, keys: list[torch.Tensor], values: list[torch.Tensor]) -> DynamicCache:
    """A DynamicCache holding these tensors without copying them."""
    cache = DynamicCache(config=config)
    for layer, k, v in zip(cache.layers, keys, values):
        layer.lazy_initialization(k, v)
        layer.keys, layer.values = k, v
    return cache
