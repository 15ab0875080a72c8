"""Tasks as plug-ins: each task says how its records are checked, rendered, answered and probed.

`get(name)` returns a registered task; `detect(record)` finds a JSON record's task. Importing this
package registers every task below.
"""

from latentsearch.tasks import (
    prontoqa,  # noqa: F401,E402
    prosqa,  # noqa: F401,E402  (registers itself)
)
from latentsearch.tasks.base import TASKS, Graph, Rendered, Task, detect, get, register

__all__ = ["TASKS", "Graph", "Rendered", "Task", "detect", "get", "register"]
