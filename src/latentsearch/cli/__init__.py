"""The `latentsearch` command line: a thin argparse layer over the library.

Building the parser imports nothing heavy (torch and transformers load inside the commands), so
`latentsearch --help` is instant. Every user error ends as one line on stderr and exit code 2;
`--debug` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys

from latentsearch.cli import data, hmm, inference, inspect, train
from latentsearch.cli.args import HelpFormat, Parser, UsageError, cores, positive, size

COMMANDS = (data, train, inference, inspect, hmm)  # each adds its subcommands, in this order
MAX_ERROR = 400  # characters of an error line; a 5 MB word must not become a 5 MB line


def build_parser() -> Parser:
    parser = Parser(prog="latentsearch", formatter_class=HelpFormat,
                    description="Decoding as search, in token space and in a language model's continuous latent space.",
                    epilog="example:\n  latentsearch demo\n  latentsearch eval prosqa-coconut questions.json")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    parser.add_argument("--threads", type=positive, default=cores(), help="CPU threads for torch")
    parser.add_argument("--memory-budget", metavar="SIZE", default="", type=size,
                        help="refuse work estimated to need more memory, e.g. 4G ('' = what the system has available)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from latentsearch.errors import USER_ERRORS
    from latentsearch.limits import budget_override

    try:
        args = build_parser().parse_args(argv)
    except UsageError as err:
        return _fail(err, prefix="")
    _use_threads(args.threads)
    if not args.debug:
        _quiet()
    try:
        with budget_override(args.memory_budget):
            return args.run(args) or 0
    except USER_ERRORS as err:
        if args.debug:
            raise
        return _fail(err)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _fail(err: Exception, prefix: str | None = None) -> int:
    kind = f"{type(err).__name__}: " if prefix is None else prefix
    line = " ".join(f"{kind}{err}".split())
    if len(line) > MAX_ERROR:
        line = line[: MAX_ERROR - 20] + f" ... ({len(line):,} characters)"
    print(f"error: {line}", file=sys.stderr)
    return 2


def _use_threads(threads: int) -> None:
    """Before torch loads, the environment sets its thread pools; after, torch does."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    else:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)


def _quiet() -> None:
    """transformers' advice and loading bars (weights, GGUF conversion) are noise on this command line."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    if "transformers" in sys.modules:
        from transformers.utils import logging

        logging.set_verbosity_error()
        logging.disable_progress_bar()


if __name__ == "__main__":
    raise SystemExit(main())
