"""The errors a user sees: each is shown as one line naming the file, record, field or flag (exit 2)."""


class DatasetError(ValueError):
    """A data file or record that cannot be used, with a message saying where and why."""


class TokenizerError(ValueError):
    """Input that the tokenizer cannot represent."""


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be loaded."""


class MemoryBudgetError(ValueError):
    """The work would need more memory than the budget allows."""


def kind(value) -> str:
    """The JSON name of a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    names = {dict: "an object", list: "a list", str: "a string", int: "an integer",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# What the command line reports as one line: our errors (all ValueErrors), and a path that is
# missing, unreadable, on a full or read-only disk, a loop of links, too long (all OSErrors).
USER_ERRORS = (ValueError, OSError)
