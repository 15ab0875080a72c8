"""Options as dataclass fields that carry their help line, so that the command line builds its flags
from the dataclasses that the library uses (search algorithms, task generators, latent strategies)."""

from __future__ import annotations

import dataclasses


def opt(default, help: str, choices: tuple | None = None):
    """A config field with its help line (and allowed values) for the command line."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")
