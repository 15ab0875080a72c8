"""Put token-space and latent-space search results side by side for `latentsearch report`.

Reads the JSON of benchmarks/search_prosqa.py (--output) and of benchmarks/latent_strategies.py
(--json; its real-split rows), writes RUN_DIR/search.json (one row per algorithm) and
RUN_DIR/accuracy_vs_passes.png.
Run: python benchmarks/collect_search.py --tokens runs/search_tokens.json --latent runs/latent.json RUN_DIR
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from latentsearch.probe.plots import plot_accuracy_vs_passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--tokens", required=True, help="search_prosqa.py --output JSON (CoT model)")
    parser.add_argument("--latent", required=True, help="latent_strategies.py --json JSON (Coconut model)")
    args = parser.parse_args()
    rows = [{"algorithm": f"token {r['algo']} (CoT)", "accuracy": r["accuracy"],
             "forward_passes": r["forward_passes"]} for r in json.loads(Path(args.tokens).read_text())["results"]]
    rows += [{"algorithm": f"latent {r['search']}", "accuracy": r["accuracy"], "forward_passes": r["forward_passes"]}
             for r in json.loads(Path(args.latent).read_text())["rows"] if r["split"] == "real"]
    out = Path(args.run_dir)
    (out / "search.json").write_text(json.dumps(rows, indent=1))
    print(plot_accuracy_vs_passes(rows, out / "accuracy_vs_passes.png"))


if __name__ == "__main__":
    main()
