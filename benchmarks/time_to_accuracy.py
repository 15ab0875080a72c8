"""Time to accuracy of a `latentsearch reproduce` run: the wall time at which generated validation first
reached 90 / 95 / 97%, counted from the start of the run (data generation included), phase by phase.

Reads RUN_DIR/*/metrics.jsonl (one line per epoch with `val_accuracy` and the time) and
RUN_DIR/summary.json. Run: python benchmarks/time_to_accuracy.py RUN_DIR [--thresholds 0.9 0.95 0.97]
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path


def epochs(run: Path) -> list[dict]:
    """Every validated epoch of every phase, in time order: {time, phase, epoch, stage, val_accuracy}."""
    rows = []
    for metrics in run.glob("*/metrics.jsonl"):
        for line in metrics.read_text().splitlines():
            record = json.loads(line) if line.strip().endswith("}") else {}
            if "val_accuracy" in record:
                rows.append({"phase": metrics.parent.name, **record})
    return sorted(rows, key=lambda r: r["time"])


def run_start(run: Path, rows: list[dict]) -> float:
    """When the run began: a finished run's summary gives its minutes; a running one is counted from
    the end of data generation (its minutes are then a few short)."""
    summary, done = run / "summary.json", run / "data" / "done.json"
    if summary.exists():
        return summary.stat().st_mtime - 60 * json.loads(summary.read_text())["minutes"]
    return done.stat().st_mtime if done.exists() else rows[0]["time"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.9, 0.95, 0.97])
    args = parser.parse_args()
    rows = epochs(args.run)
    if not rows:
        raise SystemExit(f"{args.run}: no validated epoch yet")
    start = run_start(args.run, rows)
    print(f"{args.run} on {platform.processor() or platform.machine()} ({platform.node()})")
    print("| phase | epoch | stage | generated val | minutes since the start |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        minutes = (r["time"] - start) / 60
        print(f"| {r['phase']} | {r['epoch']} | {r['stage']} | {r['val_accuracy']:.1%} | {minutes:.1f} |")
    for t in args.thresholds:
        first = next((r for r in rows if r["val_accuracy"] >= t), None)
        when = first and f"after {(first['time'] - start) / 60:.1f} min ({first['phase']}, epoch {first['epoch']})"
        print(f"reached {t:.0%}: {when or 'not reached'}")
    summary = args.run / "summary.json"
    if summary.exists():
        print("summary:", summary.read_text().strip())


if __name__ == "__main__":
    main()
