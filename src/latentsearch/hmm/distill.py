"""Distil an HMM from a language model: cluster its hidden states, count, refine with Baum-Welch.

1. Run the model over token sequences (its own rollouts or a corpus) and take one layer's hidden
   state at every position.
2. Seeded k-means over those states: the cluster of position t is the hidden state z_t.
3. Count initial states, transitions and emissions (with add-`smoothing` pseudocounts): the HMM.
4. Refine with Baum-Welch (EM) on the token sequences alone.
Then `compare` measures how well the HMM imitates the model: held-out perplexity of both and how
often their most likely next tokens agree.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
from tqdm.auto import tqdm

from latentsearch import limits
from latentsearch.hmm.hmm import HMM, expected_counts
from latentsearch.kv import left_pad, positions


@dataclass
class DistillConfig:
    n_states: int = 64  # K hidden states
    layer: int = -1  # which hidden_states entry to cluster (-1 = the last layer)
    kmeans_iters: int = 25  # Lloyd iterations
    em_iters: int = 5  # Baum-Welch iterations after counting (0 = counts only)
    smoothing: float = 1e-2  # pseudocount added to every count
    seed: int = 0  # k-means initialisation
    batch_size: int = 16  # sequences per model pass / EM batch

    def __post_init__(self):
        if self.n_states < 2:
            raise ValueError(f"n_states must be at least 2, got {self.n_states}")
        if self.smoothing <= 0 or not math.isfinite(self.smoothing):
            raise ValueError(f"smoothing must be a positive number, got {self.smoothing}")


@torch.no_grad()
def hidden_states(model, sequences: list[list[int]], layer: int, batch_size: int = 16) -> list[torch.Tensor]:
    """One (len, d_model) tensor per sequence: the chosen layer's state at every position."""
    out = []
    for start in range(0, len(sequences), batch_size):
        chunk = sequences[start : start + batch_size]
        ids, mask = left_pad(chunk, pad_id=0)
        states = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask),
                       output_hidden_states=True).hidden_states[layer]  # (batch, width, d)
        out += [states[row, ids.shape[1] - len(seq) :].float() for row, seq in enumerate(chunk)]
    return out


def kmeans(points: torch.Tensor, k: int, iters: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(k, d) centroids and (N,) assignments; k-means++-free: k distinct random points start it."""
    g = torch.Generator().manual_seed(seed)
    centroids = points[torch.randperm(len(points), generator=g)[:k]].clone()
    for _ in range(iters):
        assign = torch.cdist(points, centroids).argmin(-1)
        sums = torch.zeros_like(centroids).index_add_(0, assign, points)
        counts = torch.bincount(assign, minlength=len(centroids)).to(points.dtype)[:, None]
        empty = counts[:, 0] == 0  # an empty cluster keeps its old centroid
        centroids = torch.where(empty[:, None], centroids, sums / counts.clamp(min=1))
    return centroids, torch.cdist(points, centroids).argmin(-1)


def count_hmm(states: list[list[int]], tokens: list[list[int]], n_states: int, vocab: int,
              smoothing: float) -> HMM:
    """Maximum-likelihood HMM from observed (state, token) sequences, with pseudocounts."""
    init = torch.full((n_states,), smoothing, dtype=torch.float64)
    trans = torch.full((n_states, n_states), smoothing, dtype=torch.float64)
    emit = torch.full((n_states, vocab), smoothing, dtype=torch.float64)
    for z, x in zip(states, tokens):
        z, x = torch.tensor(z), torch.tensor(x)
        init[z[0]] += 1
        trans.index_put_((z[:-1], z[1:]), torch.ones(len(z) - 1, dtype=torch.float64), accumulate=True)
        emit.index_put_((z, x), torch.ones(len(z), dtype=torch.float64), accumulate=True)
    norm = lambda t: (t / t.sum(-1, keepdim=True)).log().float()  # noqa: E731
    return HMM(norm(init), norm(trans), norm(emit))


def distill(model, sequences: list[list[int]], config: DistillConfig, progress: bool = False) -> tuple[HMM, dict]:
    """The HMM and a report (timings, training log-likelihood per EM iteration)."""
    if len(sequences) < 1 or any(len(s) < 2 for s in sequences):
        raise ValueError("distillation needs sequences of at least 2 tokens")
    vocab = model.get_output_embeddings().weight.shape[0]
    limits.check(f"an HMM of {config.n_states} states over {vocab} tokens",  # counts, logs and EM statistics
                 4 * 4 * config.n_states * (config.n_states + vocab))
    clock = time.perf_counter()
    states = hidden_states(model.eval(), sequences, config.layer, config.batch_size)
    points = torch.cat(states)
    if len(points) < config.n_states:
        raise ValueError(f"{len(points)} positions cannot make {config.n_states} states; give more sequences")
    _, assign = kmeans(points, config.n_states, config.kmeans_iters, config.seed)
    splits = assign.split([len(s) for s in states])
    hmm = count_hmm([s.tolist() for s in splits], sequences, config.n_states, vocab, config.smoothing)
    report = {"config": asdict(config), "positions": len(points), "cluster_seconds": time.perf_counter() - clock}
    hmm, report["em_log_likelihood"] = refine(hmm, sequences, config, progress)
    report["seconds"] = round(time.perf_counter() - clock, 2)
    return hmm, report


def refine(hmm: HMM, sequences: list[list[int]], config: DistillConfig, progress: bool = False):
    """Baum-Welch over all sequences (statistics summed over batches); the log-likelihood before each step."""
    history = []
    for _ in tqdm(range(config.em_iters), desc="EM", disable=not progress):
        stats, total = None, 0.0
        for start in range(0, len(sequences), config.batch_size):
            tokens, lengths = _right_pad(sequences[start : start + config.batch_size])
            part, loglik = expected_counts(hmm, tokens, lengths)
            stats = part if stats is None else [a + b for a, b in zip(stats, part)]
            total += loglik
        history.append(total)
        hmm = HMM(*(((c + config.smoothing) / (c + config.smoothing).sum(-1, keepdim=True)).log() for c in stats))
    return hmm, history


def _right_pad(sequences: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(map(len, sequences))
    tokens = torch.zeros(len(sequences), width, dtype=torch.long)
    for row, seq in enumerate(sequences):
        tokens[row, : len(seq)] = torch.tensor(seq)
    return tokens, torch.tensor([len(s) for s in sequences])


@torch.no_grad()
def compare(model, hmm: HMM, sequences: list[list[int]], score_from: list[int] | None = None,
            batch_size: int = 16) -> dict:
    """Held-out perplexity of the model and of the HMM on the same next tokens, and how often the two
    agree on the most likely next token. Sequence i is scored from position `score_from[i]` (default
    1) on, e.g. only the text the model generated, not the prompt it was given."""
    nll_model = nll_hmm = agree = n = 0.0
    score_from = score_from or [1] * len(sequences)
    for start in range(0, len(sequences), batch_size):
        chunk, firsts = sequences[start : start + batch_size], score_from[start : start + batch_size]
        tokens, lengths = _right_pad(chunk)
        logits = model(input_ids=tokens).logits.float().log_softmax(-1)  # right padding: causal, harmless
        alphas = hmm.forward_log_alphas(tokens)  # (B, T, K)
        for row, (length, first) in enumerate(zip(lengths.tolist(), firsts)):
            first = max(first, 1)
            target = tokens[row, first:length]
            hmm_next = hmm.next_token_log_probs(alphas[row, first - 1 : length - 1])  # (scored, V)
            lm_next = logits[row, first - 1 : length - 1]
            nll_model -= lm_next.gather(1, target[:, None]).sum().item()
            nll_hmm -= hmm_next.gather(1, target[:, None]).sum().item()
            agree += (hmm_next.argmax(-1) == lm_next.argmax(-1)).sum().item()
            n += len(target)
    return {"model_perplexity": math.exp(nll_model / n), "hmm_perplexity": math.exp(nll_hmm / n),
            "top1_agreement": agree / n, "tokens": int(n)}
