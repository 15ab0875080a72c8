"""`latentsearch demo | probe | report | models`: look inside a model's thoughts, and at the shipped models."""

from __future__ import annotations

import json
from pathlib import Path

from latentsearch.cli.args import add_output, command, count, positive

FIGURES = 3  # probe draws this many thought-on-graph figures by default


def add(sub) -> None:
    demo = command(sub, "demo", "answer a ProsQA question step by step with the shipped model, and write a report",
                   "latentsearch demo --seed 3")
    demo.add_argument("--seed", type=int, default=0, help="which generated question to ask")
    demo.add_argument("--question-file", default="", help="ask the first record of this file instead")
    demo.add_argument("--checkpoint", default="", help="use this checkpoint (a shipped name or a folder) instead")
    demo.add_argument("--report-dir", default="latentsearch-demo", help="where the HTML report goes ('' = none)")
    demo.set_defaults(run=run_demo)
    _add_probe(sub)
    report = command(sub, "report", "one self-contained HTML page from a probe folder",
                     "latentsearch report probe/ -o report.html")
    report.add_argument("run_dir", help="folder written by `latentsearch probe` (and search.json, if any)")
    add_output(report, "output HTML file", required=False, default="report.html")
    report.add_argument("--question", type=count, default=0, help="which probed question to show in detail")
    report.set_defaults(run=run_report)
    models = command(sub, "models", "list the models that ship with the package", "latentsearch models")
    models.set_defaults(run=run_models)


def _add_probe(sub) -> None:
    probe = command(sub, "probe", "read a Coconut model's thoughts: logit lens, frontier mass, path classes, figures",
                    "latentsearch probe prosqa-coconut ../shared/data/prosqa_valid.json --limit 100 -o probe/")
    probe.add_argument("checkpoint", help="a model with continuous thoughts: a shipped name or a checkpoint folder")
    probe.add_argument("data", help="graph questions (e.g. ../shared/data/prosqa_valid.json)")
    probe.add_argument("--thoughts", type=positive, default=None,
                       help="continuous thoughts per question (default: the checkpoint's count, as eval uses)")
    probe.add_argument("--limit", type=count, default=0, help="probe the first N questions (0 = all)")
    probe.add_argument("--top", type=positive, default=5, help="top tokens kept per thought (at most the vocabulary)")
    probe.add_argument("--trees", type=count, default=10, help="latent beam trees kept (first N questions)")
    probe.add_argument("--figures", type=count, default=FIGURES,
                       help="thought-on-graph figures drawn (first N questions)")
    add_output(probe, "output folder (probe.json and figures)")
    probe.add_argument("--no-plots", action="store_true", help="skip the figures (no matplotlib needed)")
    probe.set_defaults(run=run_probe)


def run_demo(args) -> None:
    from latentsearch.demo import demo
    from latentsearch.io import check_output

    if args.report_dir:
        check_output(args.report_dir, folder=True)
    demo(seed=args.seed, question_file=args.question_file, checkpoint=args.checkpoint, report_dir=args.report_dir)


def run_probe(args) -> None:
    from latentsearch.data.schema import load_records
    from latentsearch.io import check_output, strict_json
    from latentsearch.latent.value import load_valuer
    from latentsearch.methods import Recipe
    from latentsearch.models.checkpoint import load_checkpoint
    from latentsearch.probe.run import probe, write_probe

    if args.no_plots and args.figures != FIGURES:
        raise ValueError("--figures draws figures, and --no-plots skips them: give one of the two")
    check_output(args.output, inputs=[args.data], folder=True)
    records = load_records(args.data)[: args.limit or None]
    model, codec, meta = load_checkpoint(args.checkpoint)
    recipe, _ = Recipe.from_meta(meta, codec)
    result = probe(model, codec, records, recipe, recipe.curriculum.final_stage, args.thoughts,
                   min(args.top, len(codec)), args.trees, source=Path(args.data).name, progress=True,
                   valuer=load_valuer(args.checkpoint))
    files = write_probe(result, args.output, plots=not args.no_plots, figures=args.figures)
    first = result["frontier"][0]["mass_per_node"]
    print(json.dumps({"output": args.output, "accuracy": result["accuracy"], "files": [str(f) for f in files],
                      "thought_1_mass_per_node": strict_json(first)}))


def run_report(args) -> None:
    from latentsearch.io import check_output
    from latentsearch.probe.report import write_report

    check_output(args.output, inputs=[Path(args.run_dir) / "probe.json"])
    print(write_report(args.run_dir, args.output, args.question))


def run_models(args) -> None:
    from latentsearch.models import shipped

    names = shipped.names()
    width = max(map(len, names), default=0)
    for name in names:
        print(f"{name:<{width}}  {shipped.card(name).get('summary', '')}")
