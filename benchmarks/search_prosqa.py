"""Search algorithms on the real ProsQA validation split with the trained CoT model (issue 4, "Results").

For each algorithm, one `Engine` per question continues the CoT prompt; the best sequence is decoded
and scored exactly as `latentsearch eval` scores greedy outputs (`evaluate.score_output`: the answer is the
text after the last `#`, only when `###` was generated; exact match with the symbolic answer), and
its reasoning steps are checked for a valid path through the question's graph.

In the `symbolic` rendering a reasoning step is one token, the graph node it reaches, so the
recombination key "last generated token" (`last:1`) IS the current graph node. `node+answer` is the
same key except that after `###` the state stays (last node, tokens after `###`) instead of merging
every hypothesis that has just written `###`. MCTS treats every token (= every node) as a step.

`--checkpoint` and `--data` also take another task's CoT model and data (greedy and beam
ran on ProntoQA's; docs/results.md); the graph-node keys assume ProsQA's symbolic rendering.

Run: python benchmarks/search_prosqa.py [--limit N] [--algos greedy beam4 mcts:100] [--output out.json]
(an `:N` suffix limits one algorithm to the first N questions).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from latentsearch.data.examples import encode_record
from latentsearch.data.schema import Record, load_records
from latentsearch.data.tokenizer import ANSWER_MARK, Codec
from latentsearch.evaluate import extract_answer, score_output
from latentsearch.methods import Recipe
from latentsearch.models.checkpoint import load_checkpoint
from latentsearch.search import Context
from latentsearch.search.engine import Engine
from latentsearch.search.recombine import STOPPING, by_tokens, recombine
from latentsearch.search.registry import get

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "src" / "latentsearch" / "assets" / "prosqa-cot"  # the shipped CoT model
DATA = ROOT.parent / "shared" / "data" / "prosqa_valid.json"
@dataclass(frozen=True)
class Algo:
    label: str  # the table's row name
    name: str  # the registered algorithm
    options: dict  # its options (the fields of its config)
    node_answer_key: bool = False  # recombine with the graph-node key that keeps the node after `###`

    @property
    def config(self):
        return get(self.name).make_config(**self.options)


def algorithms(budget: int, cosine: float, samples: int, seed: int) -> dict[str, Algo]:
    return {
        "greedy": Algo("greedy (DFS)", "greedy", {}),
        "beam4": Algo("beam 4 (BFS)", "beam", {"width": 4}),
        "beam8": Algo("beam 8 (BFS)", "beam", {"width": 8}),
        "beam4-raw": Algo("beam 4, length_penalty 0 (sum of log-probs)", "beam", {"width": 4, "length_penalty": 0.0}),
        "best-first": Algo(f"best-first, budget {budget}", "best-first", {"budget": budget}),
        "recombine-node": Algo("recombine 4, graph-node key (last token)", "recombine", {"key": "last:1"}),
        "recombine-node-answer": Algo("recombine 4, graph-node key (node kept after ###)", "recombine",
                                      {"key": "last:1"}, node_answer_key=True),
        "recombine-hidden": Algo(f"recombine 4, hidden-state key (cos >= {cosine})", "recombine",
                                 {"key": f"hidden:{cosine}"}),
        "self-consistency": Algo(f"self-consistency N={samples} (T=1)", "self-consistency",
                                 {"samples": samples, "seed": seed}),
        "mcts": Algo("MCTS (8 iterations, branch 4, T=1)", "mcts", {"branch": 4, "iterations": 8, "seed": seed}),
    }


class EveryToken:
    """An MCTS step delimiter equal to every token: a step is one token (one graph node here)."""

    def __eq__(self, other) -> bool:
        return True

    __hash__ = object.__hash__


def answer_of(codec: Codec):
    """Self-consistency's vote: the extracted answer of a final node (None without `###`)."""
    def extract(node):
        text = codec.decode(list(node.tokens))
        return extract_answer(text) if ANSWER_MARK in text else None
    return extract


def node_answer_key(mark: int):
    """The current graph node; after `###`, (that node, the tokens written since `###`)."""
    def key(tokens: tuple[int, ...]):
        if mark not in tokens:
            return tokens[-1]
        at = tokens.index(mark)
        return (tokens[at - 1] if at else None, tokens[at:])
    return key


def search_one(model, codec: Codec, record: Record, algo: Algo, max_new_tokens: int) -> tuple[list[int], object]:
    """The best sequence of one algorithm on one question, and its SearchResult."""
    prompt = list(Recipe.of("cot", codec).prompt_item(encode_record(record, codec), 0).prompt)
    config = algo.config
    engine = Engine(model, prompt, codec.eos_id, max_new_tokens, keep_hidden=getattr(config, "needs_hidden", False))
    if algo.node_answer_key:
        out = recombine(engine, by_tokens(node_answer_key(codec.token_id(ANSWER_MARK))), config.width, config.merge,
                        config.length_penalty, STOPPING[config.early_stopping])
    else:
        out = get(algo.name).run(engine, config, Context(answer=answer_of(codec), delimiter=EveryToken()))
    return (out.sequences[0] if out.sequences else []), out


def evaluate_algo(model, codec: Codec, records: list[Record], name: str, algo: Algo, max_new_tokens: int) -> dict:
    """One table row: accuracy, valid-path rate and cost per question of `algo` on `records`."""
    rows, passes, expansions, extra = [], 0, 0, {}
    start = time.perf_counter()
    for index, record in enumerate(tqdm(records, desc=name, leave=False)):
        best, out = search_one(model, codec, record, algo, max_new_tokens)
        rows.append(score_output(index, record, codec, best))
        passes, expansions = passes + out.forward_passes, expansions + out.expansions
        for key, value in out.extra.items():  # e.g. merged (recombine), optimal (best-first)
            if isinstance(value, (int, float)):
                extra[key] = extra.get(key, 0) + value
    seconds = time.perf_counter() - start
    n = len(records)
    return {"algo": name, "label": algo.label, "n": n,
            "accuracy": sum(r["exact"] for r in rows) / n,
            "valid_path_rate": sum(bool(r.get("valid_path")) for r in rows) / n,
            "forward_passes": passes / n, "expansions": expansions / n, "seconds": round(seconds, 2),
            "extra_per_question": {k: v / n for k, v in extra.items()},
            "exact": [r["exact"] for r in rows], "outputs": [r["output"] for r in rows]}


def versus(result: dict, baseline: dict) -> str:
    """Questions this algorithm gets right and the baseline wrong, and the reverse (same questions)."""
    pairs = list(zip(result["exact"], baseline["exact"]))
    won = sum(a and not b for a, b in pairs)
    lost = sum(b and not a for a, b in pairs)
    return f"+{won} / -{lost}"


def markdown(results: list[dict]) -> str:
    """The table; `vs greedy` counts questions won / lost against greedy on the same questions."""
    greedy = next((r for r in results if r["algo"] == "greedy"), None)
    lines = ["| algorithm | n | accuracy | valid-path rate | forward passes / q | expansions / q | seconds "
             "| vs greedy |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        vs = versus(r, greedy) if greedy and r is not greedy and greedy["n"] >= r["n"] else ""
        lines.append(f"| {r['label']} | {r['n']} | {r['accuracy']:.3f} | {r['valid_path_rate']:.3f} | "
                     f"{r['forward_passes']:.1f} | {r['expansions']:.1f} | {r['seconds']:.1f} | {vs} |")
    return "\n".join(lines)


def parse_algos(names: list[str], table: dict[str, Algo], limit: int | None) -> list[tuple[str, int | None]]:
    """`NAME` or `NAME:LIMIT` to (name, question limit)."""
    chosen = []
    for item in names:
        name, _, own = item.partition(":")
        if name not in table:
            raise SystemExit(f"unknown algorithm {name!r}; choose from {', '.join(table)}")
        chosen.append((name, int(own) if own else limit))
    return chosen


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", default=str(CHECKPOINT))
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--limit", type=int, default=None, help="first N questions (default: all)")
    p.add_argument("--algos", nargs="+", default=["greedy", "beam4", "beam8", "best-first", "recombine-node",
                                                  "recombine-node-answer", "recombine-hidden", "self-consistency"],
                   help="NAME or NAME:LIMIT; names: greedy beam4 beam8 beam4-raw best-first recombine-node "
                        "recombine-node-answer recombine-hidden self-consistency mcts")
    p.add_argument("--max-new-tokens", type=int, default=24)
    p.add_argument("--budget", type=int, default=64, help="best-first expansion budget")
    p.add_argument("--cosine", type=float, default=0.95, help="hidden-state key threshold")
    p.add_argument("--samples", type=int, default=8, help="self-consistency N")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, help="write the results as JSON here")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    model, codec, meta = load_checkpoint(args.checkpoint)
    model.eval()
    records = load_records(args.data)
    table = algorithms(args.budget, args.cosine, args.samples, args.seed)
    results = []
    for name, limit in parse_algos(args.algos, table, args.limit):
        results.append(evaluate_algo(model, codec, records[:limit], name, table[name], args.max_new_tokens))
        print(f"{name}: accuracy {results[-1]['accuracy']:.3f} ({results[-1]['seconds']:.1f} s)", flush=True)
    print(markdown(results))
    if args.output:
        payload = {"checkpoint": args.checkpoint, "data": args.data, "meta": meta, "args": vars(args),
                   "results": results}
        Path(args.output).write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
