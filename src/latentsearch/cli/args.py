"""Shared pieces of the command line: argument types that check their values, the help format, outputs."""

from __future__ import annotations

import argparse
import math
import os


class UsageError(Exception):
    """A command line argparse rejects; shown as one line, like every other user error."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


class HelpFormat(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after every flag's help (but none, empty or off); the description and examples kept."""

    def _get_help_string(self, action):
        if action.default in (None, "", False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def command(sub, name: str, help: str, example: str, description: str = "") -> Parser:
    """A subcommand with its one-line help, a description and one example in its --help."""
    return sub.add_parser(name, help=help, description=description or help, formatter_class=HelpFormat,
                          epilog=f"example:\n  {example}")


def add_output(parser, help: str, required: bool = True, default=None, aliases: tuple[str, ...] = ()):
    """Every command names its output -o/--output."""
    parser.add_argument("-o", "--output", *aliases, dest="output", required=required, default=default, help=help)


def count(text: str) -> int:
    """An integer >= 0."""
    return _bounded_int(text, 0)


def positive(text: str) -> int:
    """An integer >= 1."""
    return _bounded_int(text, 1)


def _bounded_int(text: str, low: int, high: int = 10**9) -> int:
    if len(text) > 12:
        raise argparse.ArgumentTypeError(f"{text[:20]}... is not a sensible count")
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {value}")
    return value


def finite(text: str) -> float:
    """A finite real number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text[:40]!r}")
    return value


def share(text: str) -> float:
    """A probability: a number from 0 to 1."""
    value = finite(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text[:40]!r}")
    return value


def size(text: str) -> str:
    """A memory size such as 4G ("" = the system's available memory)."""
    from latentsearch.limits import parse_size

    if text:
        try:
            parse_size(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return text


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def thoughts(text: str):
    """A thought count, or a word: `steps` (one per reasoning step at least) or `auto` (think until sure)."""
    if text in ("steps", "auto"):
        return text
    return count(text)
