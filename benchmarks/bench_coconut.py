"""Continuous thought: the cost of a Coconut training step and the speed of batched latent inference.

Training: one optimizer step on the same batch of ProsQA items with k thoughts, three ways --
  plain      the same tokens as one ordinary pass (thoughts shown as a <thought> token): the floor;
  cached     ours: the prompt pass, one single-position pass per thought but the last, which shares
             the pass over the rest; the KV cache preallocated and written in place (kv.growing_cache);
  cat-cache  the same before those two changes: every thought its own pass, the cache grown by torch.cat;
  recompute  each thought re-runs the whole prefix without a cache, then one full pass.
Inference: examples/s of our batched latent inference (batch 64, KV cache) vs a reference written
here (batch 1, the whole sequence -- thoughts included -- re-run for every thought and every answer
token, no cache). Answers must be identical.
Everything runs in this process on the same model, one after the other.
With --precision bf16 and/or --compile MODE, the training and inference parts run again so (accel.py).
Run: python benchmarks/bench_coconut.py [--checkpoint DIR] [--data FILE] [--thoughts 6] [--n 128] [--device cuda]
     [--threads 1] [--precision bf16] [--compile reduce-overhead]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from latentsearch import accel
from latentsearch.data.examples import IGNORE, encode_records
from latentsearch.data.schema import load_records
from latentsearch.decode import prefill_padded, step
from latentsearch.latent.thoughts import latent_generate, think
from latentsearch.methods import Item, Recipe
from latentsearch.models.checkpoint import load_checkpoint
from latentsearch.train.loss import ItemLoss, collate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHECKPOINT = ROOT / "src" / "latentsearch" / "assets" / "prosqa-coconut"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "prosqa_valid.json"


def recompute_loss(model, items: list[Item]) -> torch.Tensor:
    """Thoughts by re-running the prefix per thought (no cache), row by row, then one full pass."""
    embed, total, device = model.get_input_embeddings(), 0.0, model.device
    for item in items:
        embeds = embed(torch.tensor([item.prompt], device=device))
        for _ in range(item.n_thoughts):
            embeds = torch.cat([embeds, model.base_model(inputs_embeds=embeds).last_hidden_state[:, -1:]], 1)
        embeds = torch.cat([embeds, embed(torch.tensor([item.after + item.target], device=device))], 1)
        labels = torch.tensor([IGNORE] * (len(item) - len(item.target)) + list(item.target), device=device)
        total = total + F.cross_entropy(model(inputs_embeds=embeds).logits[0, :-1], labels[1:], reduction="sum")
    return total


def cat_cache_loss(model, batch) -> torch.Tensor:
    """ItemLoss as it was: the cache transformers makes (grown by torch.cat), one pass per thought, then the suffix."""
    state = think(model, prefill_padded(model, batch["prefix_ids"], batch["prefix_mask"]), batch["n_thoughts"])
    mask = torch.cat([state.mask, torch.ones_like(batch["suffix"])], dim=1)
    pos = state.next_pos + torch.arange(batch["suffix"].shape[1], device=mask.device)
    hidden, _ = step(model, mask, model.get_input_embeddings()(batch["suffix"]), pos, state.cache)
    logits = torch.cat([state.logits[:, None], model.get_output_embeddings()(hidden[:, :-1])], dim=1)
    return F.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE, reduction="sum")


def synchronize(model) -> None:
    if model.device.type == "cuda":  # GPU work is asynchronous: wait for it before reading the clock
        torch.cuda.synchronize(model.device)


def time_steps(loss_fns: dict, model, repeats: int, precision: str = "fp32") -> dict[str, tuple[float, float]]:
    """Median seconds per step of each variant, and its median ratio to the first one. The variants take
    turns step by step, so a slow spell of a shared machine hits them alike: on a 2-core VM, timing them
    one block after the other moved the ratio by 0.2."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)

    def one_step(loss_fn) -> float:
        synchronize(model)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with accel.autocast(model.device, precision):
            loss = loss_fn()
        loss.backward()
        optimizer.step()
        synchronize(model)
        return time.perf_counter() - start

    for loss_fn in loss_fns.values():  # warm-up: allocator, kernels, optimizer state, compilation
        for _ in range(3):
            one_step(loss_fn)
    times = {name: [] for name in loss_fns}
    for _ in range(repeats):
        for name, loss_fn in loss_fns.items():
            times[name].append(one_step(loss_fn))
    base = times[next(iter(loss_fns))]
    return {name: (statistics.median(ts), statistics.median(t / b for t, b in zip(ts, base)))
            for name, ts in times.items()}


def bench_training(model, recipe, examples, thoughts: int, batch: int, repeats: int, precision: str = "fp32",
                   label: str = ""):
    stage = recipe.curriculum.final_stage
    items = [recipe.item(e, stage) for e in examples[:batch]]
    items = [Item(i.prompt, thoughts, i.after, i.target) for i in items]
    flat = [Item(i.prompt + (recipe.special.thought,) * thoughts, 0, i.after, i.target) for i in items]
    loss = ItemLoss(model.train())
    latent_batch, flat_batch = (
        {k: v.to(model.device) for k, v in collate(batch, 0, thought).items()}
        for batch, thought in ((items, recipe.special.thought), (flat, 0)))
    variants = {"plain": lambda: loss(flat_batch), "cached (ours)": lambda: loss(latent_batch),
                "cat-cache": lambda: cat_cache_loss(model, latent_batch)}
    rows = time_steps(variants, model, repeats, precision)
    if not label:  # the slow reference a few times, in the plain setting
        recompute = {"plain": variants["plain"], "recompute": lambda: recompute_loss(model, items)}
        rows["recompute"] = time_steps(recompute, model, max(1, repeats // 4))["recompute"]
    print(f"\ntraining step, batch {batch}, {thoughts} thoughts{label} (median ms per step; median ratio to the "
          f"plain step next to it)")
    for name, (seconds, ratio) in rows.items():
        print(f"  {name:<14} {seconds * 1000:8.1f} ms  {ratio:5.2f}x")


@torch.no_grad()
def reference_answer(model, prompt, n_thoughts, after, eos, max_new_tokens) -> list[int]:
    """Batch 1, no cache: every thought and every answer token re-runs the whole sequence."""
    embed, device = model.get_input_embeddings(), model.device
    embeds = embed(torch.tensor([prompt], device=device))
    for _ in range(n_thoughts):
        embeds = torch.cat([embeds, model.base_model(inputs_embeds=embeds).last_hidden_state[:, -1:]], 1)
    embeds = torch.cat([embeds, embed(torch.tensor([after], device=device))], 1)
    out = []
    for _ in range(max_new_tokens):
        token = int(model(inputs_embeds=embeds).logits[0, -1].argmax())
        out.append(token)
        if token == eos:
            break
        embeds = torch.cat([embeds, embed(torch.tensor([[token]], device=device))], 1)
    return out


def bench_inference(model, recipe, codec, examples, thoughts: int, max_new_tokens: int = 8, precision: str = "fp32",
                    reference=None) -> tuple[list, float]:
    """Prints examples/s against the reference; returns the reference's answers and seconds (reused, eager,
    by the accelerated round: compiling the reference would time its recompilations)."""
    model.eval()
    items = [recipe.prompt_item(e, recipe.curriculum.final_stage, thoughts) for e in examples]
    prompts, counts, after = [list(i.prompt) for i in items], [i.n_thoughts for i in items], list(items[0].after)
    timed = {}
    for static in (False, True):  # the cache grown by torch.cat at every pass, or preallocated and written in place
        with accel.autocast(model.device, precision):
            latent_generate(model, prompts[:64], counts[:64], after, codec.eos_id, codec.pad_id, max_new_tokens, 64,
                            static=static)  # warm-up (and compilation)
            synchronize(model)
            start = time.perf_counter()
            ours, _ = latent_generate(model, prompts, counts, after, codec.eos_id, codec.pad_id, max_new_tokens, 64,
                                      static=static)
            synchronize(model)
        timed[static] = (ours, time.perf_counter() - start)
    ours, t_ours = timed[True]
    label = "reference, eager (above)" if reference else "reference (batch 1, no cache)"
    if reference is None:
        start = time.perf_counter()
        ref = [reference_answer(model, p, k, after, codec.eos_id, max_new_tokens) for p, k in zip(prompts, counts)]
        reference = ref, time.perf_counter() - start
    ref, t_ref = reference
    same = sum(a == b for a, b in zip(ours, ref))
    t_dynamic = timed[False][1]
    print(f"\ninference, {len(items)} questions, {thoughts} thoughts (examples/s)")
    print(f"  {label:<38} {len(items) / t_ref:8.1f}")
    print(f"  ours, batch 64, cache grown by cat     {len(items) / t_dynamic:8.1f}   {t_ref / t_dynamic:5.1f}x")
    print(f"  ours, batch 64, static cache           {len(items) / t_ours:8.1f}   {t_ref / t_ours:5.1f}x")
    print(f"  identical answers: {same}/{len(items)} (static vs grown: "
          f"{sum(a == b for a, b in zip(timed[True][0], timed[False][0]))}/{len(items)})")
    return reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--thoughts", type=int, default=6)
    parser.add_argument("--n", type=int, default=128, help="questions for the inference comparison")
    parser.add_argument("--batch", type=int, default=32, help="training batch size")
    parser.add_argument("--repeats", type=int, default=20, help="training steps timed per variant")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (default: torch's own)")
    parser.add_argument("--precision", default="fp32", choices=accel.PRECISIONS, help="then again in this precision")
    parser.add_argument("--compile", default="off", choices=accel.COMPILE_MODES, help="then again compiled so")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, codec, meta = load_checkpoint(args.checkpoint)
    model.to(args.device)
    recipe, _ = Recipe.from_meta(meta, codec, "coconut")
    examples = encode_records(load_records(args.data), codec)
    where = torch.cuda.get_device_name(model.device) if model.device.type == "cuda" else \
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
    print(f"{args.checkpoint}: {sum(p.numel() for p in model.parameters()):,} parameters, {where}")
    bench_training(model, recipe, examples, args.thoughts, args.batch, args.repeats)
    reference = bench_inference(model, recipe, codec, examples[: args.n], args.thoughts)
    if args.precision != "fp32" or args.compile != "off":
        accel.compile_passes(model, args.compile)
        label = f", {args.precision}, compile {args.compile}"
        bench_training(model, recipe, examples, args.thoughts, args.batch, args.repeats, args.precision, label)
        bench_inference(model, recipe, codec, examples[: args.n], args.thoughts, precision=args.precision,
                        reference=reference)


if __name__ == "__main__":
    main()
