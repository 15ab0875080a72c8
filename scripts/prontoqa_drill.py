"""ProntoQA data variants for the copy experiments in docs/results.md (ProntoQA, 2026-12-05 round).

  python scripts/prontoqa_drill.py drill IN.jsonl OUT.jsonl [--seed S]   # steps = 6 random context sentences
  python scripts/prontoqa_drill.py subject IN.jsonl OUT.jsonl [--seed S] # steps = "X is a C." + a sentence about C
  python scripts/prontoqa_drill.py canonical IN.jsonl OUT.jsonl          # one template: "A is a B." / "A is not p."
  python scripts/prontoqa_drill.py train ARGS...                         # `latentsearch train` without the proof check

A drill record keeps the question and answer and replaces the proof by three pairs of sentences drawn
from the context: copying a sentence once its first words are written is the skill the property fact
needs. A subject drill also names the concept first, as a proof step does, so the sentence must be
found by its subject before its first word is written. No variant is a valid proof, so `train` runs
the CLI with ProntoQA's proof check off.
"""

from __future__ import annotations

import argparse
import json
import random
import sys

import latentsearch.tasks.prontoqa_gen as gen

QUERY = " True or false: "


def context_sentences(question: str) -> list[str]:
    return [s.strip() + "." for s in question.rpartition(QUERY)[0].split(".") if s.strip()]


def drill(record: dict, rng: random.Random) -> dict:
    picked = rng.sample(context_sentences(record["question"]), 6)
    return {**record, "steps": [" ".join(picked[i : i + 2]) for i in range(0, 6, 2)]}


def subject_drill(record: dict, rng: random.Random) -> dict:
    about: dict[str, list[str]] = {}
    for sentence in context_sentences(record["question"]):
        fact = gen.parse(sentence)
        if fact.kind in ("isa", "property"):
            about.setdefault(fact.subject, []).append(sentence)
    person = record["idx_to_symbol"][0]
    steps = []
    for concept in rng.sample(sorted(about), 3):
        article = "an" if concept[0] in "aeiou" else "a"
        steps.append(f"{person} is {article} {concept}. {rng.choice(about[concept])}")
    return {**record, "steps": steps}


def canonical_sentence(sentence: str) -> str:
    fact = gen.parse(sentence)
    if fact.kind == "isa":
        return f"{fact.subject} is a {fact.value}."
    if fact.kind == "property":
        return f"{fact.subject} is {'not ' if fact.negated else ''}{fact.value}."
    return sentence


def canonical(record: dict, rng: random.Random) -> dict:
    query = QUERY + record["question"].rpartition(QUERY)[2]
    context = " ".join(canonical_sentence(s) for s in context_sentences(record["question"]))
    steps = [" ".join(canonical_sentence(s.strip() + ".") for s in step.split(".") if s.strip())
             for step in record["steps"]]
    return {**record, "question": context + query, "steps": steps}


def main() -> int:
    if sys.argv[1:2] == ["train"]:
        gen.check_record = lambda record: None
        from latentsearch.cli import main as cli

        return cli(sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=("drill", "subject", "canonical"))
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    convert = {"drill": drill, "subject": subject_drill, "canonical": canonical}[args.variant]
    rng = random.Random(args.seed)
    with open(args.source) as source:
        rows = [json.dumps(convert(json.loads(line), rng)) + "\n" for line in source]
    with open(args.target, "w") as target:
        target.writelines(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
