"""Fault injection for the crash tests.

`LATENTSEARCH_KILL_AT=POINT:N` makes the process SIGKILL itself the N-th time it reaches POINT
("step": after an optimizer step; "save": mid-way through writing a checkpoint; "swap": between
the two renames that put a checkpoint in place). Unset, `reached` does nothing.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_hits: Counter = Counter()


def reached(point: str) -> None:
    spec = os.environ.get("LATENTSEARCH_KILL_AT", "")
    name, _, count = spec.partition(":")
    if name != point:
        return
    _hits[point] += 1
    if _hits[point] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
