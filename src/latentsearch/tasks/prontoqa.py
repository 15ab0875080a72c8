"""ProntoQA (Saparov & He 2023; Coconut's second task): "Every wumpus is a yumpus. ... Max is a wumpus.
True or false: Max is not bright."

One rendering, `text` (word by word, over the generator's ~120 words). The answer is "True" or
"False". Our generator (tasks/prontoqa_gen.py) keeps the ontology with each record -- the is-a facts as
`edges` from the person (node 0) upwards, the property facts as `properties` -- so the frontier at
thought k is the set of concepts k is-a hops up from the person. Files from the original generator load
too: with question, steps and answer only, they are checked for their answer; in Coconut's format (its
own graph fields, no "properties"), the ontology is rebuilt from the sentences and checked like ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from latentsearch.errors import DatasetError, kind
from latentsearch.options import opt
from latentsearch.tasks import prontoqa_gen as gen
from latentsearch.tasks.base import Graph, Task, normalize, register
from latentsearch.tasks.graphs import parse_graph, shortest_path
from latentsearch.tasks.prontoqa_drill import DRILLS


@dataclass(frozen=True)
class GenerateOptions:
    hops: int = opt(5, f"proof length: hops - 1 is-a facts, then one property fact (1-{gen.MAX_HOPS})")
    no_distractors: bool = opt(False, "leave out the original's distractor facts")
    negated_share: float = opt(gen.ProntoQAConfig.negated_share, "chance a property fact is negated "
                               "(files made before 2026-12-07: 0.3333333333333333)")
    target_negated_share: float = opt(gen.ProntoQAConfig.target_negated_share, "the same for the fact that "
                                      "decides the query (before 2026-12-07: 0.5384615384615384)")

    def config(self) -> gen.ProntoQAConfig:
        return gen.ProntoQAConfig(hops=self.hops, distractors=not self.no_distractors,
                                  negated_share=self.negated_share, target_negated_share=self.target_negated_share)


class ProntoQA(Task):
    name = "prontoqa"
    renderings = ("text",)
    description = "ProntoQA: true or false, through a fictional ontology (5 hops)"
    generate_options = GenerateOptions

    def claims(self, obj: dict) -> bool:
        question = obj.get("question")  # not the answer too: "Maybe" is a bad ProntoQA answer, not plain text
        return isinstance(question, str) and gen.QUERY_PREFIX in question

    def parse(self, obj: dict, where: str) -> dict:
        if obj["answer"] not in gen.ANSWERS:
            raise DatasetError(f'{where}: "answer" must be "True" or "False", got {str(obj["answer"])[:40]!r}')
        if "properties" not in obj and "idx_to_symbol" in obj:  # Coconut's files: their graph, not ours
            obj = self._ontology_from_text(obj, where)
        graph = parse_graph(obj, where, ("root", "target"))
        if not graph:
            return {}
        properties = obj.get("properties")
        if not isinstance(properties, list):
            raise DatasetError(f'{where}: "properties" must be a list of [node, adjective, negated], '
                               f"got {kind(properties)}")
        return {**graph, "extra": {"properties": properties}}

    @staticmethod
    def _ontology_from_text(obj: dict, where: str) -> dict:
        """A record whose graph fields lack "properties" (Coconut's ProntoQA files, whose edges leave out the
        person's memberships): the ontology is rebuilt from its sentences, so probes see the same graph."""
        try:
            return {**obj, **gen.ontology_of(obj["question"], list(obj["steps"]))}
        except (ValueError, TypeError) as err:
            raise DatasetError(f'{where}: no "properties", and its ontology cannot be read from its text: '
                               f"{str(err).removeprefix('ProntoQA record: ')}") from None

    def check(self, record, where: str) -> None:
        """A record with its ontology: the proof is valid in it and gives the answer (gen.check_record).
        Without (the original generator's files): it asks its query, and its proof ends in the answer."""
        try:
            if record.has_graph:
                gen.check_record(record.to_dict())
            else:
                gen.check_conclusion(record.question, list(record.steps), record.answer)
        except ValueError as err:
            raise DatasetError(f"{where}: {err}") from None

    def question_record(self, text: str):
        """A record for a question typed as text (facts, then "True or false: ..."), answer unknown."""
        from latentsearch.data.schema import Record

        try:
            gen.query_of(text)
        except ValueError as err:
            raise DatasetError(f"the question: {err}") from None
        return Record(text, (), "", task=self.name)

    def vocabulary(self, rendering: str) -> list[str]:
        return gen.vocabulary()

    def candidates(self, record, rendering: str) -> list[str]:
        return sorted(gen.ANSWERS, key=lambda a: a != record.answer)

    def score(self, predicted: str, record, rendering: str) -> tuple[bool, bool]:
        return predicted == record.answer, normalize(predicted) == normalize(record.answer)

    def valid_path(self, steps_text: str, record) -> bool | None:
        """The generated steps are the chain of a valid proof of the record's conclusion. A rule may be
        cited in another form than the context's ("Every A is a B." for "As are Bs."): same fact."""
        if not record.has_graph:
            return None
        try:  # whatever the model wrote: not sentences at all is not a valid path either
            sentences = gen.sentences(steps_text.strip())
            steps = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences) - 1, 2)] + sentences[-1:]
            gen.check_record({**record.to_dict(), "steps": steps}, verbatim=False)
        except (ValueError, KeyError):
            return False
        return True

    def graph(self, record) -> Graph | None:
        if not record.has_graph:
            return None
        path = shortest_path(len(record.idx_to_symbol), record.edges, record.root, record.target) or []
        return Graph(record.idx_to_symbol, record.edges, record.root, (), record.target, tuple(path))

    def node_words(self, record, node: int) -> list[str]:
        """A person by name; a concept by every form the text uses (wumpus, wumpuses, Wumpuses)."""
        word = record.idx_to_symbol[node]
        return [word] if node == record.root else [word, gen.plural(word), gen.plural(word).capitalize()]

    drills = tuple(DRILLS)

    def drill(self, name: str, record, rng) -> tuple[str, ...]:
        self.check_drill(name)
        return DRILLS[name](record.question, rng)

    def generate(self, n: int, seed: int, options: GenerateOptions = GenerateOptions(),
                 exclude_questions=frozenset(), progress: bool = False) -> list:
        from latentsearch.data.schema import parse_record

        rows = gen.generate(n, seed=seed, config=options.config(), exclude_questions=exclude_questions)
        return [parse_record(row, "prontoqa generator", i) for i, row in enumerate(rows)]


register(ProntoQA())
