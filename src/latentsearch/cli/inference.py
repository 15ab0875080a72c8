"""`latentsearch eval` and `latentsearch search`: answer questions, decode a prompt with a search algorithm."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from latentsearch.cli.args import add_output, command, count, finite, positive, thoughts

# Defaults against which a flag counts as given (BATCH_SIZE is evaluate.BATCH_SIZE; the CLI imports no torch).
AUTO_MASS, BATCH_SIZE, DELIMITER = 0.5, 64, "."


def add(sub) -> None:
    _add_eval(sub)
    _add_search(sub)


def _add_eval(sub) -> None:
    from latentsearch.accel import COMPILE_MODES
    from latentsearch.latent.specs import SPECS, LatentOptions
    from latentsearch.methods import METHODS

    ev = command(sub, "eval", "answer every question of a data file and score the answers",
                 "latentsearch eval prosqa-coconut ../shared/data/prosqa_valid.json --thoughts 6")
    ev.add_argument("checkpoint", help="a shipped model (latentsearch models) or a checkpoint folder")
    ev.add_argument("data", help="data file (.json or .jsonl)")
    ev.add_argument("--method", default=None, choices=list(METHODS), help="method (default: the checkpoint's)")
    ev.add_argument("--thoughts", type=thoughts, default=None, help="continuous thoughts per question: a number, "
                    "'steps' (at least one per reasoning step: thoughts = depth), or 'auto' (think until the lens "
                    "puts --auto-mass on an answer, at most --max-thoughts); default: the checkpoint's count")
    ev.add_argument("--stage", type=count, default=None, help="decode at this curriculum stage: its first N steps "
                    "as thoughts, the rest written in language (default: the checkpoint's stage)")
    ev.add_argument("--auto-mass", type=finite, default=AUTO_MASS,
                    help="--thoughts auto: the lens mass that stops thinking")
    ev.add_argument("--batch-size", type=positive, default=BATCH_SIZE, help="questions decoded together")
    ev.add_argument("--compile", default="off", choices=COMPILE_MODES, help="torch.compile "
                    "the model's passes, for long runs or a GPU: on a 2-core CPU compiling takes about a minute, "
                    "then decoding runs about 1.5x faster (docs/benchmarks.md)")
    specs = ", ".join(f"{s.name}:{s.argument}" if s.argument else s.name for s in SPECS.values())
    ev.add_argument("--search", default="", metavar="SPEC", help=f"answer through a latent search strategy: {specs} "
                    "(see latent/strategies.py; default: plain batched decoding)")
    ev.add_argument("--value", default="", help="value model folder (latentsearch value) for strategies that use one "
                    "(default: the checkpoint's value/ folder, when it has one)")
    group = ev.add_argument_group("latent search options (with --search)")
    for f in dataclasses.fields(LatentOptions):
        kind = {"int": int, "float": finite, "str": str}[str(f.type)]
        group.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default,
                           choices=f.metadata.get("choices"), help=f.metadata["help"])
    add_output(ev, "per-question JSONL output (optional)", required=False, default="")
    ev.set_defaults(run=run_eval)


def run_eval(args) -> None:
    from latentsearch import accel
    from latentsearch.data.schema import load_records
    from latentsearch.evaluate import evaluate
    from latentsearch.io import atomic_write_text, check_output
    from latentsearch.methods import Recipe
    from latentsearch.models.checkpoint import load_checkpoint

    if args.output:
        check_output(args.output, inputs=[args.data])
    if args.thoughts == "auto" and not 0 < args.auto_mass <= 1:
        raise ValueError(f"--auto-mass must be a probability in (0, 1], got {args.auto_mass}")
    options = _latent_options(args)
    records = load_records(args.data)
    model, codec, meta = load_checkpoint(args.checkpoint)
    accel.compile_passes(model, args.compile)
    recipe, stage = Recipe.from_meta(meta, codec, args.method or "")
    if args.thoughts is not None and not recipe.method.uses_thoughts():
        raise ValueError(f"--thoughts: a {recipe.method.name} model has no continuous thoughts")
    if args.stage is not None and "max_stage" not in recipe.method.reads():
        raise ValueError(f"--stage: a {recipe.method.name} model has no curriculum stages")
    if args.stage is not None:
        if args.stage > recipe.curriculum.final_stage or args.search:
            raise ValueError(f"--stage must be at most {recipe.curriculum.final_stage} (this checkpoint's last "
                             f"stage) and cannot go with --search, got {args.stage}")
        stage = args.stage
    if args.thoughts == "auto" and not args.search:
        args.search, args.thoughts = f"adaptive:mass:{args.auto_mass}", None
    if args.search:
        summary, rows = _eval_search(args, model, codec, records, recipe, options)
    else:
        result = evaluate(model, codec, records, recipe, stage=stage, n_thoughts=args.thoughts,
                          batch_size=args.batch_size, progress=True, source=Path(args.data).name)
        summary, rows = result.summary, result.rows
    if args.output:
        atomic_write_text(args.output, "".join(json.dumps(row) + "\n" for row in rows))
    print(json.dumps({"checkpoint": args.checkpoint, "data": args.data, "method": recipe.method.name,
                      "stage": stage, **summary}))


def _latent_options(args):
    """The latent search options, checked before any model is loaded (a bad SPEC is one line at once)."""
    from latentsearch.latent.specs import LatentOptions, parse_spec
    from latentsearch.latent.value import value_folder

    _refuse_unused(args)
    if args.search:
        spec, _ = parse_spec(args.search)
        args.value = value_folder(args.checkpoint, args.value)
        if spec.needs_value and not args.value:
            raise ValueError(f"{spec.name} weighs by a value model: {args.checkpoint} has none beside it; "
                             "pass --value DIR (latentsearch value ...)")
    elif args.value:
        raise ValueError("--value scores trajectories of a latent search: give --search SPEC too")
    return LatentOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(LatentOptions)})


def _refuse_unused(args) -> None:
    """A flag that this eval would ignore is an error, naming the flag: it was given to change something."""
    from latentsearch.latent.specs import LatentOptions, check_options
    from latentsearch.options import flag

    auto = args.thoughts == "auto"
    if args.auto_mass != AUTO_MASS and not auto:
        raise ValueError("--auto-mass sets when --thoughts auto stops thinking: give --thoughts auto too")
    if auto and args.search:
        raise ValueError("--thoughts auto is the adaptive search; with --search give a count or 'steps'")
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(LatentOptions)
             if getattr(args, f.name) != f.default}
    check_options(args.search or (f"adaptive:mass:{args.auto_mass}" if auto else ""), given,
                  None if auto else args.thoughts, name=flag)
    if args.search and args.batch_size != BATCH_SIZE:
        raise ValueError("--batch-size batches plain decoding; --search answers one question at a time")


def _eval_search(args, model, codec, records, recipe, options):
    from latentsearch.latent.strategies import search_records
    from latentsearch.latent.value import load_valuer

    valuer = load_valuer(args.checkpoint, args.value)
    out = search_records(model, codec, records, recipe, args.search, options, valuer, args.thoughts, progress=True,
                         source=Path(args.data).name)
    return out["summary"], out["rows"]


def _add_search(sub) -> None:
    from latentsearch.search import ALGORITHMS
    from latentsearch.search.registry import get

    algorithms = "; ".join(f"{a.name}: {a.description}" for a in ALGORITHMS.values())
    search = command(sub, "search", "decode one prompt with a search algorithm and summarise its tree",
                     'latentsearch search --model smollm2 --algo beam --width 4 "The capital of France is"',
                     description=f"Decode one prompt with a search algorithm. Algorithms -- {algorithms}.")
    search.add_argument("prompt", help="prompt text (SmolLM2 and HF chat models get their chat template)")
    search.add_argument("--model", default="smollm2", help="smollm2 (embedded), a shipped model, a checkpoint "
                        "folder, or an HF path")
    search.add_argument("--algo", default="beam", choices=list(ALGORITHMS), help="search algorithm")
    search.add_argument("--max-new-tokens", type=positive, default=64, help="longest continuation")
    options = search.add_argument_group("algorithm options (each applies to the algorithms named after it)")
    for name, (kind, helps) in _options(get).items():
        options.add_argument("--" + name.replace("_", "-"), type=kind, default=None, help="; ".join(helps))
    search.add_argument("--delimiter", default=DELIMITER, help="mcts: the token that ends a reasoning step")
    search.add_argument("--hmm", default="", help="HMM folder (latentsearch hmm distill) to guide decoding")
    search.add_argument("--keywords", default="", help="with --hmm: comma-separated words the output must contain")
    search.add_argument("--raw", action="store_true", help="do not apply the chat template")
    search.add_argument("--json", action="store_true", help="print the whole result (tree included) as JSON")
    search.add_argument("--tree", default="", help="also draw the explored tree to this .svg or .png file")
    search.set_defaults(run=run_search)


def _options(get) -> dict[str, tuple[type, list[str]]]:
    """Every option of every algorithm: its type and its help, naming the algorithms that take it."""
    from latentsearch.search import ALGORITHMS

    kinds = {"int": int, "float": finite, "str": str}
    options: dict[str, tuple[type, dict[str, list[str]]]] = {}
    for algo in ALGORITHMS.values():
        for f in dataclasses.fields(algo.config):
            kind, helps = options.setdefault(f.name, (kinds[str(f.type)], {}))
            choices = f.metadata.get("choices")
            allowed = f" (one of {', '.join(choices)})" if choices else ""
            helps.setdefault(f"{f.metadata.get('help', '')}{allowed} [{f.default}]", []).append(algo.name)
    return {name: (kind, [f"{', '.join(algos)}: {text}" for text, algos in helps.items()])
            for name, (kind, helps) in options.items()}


def search_options(args, algo) -> dict:
    """The options given on the command line; one the algorithm does not take is an error."""
    from latentsearch.search import ALGORITHMS

    names = {f.name for a in ALGORITHMS.values() for f in dataclasses.fields(a.config)}
    given = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    own = {f.name for f in dataclasses.fields(algo.config)}
    stray = sorted(set(given) - own)
    if stray:
        flag = "--" + stray[0].replace("_", "-")
        raise ValueError(f"{flag} is not an option of {algo.name} (its options: "
                         f"{', '.join('--' + o.replace('_', '-') for o in sorted(own)) or 'none'})")
    return given


def run_search(args) -> int:
    from latentsearch import limits
    from latentsearch.io import check_output
    from latentsearch.models.factory import check_context
    from latentsearch.models.lm import load_lm
    from latentsearch.probe.plots import plot_libraries_missing
    from latentsearch.search import Context
    from latentsearch.search.engine import Engine
    from latentsearch.search.registry import get

    if args.tree:
        if Path(args.tree).suffix.lower() not in (".svg", ".png"):
            raise ValueError(f"--tree {args.tree}: give a .svg or .png file name")
        check_output(args.tree)
        if missing := plot_libraries_missing():
            raise ValueError(f"--tree needs {' and '.join(missing)}: pip install 'latentsearch[plot]'")
    algo = get(args.algo)
    config = algo.make_config(**search_options(args, algo))
    if args.delimiter != DELIMITER and args.algo != "mcts":
        raise ValueError(f"--delimiter ends mcts's reasoning steps; --algo {args.algo} does not read it")
    if args.keywords and not args.hmm:
        raise ValueError("--keywords needs --hmm (the HMM that guides decoding towards them)")
    hmm = _load_hmm(args.hmm)
    lm = load_lm(args.model, chat=not args.raw)
    prompt = lm.encode(args.prompt)
    check_context(lm.model, len(prompt) + args.max_new_tokens, "the prompt and --max-new-tokens")
    width = max(getattr(config, name, 1) for name in ("width", "samples", "branch"))
    limits.check(f"{args.algo} search over {width} sequences", limits.forward_bytes(
        lm.model, width, len(prompt) + args.max_new_tokens, training=False))
    context = Context(answer=lambda node: (lm.decode(list(node.tokens)).split() or [None])[-1],
                      delimiter=lm.token_id(args.delimiter) if args.algo == "mcts" else None)  # checked first
    processors = [_hmm_guide(args, hmm, lm, prompt)] if hmm else []
    engine = Engine(lm.model, prompt, lm.eos_id, args.max_new_tokens, processors=processors,
                    keep_hidden=getattr(config, "needs_hidden", False), progress=True)
    result = algo.run(engine, config, context)
    if args.tree:
        _draw_tree(result, lm, args.tree)
    if args.json:
        print(json.dumps({"config": {"algo": args.algo, "model": args.model, **dataclasses.asdict(config)},
                          **result.to_dict()}))
        return 0
    for rank, (ids, score) in enumerate(zip(result.sequences[:3], result.scores)):
        print(f"[{rank + 1}] score {score:.3f}: {lm.decode(ids)}")
    print("tree: " + ", ".join(f"{k} {v}" for k, v in result.summary().items()))
    return 0


def _load_hmm(folder: str):
    if not folder:
        return None
    from latentsearch.hmm.hmm import HMM

    return HMM.load(folder)


def _hmm_guide(args, hmm, lm, prompt: list[int]):
    from latentsearch.hmm.guide import HMMGuide

    words = [w.strip() for w in args.keywords.split(",") if w.strip()]
    if not words:
        raise ValueError("--hmm needs --keywords (comma-separated words the output must contain)")
    vocab = lm.model.get_output_embeddings().weight.shape[0]
    if hmm.vocab_size != vocab:
        raise ValueError(f"{args.hmm}: the HMM emits {hmm.vocab_size} symbols but the model has {vocab} tokens; "
                         "distil it from this model")
    # A word inside running text starts with a space in byte-level BPE vocabularies.
    keywords = [lm.encode_plain(" " + w) for w in words]
    return HMMGuide(hmm, keywords, prompt, args.max_new_tokens, lm.eos_id)


def _draw_tree(result, lm, path: str) -> None:
    from latentsearch.io import atomic_write_bytes
    from latentsearch.probe.figures import search_tree

    tree = result.tree
    labels = ["prompt"] + [lm.decode([t]) or repr(t) for t in tree["token"][1:]]
    fmt = "png" if path.endswith(".png") else "svg"
    atomic_write_bytes(path, search_tree(tree, labels, result.path(), fmt=fmt, title="search tree"))
    print(f"tree drawn to {path}")
