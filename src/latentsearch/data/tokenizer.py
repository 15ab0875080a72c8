"""Tokenizers, built with the `tokenizers` library: a closed word-level vocabulary per task and
rendering, or a pretrained model's own subword tokenizer with our special tokens added.

A task (tasks/) says how a record becomes text (its renderings) and which words it uses; every
rendering puts `###` before the answer (Coconut's rule: the answer is the text after the last `#`).
Text is split into words with punctuation split off.
"""

from __future__ import annotations

import re
from pathlib import Path

from tokenizers import Regex, Tokenizer, models, pre_tokenizers

from latentsearch.errors import TokenizerError
from latentsearch.tasks import base as tasks
from latentsearch.tasks.base import ANSWER_MARK, Rendered  # noqa: F401  (part of this module's vocabulary)

PAD, EOS, BOT, EOT, THOUGHT, PAUSE = "<pad>", "<eos>", "<bot>", "<eot>", "<thought>", "<pause>"
SPECIAL_TOKENS = (PAD, EOS, BOT, EOT, THOUGHT, PAUSE)
RENDERINGS = ("symbolic", "text")  # every task's renderings (a task allows some of them)
DEFAULT_TASK = "prosqa"  # the task of a checkpoint saved before tasks were named
_WORD = Regex(r"<[a-z]+>|###|\w+|[^\w\s]")


def build_vocabulary(rendering: str, task: str = DEFAULT_TASK) -> list[str]:
    return list(SPECIAL_TOKENS) + [ANSWER_MARK] + tasks.get(task).vocabulary(rendering)


def render(record, rendering: str, task: str | None = None) -> Rendered:
    """A record as text in this rendering, by its task's rules."""
    return tasks.get(task or record.task).render(record, rendering)


class Codec:
    """A `tokenizers.Tokenizer` plus the task and rendering it was built for; records and strings <->
    token ids.

    Our word-level vocabularies are closed (an unknown word is an error). A pretrained model's
    subword tokenizer (`Codec.wrap`) is open: any text encodes, with our special tokens added.
    """

    def __init__(self, tokenizer: Tokenizer, rendering: str, task: str = DEFAULT_TASK):
        self.tokenizer = tokenizer
        self.rendering, self.task = rendering, task
        self.vocab = tokenizer.get_vocab()
        self.open = not isinstance(tokenizer.model, models.WordLevel)
        missing = [t for t in SPECIAL_TOKENS if t not in self.vocab]
        if missing:
            raise TokenizerError(f"the tokenizer lacks the special token {missing[0]}")
        self.pad_id, self.eos_id = self.vocab[PAD], self.vocab[EOS]
        # Words of the vocabulary whose embeddings no training of the model's lineage has used (set from
        # meta.json by load_checkpoint): text with them is refused, as the model's answers would be guesses.
        self.untrained: frozenset[str] = frozenset()

    @classmethod
    def wrap(cls, tokenizer: Tokenizer, task: str = DEFAULT_TASK) -> "Codec":
        """A pretrained subword tokenizer (e.g. `hf_tokenizer.backend_tokenizer`) with our special tokens
        added; the model's embeddings must then be resized to `len(codec)`."""
        tokenizer = Tokenizer.from_str(tokenizer.to_str())  # a copy: the caller's stays as it was
        tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
        return cls(tokenizer, "text", task)

    @classmethod
    def build(cls, rendering: str, task: str = DEFAULT_TASK) -> "Codec":
        renderings = tasks.get(task).renderings
        if rendering not in renderings:
            raise TokenizerError(f"task {task} has no rendering {rendering!r}; choose from {', '.join(renderings)}")
        return cls._word_level(build_vocabulary(rendering, task), rendering, task)

    def grown(self) -> "Codec":
        """This codec with the words of today's vocabulary that it lacks appended (old ids unchanged);
        itself when it lacks none or is open. A model then needs `resize_token_embeddings(len(codec))`."""
        missing = [w for w in build_vocabulary(self.rendering, self.task) if w not in self.vocab]
        if self.open or not missing:
            return self
        words = sorted(self.vocab, key=self.vocab.get) + missing
        return Codec._word_level(words, self.rendering, self.task)

    @classmethod
    def _word_level(cls, words: list[str], rendering: str, task: str) -> "Codec":
        tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token=None))
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(_WORD, behavior="isolated")]
        )
        tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
        return cls(tokenizer, rendering, task)

    @classmethod
    def load(cls, folder: str | Path) -> "Codec":
        folder = Path(folder)
        try:
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as err:  # the tokenizers library reports a bad file as a bare Exception
            raise TokenizerError(f"{folder / 'tokenizer.json'}: not a tokenizer file ({err})") from None
        rendering = _small_text(folder / "rendering.txt")
        if rendering not in RENDERINGS:
            raise TokenizerError(f"{folder / 'rendering.txt'}: unknown rendering {rendering[:40]!r}")
        task = _small_text(folder / "task.txt") if (folder / "task.txt").is_file() else DEFAULT_TASK
        try:
            tasks.get(task)  # an unknown task fails here, naming it
            return cls(tokenizer, rendering, task)
        except ValueError as err:
            raise TokenizerError(f"{folder}: {err}") from None

    def save(self, folder: str | Path) -> None:
        from latentsearch.io import atomic_write_text

        atomic_write_text(Path(folder) / "tokenizer.json", self.tokenizer.to_str())
        atomic_write_text(Path(folder) / "rendering.txt", self.rendering + "\n")
        atomic_write_text(Path(folder) / "task.txt", self.task + "\n")

    def render(self, record) -> Rendered:
        """The record as text in this codec's rendering, by its task's rules."""
        return tasks.get(self.task).render(record, self.rendering)

    def __len__(self) -> int:
        return self.tokenizer.get_vocab_size()

    def token_id(self, token: str) -> int:
        return self.vocab[token]

    def encode(self, text: str) -> list[int]:
        if self.open:  # a leading space, so that concatenated pieces tokenize like running text
            return self.tokenizer.encode(" " + text, add_special_tokens=False).ids
        words = [w for w, _ in self.tokenizer.pre_tokenizer.pre_tokenize_str(text)]
        unknown = sorted({w for w in words if w not in self.vocab})
        if unknown:
            raise TokenizerError(f"{len(unknown)} word(s) not in the {self.rendering} vocabulary: {_shown(unknown)}")
        untrained = sorted(self.untrained.intersection(words))
        if untrained:
            raise TokenizerError(f"{len(untrained)} word(s) the model never saw in training: {_shown(untrained)} "
                                 "(their embeddings are untrained, so its answers would be guesses)")
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids) -> str:
        """Ids to text without padding and <eos>; other special tokens stay visible (thoughts, pauses)."""
        ids = [int(i) for i in ids if int(i) not in (self.pad_id, self.eos_id)]
        if self.open:
            return self.tokenizer.decode(ids, skip_special_tokens=False).strip()
        tokens = [self.tokenizer.id_to_token(i) for i in ids]
        text = " ".join(t for t in tokens if t is not None and t not in (PAD, EOS))
        return re.sub(r" ([.?,!:])", r"\1", text) if self.rendering == "text" else text


def _shown(words: list[str]) -> str:
    return ", ".join(repr(w[:40]) for w in words[:5])


def _small_text(path: Path) -> str:
    """A one-word file of a checkpoint (rendering.txt, task.txt), read without trusting its size."""
    with open(path, "rb") as f:
        return f.read(200).decode("utf-8", errors="replace").strip()
