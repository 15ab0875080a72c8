"""A discrete hidden Markov model in log space, batched in torch: forward, Viterbi, posteriors, EM.

State z_t emits token x_t; z_0 ~ init, z_t | z_{t-1} ~ trans, x_t | z_t ~ emit. Sequences of
different lengths are right-padded; `lengths` says where each ends. Sums over states are done as
`log(exp(alpha - max) @ P) + max`, so the recursions stay in log space yet run as matrix products.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from latentsearch.io import atomic_write_json


@dataclass
class HMM:
    log_init: torch.Tensor  # (K,)
    log_trans: torch.Tensor  # (K, K) from -> to
    log_emit: torch.Tensor  # (K, V)

    @property
    def n_states(self) -> int:
        return self.log_init.shape[0]

    @property
    def vocab_size(self) -> int:
        return self.log_emit.shape[1]

    # --- inference ------------------------------------------------------------------------------
    def step(self, log_alpha: torch.Tensor) -> torch.Tensor:
        """log sum_z alpha(z) trans(z, z') for every z': one transition, log space. (B, K) -> (B, K)"""
        log_alpha = log_alpha.to(self.log_trans.dtype)
        peak = log_alpha.max(-1, keepdim=True).values.clamp(min=-1e30)
        return torch.log((log_alpha - peak).exp() @ self.log_trans.exp()) + peak

    def forward_log_alphas(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T) tokens -> (B, T, K) log p(x_0..x_t, z_t)."""
        alphas = [self.log_init + self.log_emit[:, tokens[:, 0]].T]
        for t in range(1, tokens.shape[1]):
            alphas.append(self.step(alphas[-1]) + self.log_emit[:, tokens[:, t]].T)
        return torch.stack(alphas, dim=1)

    def log_likelihood(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B,) log p(x) of each sequence (its first `lengths[b]` tokens)."""
        alphas = self.forward_log_alphas(tokens)
        last = _lengths(tokens, lengths) - 1
        return alphas[torch.arange(len(tokens)), last].logsumexp(-1)

    def viterbi(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None):
        """Best state path of each sequence and its joint log-probability: (list of paths, (B,) scores)."""
        lengths = _lengths(tokens, lengths)
        delta = self.log_init + self.log_emit[:, tokens[:, 0]].T  # (B, K)
        back = []
        for t in range(1, tokens.shape[1]):
            scores = delta[:, :, None] + self.log_trans  # (B, K from, K to)
            best, arg = scores.max(1)
            new = best + self.log_emit[:, tokens[:, t]].T
            alive = (t < lengths)[:, None]
            delta = torch.where(alive, new, delta)
            back.append(torch.where(alive, arg, torch.arange(self.n_states).expand_as(arg)))
        score, state = delta.max(-1)
        paths = [state]
        for arg in reversed(back):
            state = arg.gather(1, state[:, None])[:, 0]
            paths.append(state)
        states = torch.stack(paths[::-1], dim=1)  # (B, T)
        return [states[b, : lengths[b]].tolist() for b in range(len(tokens))], score

    def posteriors(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, K) p(z_t | x) by forward-backward; zero past each sequence's end."""
        lengths = _lengths(tokens, lengths)
        alphas = self.forward_log_alphas(tokens)
        betas = self._log_betas(tokens, lengths)
        joint = alphas + betas
        post = (joint - joint.logsumexp(-1, keepdim=True)).exp()
        return post * _mask(tokens, lengths)[:, :, None]

    def _log_betas(self, tokens, lengths) -> torch.Tensor:
        """(B, T, K) log p(x_{t+1}..x_end | z_t); 0 at each sequence's last position and beyond."""
        batch, width = tokens.shape
        beta = tokens.new_zeros(batch, self.n_states, dtype=self.log_init.dtype)
        betas = [beta]
        trans_t = HMM(self.log_init, self.log_trans.T, self.log_emit)  # sums over the *next* state
        for t in range(width - 2, -1, -1):
            new = trans_t.step(self.log_emit[:, tokens[:, t + 1]].T + beta)
            beta = torch.where((t + 1 < lengths)[:, None], new, torch.zeros_like(new))
            betas.append(beta)
        return torch.stack(betas[::-1], dim=1)

    def next_token_log_probs(self, log_alpha: torch.Tensor) -> torch.Tensor:
        """(B, V) log p(x_{t+1} | x_0..x_t) from (B, K) log alphas (unnormalised is fine)."""
        prior = self.step(log_alpha)
        prior = prior - prior.logsumexp(-1, keepdim=True)
        peak = prior.max(-1, keepdim=True).values
        return torch.log((prior - peak).exp() @ self.log_emit.exp()) + peak

    # --- persistence ------------------------------------------------------------------------------
    def save(self, folder: str | Path, info: dict | None = None) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "hmm.safetensors.tmp"
        save_file({"log_init": self.log_init.contiguous(), "log_trans": self.log_trans.contiguous(),
                   "log_emit": self.log_emit.contiguous()}, str(tmp))
        tmp.replace(folder / "hmm.safetensors")
        atomic_write_json(folder / "hmm.json", {"n_states": self.n_states, "vocab_size": self.vocab_size,
                                                **(info or {})})

    @classmethod
    def load(cls, folder: str | Path) -> "HMM":
        folder = Path(folder)
        if not (folder / "hmm.safetensors").is_file():
            raise FileNotFoundError(f"{folder}: no hmm.safetensors")
        try:
            tensors = load_file(str(folder / "hmm.safetensors"))
            hmm = cls(tensors["log_init"], tensors["log_trans"], tensors["log_emit"])
        except Exception as err:  # safetensors reports a damaged file with its own exception type
            raise ValueError(f"{folder / 'hmm.safetensors'}: not an HMM file ({str(err)[:200]})") from None
        where = folder / "hmm.safetensors"
        for name in ("log_init", "log_trans", "log_emit"):
            tensor = tensors[name]
            if tensor.dtype not in (torch.float32, torch.float64):
                raise ValueError(f"{where}: {name} is stored as {tensor.dtype}, not float32 or float64")
            if torch.isnan(tensor).any() or torch.isposinf(tensor).any():  # -inf is log 0, allowed
                raise ValueError(f"{where}: {name} holds NaN or +inf")
        k, v = hmm.n_states, hmm.vocab_size
        if hmm.log_init.shape != (k,) or hmm.log_trans.shape != (k, k) or hmm.log_emit.shape != (k, v):
            raise ValueError(f"{where}: the tensors' shapes do not agree")
        for name in ("log_init", "log_trans", "log_emit"):  # each row a distribution: its probabilities sum to 1
            sums = getattr(hmm, name).double().logsumexp(-1).exp()
            worst = float(sums.flatten()[(sums - 1).abs().argmax()])
            if abs(worst - 1) > 1e-3:
                raise ValueError(f"{where}: {name} is not a log-probability distribution "
                                 f"(a row's probabilities sum to {worst:.4g})")
        return hmm

    @staticmethod
    def info(folder: str | Path) -> dict:
        return json.loads((Path(folder) / "hmm.json").read_text())


def _lengths(tokens: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    return torch.full((len(tokens),), tokens.shape[1]) if lengths is None else torch.as_tensor(lengths)


def _mask(tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    return (torch.arange(tokens.shape[1])[None] < lengths[:, None]).to(torch.float32)


def baum_welch_step(hmm: HMM, tokens: torch.Tensor, lengths: torch.Tensor | None = None,
                    pseudocount: float = 1e-3) -> tuple[HMM, float]:
    """One EM step over a batch of sequences: (the re-estimated HMM, total log-likelihood before it)."""
    counts, loglik = expected_counts(hmm, tokens, lengths)
    return HMM(*(_normalise(c + pseudocount) for c in counts)), loglik


def expected_counts(hmm: HMM, tokens: torch.Tensor, lengths: torch.Tensor | None = None):
    """E step: expected (initial, transition, emission) counts under the posterior, and the total
    log-likelihood. Counts of several batches add up, so EM can run over a corpus in pieces."""
    lengths = _lengths(tokens, lengths)
    mask = _mask(tokens, lengths)  # (B, T)
    alphas, betas = hmm.forward_log_alphas(tokens), hmm._log_betas(tokens, lengths)
    loglik = alphas[torch.arange(len(tokens)), lengths - 1].logsumexp(-1)  # (B,)
    post = (alphas + betas - loglik[:, None, None]).exp() * mask[:, :, None]  # (B, T, K)
    # Expected transitions: xi_t(z, z') = alpha_t(z) trans(z, z') emit(z', x_{t+1}) beta_{t+1}(z') / p(x)
    right = (hmm.log_emit[:, tokens[:, 1:]].permute(1, 2, 0) + betas[:, 1:] - loglik[:, None, None])
    left_peak = alphas[:, :-1].max(-1, keepdim=True).values
    right_peak = right.max(-1, keepdim=True).values
    left_w = (alphas[:, :-1] - left_peak).exp() * mask[:, 1:, None]  # (B, T-1, K)
    right_w = (right - right_peak).exp() * (left_peak + right_peak).exp()
    xi = torch.einsum("btk,btl->kl", left_w, right_w) * hmm.log_trans.exp()
    emit = torch.zeros_like(hmm.log_emit).index_add_(1, tokens[mask.bool()], post[mask.bool()].T)
    return [post[:, 0].sum(0), xi, emit], float(loglik.sum())


def _normalise(counts: torch.Tensor) -> torch.Tensor:
    return (counts / counts.sum(-1, keepdim=True)).log()
