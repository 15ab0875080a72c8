"""KV-cache handling, in one place: padding, row handles, gathering rows into a batch, cache objects.

A `CacheBlock` is what one batched forward pass leaves behind: per-layer keys and values, the
attention mask, and the last position's log-probabilities and hidden state. A row handle is any
object with `.block` and `.row` (the search engine's and the latent space's nodes hold one).
`gather` builds the cache of a new batch from rows of several blocks (left-padding the shorter
ones, masked), and `make` wraps tensors as a transformers cache without copying them.
`growing_cache` is the training cache: preallocated and written pass by pass, safe for backward.
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


class _Append(torch.autograd.Function):
    """`past` followed by `new`, written into the buffer that already holds `past` (no copy of `past`).

    The result is a fresh tensor over the buffer's storage, not an autograd view of it: later appends
    write positions past its end, which it does not cover, so what earlier passes saved for backward
    stays valid. The gradient splits exactly as torch.cat's would.
    """

    @staticmethod
    def forward(ctx, past: torch.Tensor, new: torch.Tensor, buffer: torch.Tensor) -> torch.Tensor:
        start, end = past.shape[-2], past.shape[-2] + new.shape[-2]
        buffer[:, :, start:end].copy_(new)
        ctx.start = start
        size = (*buffer.shape[:2], end, buffer.shape[3])
        alias = torch.empty(0, dtype=buffer.dtype, device=buffer.device)
        return alias.set_(buffer.untyped_storage(), buffer.storage_offset(), size, buffer.stride())

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad[:, :, : ctx.start], grad[:, :, ctx.start :], None


class GrowingLayer(DynamicLayer):
    """A DynamicLayer whose keys and values live in buffers preallocated for `length` positions: each
    pass writes only its new positions, where torch.cat would copy the whole cache (training, where
    the in-place writes of transformers' StaticCache would break backward)."""

    def __init__(self, length: int):
        super().__init__()
        self.length = length

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        super().lazy_initialization(key_states, value_states)
        shape = lambda t: (*t.shape[:2], self.length, t.shape[3])  # noqa: E731
        self._buffers = (key_states.new_empty(shape(key_states)), value_states.new_empty(shape(value_states)))
        self.keys, self.values = (b[:, :, :0] for b in self._buffers)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if torch.compiler.is_compiling():  # compiled passes cannot trace set_(): they grow by cat, as before
            return super().update(key_states, value_states, *args, **kwargs)
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        if self.keys.shape[-2] + key_states.shape[-2] > self.length:
            raise ValueError(f"the cache holds {self.length} positions; this pass would need "
                             f"{self.keys.shape[-2] + key_states.shape[-2]}")
        self.keys = _Append.apply(self.keys, key_states, self._buffers[0])
        self.values = _Append.apply(self.values, value_states, self._buffers[1])
        return self.keys, self.values


def growing_cache(config, length: int) -> DynamicCache:
    """A DynamicCache of GrowingLayers, `length` positions each; sliding-window models keep their own."""
    cache = DynamicCache(config=config)
    if all(type(layer) is DynamicLayer for layer in cache.layers):
        cache.layers = [GrowingLayer(length) for _ in cache.layers]
    return cache
