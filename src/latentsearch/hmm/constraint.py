"""Keyword-inclusion constraints as a small automaton, and Pr(constraint | state) on HMM x automaton.

The automaton's state is, for each keyword (a token sequence), how much of it the text just
matched, or "done". Tokens that occur in no keyword all act alike ("other"), so the product with
an HMM only needs the keyword tokens one by one plus one lumped column (as GeLaTo / Ctrl-G do).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from latentsearch.hmm.hmm import HMM


class KeywordAutomaton:
    """Accepts token sequences that contain every keyword somewhere (in any order)."""

    def __init__(self, keywords: list[list[int]]):
        if not keywords or any(not k for k in keywords):
            raise ValueError("give at least one keyword, each at least one token long")
        self.keywords = [tuple(k) for k in keywords]
        self.tokens = sorted({t for k in self.keywords for t in k})  # the tokens that matter
        start = tuple(0 for _ in self.keywords)
        self.states, self.index = [start], {start: 0}
        self.table: list[dict[int, int]] = []  # state -> {token: next state}; key -1 = any other token
        for q in self.states:  # grows while we walk it: a breadth-first closure
            self.table.append({t: self._add(self._advance(q, t)) for t in [*self.tokens, -1]})
        self.accepting = torch.tensor([all(p == len(k) for p, k in zip(q, self.keywords)) for q in self.states])

    def _add(self, q: tuple) -> int:
        if q not in self.index:
            self.index[q] = len(self.states)
            self.states.append(q)
        return self.index[q]

    def _advance(self, q: tuple, token: int) -> tuple:
        return tuple(p if p == len(k) else _match(k, p, token) for p, k in zip(q, self.keywords))

    def step(self, state: int, token: int) -> int:
        row = self.table[state]
        return row.get(token, row[-1])

    def run(self, tokens, state: int = 0) -> int:
        for token in tokens:
            state = self.step(state, token)
        return state


def _match(keyword: tuple, matched: int, token: int) -> int:
    """Longest prefix of `keyword` that ends the text `keyword[:matched] + token` (KMP, by brute force)."""
    text = keyword[:matched] + (token,)
    for size in range(min(len(text), len(keyword)), 0, -1):
        if text[-size:] == keyword[:size]:
            return size
    return 0


@dataclass
class ConstraintTable:
    """log Pr(accepted within m more tokens | HMM state z that has emitted, automaton state q)."""

    log_beta: torch.Tensor  # (horizon + 1, K, Q)
    automaton: KeywordAutomaton


def constraint_table(hmm: HMM, automaton: KeywordAutomaton, horizon: int) -> ConstraintTable:
    """The backward recursion over HMM x automaton, m = 0..horizon, in probability space (float64)."""
    trans, emit = hmm.log_trans.double().exp(), hmm.log_emit.double().exp()
    key = torch.tensor(automaton.tokens)
    emit_key = emit[:, key]  # (K, R)
    emit_other = (1 - emit_key.sum(-1)).clamp(min=0)  # (K,) mass of every other token
    nxt = torch.tensor([[row[t] for t in automaton.tokens] for row in automaton.table])  # (Q, R)
    other = torch.tensor([row[-1] for row in automaton.table])  # (Q,)
    beta = automaton.accepting.double().expand(hmm.n_states, -1).clone()  # (K, Q): m = 0
    betas = [beta]
    for _ in range(horizon):
        # gamma(z', q) = sum_x emit(z', x) beta(z', next(q, x)), the key tokens one by one, the rest lumped
        gamma = (emit_key[:, None, :] * beta[:, nxt]).sum(-1) + emit_other[:, None] * beta[:, other]
        beta = trans @ gamma
        betas.append(beta)
    return ConstraintTable(torch.stack(betas).clamp(min=1e-300).log(), automaton)
