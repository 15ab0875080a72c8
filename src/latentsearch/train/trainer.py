"""The training loop: AdamW, length-bucketed batches, per-epoch validation, resumable checkpoints.

A run folder holds config.json, metrics.jsonl, checkpoint/ (the latest, with optimizer and RNG
state) and best/ (the best validation accuracy so far). The batch order of an epoch depends only
on (seed, epoch), so a resumed run skips the batches it already took and continues exactly.

Curriculum methods change their items with the stage (a function of the epoch); the optimizer can
be reset when the stage changes. Under `torchrun` every process takes a slice of each global batch
and DistributedDataParallel averages the gradients; only rank 0 validates, writes and prints.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from tqdm.auto import tqdm

from latentsearch import accel, faults, limits, tasks
from latentsearch.data.examples import bucket_batches, encode_record, encode_records
from latentsearch.data.schema import load_records
from latentsearch.data.tokenizer import ANSWER_MARK, SPECIAL_TOKENS, Codec
from latentsearch.errors import DatasetError
from latentsearch.evaluate import evaluate
from latentsearch.io import FolderLock, append_line, atomic_write_json, atomic_write_text, check_output
from latentsearch.methods import Item, Recipe
from latentsearch.models import checkpoint as ckpt
from latentsearch.models.deepen import add_blocks, add_tokens
from latentsearch.models.factory import build_model, check_context, hf_config, parameter_bytes, set_dropout
from latentsearch.models.lm import load_trainable
from latentsearch.train import distributed
from latentsearch.train.config import TrainConfig
from latentsearch.train.frontier import layer_tokens, with_lens_targets
from latentsearch.train.loss import ItemLoss, collate, target_tokens


@dataclass
class Progress:
    """Where training stands; saved with every checkpoint."""

    epoch: int = 0  # current epoch (0-based)
    batch: int = 0  # batches of the current epoch already taken
    step: int = 0  # optimizer steps so far
    best_accuracy: float = -1.0  # best validation accuracy so far


class Trainer:
    def __init__(self, config: TrainConfig, resume: bool = False, progress_bar: bool = True):
        self.config = config
        self.out = Path(config.out)
        self.rank, self.world, self.device = distributed.setup()
        self.progress_bar = progress_bar and self.rank == 0
        self.source = Path(config.train).name
        check_run_folder(self.out, config, resume)
        records = load_records(config.train)
        self._check_model_size()
        self.task = tasks.get(task_of(records, self.source))
        if config.drill:
            self.task.check_drill(config.drill)
        self.model, self.codec, untrained_before = self._model_and_codec(self.task.name)
        self.recipe = Recipe.of(config.method, self.codec, config.curriculum)
        self.records, self.examples = records, encode_records(records, self.codec, self.source)
        self.untrained_words = self._untrained_words(untrained_before)
        self.val_records = load_records(config.val)[: config.val_limit or None] if config.val else []
        self.val_examples = encode_records(self.val_records, self.codec, Path(config.val).name)
        self.layers = self._frontier_layers() if config.frontier_loss else []
        self.item_loss = ItemLoss(self.model, config.frontier_loss)
        self.loss = distributed.wrap(self.item_loss, self.device)
        self.optimizer = self._new_optimizer()
        self.state = Progress()
        if resume and ckpt.resolve(self.out / "checkpoint").exists():
            self._resume()
        elif resume:
            self._forget_metrics_after(self.state)  # no checkpoint: the run starts again, its old lines go
        self._check_first_epoch()

    def _check_model_size(self) -> None:
        """Weights, gradients and AdamW moments of the model to build, against the budget, before building it."""
        init, config = self.config.init, self.config.model
        if init and not ckpt.is_pretrained_lm(init):
            folder = ckpt.resolve(init)
            saved = ckpt.read_config(folder) if (folder / "config.json").is_file() else {}
            layers = saved.get("n_layer", saved.get("num_hidden_layers", 0))
            if isinstance(layers, int):
                saved = {**saved, "n_layer": layers + self.config.add_layers, "num_hidden_layers": None}
            needed = parameter_bytes(saved)
        elif init:
            return  # a pretrained model's size is checked as it loads
        else:
            needed = parameter_bytes(hf_config(config, 1000, 0, 1).to_dict())
        limits.check(f"training a model of {needed // 4:,} parameters (weights, gradients, AdamW)", 4 * needed)

    def _model_and_codec(self, task: str):
        """The model to train, its codec, and the words of the codec that no training has used yet."""
        init = self.config.init
        if init and ckpt.is_pretrained_lm(init):  # with its own tokenizer
            model, codec = load_trainable(init, task)
            untrained = set()  # an open subword vocabulary: not tracked
        elif init:
            model, saved, _ = ckpt.load_checkpoint(init)
            codec = saved.grown()  # words added to the task since the checkpoint was trained
            untrained = saved.untrained | (set(codec.vocab) - set(saved.vocab))
            codec.untrained = frozenset()  # this run may train them
            add_tokens(model, len(codec), self.config.seed)
        else:
            codec = Codec.build(self.config.rendering or tasks.get(task).renderings[0], task)
            model = build_model(self.config.model, len(codec), codec.pad_id, codec.eos_id, self.config.seed)
            untrained = set(codec.vocab) - set(SPECIAL_TOKENS) - {ANSWER_MARK}
        if init and self.config.rendering not in ("", codec.rendering):  # else it would be ignored
            raise ValueError(f"--rendering {self.config.rendering}: the --init model {init} renders records as "
                             f"{codec.rendering} and keeps its tokenizer; leave --rendering out")
        if init and self.config.model.dropout:
            set_dropout(model, self.config.model.dropout)
        model = add_blocks(model, self.config.add_layers).to(self.device).train()
        return accel.compile_passes(model, self.config.compile), codec, untrained

    def _untrained_words(self, before: set[str]) -> list[str]:
        """The words no training of this lineage has used (saved in meta.json, refused at inference): those
        the init had not trained, or a fresh model's whole vocabulary, less those in this run's data."""
        used = {i for e in self.examples for part in (e.question, *e.steps, e.answer) for i in part}
        return sorted(w for w in before if self.codec.vocab[w] not in used)

    def _frontier_layers(self) -> list:
        """Every training record's BFS layers as token ids, for --frontier-loss."""
        if not self.recipe.method.uses_thoughts():
            raise ValueError(f"frontier_loss supervises continuous thoughts; a {self.config.method} model has none")
        layers = [layer_tokens(self.task, record, self.codec) for record in self.records]
        if not any(layers):
            raise DatasetError(f"{self.source}: frontier_loss needs questions with a graph, and none of its "
                               f"{len(layers)} records has one")
        return layers

    def _new_optimizer(self):
        return torch.optim.AdamW(self.model.parameters(), lr=self.config.lr,
                                 weight_decay=self.config.weight_decay, betas=(0.9, 0.95))

    def _items(self, epoch: int) -> list[Item]:
        """Every example as an item at this epoch's stage (some at random stages when mixing)."""
        rng = random.Random(self.config.seed * 100_003 + epoch)
        stage = self.recipe.stage(epoch)
        items = [self.recipe.item(e, stage, rng) for e in self._examples(epoch)]
        if self.layers:
            per_step = self.config.curriculum.thoughts_per_step
            items = [with_lens_targets(item, layers, per_step) for item, layers in zip(items, self.layers)]
        longest = max(range(len(items)), key=lambda i: len(items[i]))
        check_context(self.model, len(items[longest]), f"{self.source}, record {longest}")
        return items

    def _examples(self, epoch: int) -> list:
        """The epoch's examples; with a drill, a share of them drawn afresh with the drill's steps."""
        cfg = self.config
        if not cfg.drill or (cfg.drill_epochs and epoch >= cfg.drill_epochs):
            return self.examples
        rng = random.Random(f"drill {cfg.seed} {epoch}")
        return [encode_record(replace(record, steps=self.task.drill(cfg.drill, record, rng)), self.codec)
                if rng.random() < cfg.drill_share else example
                for record, example in zip(self.records, self.examples)]

    def _check_first_epoch(self) -> None:
        """A record too long for the model, or a batch over the memory budget, fails before anything is written."""
        lengths = [len(item) for item in self._items(self.state.epoch)]
        longest, rows = max(lengths), min(len(lengths), -(-self.config.batch_size // self.world))
        limits.check(f"a training batch of {rows} x {longest} tokens",
                     limits.forward_bytes(self.model, rows, longest, training=True))

    def _resume(self):
        folder = self.out / "checkpoint"
        model, _, _ = ckpt.load_checkpoint(folder)
        try:
            self.model.load_state_dict(model.state_dict())
        except RuntimeError as err:
            raise ckpt.CheckpointError(f"{folder}: does not fit this run's model "
                                       f"({str(err).splitlines()[0][:160]})") from None
        ckpt.load_optimizer(folder, self.optimizer)
        self.state = Progress(**ckpt.load_trainer_state(folder, Progress.__dataclass_fields__))
        if self.state.batch > self.steps_per_epoch:
            raise ckpt.CheckpointError(f"{folder / 'trainer_state.json'}: batch {self.state.batch} is past the "
                                       f"{self.steps_per_epoch} batches of an epoch of this run")
        self._forget_metrics_after(self.state)

    def _forget_metrics_after(self, state: Progress) -> None:
        """Drop metric lines written after the checkpoint: the resumed run writes them again."""
        path = self.out / "metrics.jsonl"
        if self.rank != 0 or not path.is_file():
            return
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip().endswith("}")]
        kept = [r for r in lines if (r["step"], r["epoch"]) <= (state.step, state.epoch)]
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in kept))

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.examples) // self.config.batch_size)

    def run(self, until_epoch: int | None = None, deadline: float | None = None) -> dict:
        """Train to the last epoch (or stop after `until_epoch`, or at `deadline`, a time.time(): the state
        is saved, and `--resume` goes on from there); returns the last validation summary. The run folder
        is locked meanwhile: a second process training into it stops at once."""
        self.deadline = deadline
        lock = FolderLock(self.out) if self.rank == 0 else contextlib.nullcontext()
        with lock:
            if self.rank == 0:
                atomic_write_json(self.out / "config.json", self.config.to_dict())
            summary: dict = {}
            last = min(self.config.epochs, until_epoch or self.config.epochs)
            while self.state.epoch < last and not self.out_of_time:
                self._train_epoch()
                summary = self._end_epoch() if not self.out_of_time else summary
            if self.out_of_time:
                self._save_checkpoint()  # where it stopped, so that --resume (or a next phase) goes on from here
        return summary

    def _train_epoch(self):
        cfg, state = self.config, self.state
        stage = self.recipe.stage(state.epoch)
        if state.batch == 0 and state.epoch > 0 and cfg.curriculum.reset_optimizer \
                and stage != self.recipe.stage(state.epoch - 1):
            self.optimizer = self._new_optimizer()  # Coconut resets the optimizer at every stage
        items = self._items(state.epoch)
        batches = bucket_batches([len(i) for i in items], cfg.batch_size, seed=cfg.seed * 100_003 + state.epoch)
        bar = tqdm(total=len(batches), initial=state.batch, desc=f"epoch {state.epoch + 1}/{cfg.epochs} stage {stage}",
                   disable=not self.progress_bar)
        self.model.train()
        clock, tokens = time.perf_counter(), 0
        for batch in batches[state.batch :]:
            loss, n_tokens = self._step([items[i] for i in batch])
            if not math.isfinite(loss):
                raise TrainingDiverged(f"the training loss is {loss} at step {state.step + 1} "
                                       f"(epoch {state.epoch + 1}): "
                                       f"training stopped, nothing of this step was saved; {self.out / 'checkpoint'} "
                                       "holds the last good state (lower --lr?)")
            tokens += n_tokens
            state.batch += 1
            state.step += 1
            faults.reached("step")
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")
            if state.step % cfg.log_every == 0:
                rate = tokens / (time.perf_counter() - clock)
                frontier = {"frontier_nll": self.item_loss.frontier_term} if cfg.frontier_loss else {}
                self._log({"step": state.step, "epoch": state.epoch, "stage": stage, "loss": loss,
                           "tokens_per_s": round(rate), **frontier})
            if cfg.save_every and state.step % cfg.save_every == 0:
                self._save_checkpoint()
            if self.out_of_time:
                break
        bar.close()

    def _step(self, batch: list[Item]) -> tuple[float, int]:
        """One optimizer step on a global batch; this process takes every world-th item of it."""
        lr = self.config.lr_at(self.state.step, self.steps_per_epoch * self.config.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        pad, thought = self.codec.pad_id, self.recipe.special.thought
        whole = collate(batch, pad, thought)
        total = target_tokens(whole)  # the same count on every process
        mine = batch[self.rank :: self.world]
        weight = 1.0 if mine else 0.0  # a process left without items still joins the gradient average
        local = whole if self.world == 1 else collate(mine or batch[:1], pad, thought)
        local = {k: v.to(self.device, non_blocking=True) for k, v in local.items()}
        with accel.autocast(self.device, self.config.precision):
            loss = self.loss(local) * (weight * self.world / max(total, 1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return distributed.mean(loss.detach()), sum(len(i) for i in batch)

    def _end_epoch(self) -> dict:
        state = self.state
        summary = self.validate() if self.val_records and self.rank == 0 else {}
        accuracy = summary.get("accuracy", -1.0)
        stage = self.recipe.stage(state.epoch)
        state.epoch, state.batch = state.epoch + 1, 0
        self._log({"step": state.step, "epoch": state.epoch, "stage": stage,
                   **{f"val_{k}": v for k, v in summary.items()}})
        # Past the last stage accuracy is comparable; a best from an earlier stage must not win.
        if self.val_records and self.rank == 0 and (accuracy > state.best_accuracy or stage != self._best_stage()):
            state.best_accuracy = accuracy
            self._save(self.out / "best", with_optimizer=False, stage=stage)
        self._save_checkpoint()
        distributed.barrier()  # the others wait while rank 0 validates and writes
        return summary

    def _best_stage(self) -> int | None:
        meta = self.out / "best" / "meta.json"
        return json.loads(meta.read_text()).get("stage") if meta.is_file() else None

    def validate(self) -> dict:
        """Greedy accuracy on the validation records at the current stage, and their teacher-forced loss
        per target token: smooth where accuracy still sits at a coin flip (a CoT that learns its lookups
        one by one writes no right proof until it has them all)."""
        self.model.eval()
        stage = self.recipe.stage(self.state.epoch)
        result = evaluate(self.model, self.codec, self.val_records, self.recipe, stage=stage)
        loss = self._val_loss(stage)
        self.model.train()
        return {**result.summary, "loss": loss}

    @torch.no_grad()
    def _val_loss(self, stage: int) -> float:
        items = [self.recipe.item(e, stage) for e in self.val_examples]
        loss, total, tokens, size = ItemLoss(self.model), 0.0, 0, self.config.batch_size
        for start in range(0, len(items), size):
            batch = collate(items[start : start + size], self.codec.pad_id, self.recipe.special.thought)
            total += float(loss({k: v.to(self.device) for k, v in batch.items()}))
            tokens += target_tokens(batch)
        return round(total / max(tokens, 1), 4)

    @property
    def out_of_time(self) -> bool:
        return getattr(self, "deadline", None) is not None and time.time() >= self.deadline

    def _save_checkpoint(self):
        self._save(self.out / "checkpoint", with_optimizer=True, stage=self.recipe.stage(self.state.epoch))

    def _save(self, folder: Path, with_optimizer: bool, stage: int):
        if self.rank != 0:
            return
        meta = {"method": self.recipe.method.name, "stage": stage, "curriculum": asdict(self.config.curriculum),
                "step": self.state.step, "epoch": self.state.epoch, "rendering": self.codec.rendering,
                "best_accuracy": self.state.best_accuracy, "untrained_words": self.untrained_words}
        ckpt.save_checkpoint(
            folder, self.model, self.codec, meta,
            optimizer=self.optimizer if with_optimizer else None,
            state=self.state.__dict__ if with_optimizer else None,
        )

    def _log(self, record: dict):
        if self.rank != 0:
            return
        record = {"time": round(time.time(), 1), **record}
        append_line(self.out / "metrics.jsonl", json.dumps(record))


def task_of(records, source: str) -> str:
    """The one task of a training file (plain-text records train any model on text)."""
    named = {r.task for r in records} - {"text"}
    if len(named) > 1:
        raise ValueError(f"{source} mixes tasks ({', '.join(sorted(named))}); train on one task at a time")
    return named.pop() if named else "text"


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite: training stops without saving the broken state."""


def check_run_folder(out: Path, config: TrainConfig, resume: bool) -> None:
    """A run folder is new (or empty), or a run of the same config to resume: nothing else is written into."""
    check_output(out, inputs=[config.train] + ([config.val] if config.val else []), folder=True)
    if not out.exists():
        return
    if not out.is_dir():
        raise ValueError(f"{out}: is a file; the output of train is a run folder")
    present = sorted(p.name for p in out.iterdir() if p.name != ".lock")
    if not present:
        return
    saved_path = out / "config.json"
    if not saved_path.is_file():
        raise ValueError(f"{out}: holds other files ({', '.join(present[:3])}); train into a new or empty folder")
    if not resume:
        raise ValueError(f"{out}: holds a run already; pass --resume to continue it, or choose another folder")
    try:
        saved = json.loads(saved_path.read_text())
    except (ValueError, RecursionError):
        raise ValueError(f"{saved_path}: not a run's config (invalid JSON)") from None
    changed = config.differences(saved if isinstance(saved, dict) else {})
    if changed:
        raise ValueError(f"{out}: --resume continues the same run, but {', '.join(changed)} differ from its "
                         "config.json (only the epochs and how often it saves and logs may change)")
