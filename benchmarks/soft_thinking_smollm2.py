"""Soft thinking vs greedy on SmolLM2-135M-Instruct: short arithmetic questions, exact numeric answers.

  greedy          the chat prompt, then greedy decoding for 64 tokens (the integer after "=", "is",
                  "equals" or "gives you" counts, else the last integer)
  forced answer   the chat prompt + "The answer is", then greedy (the same answer format as below)
  soft thinking   the chat prompt, up to `--steps` soft thoughts (mixtures of the top-k token
                  embeddings, cold stop when the entropy stays low), then "The answer is" and greedy
Published reports find soft thinking helps little below ~14B parameters; this measures it here.
Run: python benchmarks/soft_thinking_smollm2.py [--n 40] [--steps 8] [--top-k 5]
"""

from __future__ import annotations

import argparse
import random
import re

import torch

from latentsearch.decode import greedy_batch
from latentsearch.latent.soft import SoftConfig, soft_answer
from latentsearch.models.smollm2 import load_smollm2


def questions(n: int, seed: int = 0) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.randint(2, 40), rng.randint(2, 40)
        out.append((f"What is {a} + {b}?", a + b) if i % 2 == 0 else (f"What is {a} - {b}?", a - b))
    return out


def first_int(text: str) -> int | None:
    """The answer after "The answer is" (forced formats): the first integer."""
    match = re.search(r"-?\d+", text)
    return int(match.group()) if match else None


def stated_result(text: str) -> int | None:
    """A free reply usually restates the operands first: take the integer after '=', 'is', 'equals'
    or 'gives you', else the last integer."""
    match = re.search(r"(?:=|\bis\b|\bequals\b|gives you)\s*(-?\d+)", text)
    if match:
        return int(match.group(1))
    numbers = re.findall(r"-?\d+", text)
    return int(numbers[-1]) if numbers else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--cold-entropy", type=float, default=0.5)
    args = parser.parse_args()
    model, tokenizer = load_smollm2()
    eos, pad = tokenizer.eos_token_id, tokenizer.eos_token_id
    qs = questions(args.n)
    prompts = [list(tokenizer.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True,
                                                  tokenize=True, return_dict=False)) for q, _ in qs]
    forced = tokenizer.encode("The answer is", add_special_tokens=False)
    config = SoftConfig(max_steps=args.steps, top_k=args.top_k, cold_entropy=args.cold_entropy)
    results = {"greedy": [], "forced answer": [], "soft thinking": []}
    steps_taken = []
    with torch.no_grad():
        for start in range(0, len(prompts), 8):
            batch, gold = prompts[start : start + 8], [a for _, a in qs[start : start + 8]]
            plain = greedy_batch(model, batch, eos, pad, 64)
            direct = greedy_batch(model, [p + forced for p in batch], eos, pad, 8)
            soft, steps, _ = soft_answer(model, batch, config, forced, eos, pad, 8)
            steps_taken += steps
            for name, rows in (("greedy", plain), ("forced answer", direct), ("soft thinking", soft)):
                read = stated_result if name == "greedy" else first_int
                results[name] += [read(tokenizer.decode(r, skip_special_tokens=True)) == g for r, g in zip(rows, gold)]
    print(f"{args.n} arithmetic questions (two-digit + and -), SmolLM2-135M-Instruct, "
          f"soft thinking: up to {args.steps} steps, top-{args.top_k}, cold stop below {args.cold_entropy} nats "
          f"(mean {sum(steps_taken) / len(steps_taken):.1f} steps)")
    print("| decoding | accuracy |")
    print("|---|---:|")
    for name, ok in results.items():
        print(f"| {name} | {sum(ok)}/{len(ok)} ({sum(ok) / len(ok):.0%}) |")


if __name__ == "__main__":
    main()
