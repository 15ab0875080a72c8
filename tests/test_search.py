"""The token-space search engine and algorithms on tiny GPT-2 / Llama / Qwen2 models, offline."""

import itertools
import math

import pytest
import torch

from latentsearch.models.factory import FAMILIES, ModelConfig, build_model
from latentsearch.search import (
    HiddenBuckets,
    Warp,
    beam_search,
    best_first,
    by_tokens,
    greedy,
    last_tokens,
    mcts,
    recombine,
    sample,
    self_consistency,
)
from latentsearch.search.engine import Engine
from latentsearch.search.recombine import merger

EOS, PAD = 1, 0


def tiny(family: str, vocab: int = 12, scale: float = 4.0, seed: int = 3):
    """A random tiny model; scaled (tied) embeddings make its distributions peaked and varied."""
    model = build_model(ModelConfig(family=family, n_layer=2, d_model=32, n_head=2), vocab, PAD, EOS, seed=seed)
    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(scale)
    return model.eval()


def prompts(n: int, vocab: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, 8, (n,), generator=g).tolist()
    return [torch.randint(2, vocab, (k,), generator=g).tolist() for k in lengths]


def same_as_generate(ours: list[int], theirs: list[int]) -> bool:
    """transformers pads finished beams with `pad_token_id or eos_token_id`."""
    return ours == theirs[: len(ours)] and all(t in (PAD, EOS) for t in theirs[len(ours):])


@pytest.fixture(scope="module", params=FAMILIES)
def model(request):
    return tiny(request.param)


def test_greedy_matches_generate(model):
    for prompt in prompts(4, 12):
        out = greedy(Engine(model, prompt, EOS, max_new_tokens=10))
        theirs = model.generate(torch.tensor([prompt]), max_new_tokens=10, do_sample=False, eos_token_id=EOS,
                                pad_token_id=PAD)[0, len(prompt):].tolist()
        assert same_as_generate(out.sequences[0], theirs)
        assert out.expansions == len(out.sequences[0]) and out.forward_passes == out.expansions


@pytest.mark.parametrize("width", [2, 3, 5])
def test_beam_matches_generate(model, width):
    settings = itertools.product(prompts(3, 12), (1.0, 0.0, -0.5, 2.0), (False, True, "never"))
    for prompt, length_penalty, early_stopping in settings:
        out = beam_search(Engine(model, prompt, EOS, max_new_tokens=10), width, length_penalty, early_stopping)
        theirs = model.generate(
            torch.tensor([prompt]), max_new_tokens=10, num_beams=width, num_return_sequences=width,
            length_penalty=length_penalty, early_stopping=early_stopping, do_sample=False, eos_token_id=EOS,
            pad_token_id=PAD, return_dict_in_generate=True, output_scores=True,
        )
        assert len(out.sequences) == width
        for ours, row in zip(out.sequences, theirs.sequences):
            assert same_as_generate(ours, row[len(prompt):].tolist())
        assert out.scores == pytest.approx(theirs.sequences_scores.tolist(), abs=1e-5)


def test_beam_with_transformers_processors_matches_generate(model):
    """Processors act on log-probs, unnormalised, as in transformers' beam search."""
    from transformers import NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

    processors = [RepetitionPenaltyLogitsProcessor(1.5), NoRepeatNGramLogitsProcessor(2)]
    for prompt in prompts(2, 12, seed=5):
        out = beam_search(Engine(model, prompt, EOS, max_new_tokens=10, processors=processors), width=3)
        theirs = model.generate(torch.tensor([prompt]), num_beams=3, num_return_sequences=3, max_new_tokens=10,
                                repetition_penalty=1.5, no_repeat_ngram_size=2, do_sample=False, eos_token_id=EOS,
                                pad_token_id=PAD)
        assert all(same_as_generate(o, t[len(prompt):].tolist()) for o, t in zip(out.sequences, theirs))


def test_prompt_is_prefilled_once_and_shared_by_the_beams(model):
    shapes = []
    hook = model.register_forward_pre_hook(lambda _, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)),
                                           with_kwargs=True)
    try:
        out = beam_search(Engine(model, [3, 4, 5, 6, 7], EOS, max_new_tokens=6), width=4)
    finally:
        hook.remove()
    assert shapes[0] == (1, 5) and all(length == 1 for _, length in shapes[1:])
    assert len(shapes) == out.forward_passes and max(rows for rows, _ in shapes) <= 4


def test_engine_errors_speak_to_the_user(model):
    with pytest.raises(ValueError, match="at least one token"):
        Engine(model, [], EOS)
    engine = Engine(model, [3], EOS)
    with pytest.raises(ValueError, match="keep_hidden"):
        engine.hidden([engine.root()])
    with pytest.raises(ValueError, match="expand a node"):
        engine.child(engine.child(engine.root(), 3, -1.0), 4, -2.0)


def depths(tree: dict) -> list[int]:
    out = [0] * len(tree["parent"])
    for i in range(1, len(out)):
        out[i] = out[tree["parent"][i]] + 1
    return out


def test_beam_counts_one_forward_pass_per_step(model):
    out = beam_search(Engine(model, [3, 4, 5], EOS, max_new_tokens=6), width=3, early_stopping="never")
    expanded = [d for d, e in zip(depths(out.tree), out.tree["expanded"]) if e]
    assert out.forward_passes == len(set(expanded))  # the prefill, then one batched pass per step
    assert out.expansions == len(expanded) and max(expanded.count(d) for d in expanded) <= 3


def test_expanded_logprobs_equal_a_fresh_forward(model):
    """Rows gathered from different blocks (left-padded caches) give the same distribution as no cache."""
    prompt = [4, 6, 8]
    engine = Engine(model, prompt, EOS, max_new_tokens=4)
    nodes = [engine.root()]
    frontier = [engine.child(nodes[0], t, 0.0) for t in (2, 3)]
    engine.expand(frontier)
    deeper = [engine.child(frontier[0], 5, 0.0), engine.child(frontier[1], 7, 0.0)]
    engine.expand([deeper[0]])
    mixed = [deeper[0], deeper[1], frontier[1], nodes[0]]  # fed, pending, and the root, different lengths
    got = engine.expand(mixed)
    for node, row in zip(mixed, got):
        logits = model(torch.tensor([prompt + list(node.tokens)])).logits[0, -1]
        assert torch.allclose(row, torch.log_softmax(logits, -1), atol=1e-4)


@torch.no_grad()
def exhaustive_best(model, prompt: list[int], vocab: int, length: int):
    """The most probable finished sequence, enumerating every one (no cache, no search)."""
    best = (-math.inf, None)
    for n in range(1, length + 1):
        for tokens in itertools.product(range(vocab), repeat=n):
            if EOS in tokens[:-1] or (n < length and tokens[-1] != EOS):
                continue
            logp = torch.log_softmax(model(torch.tensor([prompt + list(tokens)])).logits[0], -1)
            score = sum(float(logp[len(prompt) - 1 + i, t]) for i, t in enumerate(tokens))
            best = max(best, (score, list(tokens)), key=lambda pair: pair[0])
    return best


@pytest.mark.parametrize("batch", [1, 3])
def test_best_first_finds_the_most_probable_sequence(batch):
    model = tiny("llama", vocab=5, scale=2.0, seed=7)
    prompt = [2, 3]
    score, tokens = exhaustive_best(model, prompt, vocab=5, length=4)
    out = best_first(Engine(model, prompt, EOS, max_new_tokens=4), batch=batch)
    assert out.sequences[0] == tokens and out.totals[0] == pytest.approx(score, abs=1e-4)
    assert out.extra["optimal"] and out.expansions < 1 + 5 + 25 + 125  # it did not enumerate everything


def test_best_first_beats_greedy_where_greedy_is_not_optimal():
    """No end token: all 5**4 sequences of length 4, scored in one batched forward pass."""
    model, prompt = tiny("gpt2", vocab=5, scale=2.0, seed=3), [2, 4]
    seqs = torch.tensor(list(itertools.product(range(5), repeat=4)))  # (625, 4)
    ids = torch.cat([torch.tensor([prompt]).expand(len(seqs), 2), seqs], 1)
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[:, 1:-1], -1).gather(-1, seqs[..., None])[..., 0].sum(-1)
    best = int(logp.argmax())
    out = best_first(Engine(model, prompt, None, max_new_tokens=4))
    plain = greedy(Engine(model, prompt, None, max_new_tokens=4))
    assert out.sequences[0] == seqs[best].tolist() != plain.sequences[0]
    assert out.totals[0] == pytest.approx(float(logp[best]), abs=1e-4) and out.expansions < 1 + 5 + 25 + 125


def test_best_first_budget_stops_early():
    model = tiny("gpt2")
    out = best_first(Engine(model, [3, 4], EOS, max_new_tokens=8), budget=5, branch=2)
    assert out.expansions == 5 and len(out.sequences) == 1


@pytest.mark.parametrize("keys", ["never", "last1"])
def test_recombination(model, keys):
    engine = Engine(model, [5, 6, 7], EOS, max_new_tokens=8)
    plain = beam_search(Engine(model, [5, 6, 7], EOS, max_new_tokens=8), width=3)
    if keys == "never":
        out = recombine(engine, by_tokens(lambda tokens: tokens), width=3)  # whole prefix: never collides
        assert out.sequences == plain.sequences and out.scores == plain.scores and out.extra["merged"] == 0
    else:
        out = recombine(engine, last_tokens(1), width=3, mode="logsumexp")
        tree, depth = out.tree, depths(out.tree)
        assert out.extra["merged"] > 0
        for loser, winner in tree["merged_into"].items():
            assert tree["token"][loser] == tree["token"][winner] and depth[loser] == depth[winner]


def test_merge_keeps_the_best_and_sums_in_logsumexp_mode(model):
    engine = Engine(model, [5, 6], EOS, max_new_tokens=4)
    root = engine.root()
    engine.expand([root])
    kids = [engine.child(root, t, lp) for t, lp in ((3, -1.0), (4, -2.0), (5, -3.0))]
    same = lambda nodes: ["x", "x", "y"]  # noqa: E731
    viterbi = merger(engine, same, "max")(kids)
    assert [n.tokens for n in viterbi] == [(3,), (5,)] and viterbi[0].score == -1.0
    forward = merger(engine, same, "logsumexp")(kids)
    assert forward[0].score == pytest.approx(math.log(math.exp(-1) + math.exp(-2)))
    assert engine.tree.merged_into == {kids[1].id: kids[0].id}


def test_hidden_state_buckets(model):
    engine = Engine(model, [5, 6, 7], EOS, max_new_tokens=5, keep_hidden=True)
    plain = beam_search(Engine(model, [5, 6, 7], EOS, max_new_tokens=5), width=3)
    never = recombine(engine, HiddenBuckets(engine, threshold=1.0), width=3)  # distinct states never merge
    assert never.sequences == plain.sequences
    engine = Engine(model, [5, 6, 7], EOS, max_new_tokens=5, keep_hidden=True)
    always = recombine(engine, HiddenBuckets(engine, threshold=-1.0), width=3)  # one bucket: one survivor
    assert always.extra["merged"] > 0


def test_sampling_same_seed_same_output(model):
    warp = Warp(temperature=0.8, top_k=6, top_p=0.9, min_p=0.05)
    runs = [sample(Engine(model, [3, 4], EOS, max_new_tokens=8), 4, warp, seed=s) for s in (1, 1, 2)]
    assert runs[0].sequences == runs[1].sequences and runs[0].totals == runs[1].totals
    assert runs[0].expansions >= 4 and runs[0].forward_passes <= 8 + 1
    assert runs[0].sequences != runs[2].sequences or runs[0].totals != runs[2].totals


@pytest.mark.parametrize("warp", [Warp(temperature=0.7, top_k=5), Warp(top_p=0.8), Warp(min_p=0.1),
                                  Warp(temperature=1.3, top_p=0.95)])
def test_sampling_matches_generate_with_the_same_seed(model, warp):
    """Our warpers are transformers' own; seeded alike, the samples are the same tokens."""
    for prompt, seed in zip(prompts(2, 12), (0, 1)):
        ours = sample(Engine(model, prompt, EOS, max_new_tokens=10), 1, warp, seed=seed).sequences[0]
        torch.manual_seed(seed)
        theirs = model.generate(
            torch.tensor([prompt]), do_sample=True, max_new_tokens=10, temperature=warp.temperature,
            top_k=warp.top_k or None, top_p=warp.top_p, min_p=warp.min_p or None, eos_token_id=EOS, pad_token_id=PAD,
        )
        assert same_as_generate(ours, theirs[0, len(prompt):].tolist())


def test_top_k_one_sampling_is_greedy(model):
    sampled = sample(Engine(model, [3, 4], EOS, max_new_tokens=8), 2, Warp(top_k=1), seed=0)
    assert sampled.sequences == [greedy(Engine(model, [3, 4], EOS, max_new_tokens=8)).sequences[0]] * 2


def test_self_consistency_votes(model):
    parity = lambda node: sum(node.tokens) % 2  # noqa: E731
    out = self_consistency(Engine(model, [3, 4], EOS, max_new_tokens=6), parity, num_samples=6, seed=3)
    assert sum(out.extra["votes"].values()) == 6
    assert parity(out.nodes[0]) == out.extra["answer"]
    assert out.extra["votes"][str(out.extra["answer"])] == max(out.extra["votes"].values())


def test_mcts_returns_the_best_rollout(model):
    value = lambda node: 1.0 if 7 in node.tokens else 0.0  # noqa: E731
    out = mcts(Engine(model, [3, 4], EOS, max_new_tokens=8), value, delimiter=5, iterations=4, branch=2, seed=1)
    assert out.scores == sorted(out.scores, reverse=True) and out.scores[0] == (7 in out.sequences[0])
    assert out.expansions > 0 and out.forward_passes > 1 and len(out.extra["most_visited"]) > 0


def test_warp_checks_its_arguments():
    with pytest.raises(ValueError, match="temperature"):
        Warp(temperature=0)
    with pytest.raises(ValueError, match="top_p"):
        Warp(top_p=0)


def test_search_modules_import_no_transformers():
    import ast
    from pathlib import Path

    import latentsearch.search as search

    for path in Path(search.__file__).parent.glob("*.py"):
        if path.name == "engine.py":
            continue
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not any(n.startswith(("transformers", "tokenizers", "latentsearch.data")) for n in names), path
