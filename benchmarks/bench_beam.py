"""Beam search on SmolLM2: our engine (prompt prefilled once, shared by the beams) vs transformers'
`generate(num_beams=k)` (which prefills the prompt once per beam), on a ~250-token ProsQA prompt.

Both run in this process, on the same model, one after the other; outputs must be identical.
Width 1 is batch-1 greedy, also compared with the memory-bandwidth bound (weight bytes per token /
measured copy bandwidth).
Run: python benchmarks/bench_beam.py [--widths 1 4 8] [--new-tokens 24]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from latentsearch.models.smollm2 import load_smollm2
from latentsearch.search import beam_search, greedy
from latentsearch.search.engine import Engine

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "prosqa_valid.json"


def prosqa_prompt(tokenizer, target: int) -> list[int]:
    """The validation question whose chat-formatted prompt is closest to `target` tokens."""
    records = json.loads(DATA.read_text())
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": r["question"]}],
                                             add_generation_prompt=True, tokenize=True, return_dict=False)
               for r in records[:40]]
    return list(min(prompts, key=lambda p: abs(len(p) - target)))


def bandwidth_gbs(megabytes: int = 512) -> float:
    """Memory bandwidth from copying a large buffer (read + write bytes per second), best of 5."""
    src = torch.ones(megabytes * 2**18)  # float32: megabytes MiB
    dst = torch.empty_like(src)
    best = min(timed(lambda: dst.copy_(src))[1] for _ in range(5))
    return 2 * src.numel() * 4 / best / 1e9


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


@torch.no_grad()
def compare(model, prompt, eos, width: int, new_tokens: int) -> dict:
    ids = torch.tensor([prompt])
    if width == 1:
        ours, t_ours = timed(lambda: greedy(Engine(model, prompt, eos, new_tokens)))
        theirs, t_hf = timed(lambda: model.generate(ids, max_new_tokens=new_tokens, do_sample=False,
                                                     pad_token_id=eos))
    else:
        ours, t_ours = timed(lambda: beam_search(Engine(model, prompt, eos, new_tokens), width))
        theirs, t_hf = timed(lambda: model.generate(ids, max_new_tokens=new_tokens, num_beams=width,
                                                     do_sample=False, pad_token_id=eos))
    best, hf = ours.sequences[0], theirs[0, len(prompt):].tolist()
    same = best == hf[: len(best)] and all(t == eos for t in hf[len(best):])
    return {"width": width, "hf_s": t_hf, "ours_s": t_ours, "speedup": t_hf / t_ours, "identical": same,
            "tokens": len(best), "forward_passes": ours.forward_passes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[4, 8], help="beam widths (1 = greedy)")
    parser.add_argument("--new-tokens", type=int, default=24, help="tokens generated per run")
    parser.add_argument("--prompt-tokens", type=int, default=250, help="target prompt length")
    args = parser.parse_args()
    model, tokenizer = load_smollm2()
    prompt = prosqa_prompt(tokenizer, args.prompt_tokens)
    eos = tokenizer.eos_token_id
    compare(model, prompt[:16], eos, 2, 2)  # warm-up
    print(f"SmolLM2-135M fp32, {torch.get_num_threads()} threads, prompt {len(prompt)} tokens, "
          f"{args.new_tokens} new tokens")
    greedy_rows = []
    print("| width | generate (s) | ours (s) | speedup | identical | tokens | our forward passes |")
    print("|---|---|---|---|---|---|---|")
    for width in args.widths:
        r = compare(model, prompt, eos, width, args.new_tokens)
        print(f"| {r['width']} | {r['hf_s']:.2f} | {r['ours_s']:.2f} | {r['speedup']:.2f}x | {r['identical']} "
              f"| {r['tokens']} | {r['forward_passes']} |")
        if width == 1:
            greedy_rows.append(r)
    if greedy_rows:
        weights = sum(p.numel() * p.element_size() for p in model.parameters())  # tied weights counted once
        bound = bandwidth_gbs() * 1e9 / weights
        r = greedy_rows[0]
        ours, hf = r["tokens"] / r["ours_s"], r["tokens"] / r["hf_s"]
        print(f"greedy batch 1 (prefill included): ours {ours:.1f} tok/s ({ours / bound:.0%} of the bound), "
              f"generate {hf:.1f} tok/s ({hf / bound:.0%}); bound {bound:.1f} tok/s "
              f"(bandwidth / {weights / 1e6:.0f} MB of weights)")


if __name__ == "__main__":
    main()
