"""How well a ProntoQA CoT model reads the facts of its proof, teacher-forced: its progress while
answers still sit at a coin flip.

At every parent lookup of the gold proof ("Every A is a _", "As are _"), the model reads the gold
proof so far and predicts the next word; the prediction is the right parent, A's other parent (the
distractor branch), or another word. At the property fact ("Ys are _ bright") it must say whether
the fact has "not": the query has its own "not" (or none), a tempting word to copy. A right answer
needs every lookup and the polarity right, so accuracy stays near 50% until all are near perfect.
Run: python benchmarks/prontoqa_lookups.py CHECKPOINT DATA [--n 300]
"""

from __future__ import annotations

import argparse
import collections

import torch

from latentsearch.data.examples import encode_record
from latentsearch.data.schema import load_records
from latentsearch.models.checkpoint import load_checkpoint


def concept(word: str) -> str:
    """'Jompuses' / 'jompuses' / 'jompus' -> 'jompus'."""
    word = word.lower()
    return word[:-2] if word.endswith("uses") else word


def lookup_subject(tokens: list[str], i: int, person: str) -> str | None:
    """The concept whose parent token i names, or None when token i is not a parent lookup."""
    if not tokens[i].endswith("us") and not tokens[i].endswith("uses"):
        return None  # a property ("As are not hot."), not a parent
    if i >= 3 and tokens[i - 1] in ("a", "an") and tokens[i - 2] == "is" and tokens[i - 3] != person:
        return concept(tokens[i - 3])
    if i >= 2 and tokens[i - 1] == "are" and tokens[i - 2].endswith("uses"):
        return concept(tokens[i - 2])
    return None


def _property_position(tokens: list[str], i: int, person: str) -> bool:
    """Token i follows "As are" / "Every A is" and is "not" or the property: the fact's polarity."""
    if tokens[i] in ("a", "an") or tokens[i].endswith("us") or tokens[i].endswith("uses"):
        return False
    return i >= 2 and tokens[i - 1] in ("is", "are") and tokens[i - 2] != person and (
        tokens[i - 2].endswith("us") or tokens[i - 2].endswith("uses"))


@torch.no_grad()
def count_lookups(model, codec, record, counts: collections.Counter) -> None:
    example = encode_record(record, codec)
    steps = [t for step in example.steps for t in step]
    predicted = model(torch.tensor([list(example.question) + steps])).logits[0].argmax(-1).tolist()
    words = [codec.tokenizer.id_to_token(t) for t in steps]
    names = record.idx_to_symbol
    parents = collections.defaultdict(set)
    for child, parent in record.edges:
        parents[names[child]].add(names[parent])
    for i, word in enumerate(words):
        if _property_position(words, i, names[record.root]):
            said_not = codec.tokenizer.id_to_token(predicted[len(example.question) + i - 1]) == "not"
            counts["polarity right" if said_not == (word == "not") else "polarity wrong"] += 1
        subject = lookup_subject(words, i, names[record.root])
        if subject is None:
            continue
        guess = concept(codec.tokenizer.id_to_token(predicted[len(example.question) + i - 1]))
        counts["right" if guess == concept(word) else "other parent" if guess in parents[subject] else "other"] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("data", help="generated ProntoQA questions (with their ontology)")
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    model, codec, meta = load_checkpoint(args.checkpoint)
    model.eval()
    counts: collections.Counter = collections.Counter()
    for record in load_records(args.data)[: args.n]:
        count_lookups(model, codec, record, counts)
    total = sum(counts[k] for k in ("right", "other parent", "other"))
    shares = ", ".join(f"{k} {counts[k] / max(total, 1):.1%}" for k in ("right", "other parent", "other"))
    facts = counts["polarity right"] + counts["polarity wrong"]
    print(f"{args.checkpoint} (step {meta.get('step')}): {total} parent lookups: {shares}; "
          f"{facts} property facts: 'not' right {counts['polarity right'] / max(facts, 1):.1%}")


if __name__ == "__main__":
    main()
