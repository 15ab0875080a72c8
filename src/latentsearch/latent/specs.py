"""Latent search strategies by name and SPEC (`vote:8`, `adaptive:mass:0.5`), their options, and how
a thought may branch: plain definitions without torch, so the command line lists them at once.
latent/strategies.py runs them; latent/noise.py perturbs thoughts."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from latentsearch.options import opt
from latentsearch.search.base import MAX_COUNT, check_counts

KINDS = ("none", "gaussian", "dropout", "layer")


@dataclass(frozen=True)
class Perturb:
    kind: str = opt("gaussian", "how a thought branches", KINDS)
    sigma: float = opt(0.1, "noise scale, relative to the thought's norm (gaussian, layer)")
    layer: int = opt(-1, "the block whose output gets noise (layer; -1 = the last)")

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"noise kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not (math.isfinite(self.sigma) and 0 <= self.sigma <= 10):
            raise ValueError(f"sigma must be in [0, 10], got {self.sigma}")

    @property
    def off(self) -> bool:
        return self.kind == "none" or (self.kind in ("gaussian", "layer") and self.sigma == 0)


@dataclass(frozen=True)
class LatentOptions:
    noise: str = opt("gaussian", "how rollouts and beam children branch", KINDS)
    sigma: float = opt(0.1, "noise scale relative to the thought's norm (gaussian, layer)")
    layer: int = opt(-1, "the block that gets noise (layer noise)")
    children: int = opt(4, "beam: noisy children per node")
    max_thoughts: int = opt(32, "adaptive: the most thoughts before answering anyway")
    settle: int = opt(1, "adaptive: thoughts still taken after the rule fires")
    seed: int = opt(0, "noise seed (same seed, same answers)")

    def __post_init__(self):
        Perturb(self.noise, self.sigma, self.layer)  # checks the values
        check_counts(self, "children", "max_thoughts")
        check_counts(self, "settle", low=0)

    def space_config(self, depth: int, **changes):
        from latentsearch.latent.space import LatentSearchConfig

        base = LatentSearchConfig(depth=depth, branch="noise", children=self.children, seed=self.seed,
                                  perturb=Perturb(self.noise, self.sigma, self.layer))
        return replace(base, **changes)


@dataclass(frozen=True)
class Spec:
    name: str
    argument: str  # what follows the colon ("" = nothing): N, W, T (counts) or RULE:TAU
    description: str
    needs_value: bool = False  # weighs or ranks by a value model (--value)
    reads_value: bool = False  # ranks by a value: the value model's when given, else the answer's likelihood
    options: tuple[str, ...] = ()  # the LatentOptions it reads (a flag for any other is refused)
    own_count: bool = False  # its argument (or max_thoughts) sets the thoughts, not --thoughts


NOISY = ("noise", "sigma", "layer", "seed")  # how a noisy rollout or child branches


SPECS = {s.name: s for s in (
    Spec("one-path", "", "Coconut: the plain thoughts, then the likelier answer"),
    Spec("best-of-n", "N", "N rollouts (the first plain, the others noisy at every thought), the best by value",
         reads_value=True, options=NOISY),
    Spec("vote", "N", "the same N rollouts, the answer most of them give", options=NOISY),
    Spec("weighted-vote", "N", "the same, each vote weighed by the value model's P(right)", needs_value=True,
         reads_value=True, options=NOISY),
    Spec("beam", "W", "beam search over noisy continuations, ranked by value", reads_value=True,
         options=NOISY + ("children",)),
    Spec("anytime", "T", "one pass of T thoughts, an answer read after each, a vote weighed by their confidence",
         own_count=True),
    Spec("anytime-value", "T", "the same, the answer of the thought the value model trusts most", needs_value=True,
         reads_value=True, own_count=True),
    Spec("adaptive", "RULE:TAU", "stop thinking when RULE fires: mass, confidence, value or entropy; "
         "RULE:TAU+RULE:TAU when all hold",
         reads_value=True, options=("max_thoughts", "settle"), own_count=True),
    Spec("tokens-beam", "W", "ablation: children are the thought, top-2 token embeddings and their mixture"),
    Spec("tokens-dp", "W", "ablation: the same with recombination of near-equal thoughts (cosine >= 0.99)"),
)}
RULES = ("mass", "confidence", "value", "entropy")


def parse_spec(spec: str) -> tuple[Spec, str]:
    """`vote:8` -> (the vote spec, "8"); a bad SPEC is one clear error."""
    if not isinstance(spec, str):
        raise ValueError(f"a search SPEC is a string such as 'vote:8', got {type(spec).__name__}")
    name, _, argument = spec.partition(":")
    if name not in SPECS:
        raise ValueError(f"unknown search {spec[:40]!r}; choose from "
                         + ", ".join(f"{s.name}:{s.argument}" if s.argument else s.name for s in SPECS.values()))
    chosen = SPECS[name]
    if bool(argument) != bool(chosen.argument):
        wanted = f"an argument ({name}:{chosen.argument})" if chosen.argument else "no argument"
        raise ValueError(f"{name} takes {wanted}, got {spec[:40]!r}")
    try:
        parse_rule(argument) if chosen.argument == "RULE:TAU" else count(argument) if chosen.argument else None
    except ValueError as err:
        raise ValueError(f"search {spec[:40]!r}: {err}") from None
    return chosen, argument


def check_options(search: str, given: dict, thoughts=None, name=lambda field: field) -> None:
    """Refuse what `search` would ignore: `given` holds the LatentOptions set away from their defaults,
    `thoughts` the thought count asked for; `name` spells a field as the caller's user wrote it."""
    spec = parse_spec(search)[0] if search else None
    stray = [field for field in given if spec is None or field not in spec.options]
    if stray and spec is None:
        raise ValueError(f"{name(stray[0])} shapes a latent search: give a search SPEC too")
    if stray:
        reads = ", ".join(name(o) for o in spec.options) or "none"
        raise ValueError(f"{name(stray[0])} does not apply to search {search} (the options it reads: {reads})")
    noise = given.get("noise", LatentOptions.noise)
    for field, kinds in (("sigma", ("gaussian", "layer")), ("layer", ("layer",))):
        if field in given and noise not in kinds:
            raise ValueError(f"{name(field)} shapes {' and '.join(kinds)} noise, not noise {noise}")
    if spec is not None and spec.own_count and thoughts is not None:
        own = f"{name('max_thoughts')} caps its thoughts" if spec.name == "adaptive" else "its count is T"
        raise ValueError(f"{name('thoughts')} does not apply to search {search}: {own}")


def parse_rule(argument: str) -> list[tuple[str, float]]:
    """`mass:0.5` -> [("mass", 0.5)]; `mass:0.1+confidence:0.99` (fires when every part holds) -> two pairs."""
    parts = []
    for part in argument.split("+"):
        name, _, number = part.partition(":")
        try:
            tau = float(number)
        except ValueError:
            tau = math.nan
        if name not in RULES or not math.isfinite(tau):
            raise ValueError(f"adaptive needs RULE:THRESHOLD[+RULE:THRESHOLD...] with RULE one of {', '.join(RULES)} "
                             f"(e.g. adaptive:mass:0.5), got {argument[:40]!r}")
        if not (0 <= tau if name == "entropy" else 0 <= tau <= 1):  # the others are probabilities: 2 never fires
            allowed = ">= 0 (nats)" if name == "entropy" else "in [0, 1] (a probability)"
            raise ValueError(f"the {name} threshold must be {allowed}, got {number[:20]!r}")
        parts.append((name, tau))
    return parts


def count(argument: str) -> int:
    plain = argument.isascii() and argument.isdigit() and len(argument) < 8  # not "３", " 3", "3_0" or "1e9"
    value = int(argument) if plain else 0
    if not 1 <= value <= MAX_COUNT:
        raise ValueError(f"expected a count from 1 to {MAX_COUNT} after ':', got {argument[:40]!r}")
    return value
