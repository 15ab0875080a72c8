"""Beam search on SmolLM2: our engine (prompt prefilled once, shared by the beams) vs transformers'
`generate(num_beams=k)` (which prefills the prompt once per beam), on a ~250-token ProsQA prompt.

Both run in this process, on the same model, one after the other; outputs must be identical. The
last column is the speed-up that sharing the prompt can give at most: generate's time over that time
less the prefill it repeats for each extra beam (its decode steps cost what ours do).
Width 1 is batch-1 greedy, also compared with the memory-bandwidth bound (weight bytes per token /
measured copy bandwidth), per decode step (prefill excluded; `generate`'s step from 1 vs N new
tokens), and with a ceiling: every linear layer's weight run through `F.linear` at batch 1 with no
model around it, i.e. what PyTorch's own matrix-vector kernels reach on this machine.
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


def linear_ceiling_s(model, repeats: int = 5) -> float:
    """Seconds for one batch-1 pass over every Linear weight (the lm head included), best of `repeats`."""
    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    inputs = {w.shape[1]: torch.randn(1, w.shape[1]) for w in weights}
    run = lambda: [torch.nn.functional.linear(inputs[w.shape[1]], w) for w in weights]  # noqa: E731
    return min(timed(run)[1] for _ in range(repeats))


def generate_step_s(model, prompt, eos, new_tokens: int) -> float:
    """Seconds per greedy decode step of `generate` (prefill excluded): from 1 vs N new tokens."""
    ids = torch.tensor([prompt])
    run = lambda n: timed(lambda: model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False,  # noqa: E731
                                                 pad_token_id=eos))[1]
    t_one, t_all = run(1), run(new_tokens)
    return (t_all - t_one) / (new_tokens - 1)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


@torch.no_grad()
def compare(model, prompt, eos, width: int, new_tokens: int) -> dict:
    ids = torch.tensor([prompt])
    engine, t_prefill = timed(lambda: Engine(model, prompt, eos, new_tokens))
    ours, t_search = timed(lambda: greedy(engine) if width == 1 else beam_search(engine, width))
    t_ours = t_prefill + t_search
    beams = {} if width == 1 else {"num_beams": width}
    theirs, t_hf = timed(lambda: model.generate(ids, max_new_tokens=new_tokens, do_sample=False,
                                                 pad_token_id=eos, **beams))
    best, hf = ours.sequences[0], theirs[0, len(prompt):].tolist()
    same = best == hf[: len(best)] and all(t == eos for t in hf[len(best):])
    # What sharing the prompt can win at most: generate's time less the prefill it repeats per beam.
    prefill = lambda rows: timed(lambda: model(ids.expand(rows, -1), logits_to_keep=1))[1]  # noqa: E731
    saved = prefill(width) - prefill(1)
    return {"width": width, "hf_s": t_hf, "ours_s": t_ours, "speedup": t_hf / t_ours, "identical": same,
            "tokens": len(best), "forward_passes": ours.forward_passes, "sharing_cap": t_hf / (t_hf - saved),
            "step_s": t_search / (ours.forward_passes - 1)}


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
    greedy_row = None
    print("| width | generate (s) | ours (s) | speedup | identical | tokens | our forward passes "
          "| speed-up from sharing the prompt alone |")
    print("|---|---|---|---|---|---|---|---|")
    for width in args.widths:
        r = compare(model, prompt, eos, width, args.new_tokens)
        print(f"| {r['width']} | {r['hf_s']:.2f} | {r['ours_s']:.2f} | {r['speedup']:.2f}x | {r['identical']} "
              f"| {r['tokens']} | {r['forward_passes']} | {r['sharing_cap']:.2f}x |")
        if width == 1:
            greedy_row = r
    if greedy_row:
        report_greedy(model, prompt, eos, greedy_row, args.new_tokens)


def report_greedy(model, prompt, eos, row: dict, new_tokens: int) -> None:
    weights = sum(p.numel() * p.element_size() for p in model.parameters())  # tied weights counted once
    bound = bandwidth_gbs() * 1e9 / weights
    ours, hf = row["tokens"] / row["ours_s"], row["tokens"] / row["hf_s"]
    step_ours, step_hf = row["step_s"], generate_step_s(model, prompt, eos, new_tokens)
    ceiling = 1 / linear_ceiling_s(model)
    print(f"bound: {bound:.1f} tok/s (copy bandwidth / {weights / 1e6:.0f} MB of weights)")
    for name, rate in [("ours, prefill included", ours), ("generate, prefill included", hf),
                       ("ours, per decode step", 1 / step_ours), ("generate, per decode step", 1 / step_hf),
                       ("ceiling: the linear layers alone", ceiling)]:
        print(f"greedy batch 1, {name}: {rate:.1f} tok/s = {rate / bound:.0%} of the bound")


if __name__ == "__main__":
    main()
