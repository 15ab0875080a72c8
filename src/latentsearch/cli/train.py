"""`latentsearch train`: no-CoT, CoT, pause and the Coconut family, from a config the flags fill."""

from __future__ import annotations

import json

from latentsearch.cli.args import add_output, command, count, finite, positive, thoughts

SIGMAS = "0,0.1,0.2,0.3"  # value's default noise scales

# Flags whose names are not their field's (the others are `--` + the field name with dashes).
FLAGS = {"reset_optimizer": "--keep-optimizer", "pad_thoughts": "--no-pad-thoughts", "n_layer": "--layers",
         "n_head": "--heads"}


def add(sub) -> None:
    from latentsearch.data.tokenizer import RENDERINGS
    from latentsearch.methods import METHODS
    from latentsearch.models.factory import FAMILIES

    methods = "; ".join(f"{m.name}: {m.description}" for m in METHODS.values())
    train = command(sub, "train", "train a model", "latentsearch train --method cot --train train.jsonl "
                    "--val val.jsonl -o runs/cot", description=f"Train a model. Methods -- {methods}.")
    train.add_argument("--method", default="cot", choices=list(METHODS), help="training method (see above)")
    train.add_argument("--train", required=True, help="training data file")
    train.add_argument("--val", default="", help="validation data file, scored every epoch")
    add_output(train, "run folder (config.json, metrics.jsonl, checkpoint/, best/)", aliases=("--out",))
    train.add_argument("--rendering", default="", choices=RENDERINGS, help="how records become tokens (default: the "
                       "task's first: symbolic for ProsQA, text for ProntoQA)")
    train.add_argument("--init", default="", help="start from a checkpoint (a shipped name or a folder), or "
                       "fine-tune smollm2 / an HF model with its own tokenizer (use --rendering text)")
    train.add_argument("--add-layers", type=count, default=0, help="append blocks to the --init model that start as "
                       "the identity (a copy of its last block with zeroed output projections)")
    train.add_argument("--resume", action="store_true", help="continue the run in the output folder")
    train.add_argument("--family", default="gpt2", choices=FAMILIES, help="model family of a fresh model")
    train.add_argument("--layers", type=positive, default=2, help="transformer blocks")
    train.add_argument("--d-model", type=positive, default=128, help="hidden size")
    train.add_argument("--heads", type=positive, default=4, help="attention heads")
    train.add_argument("--max-positions", type=positive, default=512, help="context length of a fresh model")
    train.add_argument("--dropout", type=finite, default=0.0, help="dropout of a fresh or --init model "
                       "(on-distribution MC-dropout at inference needs a model trained with it)")
    for flag, kind, default, text in (
        ("--epochs", positive, 10, "passes over the training data"),
        ("--batch-size", positive, 32, "sequences per optimizer step"),
        ("--lr", finite, 1e-3, "peak learning rate"),
        ("--warmup-steps", count, 100, "linear warm-up steps"),
        ("--min-lr-ratio", finite, 0.1, "cosine decay ends at this fraction of the peak (1 = constant)"),
        ("--weight-decay", finite, 0.01, "AdamW weight decay"),
        ("--seed", int, 0, "seed for the model init and batch order"),
        ("--val-limit", count, 500, "validation records scored per epoch (0 = all)"),
        ("--save-every", count, 0, "optimizer steps between mid-epoch checkpoints"),
        ("--log-every", positive, 20, "optimizer steps between metric lines"),
    ):
        train.add_argument(flag, type=kind, default=default, help=text)
    drill = train.add_argument_group("drills (tasks/*_drill.py): exercises in place of some records' steps")
    drill.add_argument("--drill", default="", help="a drill of the data's task (ProntoQA: copy, subject)")
    drill.add_argument("--drill-share", type=finite, default=0.5, help="share of the records drilled, drawn afresh "
                       "every epoch")
    drill.add_argument("--drill-epochs", type=count, default=0, help="drill in the first N epochs only (0 = all)")
    _add_curriculum(train.add_argument_group("curriculum (the Coconut family and pause)"))
    _add_accel(train)
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(run=run_train)
    _add_value(sub)
    _add_reproduce(sub)


def _add_reproduce(sub) -> None:
    rep = command(sub, "reproduce", "from nothing to a Coconut model: data, CoT, curriculum, fresh data (GPU: deeper), "
                  "choose, eval, report (resumable)", "latentsearch reproduce prosqa -o runs/repro --real "
                  "../shared/data/prosqa_valid.json --budget-minutes 150",
                  description="Reproduce the shipped model's recipe in one command (src/latentsearch/reproduce.py "
                  "holds the schedule). Every phase is resumable: run the same command again after an interruption.")
    rep.add_argument("task", choices=("prosqa",), help="the task")
    add_output(rep, "run folder (one sub-folder per phase, summary.json, report/)")
    rep.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="cpu: the CPU schedule; cuda: the "
                     "GPU schedule (larger batches, more data)")
    rep.add_argument("--budget-minutes", type=finite, default=None, help="give every training phase its share of "
                     "this many minutes and stop it there (default: no limit)")
    rep.add_argument("--quick", action="store_true", help="the same code path in a few minutes (a tiny model)")
    rep.add_argument("--real", default="", help="the real validation split to score the chosen model on")
    rep.add_argument("--seed", type=int, default=0, help="initialisation and batch order of every model")
    _add_accel(rep)
    rep.set_defaults(run=run_reproduce)


def run_reproduce(args) -> None:
    import os

    from latentsearch.io import check_output
    from latentsearch.reproduce import reproduce

    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the CPU schedule on the CPU, even where a GPU is
    elif not args.quick:
        import torch

        if not torch.cuda.is_available():  # else the GPU schedule would run, for many hours, on the CPU
            raise ValueError("--device cuda: no GPU is visible here (torch.cuda.is_available() is False)")
    if args.real:
        from latentsearch.data.schema import load_records

        wrong = next((i for i, r in enumerate(load_records(args.real)) if r.task != args.task), None)
        if wrong is not None:
            raise ValueError(f"--real {args.real}: record {wrong} is not a {args.task} question")
    schedule = "quick" if args.quick else ("gpu" if args.device == "cuda" else "cpu")
    if args.budget_minutes is not None and args.budget_minutes <= 0:
        raise ValueError(f"--budget-minutes must be positive, got {args.budget_minutes}")
    check_output(args.output, folder=True)
    reproduce(args.task, args.output, schedule, args.real, args.budget_minutes, args.seed, args.precision,
              args.compile)


def _add_accel(parser) -> None:
    from latentsearch.accel import COMPILE_MODES, PRECISIONS

    group = parser.add_argument_group("speed on a GPU (off by default; src/latentsearch/accel.py)")
    group.add_argument("--precision", default="fp32", choices=PRECISIONS, help="bf16: autocast the passes to "
                       "bfloat16 (the loss stays float32)")
    group.add_argument("--compile", default="off", choices=COMPILE_MODES, help="torch.compile the model's passes; "
                       "reduce-overhead replays them as CUDA graphs")


def _add_value(sub) -> None:
    value = command(sub, "value", "train a latent value model: P(the final answer is right) after every thought",
                    "latentsearch value prosqa-coconut --train questions.jsonl --val val.jsonl -o runs/value",
                    description="Train a latent value model on noisy rollouts of a Coconut model's own thoughts, "
                    "on generated questions (never the real split): a small causal transformer reads each thought "
                    "and how surely the model would answer then, and learns with binary cross-entropy whether the "
                    "rollout's final answer is right. Saved as value.safetensors + value.json.")
    value.add_argument("checkpoint", help="the Coconut model to score (a shipped name or a checkpoint folder)")
    value.add_argument("--train", required=True, help="generated questions to roll out")
    value.add_argument("--val", default="", help="generated questions for the held-out loss and AUC")
    value.add_argument("--rollouts", type=positive, default=8, help="noisy rollouts per question")
    value.add_argument("--noise", default="gaussian", choices=("gaussian", "dropout", "layer"),
                       help="how rollouts branch")
    value.add_argument("--sigmas", default=SIGMAS, help="noise scales, one per question in turn")
    value.add_argument("--thoughts", type=thoughts, default=None, help="thoughts per question: a number or 'steps' "
                       "(at least one per reasoning step); default: the checkpoint's")
    value.add_argument("--epochs", type=positive, default=8, help="passes over the trajectories (with --val, the "
                       "epoch of the lowest held-out loss is kept)")
    value.add_argument("--seed", type=int, default=0, help="noise and initialisation seed")
    add_output(value, "output folder (value.safetensors, value.json)")
    value.set_defaults(run=run_value)


def run_value(args) -> None:
    from pathlib import Path

    from latentsearch.data.schema import load_records
    from latentsearch.io import check_output
    from latentsearch.latent.specs import LatentOptions
    from latentsearch.latent.value import ValueConfig, collect, train_value
    from latentsearch.methods import Recipe
    from latentsearch.models.checkpoint import load_checkpoint
    from latentsearch.search.base import MAX_COUNT

    if args.rollouts > MAX_COUNT:
        raise ValueError(f"--rollouts must be from 1 to {MAX_COUNT}, got {args.rollouts}")
    check_output(args.output, inputs=[args.train] + ([args.val] if args.val else []), folder=True)
    sigmas = _sigmas(args.sigmas)
    if args.noise == "dropout" and args.sigmas != SIGMAS:
        raise ValueError("--sigmas scales gaussian and layer noise; dropout rollouts have no scale")
    options = LatentOptions(noise=args.noise, seed=args.seed)
    records = load_records(args.train)
    val = load_records(args.val) if args.val else []
    model, codec, meta = load_checkpoint(args.checkpoint)
    recipe, _ = Recipe.from_meta(meta, codec)
    if not recipe.method.uses_thoughts():
        raise ValueError(f"a {recipe.method.name} model has no continuous thoughts to score")
    gather = lambda rs, name: collect(model, codec, rs, recipe, options, args.rollouts, sigmas, args.thoughts,  # noqa: E731
                                      progress=True, source=name)
    trajectories = gather(records, Path(args.train).name)
    held_out = gather(val, Path(args.val).name) if val else None
    value, report = train_value(trajectories, ValueConfig(d_state=model.config.hidden_size), args.epochs,
                                seed=args.seed, val=held_out, progress=True)
    value.save(args.output, {"scores": args.checkpoint, "train": args.train, "rollouts": args.rollouts,
                             "noise": args.noise, "sigmas": sigmas, **report})
    print(json.dumps({"output": args.output, "trajectories": report["trajectories"],
                      "right_share": report["right_share"], "final_train_loss": report["train_loss"][-1],
                      **({"val": report["val"]} if "val" in report else {})}))


def _sigmas(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or not all(0 <= v <= 10 for v in values):
        raise ValueError(f"--sigmas must be comma-separated numbers in [0, 10], got {text[:40]!r}")
    return values


def _add_curriculum(group) -> None:
    for flag, kind, default, text in (
        ("--thoughts-per-step", positive, 1, "c: continuous thoughts that replace one reasoning step"),
        ("--epochs-per-stage", positive, 5, "epochs at each curriculum stage"),
        ("--max-stage", count, 6, "last stage replacing steps one by one; after it every step is latent"),
        ("--start-stage", count, 0, "stage of the first epoch (e.g. keep training at one stage)"),
        ("--mix-prob", finite, 0.0, "chance an example trains at a uniformly random stage"),
        ("--pause-tokens", positive, 6, "pause: pause tokens between question and answer"),
        ("--extra-thoughts", count, 0, "past the last stage, training adds 0..N more thoughts per example"),
        ("--frontier-loss", finite, 0.0, "weight of a loss pulling thought k's logit lens onto the BFS frontier "
         "F_k of the question's graph (train/frontier.py)"),
    ):
        group.add_argument(flag, type=kind, default=default, help=text)
    group.add_argument("--keep-optimizer", action="store_true", help="do not reset AdamW at stage changes")
    group.add_argument("--no-pad-thoughts", action="store_true",
                       help="past the last stage use min(steps, max stage) thoughts instead of max stage")
    group.add_argument("--cover-steps", action="store_true",
                       help="past the last stage give a question at least one thought per step (deep questions)")


def _flag(field: str) -> str:
    return FLAGS.get(field, "--" + field.replace("_", "-"))


def _refuse_unused(config) -> None:
    """A flag the run would ignore is an error: it was given to change something, and would not."""
    from dataclasses import fields

    from latentsearch.methods import METHODS
    from latentsearch.models.factory import ModelConfig

    method = METHODS[config.method]
    for f in fields(config.curriculum):
        if getattr(config.curriculum, f.name) != f.default and f.name not in method.reads():
            users = ", ".join(m.name for m in METHODS.values() if f.name in m.reads())
            raise ValueError(f"{_flag(f.name)} does not apply to --method {config.method} (it shapes: {users})")
    shape = [f.name for f in fields(ModelConfig) if f.name != "dropout" and getattr(config.model, f.name) != f.default]
    if config.init and shape:
        raise ValueError(f"{_flag(shape[0])} shapes a fresh model; the --init model keeps its own shape "
                         "(grow it with --add-layers)")
    if not config.val and config.val_limit != type(config).val_limit:
        raise ValueError("--val-limit limits the validation set: give --val FILE too")


def run_train(args) -> None:
    from latentsearch.methods import Curriculum
    from latentsearch.models.factory import ModelConfig
    from latentsearch.train import distributed
    from latentsearch.train.config import TrainConfig
    from latentsearch.train.trainer import Trainer

    model = ModelConfig(family=args.family, n_layer=args.layers, d_model=args.d_model, n_head=args.heads,
                        max_positions=args.max_positions, dropout=args.dropout)
    config = TrainConfig(
        train=args.train, val=args.val, out=args.output, method=args.method, rendering=args.rendering,
        model=model, init=args.init, add_layers=args.add_layers, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, warmup_steps=args.warmup_steps, min_lr_ratio=args.min_lr_ratio, weight_decay=args.weight_decay,
        seed=args.seed, val_limit=args.val_limit, save_every=args.save_every, log_every=args.log_every,
        precision=args.precision, compile=args.compile, drill=args.drill, drill_share=args.drill_share,
        drill_epochs=args.drill_epochs, frontier_loss=args.frontier_loss,
        curriculum=Curriculum(
            thoughts_per_step=args.thoughts_per_step, epochs_per_stage=args.epochs_per_stage,
            max_stage=args.max_stage, start_stage=args.start_stage, mix_prob=args.mix_prob,
            reset_optimizer=not args.keep_optimizer, pad_thoughts=not args.no_pad_thoughts,
            cover_steps=args.cover_steps, extra_thoughts=args.extra_thoughts, pause_tokens=args.pause_tokens),
    )
    _refuse_unused(config)
    trainer = Trainer(config, resume=args.resume, progress_bar=not args.no_progress)
    summary = trainer.run()
    if trainer.rank == 0:
        print(json.dumps({"output": args.output, **summary}))
    distributed.finish()
