"""The `latentsearch` command line: a thin argparse layer over the library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from latentsearch.data.schema import DatasetError
from latentsearch.data.tokenizer import RENDERINGS, TokenizerError
from latentsearch.limits import budget_override, parse_size
from latentsearch.models.checkpoint import CheckpointError
from latentsearch.models.factory import FAMILIES
from latentsearch.train.methods import METHODS

USER_ERRORS = (DatasetError, TokenizerError, CheckpointError, ValueError, FileNotFoundError)


class UsageError(Exception):
    """A command line argparse rejects; shown as one line, like every other user error."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not args.debug:
        quiet_transformers()
    try:
        with budget_override(args.memory_budget):
            return args.run(args) or 0
    except USER_ERRORS as err:
        if args.debug:
            raise
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def quiet_transformers() -> None:
    """transformers' advice (attention masks with right padding, shard-writing bars) is noise here."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def count(text: str) -> int:
    """An integer >= 0, for argparse."""
    return _bounded_int(text, 0)


def positive(text: str) -> int:
    """An integer >= 1, for argparse."""
    return _bounded_int(text, 1)


def _bounded_int(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    return value


def _size(text: str) -> str:
    if text:  # "" is the default: the system's available memory
        try:
            parse_size(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="latentsearch",
        description="Decoding as search, in token space and in a language model's continuous latent space.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    parser.add_argument("--memory-budget", metavar="SIZE", default="", type=_size,
                        help="refuse work estimated to need more memory, e.g. 4G (default: what the system has available)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    _add_data(sub)
    _add_train(sub)
    _add_eval(sub)
    _add_demo(sub)
    _add_search(sub)
    _add_hmm(sub)
    _add_probe(sub)
    _add_report(sub)
    return parser


def _add_data(sub):
    data = sub.add_parser("data", help="generate data and compare datasets")
    data_sub = data.add_subparsers(required=True, metavar="ACTION")
    gen = data_sub.add_parser("prosqa", help="generate ProsQA-style graph questions")
    gen.add_argument("--n", type=positive, default=1000, help="number of records")
    gen.add_argument("--seed", type=int, default=0, help="random seed (same seed, same file)")
    gen.add_argument("--nodes", type=count, default=0, help="nodes per graph (0 = the real distribution)")
    gen.add_argument("--depth", type=count, default=0, help="reasoning steps per question (0 = the real mix 3-6)")
    gen.add_argument("--more-words", action="store_true", help="name concepts from 80 made-up words beside the "
                     "38 real ones (graphs over 40 nodes need it)")
    gen.add_argument("--exclude", action="append", default=[], help="never emit a question of this data file")
    gen.add_argument("-o", "--output", required=True, help="output .json or .jsonl")
    gen.set_defaults(run=run_generate)
    stats = data_sub.add_parser("stats", help="graph statistics of data files, side by side")
    stats.add_argument("files", nargs="+", help="Coconut-format JSON/JSONL files with graph fields")
    stats.set_defaults(run=run_stats)


def _add_train(sub):
    methods = "; ".join(f"{m.name}: {m.description}" for m in METHODS.values())
    train = sub.add_parser("train", help="train a model", description=f"Methods -- {methods}")
    train.add_argument("--method", default="cot", choices=list(METHODS), help=methods)
    train.add_argument("--train", required=True, help="training data file")
    train.add_argument("--val", default="", help="validation data file, scored every epoch")
    train.add_argument("--out", required=True, help="run folder")
    train.add_argument("--rendering", default="symbolic", choices=RENDERINGS, help="how records become tokens")
    train.add_argument("--init", default="", help="start from a checkpoint folder, or fine-tune smollm2 / an HF model "
                       "with its own tokenizer (use --rendering text)")
    train.add_argument("--add-layers", type=int, default=0, help="append blocks to the --init model that start as "
                       "the identity (a copy of its last block with zeroed output projections)")
    train.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    train.add_argument("--family", default="gpt2", choices=FAMILIES, help="model family of a fresh model")
    train.add_argument("--layers", type=int, default=2, help="transformer blocks")
    train.add_argument("--d-model", type=int, default=128, help="hidden size")
    train.add_argument("--heads", type=int, default=4, help="attention heads")
    train.add_argument("--max-positions", type=int, default=512, help="context length of a fresh model")
    for flag, kind, default, text in (
        ("--epochs", int, 10, "passes over the training data"),
        ("--batch-size", int, 32, "sequences per optimizer step"),
        ("--lr", float, 1e-3, "peak learning rate"),
        ("--warmup-steps", int, 100, "linear warm-up steps"),
        ("--min-lr-ratio", float, 0.1, "cosine decay ends at this fraction of the peak (1 = constant)"),
        ("--weight-decay", float, 0.01, "AdamW weight decay"),
        ("--seed", int, 0, "seed for the model init and batch order"),
        ("--val-limit", int, 500, "validation records scored per epoch (0 = all)"),
        ("--save-every", int, 0, "optimizer steps between mid-epoch checkpoints"),
        ("--log-every", int, 20, "optimizer steps between metric lines"),
    ):
        train.add_argument(flag, type=kind, default=default, help=text)
    curriculum = train.add_argument_group("curriculum (the Coconut family and pause)")
    for flag, kind, default, text in (
        ("--thoughts-per-step", int, 1, "c: continuous thoughts that replace one reasoning step"),
        ("--epochs-per-stage", int, 5, "epochs at each curriculum stage"),
        ("--max-stage", int, 6, "last stage replacing steps one by one; after it every step is latent"),
        ("--mix-prob", float, 0.0, "chance an example trains at a uniformly random stage"),
        ("--pause-tokens", int, 6, "pause: pause tokens between question and answer"),
    ):
        curriculum.add_argument(flag, type=kind, default=default, help=text)
    curriculum.add_argument("--keep-optimizer", action="store_true", help="do not reset AdamW at stage changes")
    curriculum.add_argument("--no-pad-thoughts", action="store_true",
                            help="past the last stage use min(steps, max stage) thoughts instead of max stage")
    curriculum.add_argument("--cover-steps", action="store_true",
                            help="past the last stage give a question at least one thought per step (deep questions)")
    curriculum.add_argument("--extra-thoughts", type=int, default=0,
                            help="past the last stage, training adds 0..N more thoughts per example (robust to extra)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(run=run_train)


def _add_eval(sub):
    ev = sub.add_parser("eval", help="greedy-decode a data file with a checkpoint and score it")
    ev.add_argument("checkpoint", help="checkpoint folder")
    ev.add_argument("data", help="data file")
    ev.add_argument("--method", default="", choices=["", *METHODS], help="method (default: the checkpoint's)")
    ev.add_argument("--thoughts", type=count, default=None, help="continuous thoughts per question "
                    "(latent methods; default: what the checkpoint's stage uses)")
    ev.add_argument("--batch-size", type=positive, default=64, help="questions decoded together")
    ev.add_argument("--output", default="", help="per-example JSONL output")
    ev.set_defaults(run=run_eval)


def _add_demo(sub):
    demo = sub.add_parser("demo", help="answer a ProsQA question step by step with the shipped model")
    demo.add_argument("--seed", type=int, default=0, help="which generated question to ask")
    demo.add_argument("--question-file", default="", help="ask the first record of this file instead")
    demo.add_argument("--checkpoint", default="", help="use this checkpoint instead of the shipped one")
    demo.add_argument("--report-dir", default="latentsearch-demo", help="where the HTML report goes ('' = none)")
    demo.set_defaults(run=run_demo)


def _add_search(sub):
    from latentsearch.search.run import ALGORITHMS

    search = sub.add_parser("search", help="decode a prompt with a search algorithm and summarise the tree")
    search.add_argument("prompt", help="prompt text (SmolLM2 and HF chat models get their chat template)")
    search.add_argument("--model", default="smollm2", help="smollm2 (embedded), a checkpoint folder, or an HF path")
    search.add_argument("--algo", default="beam", choices=ALGORITHMS, help="search algorithm")
    search.add_argument("--width", type=int, default=4, help="beam width; samples for sample/self-consistency; "
                        "steps per expansion for mcts")
    search.add_argument("--max-new-tokens", type=int, default=64, help="longest continuation")
    search.add_argument("--length-penalty", type=float, default=1.0, help="beam score = logprob / length**this")
    search.add_argument("--early-stopping", default="false", choices=("true", "false", "never"),
                        help="beam stopping rule, as in transformers")
    search.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    search.add_argument("--top-k", type=int, default=0, help="sample among the k most probable tokens (0 = all)")
    search.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (1 = off)")
    search.add_argument("--min-p", type=float, default=0.0, help="min-p sampling threshold (0 = off)")
    search.add_argument("--seed", type=int, default=0, help="sampling seed (same seed, same output)")
    search.add_argument("--budget", type=int, default=0, help="best-first: most expansions (0 = unlimited)")
    search.add_argument("--branch", type=int, default=8, help="best-first: children kept per node (0 = all)")
    search.add_argument("--key", default="last:2", help='recombine state key: "last:N" or "hidden:COSINE"')
    search.add_argument("--merge", default="max", choices=("max", "logsumexp"), help="recombine: Viterbi or forward")
    search.add_argument("--iterations", type=int, default=8, help="mcts iterations")
    search.add_argument("--delimiter", default=".", help="mcts: the token that ends a reasoning step")
    search.add_argument("--hmm", default="", help="HMM folder (latentsearch hmm distill) to guide decoding")
    search.add_argument("--keywords", default="", help="with --hmm: comma-separated words the output must contain")
    search.add_argument("--raw", action="store_true", help="do not apply the chat template")
    search.add_argument("--json", action="store_true", help="print the whole result (tree included) as JSON")
    search.set_defaults(run=run_search)


def _add_hmm(sub):
    hmm = sub.add_parser("hmm", help="distil a hidden Markov model from a language model")
    hmm_sub = hmm.add_subparsers(required=True, metavar="ACTION")
    distill = hmm_sub.add_parser("distill", help="cluster hidden states, count, refine with Baum-Welch")
    distill.add_argument("--model", default="smollm2", help="smollm2, a checkpoint folder, or an HF path")
    distill.add_argument("--corpus", required=True, help="text file, one document per line (the model's own "
                         "rollouts are a good choice)")
    distill.add_argument("--states", type=int, default=64, help="K hidden states")
    distill.add_argument("--layer", type=int, default=-1, help="hidden_states index to cluster")
    distill.add_argument("--em-iters", type=count, default=5, help="Baum-Welch iterations")
    distill.add_argument("--seed", type=int, default=0, help="k-means seed")
    distill.add_argument("-o", "--output", required=True, help="output folder (hmm.safetensors + hmm.json)")
    distill.set_defaults(run=run_hmm_distill)


def _add_probe(sub):
    probe = sub.add_parser("probe", help="read a Coconut checkpoint's thoughts: logit lens, frontier mass, "
                           "path classes, figures")
    probe.add_argument("checkpoint", help="checkpoint folder of a method with continuous thoughts")
    probe.add_argument("data", help="graph questions (e.g. ../shared/data/prosqa_valid.json)")
    probe.add_argument("--thoughts", type=positive, default=6, help="continuous thoughts per question")
    probe.add_argument("--limit", type=count, default=0, help="probe the first N questions (0 = all)")
    probe.add_argument("--top", type=positive, default=5, help="top tokens kept per thought")
    probe.add_argument("--trees", type=count, default=10, help="latent beam trees kept (first N questions)")
    probe.add_argument("-o", "--output", required=True, help="output folder (probe.json and figures)")
    probe.add_argument("--no-plots", action="store_true", help="skip the figures (no matplotlib needed)")
    probe.set_defaults(run=run_probe)


def _add_report(sub):
    report = sub.add_parser("report", help="one self-contained HTML page from a probe folder")
    report.add_argument("run_dir", help="folder written by `latentsearch probe` (and search.json, if any)")
    report.add_argument("-o", "--output", default="report.html", help="output HTML file")
    report.add_argument("--question", type=count, default=0, help="which probed question to show in detail")
    report.set_defaults(run=run_report)


def run_report(args) -> int:
    from latentsearch.probe.report import write_report

    print(write_report(args.run_dir, args.output, args.question))


def run_probe(args) -> int:
    from latentsearch.data.schema import load_records
    from latentsearch.models.checkpoint import load_checkpoint
    from latentsearch.probe.run import probe, write_probe
    from latentsearch.train.methods import Recipe

    records = load_records(args.data)[: args.limit or None]
    model, codec, meta = load_checkpoint(args.checkpoint)
    recipe, _ = Recipe.from_meta(meta, codec)
    result = probe(model, codec, records, recipe, recipe.curriculum.final_stage, args.thoughts, args.top, args.trees,
                   source=Path(args.data).name)
    files = write_probe(result, args.output, plots=not args.no_plots)
    first = result["frontier"][0]["mass_per_node"]
    print(json.dumps({"output": args.output, "accuracy": result["accuracy"], "files": [str(f) for f in files],
                      "thought_1_mass_per_node": first}))


def run_hmm_distill(args) -> int:
    from latentsearch.hmm.distill import DistillConfig, distill
    from latentsearch.io import read_text
    from latentsearch.models.lm import load_lm

    config = DistillConfig(n_states=args.states, layer=args.layer, em_iters=args.em_iters, seed=args.seed)
    lines = [line.strip() for line in read_text(args.corpus).splitlines() if line.strip()]
    lm = load_lm(args.model, chat=False)
    sequences = [ids for ids in map(lm.encode_plain, lines) if len(ids) >= 2]
    if not sequences:
        raise ValueError(f"{Path(args.corpus).name}: no line of at least 2 tokens")
    hmm, report = distill(lm.model, sequences, config, progress=True)
    hmm.save(args.output, {"model": args.model, "corpus": args.corpus, **report})
    print(json.dumps({"output": args.output, "positions": report["positions"], "seconds": report["seconds"],
                      "em_log_likelihood": report["em_log_likelihood"]}))


def run_generate(args) -> int:
    from latentsearch.data.prosqa import ProsQAConfig, generate
    from latentsearch.data.schema import load_records, save_records

    config = ProsQAConfig.sized(nodes=args.nodes or None, depth=args.depth or None, more_words=args.more_words)
    exclude = {r.question for path in args.exclude for r in load_records(path)}
    records = generate(args.n, seed=args.seed, config=config, exclude_questions=exclude, progress=True)
    save_records(records, args.output)
    print(f"wrote {len(records)} records to {args.output}")


def run_stats(args) -> int:
    from latentsearch.data.schema import load_records
    from latentsearch.data.stats import format_stats_table, graph_stats

    print(format_stats_table({Path(f).name: graph_stats(load_records(f)) for f in args.files}))


def run_train(args) -> int:
    from latentsearch.models.factory import ModelConfig
    from latentsearch.train import distributed
    from latentsearch.train.config import TrainConfig
    from latentsearch.train.methods import Curriculum
    from latentsearch.train.trainer import Trainer

    model = ModelConfig(family=args.family, n_layer=args.layers, d_model=args.d_model, n_head=args.heads,
                        max_positions=args.max_positions)
    config = TrainConfig(
        train=args.train, val=args.val, out=args.out, method=args.method, rendering=args.rendering,
        model=model, init=args.init, add_layers=args.add_layers, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, warmup_steps=args.warmup_steps, min_lr_ratio=args.min_lr_ratio, weight_decay=args.weight_decay,
        seed=args.seed, val_limit=args.val_limit, save_every=args.save_every, log_every=args.log_every,
        curriculum=Curriculum(
            thoughts_per_step=args.thoughts_per_step, epochs_per_stage=args.epochs_per_stage,
            max_stage=args.max_stage, mix_prob=args.mix_prob, reset_optimizer=not args.keep_optimizer,
            pad_thoughts=not args.no_pad_thoughts, cover_steps=args.cover_steps,
            extra_thoughts=args.extra_thoughts, pause_tokens=args.pause_tokens),
    )
    trainer = Trainer(config, resume=args.resume, progress_bar=not args.no_progress)
    summary = trainer.run()
    if trainer.rank == 0:
        print(json.dumps({"out": args.out, **summary}))
    distributed.finish()


def run_eval(args) -> int:
    from latentsearch.data.schema import load_records
    from latentsearch.evaluate import evaluate
    from latentsearch.models.checkpoint import load_checkpoint
    from latentsearch.train.methods import Recipe

    records = load_records(args.data)
    model, codec, meta = load_checkpoint(args.checkpoint)
    recipe, stage = Recipe.from_meta(meta, codec, args.method)
    result = evaluate(model, codec, records, recipe, stage=stage, n_thoughts=args.thoughts,
                      batch_size=args.batch_size, progress=True, source=Path(args.data).name)
    if args.output:
        from latentsearch.io import atomic_write_text

        atomic_write_text(args.output, "".join(json.dumps(row) + "\n" for row in result.rows))
    print(json.dumps({"checkpoint": args.checkpoint, "data": args.data, "method": recipe.method.name, "stage": stage, **result.summary}))


def run_demo(args) -> int:
    from latentsearch.demo import demo

    demo(seed=args.seed, question_file=args.question_file, checkpoint=args.checkpoint, report_dir=args.report_dir)


def run_search(args) -> int:
    from latentsearch.models.lm import load_lm
    from latentsearch.search.base import Warp
    from latentsearch.search.engine import Engine
    from latentsearch.search.run import SearchConfig, run

    stopping = {"true": True, "false": False, "never": "never"}[args.early_stopping]
    warp = Warp(args.temperature, args.top_k, args.top_p, args.min_p)
    config = SearchConfig(
        algo=args.algo, width=args.width, max_new_tokens=args.max_new_tokens, length_penalty=args.length_penalty,
        early_stopping=stopping, warp=warp, seed=args.seed, budget=args.budget, branch=args.branch, key=args.key,
        merge=args.merge, iterations=args.iterations,
    )
    if args.keywords and not args.hmm:
        raise ValueError("--keywords needs --hmm (the HMM that guides decoding towards them)")
    from latentsearch import limits
    from latentsearch.hmm.hmm import HMM
    from latentsearch.models.factory import check_context

    hmm = HMM.load(args.hmm) if args.hmm else None
    lm = load_lm(args.model, chat=not args.raw)
    prompt = lm.encode(args.prompt)
    check_context(lm.model, len(prompt) + 1, "the prompt")
    limits.check(f"{args.algo} search with width {args.width}", limits.forward_bytes(
        lm.model, args.width, len(prompt) + config.max_new_tokens, training=False))
    processors = [_hmm_guide(args, hmm, lm, prompt, config.max_new_tokens)] if hmm else []
    engine = Engine(lm.model, prompt, lm.eos_id, config.max_new_tokens, processors=processors,
                    keep_hidden=config.needs_hidden)
    last_word = lambda ids: (lm.decode(ids).split() or [None])[-1]  # noqa: E731
    delimiter = lm.token_id(args.delimiter) if args.algo == "mcts" else None
    result = run(engine, config, answer=last_word, delimiter=delimiter)
    if args.json:
        print(json.dumps({"config": {"algo": args.algo, "model": args.model}, **vars(result)}))
        return 0
    for rank, (ids, score) in enumerate(zip(result.sequences[:3], result.scores)):
        print(f"[{rank + 1}] score {score:.3f}: {lm.decode(ids)}")
    print("tree: " + ", ".join(f"{k} {v}" for k, v in result.summary().items()))


def _hmm_guide(args, hmm, lm, prompt: list[int], max_new_tokens: int):
    from latentsearch.hmm.guide import HMMGuide

    words = [w.strip() for w in args.keywords.split(",") if w.strip()]
    if not words:
        raise ValueError("--hmm needs --keywords (comma-separated words the output must contain)")
    # A word inside running text starts with a space in byte-level BPE vocabularies.
    keywords = [lm.encode_plain(" " + w) for w in words]
    return HMMGuide(hmm, keywords, prompt, max_new_tokens, lm.eos_id)


if __name__ == "__main__":
    raise SystemExit(main())
