"""The models that ship inside the package, by short name (`latentsearch models` lists them).

Each lives in `assets/NAME/` as an ordinary checkpoint folder; its `demo.json` holds a one-line
`summary`, the demo's generator settings and a longer `note`.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

DEFAULT = "prosqa-coconut"  # the demo's model


def assets() -> Path:
    return Path(str(resources.files("latentsearch") / "assets"))


def names() -> list[str]:
    return sorted(p.name for p in assets().iterdir() if (p / "model.safetensors").is_file())


def resolve(spec: str) -> str:
    """A shipped model's folder for its short name; any other spec unchanged."""
    if spec and "/" not in spec and spec in names():
        return str(assets() / spec)
    return spec


def card(name: str) -> dict:
    """demo.json of a shipped model (summary, note, generator settings)."""
    path = assets() / name / "demo.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
