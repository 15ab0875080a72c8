"""`latentsearch data`: generate questions of any task that has a generator, and compare data files."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from latentsearch.cli.args import add_output, command, count, positive, share
from latentsearch.options import flag

RECORD_BYTES = 16 << 10  # a generous bound on a generated record in memory (about 6 KiB measured)
EXAMPLES = {"prosqa": "latentsearch data prosqa --n 1000 --seed 0 -o train.jsonl",
            "prontoqa": "latentsearch data prontoqa --n 1000 --seed 0 --hops 5 -o train.jsonl"}


def add(sub) -> None:
    from latentsearch.tasks import TASKS

    data = sub.add_parser("data", help="generate questions and compare data files")
    actions = data.add_subparsers(required=True, metavar="ACTION")
    for task in TASKS.values():
        if getattr(task, "generate_options", None):
            _add_generator(actions, task)
    stats = command(actions, "stats", "statistics of data files, side by side (answers, steps, length, words, graph)",
                    "latentsearch data stats ../shared/data/prosqa_valid.json train.jsonl")
    stats.add_argument("files", nargs="+", help="Coconut-format JSON/JSONL files")
    stats.set_defaults(run=run_stats)


def _add_generator(actions, task) -> None:
    example = EXAMPLES.get(task.name, f"latentsearch data {task.name} --n 100 -o {task.name}.jsonl")
    gen = command(actions, task.name, f"generate {task.description} (Coconut's JSON format)", example)
    gen.add_argument("--n", type=positive, default=1000, help="number of records")
    gen.add_argument("--seed", type=int, default=0, help="random seed (same seed, same file)")
    for f in dataclasses.fields(task.generate_options):
        help = f.metadata.get("help", "")
        if f.type in ("bool", bool):
            gen.add_argument(flag(f.name), action="store_true", help=help)
        else:
            kind = share if f.type in ("float", float) else count
            gen.add_argument(flag(f.name), type=kind, default=f.default, help=help.replace("%", "%%"))
    gen.add_argument("--exclude", action="append", default=[], help="never emit a question of this data file")
    add_output(gen, "output .json or .jsonl")
    gen.set_defaults(run=run_generate, task=task.name)


def run_generate(args) -> None:
    from latentsearch import limits
    from latentsearch.data.schema import data_suffix, load_records, save_records
    from latentsearch.io import check_output
    from latentsearch.tasks import get

    task = get(args.task)
    check_output(args.output, inputs=args.exclude)
    data_suffix(Path(args.output))  # a name that cannot be saved fails now, not after generating
    limits.check(f"generating {args.n:,} records", args.n * RECORD_BYTES)
    fields = dataclasses.fields(task.generate_options)
    options = task.generate_options(**{f.name: getattr(args, f.name) for f in fields})
    try:
        options.config()  # knobs that cannot make a graph fail now, named by their flags
    except ValueError as err:
        given = [f"{flag(f.name)} {getattr(args, f.name)}" for f in fields if getattr(args, f.name) != f.default]
        raise ValueError(f"{', '.join(given) or 'the default options'}: {err}") from None
    exclude = {r.question for path in args.exclude for r in load_records(path)}
    records = task.generate(args.n, args.seed, options, exclude_questions=exclude, progress=True)
    save_records(records, args.output)
    print(f"wrote {len(records)} records to {args.output}")


def run_stats(args) -> None:
    from latentsearch.data.schema import load_records
    from latentsearch.data.stats import format_stats_table, stats

    names = [Path(f).name for f in args.files]  # the full path where two files share a name (a column each)
    labels = [name if names.count(name) == 1 else f for name, f in zip(names, args.files)]
    real = [os.path.realpath(f) for f in args.files]  # the same file, also by another path or a link
    for i, path in enumerate(real):
        if (first := real.index(path)) < i:
            again, given = args.files[i], args.files[first]
            raise ValueError(f"data stats: {again} is given twice" if again == given
                             else f"data stats: {given} and {again} are the same file")
    print(format_stats_table({label: stats(load_records(f)) for label, f in zip(labels, args.files)}))
