"""Drills for ProntoQA: training records whose proof is replaced by an exercise in reading the context.

Small models trained from scratch on ProntoQA learn which concepts form the chain but never copy a
fact's "not": polarity, and so the answer, stays at a coin flip (docs/results.md, ProntoQA). A
pretrained model brings that copy; these drills teach it. A drill record keeps its question and
answer and gets new steps, drawn afresh every epoch (`train --drill NAME`):

* `copy`: three pairs of random context sentences -- once a sentence's first words are written,
  the rest is a copy from the context;
* `subject`: three steps "Max is a C. <a random sentence about C>." -- as in a proof step, the
  sentence must be found by its subject before its first word is written (template words and
  "not" included). This is the drill that lifted 2-hop answers from 54% to 90%.

Neither is a valid proof, so drill records are never written to files or checked as proofs.
"""

from __future__ import annotations

import random

from latentsearch.tasks import prontoqa_gen as gen

DRILL_STEPS = 3  # steps per drill record: the length the measured runs used


def context_sentences(question: str) -> list[str]:
    """The question's sentences before its query."""
    return [s.strip() + "." for s in question.rpartition(gen.QUERY_PREFIX)[0].split(".") if s.strip()]


def copy_steps(question: str, rng: random.Random) -> tuple[str, ...]:
    context = context_sentences(question)
    picked = rng.sample(context, min(2 * DRILL_STEPS, len(context)))
    return tuple(" ".join(picked[i : i + 2]) for i in range(0, len(picked), 2))


def subject_steps(question: str, rng: random.Random) -> tuple[str, ...]:
    about: dict[str, list[str]] = {}
    for sentence in context_sentences(question):
        try:
            fact = gen.parse(sentence)
        except ValueError:  # a file from another generator may phrase a sentence otherwise: not drilled
            continue
        if fact.kind in ("isa", "property"):
            about.setdefault(fact.subject, []).append(sentence)
    person = question.rpartition(gen.QUERY_PREFIX)[2].split(" ")[0]
    concepts = rng.sample(sorted(about), min(DRILL_STEPS, len(about)))
    return tuple(f"{person} is {'an' if c[0] in 'aeiou' else 'a'} {c}. {rng.choice(about[c])}" for c in concepts)


DRILLS = {"copy": copy_steps, "subject": subject_steps}
