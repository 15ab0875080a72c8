"""A memory budget, checked before the work starts: a clear error instead of an out-of-memory kill.

The budget is `--memory-budget SIZE` (or the environment variable LATENTSEARCH_MEMORY_BUDGET), and by
default the memory the system reports available. Estimates are deliberately generous upper bounds
for eager PyTorch: weights (with gradients and AdamW moments when training), the KV cache, the
activations kept for the backward pass, and float32 logits.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

from latentsearch.errors import MemoryBudgetError

ENV = "LATENTSEARCH_MEMORY_BUDGET"
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str) -> int:
    """Bytes from "512M", "8G", "1.5g", "100000"."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", str(text), flags=re.IGNORECASE)
    if not match or float(match[1]) <= 0:
        raise ValueError(f"memory budget must be a positive size such as 512M or 8G, got {text!r}")
    return int(float(match[1]) * UNITS[match[2].upper()])


_override = ""  # --memory-budget of the running command


@contextmanager
def budget_override(size: str):
    """The budget is `size` inside the block ("" = leave it as it is)."""
    global _override
    saved, _override = _override, size or _override
    try:
        yield
    finally:
        _override = saved


def budget() -> int | None:
    """The budget in bytes; None when it is unset and the system does not say what is available."""
    if _override or os.environ.get(ENV):
        return parse_size(_override or os.environ[ENV])
    try:
        with open("/proc/meminfo") as f:
            fields = dict(line.split(":", 1) for line in f)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def check(what: str, needed: int) -> None:
    limit = budget()
    if limit is not None and needed > limit:
        raise MemoryBudgetError(
            f"{what} needs about {human(needed)}, more than the memory budget of {human(limit)} "
            f"(--memory-budget or {ENV}); use a smaller batch, width or size")


def human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def forward_bytes(model, rows: int, length: int, training: bool) -> int:
    """An upper bound on the memory of a pass over `rows` sequences of `length` tokens."""
    config = model.config
    d, layers, heads = config.hidden_size, config.num_hidden_layers, config.num_attention_heads
    element = next(model.parameters()).element_size()
    weights = sum(p.numel() for p in model.parameters()) * element
    tokens = rows * length
    kv_cache = 2 * layers * tokens * d * element
    per_layer = (tokens * 16 * d + rows * heads * length * length) * element  # MLP, projections, attention scores
    logits = tokens * config.vocab_size * 4
    if training:  # every layer's activations stay for backward; gradients and two AdamW moments
        return 4 * weights + kv_cache + layers * per_layer + 3 * logits
    return weights + kv_cache + per_layer + logits
