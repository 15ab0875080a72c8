"""Figures for probes and search results (matplotlib, imported only when a figure is drawn)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

from latentsearch.io import atomic_write_bytes
from latentsearch.probe.frontier import CANDIDATES, CLASSES

COLOURS = {"frontier": "#d62728", "reached": "#1f77b4", "later": "#ff7f0e", "unreachable": "#7f7f7f",
           "target": "#2ca02c", "distractor": "#9467bd"}


PLOT_EXTRA = ("matplotlib", "networkx")  # the `plot` extra: every figure of the package needs one or both


def plot_libraries_missing() -> list[str]:
    """The `plot` extra's libraries that are not installed: a figure is then skipped or refused, checked
    before the work it would end, not left to fail after it."""
    return [name for name in PLOT_EXTRA if importlib.util.find_spec(name) is None]


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_frontier(result: dict, path: Path) -> Path:
    """Per-node and total LM-head mass on each BFS class, by thought index."""
    plt = pyplot()
    ks = list(range(1, len(result["frontier"]) + 1))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, key, title in ((axes[0], "mass_per_node", "mass per node"), (axes[1], "mass", "total mass")):
        for c in CLASSES + CANDIDATES:
            style = "o-" if c in CLASSES else "s--"
            ax.plot(ks, [entry[key][c] for entry in result["frontier"]], style, color=COLOURS[c], label=c)
        ax.set_xlabel("thought k")
        ax.set_title(title)
        ax.set_xticks(ks)
    axes[0].set_yscale("log")
    axes[1].legend(frameon=False)
    fig.suptitle(f"Where thought k puts its probability ({result['n']} questions)")
    fig.tight_layout()
    save_figure(fig, path)
    return path


def plot_path_classes(result: dict, path: Path) -> Path:
    """Stacked shares of Coconut's path classes when language is forced after k thoughts."""
    plt = pyplot()
    ks = sorted(result["path_classes"], key=int)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    bottom = [0.0] * len(ks)
    for name in result["path_classes"][ks[0]]:
        shares = [result["path_classes"][k][name] for k in ks]
        ax.bar([str(k) for k in ks], shares, bottom=bottom, label=name)
        bottom = [b + s for b, s in zip(bottom, shares)]
    ax.set_xlabel("continuous thoughts before language (k)")
    ax.set_ylabel("share of questions")
    ax.legend(frameon=False, fontsize=8, bbox_to_anchor=(1, 1))
    fig.tight_layout()
    save_figure(fig, path)
    return path


def plot_accuracy_vs_passes(rows: list[dict], path: Path) -> Path:
    """One point per algorithm: accuracy against forward passes per question."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for row in rows:
        ax.scatter(row["forward_passes"], row["accuracy"] * 100)
        ax.annotate(row["algorithm"], (row["forward_passes"], row["accuracy"] * 100), fontsize=8,
                    xytext=(4, 2), textcoords="offset points")
    ax.set_xlabel("forward passes per question")
    ax.set_ylabel("accuracy (%)")
    fig.tight_layout()
    save_figure(fig, path)
    return path


def save_figure(fig, path: Path) -> None:
    """PNG bytes in memory, then an atomic write: a crash never leaves half an image."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    pyplot().close(fig)
    atomic_write_bytes(path, buffer.getvalue())
