"""HMM-guided decoding: reweight the model's next token by the HMM's Pr(constraint still met | prefix, token).

p_guided(x | prefix) ∝ p_lm(x | prefix) · Pr_hmm(keywords appear within the token budget | prefix, x)^weight

`HMMGuide` has transformers' `LogitsProcessor` signature, `(input_ids, scores) -> scores`, so it
works with `Engine(processors=[guide])` and so with every search algorithm, and with `generate`.
Rows of `input_ids` are the prompt and the generated tokens, possibly left-padded.
"""

from __future__ import annotations

import torch

from latentsearch.hmm.constraint import KeywordAutomaton, constraint_table
from latentsearch.hmm.hmm import HMM


class HMMGuide:
    """Example: `greedy(Engine(model, prompt, eos, 24, processors=[HMMGuide(hmm, [[kw]], prompt, 24, eos)]))`"""

    def __init__(self, hmm: HMM, keywords: list[list[int]], prompt: list[int], max_new_tokens: int,
                 eos_id: int | None = None, weight: float = 1.0):
        if max_new_tokens <= 0:
            raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
        if not prompt:
            raise ValueError("the prompt must hold at least one token")
        self.hmm, self.prompt, self.eos_id, self.weight = hmm, list(prompt), eos_id, weight
        self.automaton = KeywordAutomaton(keywords)
        self.log_beta = constraint_table(hmm, self.automaton, max_new_tokens).log_beta.exp()  # (M+1, K, Q)
        self.emit = hmm.log_emit.double().exp()  # (K, V)
        self.max_new_tokens = max_new_tokens
        prompt_alpha = hmm.forward_log_alphas(torch.tensor([self.prompt]))[0, -1].double()
        self._states: dict[tuple, tuple[torch.Tensor, int]] = {(): (prompt_alpha, 0)}

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        bonus = torch.stack([self.log_prob_met(self._generated(row.tolist())) for row in input_ids])
        return scores + self.weight * bonus.to(scores.dtype)

    def satisfied(self, generated: list[int]) -> bool:
        return bool(self.automaton.accepting[self.automaton.run(generated)])

    def log_prob_met(self, generated: tuple) -> torch.Tensor:
        """(V,) log Pr(constraint met by the end | prompt + generated + x) for every next token x."""
        left = self.max_new_tokens - len(generated)  # tokens still to come, x included
        log_alpha, q = self._state(generated)
        if left <= 0 or self.automaton.accepting[q]:
            return torch.zeros(self.emit.shape[1], dtype=torch.float64)
        prior = self.hmm.step(log_alpha[None]).double()[0]
        prior = (prior - prior.logsumexp(0)).exp()  # (K,) p(z_{t+1} | prefix)
        beta = self.log_beta[left - 1]  # (K, Q): after x, left-1 tokens remain
        row = self.automaton.table[q]
        met = (prior * beta[:, row[-1]]) @ self.emit  # (V,) every token as "other"
        for token in self.automaton.tokens:
            met[token] = (prior * self.emit[:, token] * beta[:, row[token]]).sum()
        log_met = met.clamp(min=1e-300).log() - (prior @ self.emit).clamp(min=1e-300).log()
        if self.eos_id is not None:  # ending now meets the constraint only if it is met already
            log_met[self.eos_id] = float("-inf")
        return log_met

    def _state(self, generated: tuple) -> tuple[torch.Tensor, int]:
        """Filtered HMM state (log alpha) and automaton state after the prompt and `generated`."""
        if generated not in self._states:
            log_alpha, q = self._state(generated[:-1])
            token = generated[-1]
            log_alpha = self.hmm.step(log_alpha[None]).double()[0] + self.hmm.log_emit[:, token].double()
            self._states[generated] = (log_alpha - log_alpha.logsumexp(0), self.automaton.step(q, token))
        return self._states[generated]

    def _generated(self, row: list[int]) -> tuple:
        """The tokens after the prompt in a (possibly left-padded) row."""
        n = len(self.prompt)
        for start in range(len(row) - n + 1):
            if row[start : start + n] == self.prompt:
                return tuple(row[start + n :])
        raise ValueError("a row of input_ids does not contain the guide's prompt")
