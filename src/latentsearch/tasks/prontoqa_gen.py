"""A ProntoQA-style question generator (Saparov & He, ICLR 2023) in the form Coconut trains on.

A question lists facts about a small fictional ontology ("Every zumpus is a gorpus.", "Gorpuses
are not floral.") in random order, then the concepts a person belongs to ("Stella is a zumpus."),
and asks "True or false: Stella is not floral." The proof climbs `hops - 1` is-a facts from the
person's concept and then applies one property fact. A record holds Coconut's three keys
(`question`, `steps`, `answer`) and the ontology as a graph, so that probes can compute BFS
frontiers from the person (node 0).

The ontology, shaped as the original generator shapes it with Coconut's options (5 hops,
fictional ontology, random order, relevant distractors, modus ponens):

* a chain n0 -> n1 -> ... -> n_hops; every chain concept but the top has one property and a
  second, distractor parent that has a property of its own; the top has no property;
* a separate two-concept ontology (a root and one child with a property); the person is also a
  member of the child, so the first hop has a wrong branch as well;
* one concept outside both with the opposite of the proof's conclusion ("Dumpuses are not
  floral."), which fools a reasoner that does not follow the chain.
Every property comes from its own family (colours, sizes, tastes, ...), so no two facts clash.
The target is n_{hops-1}, the chain concept whose property decides the query. For 5 hops that is
23 context sentences and 2 memberships; about 100 words.

What the sources confirm and what is assumed:

* confirmed in asaparov/prontoqa (syntax.py, run_experiment.py, proof.py, theory.py) and in the
  example of Coconut's paper (appendix): the templates "Every A is a B." / "Each A is a B." /
  "As are Bs." (plural half the time, otherwise "each" or "every" alike), the same with an
  adjective or "not" + adjective, "X is a B." with "an" before a vowel, the query "True or false:
  X is [not] P.", the memberships after the shuffled context, proof sentences reused verbatim from
  the context and paired two by two with the conclusion last (Coconut's preprocessing), the query
  negated with probability 1/2, the chain shape above (one child per concept, a distractor parent
  per hop, a top without property, a two-concept distractor ontology, an outside concept with the
  opposite property), the 9 names, the 17 concept words, negations drawn at half the weight of
  positive adjectives (a third; how often the original's questions end up negated is measured below);
* confirmed only in a third-party copy of run_experiment.py: the 13 property families (the stored
  version of the original has 10; Coconut's example uses "muffled", "fast" and "snowy" from the
  three others);
* measured on the original generator's 800 5-hop questions that Coconut ships (never trained on):
  the deciding property is negated in 45.1% of them, and 15.5% of the 25 context sentences carry
  "not"; with the fooling fact always the opposite of the deciding one, that leaves 0.29 for each
  of the 10 other property facts. So the shares are 0.45 and 0.29 (before 2026-12-07 they were 7/13
  and 1/3, derived from the original's code: 55.5% and 17.4% measured, outside 5% of the original);
* derived, not seen: with 13 families and 5 hops the original rejects every other chain length, so
  the shape above is the only one;
* assumed: the order of the two memberships (random here; Coconut's one published example puts
  the distractor first); every property fact but the deciding and the fooling one has the same
  negation share; the distractor-free variant keeps only
  the proof's facts, as the original's `--distractors none` does.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import NamedTuple

NAMES = ("Alex", "Fae", "Max", "Polly", "Rex", "Sally", "Sam", "Stella", "Wren")
CONCEPTS = ("brimpus", "dumpus", "gorpus", "grimpus", "impus", "jompus", "lempus", "lorpus", "numpus",
            "rompus", "shumpus", "sterpus", "tumpus", "vumpus", "wumpus", "yumpus", "zumpus")
PROPERTY_FAMILIES = (
    ("blue", "red", "brown", "orange"),
    ("small", "large"),
    ("metallic", "wooden", "luminous", "liquid"),
    ("transparent", "opaque"),
    ("nervous", "happy", "feisty", "shy"),
    ("bright", "dull"),
    ("sweet", "sour", "spicy", "bitter"),
    ("floral", "fruity", "earthy"),
    ("hot", "cold", "temperate"),
    ("kind", "mean", "angry", "amenable", "aggressive"),
    ("melodic", "muffled", "discordant", "loud"),
    ("slow", "moderate", "fast"),
    ("windy", "sunny", "overcast", "rainy", "snowy"),
)
ADJECTIVES = tuple(adjective for family in PROPERTY_FAMILIES for adjective in family)
ANSWERS = ("True", "False")
QUERY_PREFIX = "True or false: "
TASK = "prontoqa"
# The ontology takes 2 * hops + 4 concept words and 2 * hops + 1 property families.
MAX_HOPS = min((len(CONCEPTS) - 4) // 2, (len(PROPERTY_FAMILIES) - 1) // 2)
FORMS = ("plural", "every", "each")  # the surface forms of a universal fact
_SINGULAR = {concept + "es": concept for concept in CONCEPTS}
_MEMBER_KINDS = ("isa", "member")  # facts that are edges of the graph
_MAX_MISSES = 1000  # `generate` gives up after this many repeated questions in a row


class Fact(NamedTuple):
    """One statement. kind: "isa" (every `subject` is a `value`), "member" (the person `subject`
    is a `value`), "property" (every `subject` is [not] `value`) or "has" (the person is [not]
    `value`)."""

    kind: str
    subject: str
    value: str
    negated: bool = False


@dataclass(frozen=True)
class ProntoQAConfig:
    hops: int = 5  # proof length: hops - 1 is-a facts, then one property fact; steps = hops + 1
    distractors: bool = True  # the original's distractors; off: the context holds the proof's facts only
    negated_share: float = 0.29  # chance that a property fact is negated ("Wumpuses are not hot.")
    target_negated_share: float = 0.45  # the same for the property fact that decides the query
    plural_share: float = 0.5  # chance a universal fact reads "As are Bs." rather than "Every/Each A is a B."
    true_share: float = 0.5  # chance the query states the proof's conclusion (answer "True")

    def __post_init__(self):
        if isinstance(self.hops, bool) or not isinstance(self.hops, int) or not 1 <= self.hops <= MAX_HOPS:
            raise ValueError(f"hops must be an integer from 1 to {MAX_HOPS} (the ontology needs 2 * hops + 4 "
                             f"of the {len(CONCEPTS)} concept words), got {self.hops!r}")
        if not isinstance(self.distractors, bool):
            raise ValueError(f"distractors must be True or False, got {self.distractors!r}")
        for name in ("negated_share", "target_negated_share", "plural_share", "true_share"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability between 0 and 1, got {value!r}")


# ----------------------------------------------------------------------------- sentences


def plural(concept: str) -> str:
    return concept + "es"  # every concept word ends in "us": "wumpus" -> "wumpuses"


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def say(fact: Fact, form: str = "every") -> str:
    """The sentence for a fact; `form` (one of FORMS) matters for universal facts only."""
    negation = "not " if fact.negated else ""
    if fact.kind == "member":
        return f"{fact.subject} is {_article(fact.value)} {fact.value}."
    if fact.kind == "has":
        return f"{fact.subject} is {negation}{fact.value}."
    if form == "plural":
        obj = plural(fact.value) if fact.kind == "isa" else negation + fact.value
        return f"{plural(fact.subject).capitalize()} are {obj}."
    obj = f"{_article(fact.value)} {fact.value}" if fact.kind == "isa" else negation + fact.value
    return f"{form.capitalize()} {fact.subject} is {obj}."


def _forms(fact: Fact) -> tuple[str, ...]:
    """Every sentence that states the fact."""
    if fact.kind in ("member", "has"):
        return (say(fact),)
    return tuple(say(fact, form) for form in FORMS)


def _read(sentence: str) -> Fact | None:
    """A loose reading of a sentence; `parse` then insists that the sentence is one of its forms."""
    words = sentence.rstrip(".").split(" ")
    head, last = words[0], words[-1]
    if head in NAMES:
        subject, kinds = head, ("member", "has")
    elif head in ("Every", "Each") and len(words) > 1 and words[1] in CONCEPTS:  # no other word is a subject
        subject, kinds = words[1], ("isa", "property")
    else:
        subject, kinds = _SINGULAR.get(head.lower()), ("isa", "property")
    if subject is None:
        return None
    if last in ADJECTIVES:
        return Fact(kinds[1], subject, last, "not" in words)
    concept = _SINGULAR.get(last, last)
    return Fact(kinds[0], subject, concept) if concept in CONCEPTS else None


def parse(sentence: str) -> Fact:
    """The fact a generated sentence states; ValueError for any other sentence."""
    fact = _read(sentence)
    if fact is None or sentence not in _forms(fact):
        raise ValueError(f"not a ProntoQA sentence: {sentence!r}")
    return fact


def sentences(text: str) -> list[str]:
    """Split text into its sentences; ValueError unless they are joined by single spaces."""
    found = [s.strip() for s in re.findall(r"[^.]+\.", text)]
    if " ".join(found) != text:
        raise ValueError(f"text is not a run of sentences joined by single spaces: {text!r}")
    return found


# ----------------------------------------------------------------------------- generation


def _draw_property(rng: random.Random, concept: str, family: tuple[str, ...], negated_share: float) -> Fact:
    return Fact("property", concept, rng.choice(family), rng.random() < negated_share)


def _draw_form(rng: random.Random, plural_share: float) -> str:
    return "plural" if rng.random() < plural_share else rng.choice(("every", "each"))


def _build_facts(rng: random.Random, name: str, config: ProntoQAConfig):
    """(context facts, membership premises, the proof's facts in order) of a new ontology."""
    hops, share = config.hops, config.negated_share
    concepts = rng.sample(CONCEPTS, 2 * hops + 4)
    families = rng.sample(PROPERTY_FAMILIES, 2 * hops + 1)
    chain, parents = concepts[:hops + 1], concepts[hops + 1:2 * hops + 1]
    other_root, other_child, outsider = concepts[2 * hops + 1:]
    shares = [share] * (hops - 1) + [config.target_negated_share]
    chain_properties = [_draw_property(rng, c, f, s) for c, f, s in zip(chain, families, shares)]
    chain_isa = [Fact("isa", child, parent) for child, parent in zip(chain, chain[1:])]
    target = chain_properties[-1]
    proof = [Fact("member", name, chain[0])] + chain_isa[:hops - 1] + [target]
    if not config.distractors:
        return proof[1:], proof[:1], proof
    side_isa = [Fact("isa", child, parent) for child, parent in zip(chain, parents)]
    side_properties = [_draw_property(rng, p, f, share) for p, f in zip(parents, families[hops:])]
    other = [Fact("isa", other_child, other_root), _draw_property(rng, other_child, families[-1], share)]
    fooling = Fact("property", outsider, target.value, not target.negated)  # opposite of the conclusion
    context = chain_isa + side_isa + chain_properties + side_properties + other + [fooling]
    return context, [proof[0], Fact("member", name, other_child)], proof


def _proof_steps(proof: list[Fact], sentence_of: dict[Fact, str]) -> list[str]:
    """Coconut's steps: "X is a A. <rule about A>" per hop, then the conclusion."""
    name, deciding = proof[0].subject, proof[-1]
    held = [proof[0]] + [Fact("member", name, rule.value) for rule in proof[1:-1]]
    steps = [f"{say(fact)} {sentence_of[rule]}" for fact, rule in zip(held, proof[1:])]
    return steps + [say(Fact("has", name, deciding.value, deciding.negated))]


def _mentioned(facts: list[Fact]) -> set[str]:
    """The names and concepts that facts mention (adjectives aside)."""
    return {f.subject for f in facts} | {f.value for f in facts if f.kind in _MEMBER_KINDS}


def _ontology_rows(facts: list[Fact], index: dict[str, int]) -> dict:
    """The is-a and membership facts as `edges`, the property facts as `properties`, over node numbers."""
    return {"edges": [[index[f.subject], index[f.value]] for f in facts if f.kind in _MEMBER_KINDS],
            "properties": [[index[f.subject], f.value, f.negated] for f in facts if f.kind == "property"]}


def _graph_fields(rng: random.Random, name: str, facts: list[Fact], target: str) -> dict:
    """The ontology as a graph: node 0 is the person, the concepts follow in random order."""
    concepts = sorted(_mentioned(facts) - {name})
    rng.shuffle(concepts)  # node numbers carry no hint of the chain
    symbols = [name] + concepts
    index = {symbol: i for i, symbol in enumerate(symbols)}
    return {"idx_to_symbol": symbols, "root": 0, "target": index[target], **_ontology_rows(facts, index)}


def generate_record(rng: random.Random, config: ProntoQAConfig = ProntoQAConfig()) -> dict:
    """One question; all randomness comes from `rng`."""
    name = rng.choice(NAMES)
    context, premises, proof = _build_facts(rng, name, config)
    rng.shuffle(context)
    rng.shuffle(premises)  # assumed: the original's order of the two memberships is not known
    sentence_of = {fact: say(fact, _draw_form(rng, config.plural_share)) for fact in context}
    deciding = proof[-1]
    is_true = rng.random() < config.true_share
    query = Fact("has", name, deciding.value, deciding.negated == is_true)
    text = " ".join([sentence_of[f] for f in context] + [say(f) for f in premises])
    return {
        "question": f"{text} {QUERY_PREFIX}{say(query)}",
        "steps": _proof_steps(proof, sentence_of),
        "answer": ANSWERS[0] if is_true else ANSWERS[1],
        **_graph_fields(rng, name, context + premises, deciding.subject),
        "task": TASK,
    }


def generate(n: int, seed: int = 0, config: ProntoQAConfig = ProntoQAConfig(),
             exclude_questions=frozenset()) -> list[dict]:
    """`n` records with distinct questions, none in `exclude_questions`; the same seed, the same list."""
    if n < 0:
        raise ValueError(f"n must be at least 0, got {n}")
    rng = random.Random(seed)
    records, seen, misses = [], set(exclude_questions), 0
    while len(records) < n:
        record = generate_record(rng, config)
        if record["question"] in seen:
            misses += 1
            if misses == _MAX_MISSES:  # the config's questions are (nearly) all drawn: stop now, not hours later
                raise ValueError(f"found only {len(records)} distinct new questions of the {n} asked for "
                                 f"({_MAX_MISSES} draws in a row were repeats); ask for fewer or more hops")
            continue
        misses = 0
        seen.add(record["question"])
        records.append(record)
    return records


def vocabulary() -> list[str]:
    """Every word and punctuation token the generator can emit, sorted."""
    words = {".", ":", "is", "are", "a", "an", "not", "Every", "Each", "True", "False", "or", "false"}
    words.update(NAMES, CONCEPTS, ADJECTIVES)
    words.update(plural(concept) for concept in CONCEPTS)
    words.update(plural(concept).capitalize() for concept in CONCEPTS)
    return sorted(words)


# ----------------------------------------------------------------------------- checking


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"ProntoQA record: {message}")


def _check_fields(record: dict) -> None:
    _require(isinstance(record, dict), f"expected a dict, got {type(record).__name__}")
    for key, kind in (("question", str), ("steps", list), ("answer", str), ("idx_to_symbol", list),
                      ("edges", list), ("root", int), ("target", int), ("properties", list), ("task", str)):
        _require(isinstance(record.get(key), kind), f'"{key}" must be a {kind.__name__}')
    _require(all(isinstance(s, str) for s in record["steps"]), '"steps" must be a list of strings')
    _require(record["answer"] in ANSWERS, f'"answer" must be "True" or "False", got {record["answer"]!r}')
    _require(record["task"] == TASK, f'"task" must be "{TASK}", got {record["task"]!r}')
    _require(record["root"] == 0, f'"root" must be 0 (the person), got {record["root"]}')
    _check_graph_fields(record)


def _is_row(row, types: tuple[type, ...]) -> bool:
    return (isinstance(row, (list, tuple)) and len(row) == len(types)
            and all(isinstance(x, t) and not (t is int and isinstance(x, bool)) for x, t in zip(row, types)))


def _check_graph_fields(record: dict) -> None:
    symbols = record["idx_to_symbol"]
    _require(all(isinstance(s, str) for s in symbols), '"idx_to_symbol" must be a list of strings')
    _require(len(symbols) > 1, '"idx_to_symbol" must name the person and at least one concept')
    _require(len(set(symbols)) == len(symbols), '"idx_to_symbol" must be distinct names')
    _require(0 <= record["target"] < len(symbols), f'"target" {record["target"]} is not a node')
    _require(all(_is_row(e, (int, int)) for e in record["edges"]), '"edges" must be [child, parent] index pairs')
    _require(all(_is_row(p, (int, str, bool)) for p in record["properties"]),
             '"properties" must be [node, adjective, negated] rows')
    for i, (node, adjective, _) in enumerate(record["properties"]):
        _require(0 <= node < len(symbols), f'"properties"[{i}] names node {node}, not a node in 0..{len(symbols) - 1}')
        _require(adjective in ADJECTIVES, f'"properties"[{i}] names {adjective[:40]!r}, not an adjective of ProntoQA')


def query_of(question: str) -> str:
    """The sentence a question asks about (after its last "True or false: ")."""
    query = question.rpartition(QUERY_PREFIX)[2]
    _require(QUERY_PREFIX in question and bool(sentences(query)),
             f'the question must end with "{QUERY_PREFIX}<sentence>"')
    return query


def _negate(sentence: str) -> str:
    """ "X is P." <-> "X is not P." """
    subject, _, rest = sentence.partition(" is ")
    return f"{subject} is {rest[4:] if rest.startswith('not ') else 'not ' + rest}"


def check_conclusion(question: str, steps: list[str], answer: str) -> None:
    """What a record without its ontology (the original generator's format) can show: it asks a query, its
    proof ends with the query or its negation, and the answer says which."""
    query = " ".join(query_of(question).split())
    _require(bool(steps) and all(s.strip() for s in steps), '"steps" must be the proof: non-empty sentences')
    last = " ".join(steps[-1].split())  # spacing is not meaning: a file may pad or wrap its sentences
    _require(last in (query, _negate(query)),
             f"the last step {steps[-1][:80]!r} must conclude the query {query!r} or its negation")
    wanted = ANSWERS[0] if last == query else ANSWERS[1]
    _require(answer == wanted, f'the proof gives "{wanted}", the record says {answer!r}')


def _split_question(question: str) -> tuple[list[str], Fact]:
    context, sep, query = question.rpartition(" " + QUERY_PREFIX)
    _require(bool(sep), f'the question must end with "{QUERY_PREFIX}<sentence>"')
    fact = parse(query)
    _require(fact.kind == "has", f"the query must ask about a property of a person: {query!r}")
    return sentences(context), fact


def ontology_of(question: str, steps: list[str]) -> dict:
    """The graph fields our records carry, read from a question's sentences and its proof: for files whose
    own graph fields follow another convention (Coconut's ProntoQA files list no person edges and leave
    some concepts out). Node 0 is the person, the concepts follow in the order the context first names them."""
    stated, query = _split_question(question)
    facts = [parse(sentence) for sentence in stated]
    _require(len(steps) >= 2, f"a proof needs at least two steps, got {len(steps)}")
    deciding = _step_pair(steps[-2], len(steps) - 2)[1]
    mentioned = _mentioned(facts)
    symbols = [query.subject] + list(dict.fromkeys(
        s for f in facts for s in (f.subject, f.value) if s in mentioned and s != query.subject))
    _require(deciding.subject in symbols, f"the proof decides on {deciding.subject}, which the context never names")
    index = {symbol: i for i, symbol in enumerate(symbols)}
    return {"idx_to_symbol": symbols, "root": 0, "target": index[deciding.subject], **_ontology_rows(facts, index)}


def _as_rows(items) -> list[list]:
    return sorted(list(item) for item in items)


def _check_graph(record: dict, facts: list[Fact]) -> dict[str, int]:
    """The graph fields say what the context says; returns the node index of each symbol."""
    symbols = record["idx_to_symbol"]
    index = {symbol: i for i, symbol in enumerate(symbols)}
    _require(all(f.kind != "has" for f in facts), "the context states a person's property directly")
    for fact in facts:
        if fact.kind == "member":
            _require(fact.subject == symbols[0], f"the context is about {fact.subject}; node 0 is {symbols[0]}")
        for symbol in (fact.subject, fact.value) if fact.kind in _MEMBER_KINDS else (fact.subject,):
            _require(symbol in index, f"{symbol} is in the context but not in idx_to_symbol")
    _require(_mentioned(facts) == set(symbols), "idx_to_symbol names nodes that the context never mentions")
    stated = _ontology_rows(facts, index)
    _require(_as_rows(record["edges"]) == _as_rows(stated["edges"]), '"edges" disagree with the is-a sentences')
    _require(_as_rows(record["properties"]) == _as_rows(stated["properties"]),
             '"properties" disagree with the sentences')
    return index


def _step_pair(step: str, i: int) -> tuple[Fact, Fact, str]:
    pair = sentences(step)
    _require(len(pair) == 2, f"step {i} must be two sentences, got {step!r}")
    return parse(pair[0]), parse(pair[1]), pair[1]


def _check_proof(steps: list[str], stated: list[str], name: str, verbatim: bool = True) -> Fact:
    """Each step applies a stated rule to what the step before gave; returns the deciding rule.
    verbatim: a rule must be quoted in the context's own words, else in any of its forms."""
    _require(len(steps) >= 2, f"a proof needs at least two steps, got {len(steps)}")
    stated_facts = {parse(sentence) for sentence in stated}
    current, rule = None, None
    for i, step in enumerate(steps[:-1]):
        held, rule, rule_text = _step_pair(step, i)
        _require(held.kind == "member" and held.subject == name, f'step {i} must start "{name} is a ..."')
        if i == 0:
            _require(say(held) in stated, f"the chain starts at {say(held)!r}, which the context does not state")
        else:
            _require(held.value == current, f"step {i} has {name} a {held.value}; the step before gave {current}")
        _require(rule_text in stated if verbatim else rule in stated_facts,
                 f"step {i} uses {rule_text!r}, which the context does not state")
        _require(rule.subject == held.value, f"step {i} applies a rule about {rule.subject} to a {held.value}")
        wanted = "property" if i == len(steps) - 2 else "isa"
        _require(rule.kind == wanted, f"step {i} must use an {'is-a' if wanted == 'isa' else 'property'} rule")
        current = rule.value
    conclusion = Fact("has", name, rule.value, rule.negated)
    _require(steps[-1] == say(conclusion), f"the last step must be the conclusion {say(conclusion)!r}")
    return rule


def _derived_polarities(facts: list[Fact], name: str, adjective: str) -> list[bool]:
    """Whether the context makes the person `adjective` (False) or not (True), by every route."""
    reached = [f.value for f in facts if f.kind == "member" and f.subject == name]
    for concept in reached:  # grows while it runs: a breadth-first walk up the is-a facts
        reached += [f.value for f in facts if f.kind == "isa" and f.subject == concept and f.value not in reached]
    found = {f.negated for f in facts if f.kind == "property" and f.subject in reached and f.value == adjective}
    return sorted(found)


def check_record(record: dict, verbatim: bool = True) -> None:
    """Raise ValueError unless the record is a consistent ProntoQA question with a valid proof
    (verbatim: whose rules quote the context word for word, as generated proofs do)."""
    _check_fields(record)
    stated, query = _split_question(record["question"])
    facts = [parse(sentence) for sentence in stated]
    index = _check_graph(record, facts)
    name = record["idx_to_symbol"][0]
    _require(query.subject == name, f"the query asks about {query.subject}, but node 0 is {name}")
    deciding = _check_proof(record["steps"], stated, name, verbatim)
    _require(record["target"] == index[deciding.subject],
             f'"target" is node {record["target"]}, but the deciding property belongs to {deciding.subject}')
    _require(query.value == deciding.value,
             f"the proof concludes about {deciding.value!r}, the query asks about {query.value!r}")
    polarities = _derived_polarities(facts, name, query.value)
    _require(polarities == [deciding.negated], f"the context contradicts itself on whether {name} is {query.value}")
    answer = ANSWERS[0] if query.negated == deciding.negated else ANSWERS[1]
    _require(record["answer"] == answer, f'the proof gives "{answer}", the record says {record["answer"]!r}')
