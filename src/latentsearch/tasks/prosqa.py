"""ProsQA (Coconut's graph task): "Every A is a B. ... Is Tom a X or Y?", exactly one candidate reachable.

Records carry the graph (`idx_to_symbol`, `edges`, `root`, `target`, `neg_target`, optionally the BFS
`frontiers`). Two renderings: `text` (the JSON text word by word) and `symbolic` (one token per
node: `ROOT CAND1 CAND2 |` then every edge as two node tokens; a step is the node it reaches; the
answer is the target). The generator is tasks/prosqa_gen.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from latentsearch.errors import DatasetError, TokenizerError
from latentsearch.options import opt
from latentsearch.tasks import prosqa_gen
from latentsearch.tasks.base import Graph, Rendered, Task, normalize, register
from latentsearch.tasks.graphs import parse_graph, reachable, shortest_path

SEPARATOR = "|"
TEMPLATE_WORDS = ("Every", "is", "a", "Is", "or", ".", "?")
_QUERY = re.compile(r"Is (\w+) a (\w+) or (\w+)\?")


@dataclass(frozen=True)
class GenerateOptions:
    nodes: int = opt(0, "nodes per graph, +-25% (0 = the real distribution)")
    depth: int = opt(0, "reasoning steps per question (0 = the real mix 3-6)")
    more_words: bool = opt(False, "name concepts from 80 made-up words beside the 38 real ones "
                                  "(graphs over 40 nodes need it)")

    def config(self) -> prosqa_gen.ProsQAConfig:
        return prosqa_gen.ProsQAConfig.sized(nodes=self.nodes or None, depth=self.depth or None,
                                             more_words=self.more_words)


def sentence(symbols, a: int, b: int) -> str:
    """The fact of edge a -> b as the real files write it."""
    subject = symbols[a] if symbols[a][0].isupper() else f"Every {symbols[a]}"
    return f"{subject} is a {symbols[b]}."


class ProsQA(Task):
    name = "prosqa"
    renderings = ("symbolic", "text")
    description = "ProsQA graph questions: is the person an X or a Y (Coconut's task)"
    generate_options = GenerateOptions

    # --- records ----------------------------------------------------------------------------------
    def claims(self, obj: dict) -> bool:
        question = obj.get("question")
        return "neg_target" in obj or "idx_to_symbol" in obj or (
            isinstance(question, str) and _QUERY.search(question) is not None)

    def parse(self, obj: dict, where: str) -> dict:
        graph = parse_graph(obj, where, ("root", "target", "neg_target"))
        if not graph:
            return {}
        symbols, edges, root = graph["idx_to_symbol"], graph["edges"], graph["root"]
        if graph["target"] == graph["neg_target"]:
            raise DatasetError(f'{where}: "target" and "neg_target" must differ')
        reached = reachable(len(symbols), edges, root)
        if graph["target"] not in reached:
            raise DatasetError(f'{where}: "target" ({symbols[graph["target"]]}) is not reachable from "root" '
                               f"({symbols[root]})")
        if graph["neg_target"] in reached:
            raise DatasetError(f'{where}: "neg_target" ({symbols[graph["neg_target"]]}) is reachable from "root" '
                               f"({symbols[root]})")
        if not obj["steps"]:
            raise DatasetError(f'{where}: "steps" is empty; a graph question needs the path from root to target')
        return graph

    def check(self, record, where: str) -> None:
        """The question states exactly the graph's facts and asks about root and the two candidates,
        the steps walk edges from the root to the target, and the answer names the target."""
        if not record.has_graph:
            return
        sym = record.idx_to_symbol
        facts, query = _split(record.question, where)
        stated = {sentence(sym, a, b) for a, b in record.edges}
        if facts != stated:
            odd = sorted(facts ^ stated)[0]
            raise DatasetError(f'{where}: "question" does not state the graph\'s facts (e.g. {odd!r}): '
                               "the text and the graph belong to different questions")
        if (query[0], {query[1], query[2]}) != (sym[record.root], {sym[record.target], sym[record.neg_target]}):
            raise DatasetError(f'{where}: "question" asks about {query[0]} and {query[1]}/{query[2]}, but the '
                               f"graph's root and candidates are {sym[record.root]} and "
                               f"{sym[record.target]}/{sym[record.neg_target]}")
        _check_steps(record, where)
        if record.answer != f"{sym[record.root]} is a {sym[record.target]}.":
            raise DatasetError(f'{where}: "answer" {record.answer[:80]!r} does not name the target '
                               f"({sym[record.target]})")

    def question_record(self, text: str):
        """A record for a question typed as text (facts, then "Is X a A or B?"), answer unknown."""
        from latentsearch.data.schema import Record

        facts, query = _split(text, "the question")
        names, edges = {}, []
        for fact in sorted(facts, key=text.index):
            words = re.findall(r"\w+", fact)
            a, b = (words[1] if words[0] == "Every" else words[0]), words[-1]
            edges.append((names.setdefault(a, len(names)), names.setdefault(b, len(names))))
        for word in query:
            names.setdefault(word, len(names))
        symbols = tuple(names)
        return Record(text, (), "", idx_to_symbol=symbols, edges=tuple(edges), root=names[query[0]],
                      target=names[query[1]], neg_target=names[query[2]], task=self.name)

    # --- tokens -----------------------------------------------------------------------------------
    def vocabulary(self, rendering: str) -> list[str]:
        words = [SEPARATOR, *prosqa_gen.ALL_SYMBOLS]
        return words + list(TEMPLATE_WORDS) if rendering == "text" else words

    def render(self, record, rendering: str) -> Rendered:
        self._check_rendering(rendering)
        if rendering == "text":
            return Rendered(record.question, record.steps, record.answer)
        if not record.has_graph:
            raise TokenizerError("the symbolic rendering needs the graph fields (idx_to_symbol, edges, ...)")
        sym = record.idx_to_symbol
        candidates = sorted([record.target, record.neg_target], key=lambda i: sym[i])  # order carries no hint
        head = [sym[record.root]] + [sym[i] for i in candidates] + [SEPARATOR]
        edges = [f"{sym[a]} {sym[b]}" for a, b in record.edges]
        steps = tuple(sym[i] for i in _step_nodes(record))
        return Rendered(" ".join(head + edges), steps, sym[record.target] if record.answer else "")

    # --- answers ----------------------------------------------------------------------------------
    def candidates(self, record, rendering: str) -> list[str]:
        """`### answer` naming the target, then the distractor (the question names both)."""
        if not record.has_graph:
            return []
        sym = record.idx_to_symbol
        gold = self.render(record, rendering).answer or sym[record.target]
        return [gold, gold.replace(sym[record.target], sym[record.neg_target])]

    def score(self, predicted: str, record, rendering: str) -> tuple[bool, bool]:
        """Exact match, and flexible: names the target and not the distractor."""
        exact = predicted == self.render(record, rendering).answer
        if not record.has_graph:
            return exact, bool(predicted) and normalize(predicted) == normalize(record.answer)
        words = set(normalize(predicted).split())
        sym = record.idx_to_symbol
        return exact, sym[record.target].lower() in words and sym[record.neg_target].lower() not in words

    def valid_path(self, steps_text: str, record) -> bool | None:
        """Every step follows an edge of the graph, starting from the root."""
        if not record.has_graph:
            return None
        nodes = path_nodes(steps_text, record)
        if not nodes:
            return False
        edges = set(record.edges)
        chain = [record.root] + nodes
        return all((a, b) in edges for a, b in zip(chain, chain[1:]))

    # --- probes -----------------------------------------------------------------------------------
    def graph(self, record) -> Graph | None:
        if not record.has_graph:
            return None
        path = shortest_path(len(record.idx_to_symbol), record.edges, record.root, record.target) or []
        return Graph(record.idx_to_symbol, record.edges, record.root, (record.target, record.neg_target),
                     record.target, tuple(path))

    def path_class(self, record, k: int, steps_text: str, correct: bool) -> str | None:
        """Coconut's classes (its Figure 5) for a language continuation after k thoughts."""
        nodes = path_nodes(steps_text, record) if steps_text.strip() else []
        if nodes is not None and not nodes:
            return "correct label" if correct else "incorrect label"
        edges = set(record.edges)
        starts = walk_reachable(record, k)
        if nodes is None or not any((u, nodes[0]) in edges for u in starts) \
                or not all((a, b) in edges for a, b in zip(nodes, nodes[1:])):
            return "hallucination"
        if nodes[-1] != record.target:
            return "wrong target"
        shortest = len(shortest_path(len(record.idx_to_symbol), record.edges, record.root, record.target)) - 1
        return "correct path" if k + len(nodes) == shortest else "longer path"

    path_classes = ("correct path", "longer path", "hallucination", "wrong target", "correct label",
                    "incorrect label")

    # --- data -------------------------------------------------------------------------------------
    def generate(self, n: int, seed: int, options: GenerateOptions = GenerateOptions(),
                 exclude_questions=frozenset(), progress: bool = False) -> list:
        return prosqa_gen.generate(n, seed=seed, config=options.config(), exclude_questions=exclude_questions,
                                   progress=progress)


def _split(question: str, where: str) -> tuple[set[str], tuple[str, str, str]]:
    """The question's facts (sentences) and its query (root, candidate, candidate)."""
    match = _QUERY.search(question)
    if match is None or question[match.end():].strip():
        raise DatasetError(f'{where}: "question" must end with "Is NAME a CONCEPT or CONCEPT?"')
    facts = {f.strip() + "." for f in question[: match.start()].split(".") if f.strip()}
    return facts, match.groups()


def _check_steps(record, where: str) -> None:
    """Steps are facts of the graph, each from where the last one arrived, from the root to the target."""
    at, stated = record.root, set(record.edges)
    index = {s: i for i, s in enumerate(record.idx_to_symbol)}
    for i, step in enumerate(record.steps):
        words = re.findall(r"\w+", step)
        a = index.get(words[1] if words[:1] == ["Every"] and len(words) > 1 else (words or [""])[0])
        b = index.get(words[-1]) if words else None
        if a != at or (a, b) not in stated or step != sentence(record.idx_to_symbol, a, b):
            raise DatasetError(f'{where}: "steps"[{i}] {step[:80]!r} is not a fact of the graph that continues '
                               "the path from the root")
        at = b
    if at != record.target:
        raise DatasetError(f'{where}: "steps" end at {record.idx_to_symbol[at]}, not at the target '
                           f"({record.idx_to_symbol[record.target]})")


def _step_nodes(record) -> list[int]:
    """Node indices reached by each step sentence ("... is a B.")."""
    index = {s: i for i, s in enumerate(record.idx_to_symbol)}
    path = []
    for step in record.steps:
        words = re.findall(r"\w+", step)
        if not words or words[-1] not in index:
            raise TokenizerError(f"step {step!r} does not end with a node of the graph")
        path.append(index[words[-1]])
    return path


def path_nodes(steps_text: str, record) -> list[int] | None:
    """Node indices a generated chain of steps visits after the root, or None when a word is not a node."""
    index = {s: i for i, s in enumerate(record.idx_to_symbol)}
    sentences = [s for s in re.split(r"[.\n]", steps_text) if s.strip()]
    if " is a " not in steps_text:  # symbolic rendering: one node token per step
        sentences = steps_text.split()
    nodes = []
    for text in sentences:
        words = re.findall(r"\w+", text)
        if not words or words[-1] not in index:
            return None
        nodes.append(index[words[-1]])
    return nodes


def walk_reachable(record, k: int) -> set[int]:
    """Nodes at the end of some walk of exactly k edges from the root."""
    from latentsearch.tasks.graphs import children_of

    children = children_of(len(record.idx_to_symbol), record.edges)
    layer = {record.root}
    for _ in range(k):
        layer = {v for u in layer for v in children[u]}
    return layer


register(ProsQA())
