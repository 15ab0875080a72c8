"""The HMM's dynamic programs against brute-force enumeration, and EM's monotone likelihood."""

import itertools

import pytest
import torch

from latentsearch.hmm.hmm import HMM, baum_welch_step


def random_hmm(k=3, v=4, seed=0) -> HMM:
    g = torch.Generator().manual_seed(seed)
    rand = lambda *shape: torch.rand(*shape, generator=g, dtype=torch.float64).add(0.1)  # noqa: E731
    norm = lambda t: (t / t.sum(-1, keepdim=True)).log()  # noqa: E731
    return HMM(norm(rand(k)), norm(rand(k, k)), norm(rand(k, v)))


def joint(hmm: HMM, states, tokens) -> float:
    score = hmm.log_init[states[0]] + hmm.log_emit[states[0], tokens[0]]
    for (a, b), x in zip(zip(states, states[1:]), tokens[1:]):
        score = score + hmm.log_trans[a, b] + hmm.log_emit[b, x]
    return float(score)


def all_paths(hmm, tokens):
    return {path: joint(hmm, path, tokens) for path in itertools.product(range(hmm.n_states), repeat=len(tokens))}


SEQS = [[0, 3, 1, 1, 2], [2, 2, 0, 0, 0], [1, 0, 3, 0, 0]]
LENGTHS = torch.tensor([5, 3, 4])  # the last two are padded


def test_forward_equals_enumeration():
    hmm = random_hmm()
    got = hmm.log_likelihood(torch.tensor(SEQS), LENGTHS)
    for b, seq in enumerate(SEQS):
        scores = torch.tensor(list(all_paths(hmm, seq[: LENGTHS[b]]).values()), dtype=torch.float64)
        assert got[b].item() == pytest.approx(scores.logsumexp(0).item(), abs=1e-9)


def test_viterbi_equals_enumeration():
    hmm = random_hmm()
    paths, scores = hmm.viterbi(torch.tensor(SEQS), LENGTHS)
    for b, seq in enumerate(SEQS):
        table = all_paths(hmm, seq[: LENGTHS[b]])
        best = max(table, key=table.get)
        assert tuple(paths[b]) == best and scores[b].item() == pytest.approx(table[best], abs=1e-9)


def test_posteriors_equal_enumeration():
    hmm = random_hmm()
    post = hmm.posteriors(torch.tensor(SEQS), LENGTHS)
    for b, seq in enumerate(SEQS):
        n = int(LENGTHS[b])
        table = all_paths(hmm, seq[:n])
        total = torch.tensor(list(table.values()), dtype=torch.float64).logsumexp(0)
        for t in range(n):
            for z in range(hmm.n_states):
                mass = torch.tensor([s for p, s in table.items() if p[t] == z], dtype=torch.float64).logsumexp(0)
                assert post[b, t, z].item() == pytest.approx((mass - total).exp().item(), abs=1e-9)
        assert not post[b, n:].any()


def test_next_token_distribution_equals_enumeration():
    hmm = random_hmm()
    prefix = [0, 3, 1]
    alphas = hmm.forward_log_alphas(torch.tensor([prefix]))[:, -1]
    got = hmm.next_token_log_probs(alphas)[0]
    base = hmm.log_likelihood(torch.tensor([prefix]))[0]
    for x in range(hmm.vocab_size):
        want = hmm.log_likelihood(torch.tensor([prefix + [x]]))[0] - base
        assert got[x].item() == pytest.approx(want.item(), abs=1e-9)


def test_em_never_lowers_the_likelihood():
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 5, (40, 12), generator=g)
    hmm, history = random_hmm(k=3, v=5, seed=7), []
    for _ in range(15):
        hmm, loglik = baum_welch_step(hmm, tokens, pseudocount=0.0)
        history.append(loglik)
    assert all(b >= a - 1e-7 for a, b in zip(history, history[1:])), history
    assert history[-1] > history[0] + 1.0


def test_save_and_load_round_trip(tmp_path):
    hmm = random_hmm()
    hmm.save(tmp_path / "h", {"layer": 3})
    back = HMM.load(tmp_path / "h")
    assert torch.equal(back.log_trans, hmm.log_trans) and HMM.info(tmp_path / "h")["layer"] == 3


# --- constraints and guided decoding --------------------------------------------------------------
from latentsearch.hmm.constraint import KeywordAutomaton, constraint_table  # noqa: E402
from latentsearch.hmm.guide import HMMGuide  # noqa: E402


def contains(seq, keyword) -> bool:
    return any(tuple(seq[i : i + len(keyword)]) == tuple(keyword) for i in range(len(seq)))


def test_automaton_accepts_exactly_the_sequences_with_every_keyword():
    keywords = [[1, 1, 2], [3]]
    automaton = KeywordAutomaton(keywords)
    for seq in itertools.product(range(5), repeat=5):
        expected = all(contains(seq, k) for k in keywords)
        assert bool(automaton.accepting[automaton.run(seq)]) == expected, seq


def test_constraint_probability_equals_enumeration():
    hmm, keywords, m = random_hmm(k=3, v=4, seed=2), [[1, 2], [3]], 4
    table = constraint_table(hmm, KeywordAutomaton(keywords), m)
    prefix = [0, 2]
    alpha = hmm.forward_log_alphas(torch.tensor([prefix]))[0, -1]
    got = (alpha - alpha.logsumexp(0) + table.log_beta[m][:, 0]).logsumexp(0)
    base, mass = hmm.log_likelihood(torch.tensor([prefix]))[0], []
    for future in itertools.product(range(4), repeat=m):
        if all(contains(future, k) for k in keywords):
            mass.append(hmm.log_likelihood(torch.tensor([prefix + list(future)]))[0] - base)
    assert got.item() == pytest.approx(torch.stack(mass).logsumexp(0).item(), abs=1e-8)


def test_guided_next_token_factor_equals_enumeration():
    hmm, keywords, m = random_hmm(k=3, v=4, seed=3), [[2], [3]], 3
    prompt = [1, 0]
    guide = HMMGuide(hmm, keywords, prompt, max_new_tokens=m)
    factor = guide.log_prob_met(())
    for x in range(4):
        base = hmm.log_likelihood(torch.tensor([prompt + [x]]))[0]
        mass = [hmm.log_likelihood(torch.tensor([prompt + [x, *f]]))[0] - base
                for f in itertools.product(range(4), repeat=m - 1) if all(contains((x, *f), k) for k in keywords)]
        want = torch.stack(mass).logsumexp(0) if mass else torch.tensor(float("-inf"))
        assert factor[x].item() == pytest.approx(want.item(), abs=1e-6)


def test_guided_greedy_meets_a_constraint_that_plain_greedy_misses():
    from latentsearch.hmm.distill import DistillConfig, distill
    from latentsearch.models.factory import ModelConfig, build_model
    from latentsearch.search import greedy
    from latentsearch.search.engine import Engine

    model = build_model(ModelConfig(n_layer=2, d_model=32, n_head=2, max_positions=64), 24, 0, 1, seed=0).eval()
    g = torch.Generator().manual_seed(0)
    corpus = torch.randint(2, 24, (32, 16), generator=g).tolist()
    hmm, _ = distill(model, corpus, DistillConfig(n_states=8, em_iters=2))
    prompt, budget = [5, 6, 7], 10
    plain = greedy(Engine(model, prompt, None, budget)).sequences[0]
    keyword = next(t for t in range(2, 24) if t not in plain)
    guide = HMMGuide(hmm, [[keyword]], prompt, budget)
    guided = greedy(Engine(model, prompt, None, budget, processors=[guide])).sequences[0]
    assert not guide.satisfied(plain) and guide.satisfied(guided), (plain, guided, keyword)
