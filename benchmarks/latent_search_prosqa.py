"""Search in latent space on the real ProsQA validation split: does BFS or DP over continuous
thoughts beat one-path decoding?

Rows (forward passes are batched model calls per question, the prompt's included):
  coconut greedy       the Coconut model: N thoughts, <eot>, greedy answer (batched, as in eval)
  coconut + verifier   the same N thoughts, then the more likely of the two candidates named in
                       the question (the value every latent search below uses)
  latent beam W        beam search over thought sequences of length N: children = the continuous
                       thought, the top-2 token embeddings and their soft mixture
  latent DP            the same with width 4, merging children whose states have cosine >= 0.99
  soft thinking (CoT)  the CoT model thinking in soft mixtures of its top-5 step tokens until it
                       wants to write `###`, then `###` and a greedy answer
Run: python benchmarks/latent_search_prosqa.py [--limit 300] [--rows ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tqdm.auto import tqdm

from latentsearch.data.examples import encode_record
from latentsearch.data.schema import load_records
from latentsearch.data.tokenizer import ANSWER_MARK, render
from latentsearch.evaluate import candidate_answers, evaluate, extract_answer
from latentsearch.latent.soft import SoftConfig, soft_answer
from latentsearch.latent.space import LatentSearchConfig, LatentSpace
from latentsearch.methods import Recipe
from latentsearch.models.checkpoint import load_checkpoint
from latentsearch.search import HiddenBuckets, beam_search, recombine

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "src" / "latentsearch" / "assets"
DATA = ROOT.parent / "shared" / "data" / "prosqa_valid.json"
ROWS = ("coconut-greedy", "coconut-verifier", "beam2", "beam4", "beam8", "dp4", "soft-cot")


def coconut_greedy(model, codec, records, recipe, stage, thoughts):
    result = evaluate(model, codec, records, recipe, stage=stage, n_thoughts=thoughts)
    passes = 1 + thoughts + 1 + max(result.summary["tokens_per_answer"] - 1, 0)  # prefill, thoughts, <eot>, answer
    return result.summary["accuracy"], passes, thoughts


def latent_search(model, codec, records, recipe, thoughts, kind: str):
    correct, passes, states = 0, 0, 0
    for record in tqdm(records, desc=kind, leave=False):
        example = encode_record(record, codec)
        item = recipe.prompt_item(example, recipe.curriculum.final_stage, thoughts)
        candidates = candidate_answers(record, codec)  # target first
        top_k = 0 if kind == "coconut-verifier" else 2
        space = LatentSpace(model, item.prompt, item.after, candidates, LatentSearchConfig(thoughts, top_k))
        if kind == "dp4":
            out = recombine(space, HiddenBuckets(space, 0.99), width=4, length_penalty=0.0)
        else:
            width = 1 if kind == "coconut-verifier" else int(kind.removeprefix("beam"))
            out = beam_search(space, width=width, length_penalty=0.0)
        best = _final_node(space, out)
        correct += space.answer(best) == 0
        passes += space.forward_passes
        states += space.expansions * space.config.n_actions  # thought states computed and valued
    return correct / len(records), passes / len(records), states / len(records)


def _final_node(space, out):
    """Walk the best sequence down the tree to its node (the result holds action sequences)."""
    node = space.root()
    for action in out.sequences[0]:
        node = space.child(node, action, 0.0)
    return node


def soft_cot(records, thoughts):
    model, codec, _ = load_checkpoint(ASSETS / "prosqa-cot")
    mark = codec.token_id(ANSWER_MARK)
    correct, passes, states = 0, 0, 0
    for start in range(0, len(records), 64):
        chunk = records[start : start + 64]
        prompts = [list(encode_record(r, codec).question) for r in chunk]
        config = SoftConfig(max_steps=thoughts + 2, top_k=5)
        rows, steps, batch_passes = soft_answer(model, prompts, config, [mark], codec.eos_id, codec.pad_id, 4,
                                            stop_ids=(mark,))
        passes += batch_passes * len(chunk)
        for record, row in zip(chunk, rows):
            correct += extract_answer(ANSWER_MARK + " " + codec.decode(row)) == render(record, codec.rendering).answer
        states += sum(steps)
    return correct / len(records), passes / len(records), states / len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(ASSETS / "prosqa-coconut"))
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--thoughts", type=int, default=6)
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=ROWS)
    parser.add_argument("--json", default="", help="also write the table as JSON (for the report)")
    args = parser.parse_args()
    records = load_records(args.data)[: args.limit or None]
    model, codec, meta = load_checkpoint(args.checkpoint)
    recipe, stage = Recipe.from_meta(meta, codec)
    table = []
    print(f"{len(records)} questions, {args.thoughts} thoughts, {args.checkpoint}")
    print("| algorithm | accuracy | forward passes / question | thought states / question | seconds |")
    print("|---|---:|---:|---:|---:|")
    for row in args.rows:
        start = time.perf_counter()
        if row == "coconut-greedy":
            accuracy, passes, states = coconut_greedy(model, codec, records, recipe, stage, args.thoughts)
        elif row == "soft-cot":
            accuracy, passes, states = soft_cot(records, args.thoughts)
        else:
            accuracy, passes, states = latent_search(model, codec, records, recipe, args.thoughts, row)
        seconds = time.perf_counter() - start
        table.append({"algorithm": row, "accuracy": accuracy, "forward_passes": passes, "states": states,
                      "seconds": seconds})
        print(f"| {row} | {accuracy:.1%} | {passes:.1f} | {states:.1f} | {seconds:.0f} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
