"""Which stop rule for adaptive thinking? Chosen on one split, reported on the others.

One plain path of up to --depth thoughts per question, with the answer read after every thought
(as `adaptive` reads it) and two signals: the lens mass on the likelier answer candidate and the
answer's confidence. Every rule `adaptive:mass:M+confidence:C --settle S --max-thoughts T` is then
replayed on these traces (the same answers `eval --search` gives; a rule only picks where to stop),
beside every fixed count. The chosen rule: the fewest thoughts on the first split within --within
points of that split's best fixed count. Rerun the chosen rule through `eval` for the figures.

Run: python benchmarks/adaptive_rules.py --splits gen=gen2000.jsonl real=../shared/data/prosqa_valid.json
"""

from __future__ import annotations

import argparse
import itertools

import torch
from tqdm.auto import tqdm

from latentsearch.data.examples import encode_records
from latentsearch.data.schema import load_records
from latentsearch.evaluate import candidate_answers
from latentsearch.latent.space import LatentSpace
from latentsearch.latent.specs import LatentOptions
from latentsearch.latent.strategies import confidence, key_tokens, lens_mass, plain_path, prompt_item
from latentsearch.methods import Recipe
from latentsearch.models.checkpoint import load_checkpoint

MASSES, CONFIDENCES, SETTLES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9), (0.5, 0.9, 0.95, 0.99, 0.995, 0.999), (0, 1, 2)


@torch.no_grad()
def traces(model, codec, recipe, records, depth: int) -> list[list[tuple[bool, float, float]]]:
    """Per question, per thought: (answer right, lens mass on a candidate, the answer's confidence)."""
    out = []
    for record, example in tqdm(list(zip(records, encode_records(records, codec, "data"))), desc="trace"):
        item = prompt_item(recipe, example, record, None)
        candidates = candidate_answers(record, codec)
        space = LatentSpace(model, item.prompt, item.after, candidates, LatentOptions().space_config(depth, children=1))
        keys = key_tokens(candidates)
        out.append([(n.handle.answer == 0, lens_mass(n.handle, keys), confidence(n.handle))
                    for n in plain_path(space, depth)])
    return out


def replay(trace, mass: float, sure: float, settle: int, cap: int) -> tuple[float, float]:
    """Accuracy and mean thoughts of the rule, as `adaptive` runs it (fire, then `settle` more, at most `cap`)."""
    right = used = 0
    for thoughts in trace:
        fired = next((k for k, (_, m, c) in enumerate(thoughts[:cap]) if m >= mass and c >= sure), None)
        stop = min(cap - 1, fired + settle) if fired is not None else cap - 1
        right, used = right + thoughts[stop][0], used + stop + 1
    return right / len(trace), used / len(trace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="prosqa-coconut")
    parser.add_argument("--splits", nargs="+", required=True, help="NAME=FILE pairs; the first chooses")
    parser.add_argument("--depth", type=int, default=12, help="thoughts traced (the largest cap)")
    parser.add_argument("--within", type=float, default=0.3, help="points below the best fixed count allowed")
    parser.add_argument("--limit", type=int, default=0, help="questions per split (0: all)")
    args = parser.parse_args()
    model, codec, meta = load_checkpoint(args.checkpoint)
    model.eval()
    recipe, _ = Recipe.from_meta(meta, codec)
    splits = {name: traces(model, codec, recipe, load_records(path)[: args.limit or None], args.depth)
              for name, _, path in (pair.partition("=") for pair in args.splits)}
    fixed = {name: [sum(t[k][0] for t in trace) / len(trace) for k in range(args.depth)]
             for name, trace in splits.items()}
    for name, accuracies in fixed.items():
        print(f"{name} fixed counts: " + " ".join(f"{k + 1}:{a:.1%}" for k, a in enumerate(accuracies)))
    choose, best = next(iter(splits.values())), max(next(iter(fixed.values())))
    scored = [(replay(choose, *rule), rule)
              for rule in itertools.product(MASSES, CONFIDENCES, SETTLES, range(6, args.depth + 1, 2))]
    kept = sorted((used, rule) for (accuracy, used), rule in scored if accuracy >= best - args.within / 100)
    for used, (mass, sure, settle, cap) in kept[:5]:
        figures = ", ".join(f"{name} {a:.1%} @ {u:.2f}" for name, (a, u) in
                            ((n, replay(t, mass, sure, settle, cap)) for n, t in splits.items()))
        print(f"adaptive:mass:{mass}+confidence:{sure} --settle {settle} --max-thoughts {cap}: {figures}")


if __name__ == "__main__":
    main()
