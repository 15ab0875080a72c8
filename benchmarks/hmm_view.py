"""The HMM view, measured: how well a distilled HMM imitates a model as K grows, and whether HMM
guidance meets keyword constraints that plain decoding misses.

Part 1 (`--part imitate`): for each K, distil an HMM from the model's hidden states (k-means on the
last layer, counts, Baum-Welch) and compare with the model on held-out text: perplexity of each on
the same next tokens, top-1 next-token agreement, distillation time.
  - `--model smollm2`: the corpus is the model's own sampled answers to short chat prompts.
  - `--model prosqa`: the shipped CoT model; the corpus is generated ProsQA questions with their steps.
Part 2 (`--part guide`, SmolLM2): 50 prompts, each asking for one sentence on a topic with 1-3
required keywords. Plain sampling (T = 1) vs beam 4 vs HMM-guided beam 4, `--new-tokens` tokens, and
an ablation guided by a flat HMM (every token equally likely: it knows nothing of the model, so it
pushes each keyword in as soon as it can instead of where it fits):
constraint success (every keyword appears as a word) and fluency (the model's own mean log-prob
per generated token, guidance not included).
Run: python benchmarks/hmm_view.py --part imitate --model smollm2 --states 16 64 256 1024
     python benchmarks/hmm_view.py --part guide --states 256
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import time
from pathlib import Path

import torch

from latentsearch.hmm.distill import DistillConfig, compare, distill
from latentsearch.hmm.guide import HMMGuide
from latentsearch.hmm.hmm import HMM
from latentsearch.search import beam_search, sample
from latentsearch.search.engine import Engine

TOPICS = ["the sea", "a library", "autumn", "a train journey", "a cat", "the moon", "a bakery", "rain",
          "a mountain", "a garden", "a city at night", "a river", "a school", "snow", "a market", "music",
          "a forest", "the desert", "a birthday", "a bridge", "coffee", "a storm", "an old house", "the sky",
          "a football match"]
KEYWORDS = ["water", "light", "child", "old", "red", "friend", "morning", "road", "quiet", "window", "green",
            "small", "cold", "music", "home"]


def chat_ids(tokenizer, text: str) -> list[int]:
    return list(tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                              tokenize=True, return_dict=False))


@torch.no_grad()
def rollouts(model, tokenizer, prompts: list[str], new_tokens: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """(prompt, sampled answer) token pairs (T = 1), batched through `generate` with left padding."""
    tokenizer.padding_side = "left"
    out = []
    torch.manual_seed(seed)
    for start in range(0, len(prompts), 16):
        batch = [chat_ids(tokenizer, p) for p in prompts[start : start + 16]]
        enc = tokenizer.pad({"input_ids": batch}, return_tensors="pt")
        gen = model.generate(**enc, do_sample=True, top_k=0, max_new_tokens=new_tokens,
                             pad_token_id=tokenizer.eos_token_id)
        for row, prompt in enumerate(batch):
            ids = gen[row, enc["input_ids"].shape[1] :].tolist()
            ids = ids[: ids.index(tokenizer.eos_token_id)] if tokenizer.eos_token_id in ids else ids
            out.append((prompt, ids))
    return out


def smollm2_corpus(args):
    from latentsearch.models.smollm2 import load_smollm2

    model, tokenizer = load_smollm2()
    if args.cache and Path(args.cache).is_file():
        cached = json.loads(Path(args.cache).read_text())
        return model, tokenizer, cached["train"], cached["held"]
    asks = [f"{verb} {topic}." for topic in TOPICS
            for verb in ("Write two sentences about", "Describe", "Tell me a fact about", "Write a short poem about")]
    random.Random(0).shuffle(asks)
    fit, test = asks[:80], asks[80:]  # held-out prompts are never seen in training
    seeds = range(-(-args.train // len(fit)))
    train = [r for seed in seeds for r in rollouts(model, tokenizer, fit, args.new_tokens, seed)]
    held = [r for seed in range(100, 100 + -(-args.held_out // len(test)))
            for r in rollouts(model, tokenizer, test, args.new_tokens, seed)]
    train, held = train[: args.train], held[: args.held_out]
    if args.cache:
        Path(args.cache).write_text(json.dumps({"train": train, "held": held}))
    return model, tokenizer, train, held  # scored on the sampled answers only


def prosqa_corpus(args):
    from latentsearch.data.examples import encode_records
    from latentsearch.demo import shipped_checkpoint
    from latentsearch.models.checkpoint import load_checkpoint
    from latentsearch.tasks.prosqa_gen import generate

    model, codec, _ = load_checkpoint(shipped_checkpoint().with_name("prosqa-cot"))
    examples = encode_records(generate(args.train + args.held_out, seed=7), codec)
    pairs = [(list(e.question), [t for s in e.steps for t in s] + list(e.answer)) for e in examples]
    return model, codec, pairs[: args.train], pairs[args.train :]  # scored on steps + answer only


def imitate(args) -> None:
    model, _, train, held = (smollm2_corpus if args.model == "smollm2" else prosqa_corpus)(args)
    train, scored = [p + a for p, a in train], [p + a for p, a in held]
    starts = [len(p) for p, _ in held]
    print(f"{args.model}: {sum(map(len, train))} training positions, "
          f"{sum(len(a) for _, a in held)} held-out positions scored")
    print("| K | model perplexity | HMM perplexity | top-1 agreement | distillation |")
    print("|---:|---:|---:|---:|---:|")
    for k in args.states:
        hmm, report = distill(model, train, DistillConfig(n_states=k, em_iters=args.em_iters, smoothing=args.smoothing))
        scores = compare(model, hmm, scored, starts)
        print(f"| {k} | {scores['model_perplexity']:.2f} | {scores['hmm_perplexity']:.2f} | "
              f"{scores['top1_agreement']:.1%} | {report['seconds']:.0f} s |", flush=True)


def constraint_tasks(n: int) -> list[tuple[str, list[str]]]:
    rng = random.Random(0)
    tasks = []
    for i in range(n):
        words = rng.sample(KEYWORDS, 1 + i % 3)
        tasks.append((f"Write one sentence about {TOPICS[i % len(TOPICS)]}.", words))
    return tasks


@torch.no_grad()
def fluency(model, prompt: list[int], generated: list[int]) -> float:
    """The model's mean log-prob per generated token (no guidance)."""
    if not generated:
        return float("nan")
    ids = torch.tensor([prompt + generated])
    logprobs = model(input_ids=ids).logits[0, len(prompt) - 1 : -1].log_softmax(-1)
    return logprobs.gather(1, torch.tensor(generated)[:, None]).mean().item()


def has_words(text: str, words: list[str]) -> bool:
    found = set(re.findall(r"[a-z]+", text.lower()))
    return all(w in found for w in words)


def guide(args) -> None:
    model, tokenizer, train, _ = smollm2_corpus(args)
    clock = time.perf_counter()
    config = DistillConfig(n_states=args.states[0], em_iters=args.em_iters, smoothing=args.smoothing)
    hmm, _ = distill(model, [p + a for p, a in train], config)
    print(f"HMM with {args.states[0]} states distilled in {time.perf_counter() - clock:.0f} s")
    flat = uniform_hmm(hmm.n_states, hmm.vocab_size)
    eos = tokenizer.eos_token_id
    results = {"sample": [], "beam 4": [], "HMM-guided beam 4": [], "flat-HMM-guided beam 4 (ablation)": []}
    for prompt_text, words in constraint_tasks(args.prompts):
        text = f"{prompt_text} Use the words: {', '.join(words)}."
        prompt = chat_ids(tokenizer, text)
        keywords = [tokenizer.encode(" " + w, add_special_tokens=False) for w in words]
        runs = {
            "sample": lambda: sample(Engine(model, prompt, eos, args.new_tokens), 1, seed=0),
            "beam 4": lambda: beam_search(Engine(model, prompt, eos, args.new_tokens), 4),
            "HMM-guided beam 4": lambda: beam_search(Engine(model, prompt, eos, args.new_tokens, processors=[
                HMMGuide(hmm, keywords, prompt, args.new_tokens, eos)]), 4),
            "flat-HMM-guided beam 4 (ablation)": lambda: beam_search(Engine(model, prompt, eos, args.new_tokens,
                processors=[HMMGuide(flat, keywords, prompt, args.new_tokens, eos)]), 4),
        }
        for name, run in runs.items():
            start = time.perf_counter()
            out = run().sequences[0]
            gen = out[:-1] if out and out[-1] == eos else out
            results[name].append((has_words(tokenizer.decode(gen), words), fluency(model, prompt, gen),
                                  time.perf_counter() - start))
    print(f"\n{args.prompts} prompts, 1-3 keywords each, at most {args.new_tokens} new tokens")
    print("| decoding | constraint success | fluency (mean log-prob / token) | seconds / prompt |")
    print("|---|---:|---:|---:|")
    for name, rows in results.items():
        ok, flu, sec = zip(*rows)
        print(f"| {name} | {sum(ok) / len(ok):.0%} | {sum(flu) / len(flu):.2f} | {sum(sec) / len(sec):.1f} |")


def uniform_hmm(n_states: int, vocab: int) -> HMM:
    """Every transition and emission equally likely: guidance without any knowledge of the model."""
    return HMM(torch.full((n_states,), -math.log(n_states)), torch.full((n_states, n_states), -math.log(n_states)),
               torch.full((n_states, vocab), -math.log(vocab)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("imitate", "guide"), default="imitate")
    parser.add_argument("--model", choices=("smollm2", "prosqa"), default="smollm2")
    parser.add_argument("--states", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--em-iters", type=int, default=3)
    parser.add_argument("--smoothing", type=float, default=1e-2, help="pseudocount per (state, token) count")
    parser.add_argument("--train", type=int, default=200, help="training rollouts / questions")
    parser.add_argument("--held-out", type=int, default=40)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--prompts", type=int, default=50)
    parser.add_argument("--cache", default="", help="JSON file keeping the SmolLM2 rollouts between runs")
    args = parser.parse_args()
    torch.manual_seed(0)
    imitate(args) if args.part == "imitate" else guide(args)


if __name__ == "__main__":
    main()
