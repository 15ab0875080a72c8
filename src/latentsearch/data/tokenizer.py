"""Word-level tokenizers for graph tasks, built with the `tokenizers` library.

Two renderings of a record:
- `text`: the exact JSON text, split into words with punctuation split off;
- `symbolic`: one token per node. The prompt is `ROOT CAND1 CAND2 |` followed by every edge as two
  node tokens (question first, edges at fixed positions); a step is the node it reaches; the answer
  is the target node.
Both put `###` before the answer (Coconut's rule: the answer is the text after the last `#`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Regex, Tokenizer, models, pre_tokenizers

from latentsearch.data.prosqa import ALL_SYMBOLS
from latentsearch.data.schema import Record

PAD, EOS, BOT, EOT, THOUGHT, PAUSE = "<pad>", "<eos>", "<bot>", "<eot>", "<thought>", "<pause>"
SPECIAL_TOKENS = (PAD, EOS, BOT, EOT, THOUGHT, PAUSE)
ANSWER_MARK = "###"
SEPARATOR = "|"
TEMPLATE_WORDS = ("Every", "is", "a", "Is", "or", ".", "?")
RENDERINGS = ("text", "symbolic")
_WORD = Regex(r"<[a-z]+>|###|\w+|[^\w\s]")


class TokenizerError(ValueError):
    """Input that the tokenizer cannot represent."""


@dataclass(frozen=True)
class Rendered:
    """A record as strings: the prompt, one string per reasoning step, and the answer."""

    question: str
    steps: tuple[str, ...]
    answer: str


def render(record: Record, rendering: str) -> Rendered:
    if rendering == "text":
        return Rendered(record.question, record.steps, record.answer)
    if rendering != "symbolic":
        raise TokenizerError(f"unknown rendering {rendering!r}; choose from {', '.join(RENDERINGS)}")
    if not record.has_graph:
        raise TokenizerError("the symbolic rendering needs the graph fields (idx_to_symbol, edges, ...)")
    sym = record.idx_to_symbol
    candidates = sorted([record.target, record.neg_target], key=lambda i: sym[i])  # order carries no hint
    head = [sym[record.root]] + [sym[i] for i in candidates] + [SEPARATOR]
    edges = [f"{sym[a]} {sym[b]}" for a, b in record.edges]
    path = _path_from_steps(record)
    return Rendered(" ".join(head + edges), tuple(sym[i] for i in path), sym[record.target])


def _path_from_steps(record: Record) -> list[int]:
    """Node indices reached by each step sentence ("... is a B.")."""
    index = {s: i for i, s in enumerate(record.idx_to_symbol)}
    path = []
    for step in record.steps:
        words = re.findall(r"\w+", step)
        if not words or words[-1] not in index:
            raise TokenizerError(f"step {step!r} does not end with a node of the graph")
        path.append(index[words[-1]])
    return path


def build_vocabulary(rendering: str) -> list[str]:
    words = list(SPECIAL_TOKENS) + [ANSWER_MARK, SEPARATOR] + list(ALL_SYMBOLS)
    if rendering == "text":
        words += list(TEMPLATE_WORDS)
    return words


class Codec:
    """A `tokenizers.Tokenizer` plus the rendering it was built for; strings <-> token ids.

    Our word-level vocabularies are closed (an unknown word is an error). A pretrained model's
    subword tokenizer (`Codec.wrap`) is open: any text encodes, with our special tokens added.
    """

    def __init__(self, tokenizer: Tokenizer, rendering: str):
        self.tokenizer = tokenizer
        self.rendering = rendering
        self.vocab = tokenizer.get_vocab()
        self.open = not isinstance(tokenizer.model, models.WordLevel)
        self.pad_id, self.eos_id = self.vocab[PAD], self.vocab[EOS]

    @classmethod
    def wrap(cls, tokenizer: Tokenizer) -> "Codec":
        """A pretrained subword tokenizer (e.g. `hf_tokenizer.backend_tokenizer`) with our special tokens
        added; the model's embeddings must then be resized to `len(codec)`."""
        tokenizer = Tokenizer.from_str(tokenizer.to_str())  # a copy: the caller's stays as it was
        tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
        return cls(tokenizer, "text")

    @classmethod
    def build(cls, rendering: str) -> "Codec":
        if rendering not in RENDERINGS:
            raise TokenizerError(f"unknown rendering {rendering!r}; choose from {', '.join(RENDERINGS)}")
        return cls._word_level(build_vocabulary(rendering), rendering)

    def grown(self) -> "Codec":
        """This codec with the words of today's vocabulary that it lacks appended (old ids unchanged);
        itself when it lacks none or is open. A model then needs `resize_token_embeddings(len(codec))`."""
        missing = [w for w in build_vocabulary(self.rendering) if w not in self.vocab]
        if self.open or not missing:
            return self
        words = sorted(self.vocab, key=self.vocab.get) + missing
        return Codec._word_level(words, self.rendering)

    @classmethod
    def _word_level(cls, words: list[str], rendering: str) -> "Codec":
        tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token=None))
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(_WORD, behavior="isolated")]
        )
        tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
        return cls(tokenizer, rendering)

    @classmethod
    def load(cls, folder: str | Path) -> "Codec":
        folder = Path(folder)
        try:
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as err:  # the tokenizers library reports a bad file as a bare Exception
            raise TokenizerError(f"{folder / 'tokenizer.json'}: not a tokenizer file ({err})") from None
        rendering = (folder / "rendering.txt").read_text(encoding="utf-8", errors="replace").strip()
        if rendering not in RENDERINGS:
            raise TokenizerError(f"{folder / 'rendering.txt'}: unknown rendering {rendering!r}")
        return cls(tokenizer, rendering)

    def save(self, folder: str | Path) -> None:
        from latentsearch.io import atomic_write_text

        atomic_write_text(Path(folder) / "tokenizer.json", self.tokenizer.to_str())
        atomic_write_text(Path(folder) / "rendering.txt", self.rendering + "\n")

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
            shown = ", ".join(repr(w) for w in unknown[:5])
            raise TokenizerError(f"{len(unknown)} word(s) not in the {self.rendering} vocabulary: {shown}")
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids) -> str:
        """Ids to text without padding and <eos>; other special tokens stay visible (thoughts, pauses)."""
        ids = [int(i) for i in ids if int(i) not in (self.pad_id, self.eos_id)]
        if self.open:
            return self.tokenizer.decode(ids, skip_special_tokens=False).strip()
        tokens = [self.tokenizer.id_to_token(i) for i in ids]
        text = " ".join(t for t in tokens if t is not None and t not in (PAD, EOS))
        return re.sub(r" ([.?,!])", r"\1", text) if self.rendering == "text" else text
