"""The search engine: a `Space` over any HF causal LM with a shared, index-gathered KV cache.

The prompt is prefilled once (one row); every node's cache is a row of some `CacheBlock` (the output
of one batched forward pass). A child is lazy: it holds its parent's row plus one pending token,
and is fed through the model only when it is expanded. `expand(nodes)` feeds all pending nodes in
one forward pass, building the batch cache by gathering rows by index (rows from different blocks
are left-padded and masked). Blocks are freed when no node refers to them any more.

Next-token scores are `log_softmax` of the logits, then the caller's `LogitsProcessor`s (the
transformers signature `(input_ids, scores) -> scores`), not renormalised, exactly as in
transformers' beam search; then, if the caller passes a `Warp`, transformers' temperature / top-k /
top-p / min-p warpers, renormalised with `log_softmax` (sampling distributions).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from transformers import DynamicCache, LogitsProcessorList
from transformers.cache_utils import DynamicLayer
from transformers.generation.logits_process import (
    MinPLogitsWarper, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper,
)

from latentsearch.generate import left_pad
from latentsearch.search.base import Node, Tree, Warp


@dataclass
class CacheBlock:
    keys: list[torch.Tensor]  # per layer (rows, kv_heads, seq, head_dim)
    values: list[torch.Tensor]  # per layer, same shape
    mask: torch.Tensor  # (rows, seq) 1 for real tokens
    logprobs: torch.Tensor  # (rows, vocab) log_softmax of the last position's logits
    hidden: torch.Tensor | None  # (rows, d_model) last-layer hidden state of the last position


class _Handle:
    """Where a node's state lives: row `row` of `block`, plus a `pending` token not yet fed."""

    __slots__ = ("block", "row", "pending")

    def __init__(self, block: CacheBlock, row: int, pending: int | None):
        self.block, self.row, self.pending = block, row, pending


def warpers(warp: Warp | None) -> LogitsProcessorList:
    """transformers' own warpers for a `Warp`, in the order its sampling applies them."""
    out = LogitsProcessorList()
    if warp is None or warp.identity:
        return out
    if warp.temperature != 1.0:
        out.append(TemperatureLogitsWarper(warp.temperature))
    if warp.top_k:
        out.append(TopKLogitsWarper(warp.top_k))
    if warp.top_p < 1.0:
        out.append(TopPLogitsWarper(warp.top_p))
    if warp.min_p > 0.0:
        out.append(MinPLogitsWarper(warp.min_p))
    return out


class Engine:
    """A search space over `model` continuing `prompt`; one engine per search.

    `eos_id` None: no end token, every sequence runs to `max_new_tokens`. `processors`: transformers
    `LogitsProcessor`s applied to every expansion. `keep_hidden`: keep last hidden states (for
    `hidden()`, e.g. the hidden-state recombination key). `pad_id` only pads processors' input ids.
    """

    def __init__(self, model, prompt: Sequence[int], eos_id: int | None, max_new_tokens: int = 32,
                 processors=None, keep_hidden: bool = False, pad_id: int | None = None):
        if not prompt:
            raise ValueError("the prompt must hold at least one token")
        if max_new_tokens <= 0:
            raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
        self.model, self.prompt, self.eos_id = model.eval(), list(prompt), eos_id
        self.max_new_tokens, self.keep_hidden = max_new_tokens, keep_hidden
        self.processors = LogitsProcessorList(processors or [])
        self.pad_id = pad_id if pad_id is not None else (eos_id if eos_id is not None else 0)
        self.forward_passes = self.expansions = 0
        self.tree = Tree()
        self._warpers: dict[Warp, LogitsProcessorList] = {}
        accepts = "logits_to_keep" in inspect.signature(model.forward).parameters
        self._last_logits_only = {"logits_to_keep": 1} if accepts else {}  # skip the LM head on the prompt
        self._root = Node((), 0.0, 0, _Handle(self._prefill(), 0, None))

    # --- the Space protocol -------------------------------------------------------------------
    def root(self) -> Node:
        return self._root

    def child(self, parent: Node, token: int, logprob: float) -> Node:
        if parent.handle.pending is not None:
            raise ValueError("expand a node before making its children")
        node_id = self.tree.add(parent.id, int(token), float(logprob))
        handle = _Handle(parent.handle.block, parent.handle.row, int(token))
        return Node(parent.tokens + (int(token),), float(logprob), node_id, handle)

    def is_final(self, node: Node) -> bool:
        return bool(node.tokens) and (node.tokens[-1] == self.eos_id or len(node.tokens) >= self.max_new_tokens)

    @torch.no_grad()
    def expand(self, nodes: Sequence[Node], warp: Warp | None = None) -> torch.Tensor:
        """(len(nodes), vocab) next-token log-probs; feeds pending nodes in one forward pass."""
        self._feed([n for n in nodes if n.handle.pending is not None])
        self.expansions += len(nodes)
        for n in nodes:
            self.tree.expanded[n.id] = True
        scores = torch.stack([n.handle.block.logprobs[n.handle.row] for n in nodes])  # (nodes, vocab)
        warper = self._warper(warp)
        if not self.processors and not warper:
            return scores
        ids = left_pad([self.prompt + list(n.tokens) for n in nodes], self.pad_id)[0]
        scores = self.processors(ids, scores.clone()) if self.processors else scores
        return torch.log_softmax(warper(ids, scores.clone()), dim=-1) if warper else scores

    @torch.no_grad()
    def hidden(self, nodes: Sequence[Node]) -> torch.Tensor:
        if not self.keep_hidden:
            raise ValueError("build the Engine with keep_hidden=True to read hidden states")
        self._feed([n for n in nodes if n.handle.pending is not None])
        return torch.stack([n.handle.block.hidden[n.handle.row] for n in nodes])

    # --- the model ------------------------------------------------------------------------------
    def _warper(self, warp: Warp | None) -> LogitsProcessorList:
        if warp not in self._warpers:
            self._warpers[warp] = warpers(warp)
        return self._warpers[warp]

    @torch.no_grad()
    def _prefill(self) -> CacheBlock:
        ids = torch.tensor([self.prompt])
        mask = torch.ones_like(ids)
        out = self.model(input_ids=ids, attention_mask=mask, use_cache=True, output_hidden_states=self.keep_hidden,
                         **self._last_logits_only)
        return self._block(out, mask)

    def _block(self, out, mask: torch.Tensor) -> CacheBlock:
        self.forward_passes += 1
        layers = out.cache.layers
        if any(type(layer) is not DynamicLayer for layer in layers):
            raise ValueError("the search engine supports full-attention caches only (no sliding window)")
        hidden = out.hidden_states[-1][:, -1] if self.keep_hidden else None
        logprobs = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
        return CacheBlock([la.keys for la in layers], [la.values for la in layers], mask, logprobs, hidden)

    def _feed(self, nodes: Sequence[Node]) -> None:
        """Run the pending token of every node through the model in one batch."""
        handles = list({id(n.handle): n.handle for n in nodes}.values())
        if not handles:
            return
        keys, values, mask = gather_rows(handles)
        tokens = torch.tensor([[h.pending] for h in handles])  # (rows, 1)
        cache = make_cache(self.model.config, keys, values)
        mask = torch.cat([mask, torch.ones_like(tokens)], dim=1)
        position = mask.sum(-1, keepdim=True) - 1  # (rows, 1): real tokens before this one
        out = self.model(input_ids=tokens, attention_mask=mask, position_ids=position, cache=cache,
                         use_cache=True, output_hidden_states=self.keep_hidden)
        block = self._block(out, mask)
        for row, handle in enumerate(handles):
            handle.block, handle.row, handle.pending = block, row, None


def gather_rows(handles: Sequence[_Handle]) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """Per-layer keys/values and the mask of the handles' rows; mixed blocks are left-padded."""
    blocks = list({id(h.block): h.block for h in handles}.values())
    if len(blocks) == 1:
        return _select(blocks[0], torch.tensor([h.row for h in handles]))
    width = max(b.mask.shape[1] for b in blocks)
    parts = [_pad_left(_select(h.block, torch.tensor([h.row])), width) for h in handles]
    n_layers = len(parts[0][0])
    keys = [torch.cat([p[0][i] for p in parts]) for i in range(n_layers)]
    values = [torch.cat([p[1][i] for p in parts]) for i in range(n_layers)]
    return keys, values, torch.cat([p[2] for p in parts])


def _select(block: CacheBlock, rows: torch.Tensor):
    """Rows of a block by index; the identity selection shares the tensors (the model never edits them)."""
    if len(rows) == block.mask.shape[0] and torch.equal(rows, torch.arange(len(rows))):
        return block.keys, block.values, block.mask
    pick = lambda t: t.index_select(0, rows)  # noqa: E731
    return [pick(k) for k in block.keys], [pick(v) for v in block.values], pick(block.mask)


def _pad_left(part, width: int):
    keys, values, mask = part
    extra = width - mask.shape[1]
    if extra == 0:
        return part
    pad = lambda t: F.pad(t, (0, 0, extra, 0))  # noqa: E731  (rows, heads, seq, dim): pad seq in front
    return [pad(k) for k in keys], [pad(v) for v in values], F.pad(mask, (extra, 0))


def make_cache(config, keys: list[torch.Tensor], values: list[torch.Tensor]) -> DynamicCache:
    """A DynamicCache holding these tensors without copying them."""
    cache = DynamicCache(config=config)
    for layer, k, v in zip(cache.layers, keys, values):
        layer.lazy_initialization(k, v)
        layer.keys, layer.values = k, v
    return cache
