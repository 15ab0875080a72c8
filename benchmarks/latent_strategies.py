"""Does search over continuous thoughts beat the single path? Every latent strategy on every split.

For each split and SPEC (latent/specs.py): accuracy, forward passes and thought states per question,
and how many of one path's errors the strategy fixes (+) and how many right answers it breaks (-).
Thoughts per question: the checkpoint's own count, or with --thoughts steps one per reasoning step
(the question's depth: "thoughts = depth"). Writes a Markdown table, a JSON file and a figure of
accuracy against forward passes (token-space search on the CoT model on the same axes with --tokens).

Run: python benchmarks/latent_strategies.py --splits real=../shared/data/prosqa_valid.json \
        d14=d14n30.jsonl --specs one-path vote:8 beam:4 --json out.json --figure out.png
     python benchmarks/latent_strategies.py --plot out.json more.json --tokens tokens.json --figure out.png
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections import defaultdict
from pathlib import Path

import torch

from latentsearch.data.schema import load_records
from latentsearch.latent.specs import LatentOptions
from latentsearch.latent.strategies import search_records
from latentsearch.latent.value import load_valuer
from latentsearch.methods import Recipe
from latentsearch.models.checkpoint import load_checkpoint

SPECS = ("one-path", "vote:8", "best-of-n:8", "weighted-vote:8", "beam:4", "anytime:12", "anytime-value:12",
         "adaptive:mass:0.5", "tokens-beam:4", "tokens-dp:4")


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def run_split(name, records, model, codec, recipe, specs, options, valuer, thoughts):
    rows, base = [], None
    for spec in specs:
        if valuer is None and spec.split(":")[0] in ("weighted-vote", "anytime-value"):
            continue
        start = time.perf_counter()
        out = search_records(model, codec, records, recipe, spec, options, valuer, thoughts, progress=True)
        right = [r["correct"] for r in out["rows"]]
        base = base or right  # the first spec is the baseline (one-path)
        row = {"split": name, **out["summary"], "seconds": round(time.perf_counter() - start, 1),
               "fixed": sum(r and not b for r, b in zip(right, base)),
               "broken": sum(b and not r for r, b in zip(right, base))}
        rows.append(row)
        print(f"| {name} | {spec} | {row['accuracy']:.1%} | +{row['fixed']} / -{row['broken']} | "
              f"{row['forward_passes']:.1f} | {row['thoughts_per_question']:.1f} | {row['thoughts_used']:.1f} | "
              f"{row['seconds']:.0f} |", flush=True)
    return rows


def token_rows(path: str) -> list[dict]:
    """The rows of benchmarks/search_prosqa.py --output (token-space search on the CoT model), if given."""
    return json.loads(Path(path).read_text())["results"] if path else []


def figure(rows: list[dict], tokens: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = sorted({r["split"] for r in rows}, key=[r["split"] for r in rows].index)
    fig, axes = plt.subplots(1, len(splits), figsize=(8 * len(splits), 6), squeeze=False)
    for ax, split in zip(axes[0], splits):
        stacked = defaultdict(int)  # labels of points close together go one under another
        for r in sorted((r for r in rows if r["split"] == split), key=lambda r: -r["accuracy"]):
            colour = "#999" if "tokens" in r["search"] else "#1f77b4"  # the ablations in grey
            ax.scatter(r["forward_passes"], 100 * r["accuracy"], color=colour)
            near = (round(r["forward_passes"]), round(50 * r["accuracy"]))  # within ~2 points of accuracy
            below = stacked[near]
            stacked[near] += 1
            ax.annotate(f"{r['search']} {100 * r['accuracy']:.1f}", (r["forward_passes"], 100 * r["accuracy"]),
                        fontsize=7, xytext=(5, 4 - 9 * below), textcoords="offset points")
        for t in (tokens if split == "real" else []):
            ax.scatter(t["forward_passes"], 100 * t["accuracy"], marker="s", color="#d62728")
            ax.annotate(f"CoT {t['label']}", (t["forward_passes"], 100 * t["accuracy"]), fontsize=7,
                        xytext=(3, -8), textcoords="offset points", color="#d62728")
        ax.set_title(split)
        ax.set_xscale("log")
        ax.set_xlabel("forward passes per question (log)")
        ax.set_ylabel("accuracy (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="prosqa-coconut")
    parser.add_argument("--splits", nargs="+", default=[], help="NAME=FILE pairs")
    parser.add_argument("--specs", nargs="+", default=list(SPECS))
    parser.add_argument("--value", default="",
                        help="value model for weighted-vote and anytime-value (default: the checkpoint's value/)")
    parser.add_argument("--thoughts", default="", help="'' (the checkpoint's), a number, or 'steps' (= depth)")
    parser.add_argument("--noise", default="gaussian")
    parser.add_argument("--sigma", type=float, default=0.1)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--tokens", default="", help="token-space search on the CoT model (JSON rows, for the figure)")
    parser.add_argument("--json", default="")
    parser.add_argument("--figure", default="")
    parser.add_argument("--plot", nargs="+", default=[],
                        help="draw --figure from the rows of earlier --json files instead of running")
    args = parser.parse_args()
    if args.plot:
        latest = {}  # a later file's row replaces an earlier one for the same split and search
        for path in args.plot:
            latest |= {(r["split"], r["search"]): r for r in json.loads(Path(path).read_text())["rows"]}
        return figure(list(latest.values()), token_rows(args.tokens), args.figure or "strategies.png")
    if not args.splits:
        parser.error("--splits NAME=FILE ... is required (or --plot JSON ...)")
    model, codec, meta = load_checkpoint(args.checkpoint)
    recipe, _ = Recipe.from_meta(meta, codec)
    valuer = load_valuer(args.checkpoint, args.value)
    options = LatentOptions(noise=args.noise, sigma=args.sigma)
    thoughts = int(args.thoughts) if args.thoughts.isdigit() else (args.thoughts or None)
    print(f"{args.checkpoint}; thoughts: {args.thoughts or 'the checkpoint'}; noise {args.noise} sigma {args.sigma}; "
          f"{machine()}")
    print("| split | search | accuracy | vs one path | forward passes / q | thought states / q | thoughts used | s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    rows = []
    for pair in args.splits:
        name, _, path = pair.partition("=")
        records = load_records(path)[: args.limit or None]
        rows += run_split(name, records, model, codec, recipe, args.specs, options, valuer, thoughts)
    if args.json:
        payload = {"machine": machine(), "checkpoint": args.checkpoint, "rows": rows}
        Path(args.json).write_text(json.dumps(payload, indent=1))
    if args.figure:
        figure(rows, token_rows(args.tokens), args.figure)


if __name__ == "__main__":
    main()
