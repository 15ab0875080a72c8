"""Search in latent space: a search `Space` whose moves continue a sequence of continuous thoughts, so the
algorithms of search/ (beam, recombine, best-first, ...) and the strategies of latent/strategies.py
run on thoughts unchanged.

A node is a sequence of thoughts plus its KV cache (a row of a `kv.CacheBlock`). Its children, by
`LatentSearchConfig.branch`:
  noise   `children` continuations of the thought, each perturbed on-distribution (latent/noise.py:
          gaussian noise on the fed-back thought, MC-dropout, noise at one layer); the path of first
          children is the plain thought, so Coconut's own single path is always in the tree
  tokens  (the ablation) the continuous thought, the embeddings of the top-k tokens of its LM-head
          distribution, and their soft mixture -- inputs the model never saw in training
Every node gets the answer its thoughts lead to (the likelier candidate after `after`, e.g. `<eot>`,
read in one batched pass) and a value: the log-likelihood of that answer, or a learned value model's
log P(right) of the trajectory (latent/value.py). A move's score is the change of value, so a path's
total is its final value minus the root's. Paths end after `depth` thoughts.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, Sequence

import torch

from latentsearch import kv
from latentsearch.kv import CacheBlock, positions
from latentsearch.latent.noise import Perturb, generators, perturb_input, perturbed
from latentsearch.models.factory import check_context
from latentsearch.search.base import Node, Tree, Warp, check_counts

BRANCHES = ("noise", "tokens")


@dataclass(frozen=True)
class LatentSearchConfig:
    depth: int = 6  # thoughts per path
    branch: str = "tokens"  # how children are made: noise or tokens (see the module docstring)
    children: int = 4  # noise: children of every node (the first one plain)
    root_children: int = 0  # noise: children of the root (0 = `children`); best-of-N takes N here, 1 below
    perturb: Perturb = field(default_factory=Perturb)  # noise: how a child is perturbed
    seed: int = 0  # noise: every child's noise comes from (seed, its path)
    top_k: int = 2  # tokens: token-embedding children per node (0 = only the continuous thought)
    soft: bool = True  # tokens: add the soft-mixture child
    value_every: bool = True  # read the answer and value after every thought (False: after the last only)

    def __post_init__(self):
        if self.depth <= 0:
            raise ValueError(f"depth must be positive, got {self.depth}")  # its upper bound is the model's context
        check_counts(self, "children")
        check_counts(self, "root_children", "top_k", low=0)
        if self.branch not in BRANCHES:
            raise ValueError(f"branch must be one of {', '.join(BRANCHES)}, not {self.branch!r}")

    def n_actions(self, depth: int) -> int:
        if self.branch == "noise":
            return self.root_children or self.children if depth == 0 else self.children
        return 1 + self.top_k + int(self.soft and self.top_k > 0)


class _Handle:
    """A node's state: its cache row, its newest thought, its answer and value, its children."""

    __slots__ = ("block", "row", "hidden", "value", "answer", "best", "margin", "label", "path", "parent", "children")

    def __init__(self, block: CacheBlock | None, row: int, label: str, path: tuple[int, ...], parent=None):
        self.block, self.row, self.label, self.path, self.parent = block, row, label, path, parent
        self.hidden = block.hidden[row] if block is not None else None  # (d_model,) the newest thought
        self.value, self.answer, self.best, self.margin = 0.0, 0, 0.0, 0.0
        self.children: list[_Handle] | None = None

    def detached(self) -> "_Handle":
        """The thought, value, answer and path without the cache (a finished node keeps what it found)."""
        light = _Handle(None, self.row, self.label, self.path)  # no parent: it would keep their caches alive
        light.hidden, light.value, light.answer, light.best, light.margin = (
            self.hidden, self.value, self.answer, self.best, self.margin)
        return light


# A value of trajectories: (their handles) -> (rows,) values; e.g. a learned value model's log P(right).
Valuer = Callable[[Sequence[_Handle]], torch.Tensor]


def path_tokens(prompt: Sequence[int], thoughts: int, after: Sequence[int], candidates: Sequence[Sequence[int]]) -> int:
    """Positions of the longest path: the prompt, the thoughts, what follows them and the longest answer."""
    return len(prompt) + thoughts + len(after) + max(len(c) for c in candidates)


class LatentSpace:
    """The Space over thought sequences after `prompt` (which ends with `<bot>`).

    `candidates`: the token ids of every answer (after `after`), the right one first when known.
    `valuer`: replaces the answer likelihood as the value (see latent/value.py). `token_name` names the
    tokens of the `tokens` ablation's children in the tree."""

    def __init__(self, model, prompt: Sequence[int], after: Sequence[int], candidates: Sequence[Sequence[int]],
                 config: LatentSearchConfig = LatentSearchConfig(), valuer: Valuer | None = None,
                 token_name: Callable[[int], str] = str):
        if not prompt or not candidates or any(not c for c in candidates):
            raise ValueError("a prompt and non-empty answer candidates are required")
        check_context(model, path_tokens(prompt, config.depth, after, candidates),
                      f"a {len(prompt)}-token prompt, {config.depth} thoughts and the answer")
        self.model, self.config, self.valuer = model.eval(), config, valuer
        self.after, self.candidates, self.token_name = list(after), [list(c) for c in candidates], token_name
        self.max_new_tokens = config.depth  # paths end at `depth` thoughts
        self.forward_passes = self.expansions = self.thought_states = 0
        self.tree = Tree()
        self.labels = {0: "prompt"}  # tree node id -> what its move fed (a thought, noise j, a token, a mixture)
        with torch.no_grad():
            ids = torch.tensor([list(prompt)])
            root = _Handle(self._block(self._run(ids, None, torch.ones_like(ids))), 0, "prompt", ())
            self._value([root])
        self._root = Node((), 0.0, 0, root)

    # --- the Space protocol ---------------------------------------------------------------------
    def root(self) -> Node:
        return self._root

    @torch.no_grad()
    def expand(self, nodes: Sequence[Node], warp: Warp | None = None) -> torch.Tensor:
        """(len(nodes), moves) the change of value of each move's child."""
        self._grow([n.handle for n in nodes if n.handle.children is None])
        self.expansions += len(nodes)
        for n in nodes:
            self.tree.expanded[n.id] = True
        width = max(len(n.handle.children) for n in nodes)
        scores = torch.full((len(nodes), width), -torch.inf)
        for i, n in enumerate(nodes):
            scores[i, : len(n.handle.children)] = torch.tensor([c.value - n.handle.value for c in n.handle.children])
        return scores

    def child(self, parent: Node, move: int, score: float) -> Node:
        node_id = self.tree.add(parent.id, int(move), float(score))
        handle = parent.handle.children[move]
        self.labels[node_id] = handle.label
        return Node(parent.tokens + (int(move),), float(score), node_id, handle)

    def is_final(self, node: Node) -> bool:
        return len(node.tokens) >= self.config.depth

    @torch.no_grad()
    def hidden(self, nodes: Sequence[Node]) -> torch.Tensor:
        """(len(nodes), d_model) each node's newest state (what its continuous-thought child feeds back)."""
        return torch.stack([n.handle.hidden for n in nodes])

    def answer(self, node: Node) -> int:
        """Index of the candidate this node's thoughts make most likely."""
        return node.handle.answer

    # --- children ---------------------------------------------------------------------------------
    def _grow(self, handles: list[_Handle]) -> None:
        """All children of these nodes in one pass, then their answers (and values) in one more."""
        if not handles:
            return
        children = [(h, j) for h in handles for j in range(self.config.n_actions(len(h.path)))]
        keys, values, mask = kv.gather([h for h, _ in children])
        gens = generators([None if self._plain(h.path + (j,)) else self._seed(h.path + (j,)) for h, j in children])
        perturb = self.config.perturb if self.config.branch == "noise" else Perturb("none")
        inputs = perturb_input(torch.cat([self._inputs(h) for h in handles]), perturb, gens)  # (rows, d_model)
        cache = kv.make(self.model.config, keys, values)
        with perturbed(self.model, perturb, gens):  # dropout or layer noise, none on the plain rows
            block = self._block(self._run(None, cache, kv.append_column(mask), embeds=inputs[:, None]))
        made = [_Handle(block, r, name, h.path + (j,), h) for r, ((h, j), name) in
                enumerate(zip(children, self._names(handles)))]
        self.thought_states += len(made)
        if self.config.value_every or self.valuer is not None or len(made[0].path) == self.config.depth:
            self._value(made)
        for h in handles:
            h.children = [c for c in made if c.parent is h]

    def _plain(self, path: tuple[int, ...]) -> bool:
        return self.config.branch == "tokens" or not any(path)

    def _seed(self, path: tuple[int, ...]) -> int:
        return zlib.crc32(repr((self.config.seed, path)).encode())

    def _inputs(self, handle: _Handle) -> torch.Tensor:
        """(moves, d_model) what each child feeds: the thought (perturbed later), or the tokens ablation's."""
        hidden = handle.hidden
        if self.config.branch == "noise":
            return hidden.expand(self.config.n_actions(len(handle.path)), -1)
        inputs = [hidden]
        if self.config.top_k:
            probs, ids = handle.block.logprobs[handle.row].exp().topk(self.config.top_k)
            embeds = self.model.get_input_embeddings()(ids)  # (k, d_model)
            inputs += list(embeds)
            if self.config.soft:
                inputs.append((probs[:, None] / probs.sum() * embeds).sum(0))
        return torch.stack(inputs)

    def _names(self, handles: list[_Handle]) -> list[str]:
        """What each child feeds: the plain thought, noise j, a token by name, the mixture of those tokens."""
        names = []
        for h in handles:
            if self.config.branch == "noise":
                names += ["thought" if self._plain(h.path + (j,)) else f"noise {j}"
                          for j in range(self.config.n_actions(len(h.path)))]
                continue
            ids = h.block.logprobs[h.row].topk(self.config.top_k).indices.tolist() if self.config.top_k else []
            tokens = [self.token_name(i) for i in ids]
            names += ["thought"] + tokens + ([f"mix({', '.join(tokens)})"] if tokens and self.config.soft else [])
        return names

    # --- the model ------------------------------------------------------------------------------
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

    def _value(self, handles: list[_Handle]) -> None:
        """Each handle's answer (likeliest candidate), how surely (best log-likelihood, margin), its value."""
        scores = self.candidate_logprobs(handles)  # (rows, candidates)
        top = scores.topk(min(2, scores.shape[1]), dim=-1)
        for i, h in enumerate(handles):
            h.answer, h.best = int(top.indices[i, 0]), float(top.values[i, 0])
            h.margin = float(top.values[i, 0] - top.values[i, -1])
        values = self.valuer(handles) if self.valuer is not None else top.values[:, 0]
        for h, value in zip(handles, values.tolist()):
            h.value = value

    def candidate_logprobs(self, handles: Sequence[_Handle]) -> torch.Tensor:
        """(rows, candidates) log p(after + candidate | row's thoughts), all in one pass."""
        blocks = {id(h.block): h.block for h in handles}
        n_cand = len(self.candidates)
        seqs = [self.after + c for c in self.candidates]
        width = max(map(len, seqs))
        ids = torch.zeros(len(handles) * n_cand, width, dtype=torch.long)
        known = torch.zeros(len(handles) * n_cand, width, dtype=torch.bool)
        for c, seq in enumerate(seqs):
            ids[c::n_cand, : len(seq)] = torch.tensor(seq)
            known[c::n_cand, : len(seq)] = True
        picks = [SimpleNamespace(block=h.block, row=h.row) for h in handles for _ in range(n_cand)]
        keys, values, mask = kv.gather(picks)
        mask = torch.cat([mask, torch.ones_like(ids)], dim=1)
        out, _ = self._run(ids, kv.make(self.model.config, keys, values), mask)
        later = self.model.get_output_embeddings()(out.last_hidden_state[:, :-1]).float().log_softmax(-1)
        first = torch.stack([blocks[id(p.block)].logprobs[p.row] for p in picks])[:, None]  # predicts token 0
        logprobs = torch.cat([first, later], dim=1).gather(2, ids[:, :, None])[:, :, 0]  # (rows*C, width)
        return (logprobs * known).sum(-1).view(len(handles), n_cand)
