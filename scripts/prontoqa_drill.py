"""ProntoQA data variants for the copy experiments in docs/results.md (ProntoQA, 2026-12-05 round).

  python scripts/prontoqa_drill.py drill IN.jsonl OUT.jsonl [--seed S]   # steps = 6 random context sentences
  python scripts/prontoqa_drill.py subject IN.jsonl OUT.jsonl [--seed S] # steps = "X is a C." + a sentence about C
  python scripts/prontoqa_drill.py canonical IN.jsonl OUT.jsonl          # one template: "A is a B." / "A is not p."
  python scripts/prontoqa_drill.py train ARGS...                         # `latentsearch train` without the proof check

The drills themselves live in the library (tasks/prontoqa_drill.py) and `latentsearch train --drill copy|subject`
draws them afresh every epoch; this script writes one fixed draw to a file, as the first runs used.
No variant is a valid proof, so `train` runs the CLI with ProntoQA's proof check off.
"""

from __future__ import annotations

import argparse
import json
import random
import sys

import latentsearch.tasks.prontoqa_gen as gen
from latentsearch.tasks.prontoqa_drill import DRILLS, context_sentences

QUERY = " " + gen.QUERY_PREFIX


def drilled(name: str):
    return lambda record, rng: {**record, "steps": list(DRILLS[name](record["question"], rng))}


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
    convert = {"drill": drilled("copy"), "subject": drilled("subject"), "canonical": canonical}[args.variant]
    rng = random.Random(args.seed)
    with open(args.source) as source:
        rows = [json.dumps(convert(json.loads(line), rng)) + "\n" for line in source]
    with open(args.target, "w") as target:
        target.writelines(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
