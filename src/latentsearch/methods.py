"""Training methods as named objects: how an example becomes a training item at a curriculum stage.

An `Item` is `prompt` (context), then `n_thoughts` continuous thoughts, then `after` (context, e.g.
`<eot>`), then `target` (the tokens the loss is on). Plain methods have no thoughts; at evaluation
the model is given everything but the target and generates the rest.

Coconut's curriculum (Hao et al. 2024): at stage k the first k reasoning steps are replaced by
k·c continuous thoughts between `<bot>` and `<eot>`; past the last stage every step is replaced.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

from latentsearch.data.examples import Example, Sequence
from latentsearch.data.tokenizer import BOT, EOT, PAUSE, THOUGHT, Codec


@dataclass(frozen=True)
class Curriculum:
    thoughts_per_step: int = 1  # c: continuous thoughts that replace one reasoning step
    epochs_per_stage: int = 5  # epochs spent at each stage
    max_stage: int = 6  # the last stage that replaces steps one at a time; past it all steps are latent
    start_stage: int = 0  # the stage of the first epoch (a continuation can train at one chosen stage)
    mix_prob: float = 0.0  # chance that an example trains at a uniformly random stage instead
    reset_optimizer: bool = True  # a fresh optimizer whenever the stage changes
    pad_thoughts: bool = True  # past the last stage every question gets max_stage·c thoughts
    cover_steps: bool = False  # past the last stage a question gets at least steps·c thoughts (deeper questions)
    extra_thoughts: int = 0  # training past the last stage adds 0..extra_thoughts more, drawn per example
    pause_tokens: int = 6  # `pause`: pause tokens between the question and the answer

    def __post_init__(self):
        for name in ("thoughts_per_step", "epochs_per_stage", "pause_tokens"):
            if getattr(self, name) <= 0:
                raise ValueError(f"curriculum.{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.start_stage <= self.final_stage:
            raise ValueError(f"curriculum.start_stage must be in [0, {self.final_stage}] (max_stage + 1), "
                             f"got {self.start_stage}")
        if self.max_stage < 0 or self.extra_thoughts < 0:
            raise ValueError(f"curriculum.max_stage and extra_thoughts must be >= 0, got {self.max_stage} "
                             f"and {self.extra_thoughts}")
        if not 0 <= self.mix_prob <= 1:
            raise ValueError(f"curriculum.mix_prob must be in [0, 1], got {self.mix_prob}")

    @property
    def final_stage(self) -> int:
        return self.max_stage + 1

    @property
    def final_thoughts(self) -> int:
        """Thoughts per question at the final stage (padded: every question gets as many)."""
        return self.max_stage * self.thoughts_per_step

    def latent_steps(self, stage: int, n_steps: int, rng: random.Random | None = None) -> tuple[int, int]:
        """(steps removed from the language, thoughts inserted) at `stage`; `rng` draws training's extra thoughts."""
        if stage > self.max_stage:
            kept = self.max_stage if self.pad_thoughts else min(n_steps, self.max_stage)
            kept = max(kept, n_steps) if self.cover_steps else kept
            extra = rng.randint(0, self.extra_thoughts) if rng is not None and self.extra_thoughts else 0
            return n_steps, kept * self.thoughts_per_step + extra
        return min(stage, n_steps), stage * self.thoughts_per_step


@dataclass(frozen=True)
class Item:
    prompt: tuple[int, ...]
    n_thoughts: int
    after: tuple[int, ...]
    target: tuple[int, ...]
    lens_targets: tuple[tuple[int, ...], ...] = ()  # per thought: tokens its lens should favour (train/frontier.py)

    def flat(self, thought_id: int) -> Sequence:
        """As one token sequence, thoughts shown as `thought_id` (for plain passes and length checks)."""
        return Sequence.join(self.prompt + (thought_id,) * self.n_thoughts + self.after, self.target)

    def __len__(self) -> int:
        return len(self.prompt) + self.n_thoughts + len(self.after) + len(self.target)


@dataclass(frozen=True)
class Specials:
    bot: int
    eot: int
    pause: int
    thought: int

    @classmethod
    def of(cls, codec: Codec) -> "Specials":
        return cls(*(codec.token_id(t) for t in (BOT, EOT, PAUSE, THOUGHT)))


@dataclass(frozen=True)
class Method:
    name: str
    description: str  # one line, shown by `latentsearch train --help`

    def stage(self, epoch: int, curriculum: Curriculum) -> int:
        return 0

    def item(self, example: Example, stage: int, curriculum: Curriculum, special: Specials,
             rng: random.Random | None = None) -> Item:
        raise NotImplementedError

    def uses_thoughts(self) -> bool:
        return False

    def reads(self) -> frozenset[str]:
        """The curriculum fields this method's training depends on (others leave it unchanged)."""
        return frozenset()


def _steps(example: Example, skip: int = 0) -> tuple[int, ...]:
    return tuple(token for step in example.steps[skip:] for token in step)


@dataclass(frozen=True)
class NoCoT(Method):
    def item(self, example, stage, curriculum, special, rng=None):
        return Item(example.question, 0, (), example.answer)


@dataclass(frozen=True)
class CoT(Method):
    def item(self, example, stage, curriculum, special, rng=None):
        if rng is not None and stage:  # only stage mixing (--mix-prob) hands CoT a stage: train it as Coconut's
            return METHODS["coconut"].item(example, stage, curriculum, special, rng)
        return Item(example.question, 0, (), _steps(example) + example.answer)

    def reads(self):
        return frozenset({"mix_prob", "thoughts_per_step"})  # mixing trains some examples at latent stages


@dataclass(frozen=True)
class Pause(Method):
    def item(self, example, stage, curriculum, special, rng=None):
        return Item(example.question, 0, (special.pause,) * curriculum.pause_tokens, example.answer)

    def reads(self):
        return frozenset({"pause_tokens"})


@dataclass(frozen=True)
class Staged(Method):
    """The Coconut family: `question <bot> [thoughts] <eot> remaining steps ### answer`."""

    filler: str = "thought"  # what replaces the removed steps: thought, pause or nothing
    curriculum_on: bool = True

    def stage(self, epoch, curriculum):
        if not self.curriculum_on:
            return curriculum.final_stage
        return min(curriculum.start_stage + epoch // curriculum.epochs_per_stage, curriculum.final_stage)

    def item(self, example, stage, curriculum, special, rng=None):
        skip, n = curriculum.latent_steps(stage, len(example.steps), rng)
        prompt, rest = example.question + (special.bot,), _steps(example, skip) + example.answer
        if self.filler == "thought":
            return Item(prompt, n, (special.eot,), rest)
        fill = (special.pause,) * n if self.filler == "pause" else ()
        return Item(prompt, 0, fill + (special.eot,), rest)

    def uses_thoughts(self) -> bool:
        return self.filler == "thought"

    def reads(self):
        fields = {"max_stage", "mix_prob"}  # which steps are latent, and random stages
        if self.curriculum_on:
            fields |= {"epochs_per_stage", "start_stage", "reset_optimizer"}
        if self.filler != "none":  # how many thoughts (or pauses) stand for the latent steps
            fields |= {"thoughts_per_step", "pad_thoughts", "cover_steps", "extra_thoughts"}
        return frozenset(fields)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        NoCoT("nocot", "answer straight after the question, no reasoning steps"),
        CoT("cot", "write the reasoning steps in language, then the answer"),
        Pause("pause", "no reasoning steps; pause tokens between the question and the answer"),
        Staged("coconut", "Coconut's curriculum: stage k replaces the first k steps with k*c continuous thoughts"),
        Staged("pause-as-thought", "Coconut's curriculum with <pause> tokens in place of the thoughts", "pause"),
        Staged("coconut-no-curriculum", "every step replaced by continuous thoughts from the first epoch",
               curriculum_on=False),
        Staged("coconut-no-thought", "Coconut's curriculum removing steps without adding thoughts", "none"),
    )
}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
    return METHODS[name]


@dataclass(frozen=True)
class Recipe:
    """A method bound to its curriculum and the codec's special tokens."""

    method: Method
    curriculum: Curriculum
    special: Specials

    @classmethod
    def of(cls, method: str | Method, codec: Codec, curriculum: Curriculum | None = None) -> "Recipe":
        method = get_method(method) if isinstance(method, str) else method
        return cls(method, curriculum or Curriculum(), Specials.of(codec))

    @classmethod
    def from_meta(cls, meta: dict, codec: Codec, method: str = "") -> tuple["Recipe", int]:
        """The recipe and stage a checkpoint was saved at (its meta.json); `method` overrides the name.
        Every field is checked: meta.json is user-editable input."""
        curriculum = _curriculum(meta.get("curriculum", {}))
        stage = meta.get("stage", curriculum.final_stage)
        if not _is_int(stage) or not 0 <= stage <= curriculum.final_stage:
            raise ValueError(f"meta.json: \"stage\" must be an integer in [0, {curriculum.final_stage}], "
                             f"got {repr(stage)[:40]}")
        name = method or meta.get("method", "cot")
        if not isinstance(name, str):
            raise ValueError(f'meta.json: "method" must be a method name, got {repr(name)[:40]}')
        return cls.of(name, codec, curriculum), stage

    def stage(self, epoch: int) -> int:
        return self.method.stage(epoch, self.curriculum)

    def item(self, example: Example, stage: int, rng: random.Random | None = None) -> Item:
        """The example at `stage`; with `rng` and the curriculum's mix_prob, sometimes at a random stage."""
        if rng is not None and self.curriculum.mix_prob and rng.random() < self.curriculum.mix_prob:
            stage = rng.randint(0, len(example.steps))
        return self.method.item(example, stage, self.curriculum, self.special, rng)

    def prompt_item(self, example: Example, stage: int, n_thoughts: int | None = None) -> Item:
        """What the model is given at evaluation: the item without its target (thoughts overridable)."""
        item = self.method.item(example, stage, self.curriculum, self.special)
        thoughts = n_thoughts if n_thoughts is not None and self.method.uses_thoughts() else item.n_thoughts
        return Item(item.prompt, thoughts, item.after, ())


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _curriculum(fields) -> Curriculum:
    """meta.json's curriculum: only known keys, each of its field's type."""
    if not isinstance(fields, dict):
        raise ValueError(f'meta.json: "curriculum" must be an object, got {repr(fields)[:40]}')
    known = {f.name: f for f in dataclasses.fields(Curriculum)}
    for key, value in fields.items():
        if key not in known:
            raise ValueError(f'meta.json: unknown curriculum key {key[:40]!r} (known: {", ".join(known)})')
        wanted = {"int": int, "float": (int, float), "bool": bool}[str(known[key].type)]
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise ValueError(f"meta.json: curriculum {key} must be {known[key].type}, got {repr(value)[:40]}")
    return Curriculum(**fields)
