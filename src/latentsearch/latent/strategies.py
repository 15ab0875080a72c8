"""Strategies for answering through continuous thoughts, by a SPEC such as `vote:8` or `adaptive:mass:0.5`.

Each strategy runs on a `LatentSpace` (latent/space.py) through the search protocol and returns the
candidate it answers, with what it cost (forward passes, thought states computed):
  one-path            Coconut: T plain thoughts, then the likelier answer
  best-of-n:N         N rollouts (the first plain, the others noisy at every thought), the best by value
  vote:N              the same N rollouts, the answer most of them give (ties: the surer)
  weighted-vote:N     the same, each rollout's vote weighed by its value model's P(right)
  beam:W              beam search over noisy continuations (`children` per node), ranked by value
  anytime:T           one plain pass of T thoughts, an answer read after each, the majority answer
  anytime-value:T     the same, the answer of the thought the value model trusts most
  adaptive:RULE       one plain pass that stops when RULE fires: mass:TAU (the lens puts TAU on one answer
                      candidate), confidence:TAU (the answer is that likely), value:TAU, entropy:TAU
                      (the lens entropy falls to TAU nats); A+B when both hold; at most `max_thoughts`
  tokens-beam:W       the ablation: children are the thought, top-2 token embeddings and their mixture
  tokens-dp:W         the ablation with recombination of children whose states have cosine >= 0.99
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable

import torch

from latentsearch.latent.space import LatentSearchConfig, LatentSpace, path_tokens
from latentsearch.latent.specs import SPECS, LatentOptions, count, parse_rule, parse_spec
from latentsearch.models.factory import check_context
from latentsearch.search import HiddenBuckets, beam_search, recombine


@dataclass
class Outcome:
    answer: int  # index of the candidate answered (0 = the right one, when the candidates were given so)
    forward_passes: int  # batched model calls, the prompt's included
    thoughts: int  # thought states computed (over all branches)
    used: int  # thoughts on the path that gave the answer


MakeSpace = Callable[[LatentSearchConfig], LatentSpace]


def _outcome(space: LatentSpace, answer: int, used: int) -> Outcome:
    return Outcome(answer, space.forward_passes, space.thought_states, used)


def plain_path(space: LatentSpace, depth: int, stop=lambda node: False, settle: int = 0):
    """Plain thoughts one by one (child 0), until `depth`, or `settle` thoughts after `stop(node)` first
    holds; every node on the way."""
    nodes, left = [space.root()], None
    while len(nodes) <= depth and left != 0:
        space.expand(nodes[-1:])
        nodes.append(space.child(nodes[-1], 0, 0.0))
        if left is None and stop(nodes[-1]):
            left = settle
        elif left:
            left -= 1
    return nodes[1:]


def rollouts(space: LatentSpace):
    """Every path to the last thought, expanded level by level (one batch a level): N rollouts when the
    root has N children and every other node one."""
    level = [space.root()]
    while not space.is_final(level[0]):
        scores = space.expand(level)
        level = [space.child(n, j, n.score + float(scores[i, j])) for i, n in enumerate(level)
                 for j in range(len(n.handle.children))]
    return level


def confidence(handle) -> float:
    """P(the node's answer) among the candidates, from its best log-likelihood and margin (two candidates)."""
    return 1 / (1 + math.exp(-handle.margin))


def one_path(make: MakeSpace, argument: str, thoughts: int, options: LatentOptions) -> Outcome:
    space = make(options.space_config(thoughts, children=1, value_every=False))
    node = plain_path(space, thoughts)[-1]
    return _outcome(space, node.handle.answer, thoughts)


def best_of_n(make, argument, thoughts, options) -> Outcome:
    space = make(options.space_config(thoughts, root_children=count(argument), children=1, value_every=False))
    best = max(rollouts(space), key=lambda n: n.handle.value)
    return _outcome(space, best.handle.answer, thoughts)


def vote(make, argument, thoughts, options) -> Outcome:
    space = make(options.space_config(thoughts, root_children=count(argument), children=1, value_every=False))
    finals = rollouts(space)
    votes, weight = Counter(n.handle.answer for n in finals), defaultdict(float)
    for n in finals:
        weight[n.handle.answer] += confidence(n.handle)
    return _outcome(space, max(votes, key=lambda a: (votes[a], weight[a])), thoughts)


def weighted_vote(make, argument, thoughts, options) -> Outcome:
    space = make(options.space_config(thoughts, root_children=count(argument), children=1))
    weight = defaultdict(float)
    for n in rollouts(space):
        weight[n.handle.answer] += math.exp(n.handle.value)
    return _outcome(space, max(weight, key=weight.get), thoughts)


def beam(make, argument, thoughts, options) -> Outcome:
    space = make(options.space_config(thoughts))
    out = beam_search(space, width=count(argument), length_penalty=0.0)
    return _outcome(space, out.nodes[0].handle.answer, thoughts)


def anytime(make, argument, thoughts, options) -> Outcome:
    """The answers read after every thought vote, each weighed by how sure the model is of it then
    (early, unsure answers count little)."""
    depth = count(argument)
    space = make(options.space_config(depth, children=1))
    weight = defaultdict(float)
    for node in plain_path(space, depth):
        weight[node.handle.answer] += confidence(node.handle)
    return _outcome(space, max(weight, key=weight.get), depth)


def anytime_value(make, argument, thoughts, options) -> Outcome:
    depth = count(argument)
    space = make(options.space_config(depth, children=1))
    best = max(plain_path(space, depth), key=lambda n: n.handle.value)
    return _outcome(space, best.handle.answer, len(best.tokens))


def adaptive(make, argument, thoughts, options) -> Outcome:
    fires = rule(argument)
    space = make(options.space_config(options.max_thoughts, children=1))
    keys = key_tokens(space.candidates)
    path = plain_path(space, options.max_thoughts, stop=lambda node: fires(node.handle, keys), settle=options.settle)
    return _outcome(space, path[-1].handle.answer, len(path))


def lens_mass(handle, keys: list[int]) -> float:
    """The most LM-head probability the node's newest thought puts on one candidate's key token."""
    return float(handle.block.logprobs[handle.row][keys].exp().max())


def rule(argument: str) -> Callable:
    """`mass:0.5` -> a test of a node's handle (and the candidates' key tokens); `A+B` holds when A and B do."""
    lens = lambda h: h.block.logprobs[h.row].exp()  # noqa: E731  (the thought's LM-head distribution)
    tests = {
        "mass": lambda h, keys, tau: lens_mass(h, keys) >= tau,
        "confidence": lambda h, keys, tau: confidence(h) >= tau,
        "value": lambda h, keys, tau: math.exp(h.value) >= tau,
        "entropy": lambda h, keys, tau: float(-(lens(h) * lens(h).clamp(min=1e-30).log()).sum()) <= tau,
    }
    parts = parse_rule(argument)
    return lambda h, keys: all(tests[name](h, keys, tau) for name, tau in parts)


def key_tokens(candidates: list[list[int]]) -> list[int]:
    """The first token where each candidate differs from the others (ProsQA: the concept's name)."""
    keys = []
    for cand in candidates:
        others = [c for c in candidates if c is not cand]
        keys.append(next((t for i, t in enumerate(cand) if all(i >= len(o) or o[i] != t for o in others)), cand[-1]))
    return keys


def tokens_beam(make, argument, thoughts, options) -> Outcome:
    space = make(LatentSearchConfig(depth=thoughts, branch="tokens", top_k=2))
    out = beam_search(space, width=count(argument), length_penalty=0.0)
    return _outcome(space, out.nodes[0].handle.answer, thoughts)


def tokens_dp(make, argument, thoughts, options) -> Outcome:
    space = make(LatentSearchConfig(depth=thoughts, branch="tokens", top_k=2))
    out = recombine(space, HiddenBuckets(space, 0.99), width=count(argument), length_penalty=0.0)
    return _outcome(space, out.nodes[0].handle.answer, thoughts)


STRATEGIES = {"one-path": one_path, "best-of-n": best_of_n, "vote": vote, "weighted-vote": weighted_vote,
              "beam": beam, "anytime": anytime, "anytime-value": anytime_value, "adaptive": adaptive,
              "tokens-beam": tokens_beam, "tokens-dp": tokens_dp}  # latent/specs.py describes each


@torch.no_grad()
def run_strategy(spec: str, make: MakeSpace, thoughts: int, options: LatentOptions | None = None) -> Outcome:
    chosen, argument = parse_spec(spec)
    return STRATEGIES[chosen.name](make, argument, thoughts, options or LatentOptions())


def search_records(model, codec, records, recipe, spec: str, options: LatentOptions | None = None,
                   valuer=None, n_thoughts: int | str | None = None, progress: bool = False,
                   source: str = "data") -> dict:
    """Run a strategy on every question; its thoughts: the checkpoint's count for it, `n_thoughts`, or
    with "steps" at least one per reasoning step of the question (see `prompt_item`). Returns the
    summary (accuracy, forward passes and thoughts per question) and one row per question."""
    options = options or LatentOptions()
    from tqdm.auto import tqdm

    from latentsearch.data.examples import encode_records
    from latentsearch.evaluate import candidate_answers, check_request

    check_request(records, n_thoughts, source=source)
    chosen, argument = parse_spec(spec)
    if chosen.needs_value and valuer is None:
        raise ValueError(f"{chosen.name} weighs by a value model: pass --value DIR (latentsearch value ...)")
    if not chosen.reads_value or (chosen.name == "adaptive" and not argument.startswith("value")):
        valuer = None  # a value model would only cost passes here
    if not recipe.method.uses_thoughts():
        raise ValueError(f"a {recipe.method.name} model has no continuous thoughts to search")
    if valuer is not None and valuer.model.config.d_state != model.config.hidden_size:
        raise ValueError(f"the value model reads thoughts of size {valuer.model.config.d_state}, but this model's "
                         f"are of size {model.config.hidden_size}: it was trained for another model")
    items = [prompt_item(recipe, example, record, n_thoughts)
             for record, example in zip(records, encode_records(records, codec, source))]
    answers = [candidate_answers(record, codec) for record in records]
    for index, (item, candidates) in enumerate(zip(items, answers)):  # before any work, not at question 900
        thoughts = thoughts_needed(chosen.name, argument, item.n_thoughts, options)
        check_context(model, path_tokens(item.prompt, thoughts, item.after, candidates),
                      f"{source}, record {index} with {spec}")
    rows = []
    for index, (item, candidates) in enumerate(tqdm(list(zip(items, answers)), desc=spec, disable=not progress)):
        make = lambda config: LatentSpace(model, item.prompt, item.after, candidates, config, valuer)  # noqa: E731
        out = run_strategy(spec, make, max(item.n_thoughts, 1), options)
        rows.append({"index": index, "correct": out.answer == 0, "answer": out.answer, "thoughts_used": out.used,
                     "forward_passes": out.forward_passes, "thought_states": out.thoughts})
    n = len(rows)
    summary = {"n": n, "search": spec, "accuracy": sum(r["correct"] for r in rows) / n,
               "forward_passes": sum(r["forward_passes"] for r in rows) / n,
               "thoughts_per_question": sum(r["thought_states"] for r in rows) / n,
               "thoughts_used": sum(r["thoughts_used"] for r in rows) / n}
    return {"summary": summary, "rows": rows}


def thoughts_needed(name: str, argument: str, thoughts: int, options: LatentOptions) -> int:
    """The most thoughts a strategy may think on a question whose own count is `thoughts`."""
    if not SPECS[name].own_count:
        return max(thoughts, 1)
    return options.max_thoughts if name == "adaptive" else count(argument)


def prompt_item(recipe, example, record, n_thoughts: int | str | None):
    """The question's prompt with its thoughts: the checkpoint's count, `n_thoughts`, or for "steps" the
    larger of the checkpoint's count and the question's reasoning steps (thoughts = depth on deep graphs)."""
    item = recipe.prompt_item(example, recipe.curriculum.final_stage)
    if n_thoughts == "steps":
        return recipe.prompt_item(example, recipe.curriculum.final_stage, max(item.n_thoughts, len(record.steps)))
    return item if n_thoughts is None else recipe.prompt_item(example, recipe.curriculum.final_stage, n_thoughts)
