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
from typing import Sequence

import torch
from tqdm.auto import tqdm
from transformers import LogitsProcessorList
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from latentsearch import kv
from latentsearch.kv import CacheBlock, left_pad
from latentsearch.search.base import Node, Tree, Warp


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
    `progress`: a bar counting forward passes.
    """

    def __init__(self, model, prompt: Sequence[int], eos_id: int | None, max_new_tokens: int = 32,
                 processors=None, keep_hidden: bool = False, pad_id: int | None = None, progress: bool = False):
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
        self._bar = tqdm(desc="search", unit=" passes", leave=False, disable=not progress)
        self._warpers: dict[Warp, LogitsProcessorList] = {}
        accepts = "logits_to_keep" in inspect.signature(model.forward).parameters
        self._last_logits_only = {"logits_to_keep": 1} if accepts else {}  # skip the LM head on the prompt
        self._root = Node((), 0.0, 0, _Handle(self._prefill(), 0, None))

    # --- the Space protocol -------------------------------------------------------------------
    def root(self) -> Node:
        return self._root

    def child(self, parent: Node, token: int, score: float) -> Node:
        if parent.handle.pending is not None:
            raise ValueError("expand a node before making its children")
        node_id = self.tree.add(parent.id, int(token), float(score))
        handle = _Handle(parent.handle.block, parent.handle.row, int(token))
        return Node(parent.tokens + (int(token),), float(score), node_id, handle)

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
        self._bar.update(1)
        hidden = out.hidden_states[-1][:, -1] if self.keep_hidden else None
        return CacheBlock.of(out.cache, mask, out.logits[:, -1], hidden)

    def _feed(self, nodes: Sequence[Node]) -> None:
        """Run the pending token of every node through the model in one batch."""
        handles = list({id(n.handle): n.handle for n in nodes}.values())
        if not handles:
            return
        keys, values, mask = kv.gather(handles)
        tokens = torch.tensor([[h.pending] for h in handles])  # (rows, 1)
        cache = kv.make(self.model.config, keys, values)
        mask = torch.cat([mask, torch.ones_like(tokens)], dim=1)
        position = mask.sum(-1, keepdim=True) - 1  # (rows, 1): real tokens before this one
        out = self.model(input_ids=tokens, attention_mask=mask, position_ids=position, cache=cache,
                         use_cache=True, output_hidden_states=self.keep_hidden)
        block = self._block(out, mask)
        for row, handle in enumerate(handles):
            handle.block, handle.row, handle.pending = block, row, None
