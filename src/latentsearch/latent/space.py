"""Latent beam / BFS: a search `Space` whose moves are thoughts, so the token-space algorithms
(beam_search, recombine, best_first, ...) search continuous-thought space unchanged.

A node is a sequence of thoughts plus its KV cache (a row of a `CacheBlock`, as in the token
engine). Its children ("actions"), from the LM-head distribution of its newest state:
  0            the continuous thought itself (the hidden state fed back, as in Coconut)
  1..top_k     the input embedding of each of the top-k tokens
  top_k + 1    the soft mixture of those k embeddings, weighted by their renormalised probabilities
Every node is valued by the model's log-likelihood of `after` (e.g. `<eot>`) + the best answer
candidate, or by a verifier the caller gives; an action's score is the change of value, so a path's cumulative score is its final
value minus the root's and beam search ranks thought sequences by how surely they answer. Nodes
are final at `depth` thoughts. Latent DP = `recombine(space, HiddenBuckets(space, tau), ...)`:
children whose newest states have cosine >= tau merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable, Sequence

import torch

from latentsearch import kv
from latentsearch.kv import CacheBlock, positions
from latentsearch.search.base import Node, Tree, Warp


@dataclass(frozen=True)
class LatentSearchConfig:
    depth: int = 6  # thoughts per path
    top_k: int = 2  # token-embedding children per node (0 = only the continuous thought)
    soft: bool = True  # add the soft-mixture child

    def __post_init__(self):
        if self.depth <= 0 or self.top_k < 0:
            raise ValueError("depth must be positive and top_k >= 0")

    @property
    def n_actions(self) -> int:
        return 1 + self.top_k + int(self.soft and self.top_k > 0)


class _Handle:
    __slots__ = ("block", "row", "value", "answer", "children", "label")

    def __init__(self, block: CacheBlock | None, row: int, value: float, answer: int, label: str = ""):
        self.block, self.row, self.value, self.answer, self.label = block, row, value, answer, label
        self.children: list[_Handle] | None = None

    def detached(self) -> "_Handle":
        """The value, answer and label without the cache (a finished node keeps what it found)."""
        return _Handle(None, self.row, self.value, self.answer, self.label)


Verifier = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class LatentSpace:
    """`verifier`, if given, replaces the answer-likelihood value: it maps the newest states of a batch
    of nodes, (rows, d_model), to (values, answer indices), each (rows,)."""

    def __init__(self, model, prompt: Sequence[int], after: Sequence[int], candidates: Sequence[Sequence[int]],
                 config: LatentSearchConfig = LatentSearchConfig(), verifier: Verifier | None = None,
                 token_name: Callable[[int], str] = str):
        if not prompt or not candidates or any(not c for c in candidates):
            raise ValueError("a prompt and non-empty answer candidates are required")
        self.model, self.config, self.verifier = model.eval(), config, verifier
        self.after, self.candidates, self.token_name = list(after), [list(c) for c in candidates], token_name
        self.max_new_tokens = config.depth  # paths end at `depth` thoughts
        self.forward_passes = self.expansions = 0
        self.tree = Tree()
        self.labels = {0: "prompt"}  # tree node id -> what its move fed (thought, a token, a mixture)
        with torch.no_grad():
            root = self._block(self._run(torch.tensor([list(prompt)]), None, torch.ones(1, len(prompt), dtype=torch.long)))
            value, answer = self._score(root)
        self._root = Node((), 0.0, 0, _Handle(root, 0, float(value[0]), int(answer[0])))

    # --- the Space protocol ---------------------------------------------------------------------
    def root(self) -> Node:
        return self._root

    @torch.no_grad()
    def expand(self, nodes: Sequence[Node], warp: Warp | None = None) -> torch.Tensor:
        """(len(nodes), n_actions) change of value of each action's child."""
        self._grow([n.handle for n in nodes if n.handle.children is None])
        self.expansions += len(nodes)
        for n in nodes:
            self.tree.expanded[n.id] = True
        return torch.tensor([[c.value - n.handle.value for c in n.handle.children] for n in nodes])

    def child(self, parent: Node, action: int, score: float) -> Node:
        node_id = self.tree.add(parent.id, int(action), float(score))
        handle = parent.handle.children[action]
        self.labels[node_id] = handle.label
        return Node(parent.tokens + (int(action),), float(score), node_id, handle)

    def is_final(self, node: Node) -> bool:
        return len(node.tokens) >= self.config.depth

    @torch.no_grad()
    def hidden(self, nodes: Sequence[Node]) -> torch.Tensor:
        """(len(nodes), d_model) each node's newest state (what its continuous-thought child feeds back)."""
        return torch.stack([n.handle.block.hidden[n.handle.row] for n in nodes])

    def answer(self, node: Node) -> int:
        """Index of the candidate this node's thoughts make most likely."""
        return node.handle.answer

    # --- the model ------------------------------------------------------------------------------
    def _grow(self, handles: list[_Handle]) -> None:
        """All children of these nodes in one pass, then their values in one more."""
        if not handles:
            return
        actions = self.config.n_actions
        repeated = [h for h in handles for _ in range(actions)]
        keys, values, mask = kv.gather(repeated)
        inputs = torch.cat([self._action_inputs(h) for h in handles])  # (rows, d_model)
        mask = torch.cat([mask, torch.ones(len(repeated), 1, dtype=mask.dtype)], dim=1)
        block = self._block(self._run(None, kv.make(self.model.config, keys, values), mask, embeds=inputs[:, None]))
        value, answer = self._score(block)
        for i, h in enumerate(handles):
            rows = range(i * actions, (i + 1) * actions)
            names = self._action_names(h)
            h.children = [_Handle(block, r, float(value[r]), int(answer[r]), name) for r, name in zip(rows, names)]

    def _action_names(self, handle: _Handle) -> list[str]:
        """What each action feeds: the thought, a token by name, the mixture of those tokens."""
        ids = handle.block.logprobs[handle.row].topk(self.config.top_k).indices.tolist() if self.config.top_k else []
        tokens = [self.token_name(i) for i in ids]
        mixture = [f"mix({', '.join(tokens)})"] if self.config.top_k and self.config.soft else []
        return ["thought"] + tokens + mixture

    def _action_inputs(self, handle: _Handle) -> torch.Tensor:
        """(n_actions, d_model): the continuous thought, the top-k token embeddings, their mixture."""
        hidden = handle.block.hidden[handle.row]
        inputs = [hidden]
        if self.config.top_k:
            probs, ids = handle.block.logprobs[handle.row].exp().topk(self.config.top_k)
            embeds = self.model.get_input_embeddings()(ids)  # (k, d_model)
            inputs += list(embeds)
            if self.config.soft:
                inputs.append((probs[:, None] / probs.sum() * embeds).sum(0))
        return torch.stack(inputs)

    def _run(self, ids, cache, mask, embeds=None):
        """One base-model pass over new ids or embeddings after `cache`; returns (output, full mask)."""
        self.forward_passes += 1
        position = positions(mask)[:, -(ids if ids is not None else embeds).shape[1]:]
        return self.model.base_model(input_ids=ids, inputs_embeds=embeds, attention_mask=mask,
                                     position_ids=position, cache=cache, use_cache=True), mask

    def _block(self, run) -> CacheBlock:
        out, mask = run
        hidden = out.last_hidden_state[:, -1]
        return CacheBlock.of(out.cache, mask, self.model.get_output_embeddings()(hidden), hidden)

    def _score(self, block: CacheBlock) -> tuple[torch.Tensor, torch.Tensor]:
        """(rows,) log p(after + best candidate | row) and the best candidate's index, in one pass."""
        if self.verifier is not None:
            return self.verifier(block.hidden)
        rows, n_cand = len(block.mask), len(self.candidates)
        seqs = [self.after + c for c in self.candidates]
        width = max(map(len, seqs))
        ids = torch.zeros(rows * n_cand, width, dtype=torch.long)
        known = torch.zeros(rows * n_cand, width, dtype=torch.bool)
        for c, seq in enumerate(seqs):
            ids[c::n_cand, : len(seq)] = torch.tensor(seq)
            known[c::n_cand, : len(seq)] = True
        picks = [SimpleNamespace(block=block, row=r) for r in range(rows) for _ in range(n_cand)]
        keys, values, mask = kv.gather(picks)
        mask = torch.cat([mask, torch.ones_like(ids)], dim=1)
        out, _ = self._run(ids, kv.make(self.model.config, keys, values), mask)
        later = self.model.get_output_embeddings()(out.last_hidden_state[:, :-1]).float().log_softmax(-1)
        first = block.logprobs.repeat_interleave(n_cand, 0)[:, None]  # predicts token 0 of every sequence
        logprobs = torch.cat([first, later], dim=1).gather(2, ids[:, :, None])[:, :, 0]  # (rows*C, width)
        total = (logprobs * known).sum(-1).view(rows, n_cand)
        best, answer = total.max(-1)
        return best, answer
