"""The Python API: a model by name, and what one does with it in a line each.

    >>> import latentsearch as ls
    >>> m = ls.load("prosqa-coconut")
    >>> out = m.think("Tom is a wumpus. Every wumpus is a yumpus. Sam is a zumpus. Is Tom a yumpus or zumpus?")
    >>> out.answer
    'yumpus'

`load` takes a shipped model's name (`latentsearch models`), a checkpoint folder, `smollm2` (the
embedded SmolLM2-135M-Instruct) or a Hugging Face path. Everything is batched under the hood: `think`
and `eval` take many questions at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Sequence

import torch

from latentsearch import tasks
from latentsearch.data.schema import Record, load_records
from latentsearch.data.tokenizer import ANSWER_MARK
from latentsearch.errors import CheckpointError, DatasetError
from latentsearch.evaluate import BATCH_SIZE, evaluate, extract_answer, is_count
from latentsearch.methods import Recipe


@dataclass
class Thought:
    """What a model made of one question."""

    answer: str  # the text after `###` ("" when the model wrote none)
    output: str  # everything it wrote after its thoughts
    thoughts: torch.Tensor  # (n_thoughts, d_model) the vectors fed back, never decoded
    top_tokens: list[list[tuple[str, float]]] = field(default_factory=list)  # per thought, through the LM head


class Model:
    """A trained latentsearch checkpoint (think, eval, probe, search) or any causal LM (search)."""

    def __init__(self, spec: str):
        from latentsearch.models.checkpoint import is_pretrained_lm, load_checkpoint
        from latentsearch.models.lm import from_codec, load_lm

        if not isinstance(spec, (str, Path)) or not str(spec).strip():
            raise CheckpointError(f"a model is a shipped name, a checkpoint folder, smollm2 or an HF path, "
                                  f"got {spec!r}")
        self.spec = spec = str(spec)
        self.checkpoint = not is_pretrained_lm(spec)
        if self.checkpoint:
            self.model, self.codec, self.meta = load_checkpoint(spec)
            self.recipe, self.stage = Recipe.from_meta(self.meta, self.codec)
            self.task = tasks.get(self.codec.task)
            self.lm = from_codec(self.model, self.codec)
        else:
            self.lm = load_lm(spec)  # with its chat template, for search
            self.model = self.lm.model

    def __repr__(self) -> str:
        kind = f"{self.recipe.method.name} model for {self.task.name}" if self.checkpoint else "language model"
        size = sum(p.numel() for p in self.model.parameters())
        return f"<latentsearch.Model {self.spec!r}: {kind}, {size:,} parameters>"

    # --- questions --------------------------------------------------------------------------------
    def think(self, question: str | Record | Sequence[str | Record], thoughts: int | None = None,
              top: int = 5) -> Thought | list[Thought]:
        """Answer a question (its text, or a record) through continuous thoughts (a CoT model writes its
        steps instead, and has none); a list of questions gives a list.

        >>> m.think(question).top_tokens[0][:2]   # thought 1's two likeliest tokens (the question above)
        [('wumpus', 0.453), ('###', 0.1349)]
        """
        self._need_checkpoint("think")
        if not is_count(top):
            raise ValueError(f"top must be a count >= 0, got {top!r}")
        many = not isinstance(question, (str, Record))
        if many and not isinstance(question, Sequence):
            raise DatasetError(f"think takes a question (text or a Record) or a list of them, got "
                               f"{type(question).__name__}")
        records = [self._record(q) for q in (question if many else [question])]
        result = evaluate(self.model, self.codec, records, self.recipe, stage=self.stage, n_thoughts=thoughts)
        vectors = result.thoughts or [torch.empty(0, self.model.config.hidden_size)] * len(records)
        answers = [self._thought(row, v, top) for row, v in zip(result.rows, vectors)]
        return answers if many else answers[0]

    def eval(self, data: str | Path | Sequence[Record], thoughts: int | str | None = None, search: str = "",
             value: str = "", batch_size: int = BATCH_SIZE, progress: bool = False, **options) -> dict:
        """Answer and score every question of a data file (or records): the summary ("accuracy", ...) and
        the rows. `thoughts`: a count, "steps" (at least one per reasoning step) or "auto"; `search`: a
        latent strategy such as "vote:8" (latent/specs.py) with its `options` and a `value` model folder.

        >>> m.eval("questions.jsonl", search="anytime:12")["summary"]["accuracy"]"""
        from latentsearch.latent.specs import LatentOptions, check_options
        from latentsearch.latent.strategies import search_records
        from latentsearch.latent.value import load_valuer

        self._need_checkpoint("eval")
        records, source = _records(data)
        if thoughts == "auto" and not search:
            search, thoughts = "adaptive:mass:0.5", None
        defaults = {f.name: f.default for f in fields(LatentOptions)}
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise ValueError(f"eval has no option {unknown[0]!r} (its search options: {', '.join(defaults)})")
        check_options(search, {k: v for k, v in options.items() if v != defaults[k]}, thoughts)
        if not search and value:
            raise ValueError("value scores trajectories of a latent search: give search too")
        if search and batch_size != BATCH_SIZE:
            raise ValueError("batch_size batches plain decoding; a search answers one question at a time")
        if not search:
            result = evaluate(self.model, self.codec, records, self.recipe, stage=self.stage, n_thoughts=thoughts,
                              batch_size=batch_size, progress=progress, source=source)
            return {"summary": result.summary, "rows": result.rows}
        valuer = load_valuer(self.spec, value)
        return search_records(self.model, self.codec, records, self.recipe, search, LatentOptions(**options), valuer,
                              thoughts, progress, source)

    def probe(self, data: str | Path | Sequence[Record], thoughts: int | None = None, limit: int = 0,
              output: str | Path | None = None) -> dict:
        """Logit lens, frontier mass and path classes of every thought (see `latentsearch probe`); with
        `output`, also probe.json and the figures in that folder. `thoughts`: the checkpoint's count."""
        from latentsearch.latent.value import load_valuer
        from latentsearch.probe.run import probe, write_probe

        self._need_checkpoint("probe")
        if not is_count(limit):
            raise ValueError(f"limit must be a whole number >= 0 (0 = every record), got {limit!r}")
        records, source = _records(data)
        stage = self.recipe.curriculum.final_stage
        result = probe(self.model, self.codec, records[: limit or None], self.recipe, stage, thoughts,
                       valuer=load_valuer(self.spec), source=source)
        if output is not None:
            write_probe(result, output)
        return result

    # --- any prompt ---------------------------------------------------------------------------------
    def search(self, prompt: str, algo: str = "beam", max_new_tokens: int = 32, **options):
        """Decode `prompt` with a search algorithm (`latentsearch search --help` lists them and their
        options); the result holds the sequences best first (decoded in `.extra["texts"]`), their scores
        and the tree."""
        from latentsearch.models.factory import check_context
        from latentsearch.search import Context
        from latentsearch.search.engine import Engine
        from latentsearch.search.registry import get

        algorithm = get(algo)
        config = algorithm.make_config(**options)
        if not isinstance(prompt, str):
            raise ValueError(f"the prompt is text, got {type(prompt).__name__}")
        if not is_count(max_new_tokens) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        ids = self.lm.encode(prompt)
        check_context(self.lm.model, len(ids) + max_new_tokens, "the prompt and max_new_tokens")
        hidden = getattr(config, "needs_hidden", False)
        engine = Engine(self.lm.model, ids, self.lm.eos_id, max_new_tokens, keep_hidden=hidden)
        answer = lambda node: (self.lm.decode(list(node.tokens)).split() or [None])[-1]  # noqa: E731
        result = algorithm.run(engine, config, Context(answer=answer))
        result.extra["texts"] = [self.lm.decode(s) for s in result.sequences]
        return result

    # --- helpers ------------------------------------------------------------------------------------
    def _record(self, question: str | Record) -> Record:
        if isinstance(question, Record):
            return question
        if not isinstance(question, str) or not question.strip():
            raise DatasetError(f"a question is non-empty text or a Record, got {question!r:.40}")
        make = getattr(self.task, "question_record", None)
        return make(question) if make else Record(question, (), "", task=self.task.name)

    def _thought(self, row: dict, vectors: torch.Tensor, top: int) -> Thought:
        probs = self.model.get_output_embeddings()(vectors.to(self.model.device)).float().softmax(-1)
        values, ids = probs.topk(min(top, probs.shape[-1]), dim=-1) if len(vectors) else (probs, probs)
        tops = [[(self.codec.decode([i]), round(v, 4)) for v, i in zip(vs.tolist(), row_ids.tolist())]
                for vs, row_ids in zip(values, ids)] if len(vectors) else []
        answer = extract_answer(row["output"]) if ANSWER_MARK in row["output"] else ""
        return Thought(answer, row["output"], vectors, tops)

    def _need_checkpoint(self, what: str) -> None:
        if not self.checkpoint:
            raise CheckpointError(f"{self.spec}: {what} needs a latentsearch checkpoint (a task and a method); "
                                  "use search() with any language model")


def _records(data) -> tuple[list[Record], str]:
    """The records of a data file (named by it in errors) or of a list."""
    if isinstance(data, (str, Path)):
        return load_records(data), Path(data).name
    if not isinstance(data, Sequence):
        raise DatasetError(f"data is a data file or a list of Records, got {type(data).__name__}")
    return list(data), "data"


def load(spec: str = "prosqa-coconut") -> Model:
    """A model by shipped name, checkpoint folder, `smollm2` or Hugging Face path (never remote code)."""
    return Model(spec)

