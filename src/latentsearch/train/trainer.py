"""The training loop: AdamW, length-bucketed batches, per-epoch validation, resumable checkpoints.

A run folder holds config.json, metrics.jsonl, checkpoint/ (the latest, with optimizer and RNG
state) and best/ (the best validation accuracy so far). The batch order of an epoch depends only
on (seed, epoch), so a resumed run skips the batches it already took and continues exactly.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from latentsearch.data.examples import bucket_batches, encode_records, pad_batch
from latentsearch.data.schema import DatasetError, load_records
from latentsearch.data.tokenizer import Codec
from latentsearch.evaluate import evaluate
from latentsearch.io import atomic_write_json
from latentsearch.models import checkpoint as ckpt
from latentsearch.models.factory import build_model, context_length
from latentsearch.train.config import TrainConfig
from latentsearch.train.methods import get_method


@dataclass
class Progress:
    """Where training stands; saved with every checkpoint."""

    epoch: int = 0  # current epoch (0-based)
    batch: int = 0  # batches of the current epoch already taken
    step: int = 0  # optimizer steps so far
    best_accuracy: float = -1.0  # best validation accuracy so far


class Trainer:
    def __init__(self, config: TrainConfig, resume: bool = False, progress_bar: bool = True):
        self.config, self.progress_bar = config, progress_bar
        self.out = Path(config.out)
        self.method = get_method(config.method)
        self.model, self.codec = self._model_and_codec()
        self.sequences = self._sequences(config.train)
        self.val_records = load_records(config.val)[: config.val_limit or None] if config.val else []
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.95)
        )
        self.state = Progress()
        if resume and ckpt.resolve(self.out / "checkpoint").exists():
            self._resume()

    def _model_and_codec(self):
        if self.config.init:
            model, codec, _ = ckpt.load_checkpoint(self.config.init)
            return model.train(), codec
        codec = Codec.build(self.config.rendering)
        model = build_model(self.config.model, len(codec), codec.pad_id, codec.eos_id, self.config.seed)
        return model.train(), codec

    def _sequences(self, path: str):
        records = load_records(path)
        if not records:
            raise DatasetError(f"{Path(path).name}: no records")
        sequences = [self.method.sequence(e) for e in encode_records(records, self.codec, Path(path).name)]
        limit = context_length(self.model)
        too_long = [i for i, s in enumerate(sequences) if len(s.ids) > limit]
        if too_long:
            raise DatasetError(
                f"{Path(path).name}, record {too_long[0]}: {len(sequences[too_long[0]].ids)} tokens "
                f"exceed the model's context of {limit} ({len(too_long)} records too long)"
            )
        return sequences

    def _resume(self):
        folder = self.out / "checkpoint"
        model, _, _ = ckpt.load_checkpoint(folder)
        self.model.load_state_dict(model.state_dict())
        ckpt.load_optimizer(folder, self.optimizer)
        self.state = Progress(**ckpt.load_trainer_state(folder))

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.sequences) // self.config.batch_size)

    def run(self, until_epoch: int | None = None) -> dict:
        """Train to the last epoch (or stop after `until_epoch`); returns the last validation summary."""
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.out / "config.json", self.config.to_dict())
        summary: dict = {}
        last = min(self.config.epochs, until_epoch or self.config.epochs)
        while self.state.epoch < last:
            self._train_epoch()
            summary = self._end_epoch()
        return summary

    def _train_epoch(self):
        cfg, state = self.config, self.state
        lengths = [len(s.ids) for s in self.sequences]
        batches = bucket_batches(lengths, cfg.batch_size, seed=cfg.seed * 100_003 + state.epoch)
        bar = tqdm(total=len(batches), initial=state.batch, desc=f"epoch {state.epoch + 1}/{cfg.epochs}",
                   disable=not self.progress_bar)
        self.model.train()
        clock, tokens = time.perf_counter(), 0
        for batch in batches[state.batch :]:
            loss, n_tokens = self._step(batch)
            tokens += n_tokens
            state.batch += 1
            state.step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")
            if state.step % cfg.log_every == 0:
                rate = tokens / (time.perf_counter() - clock)
                self._log({"step": state.step, "epoch": state.epoch, "loss": loss, "tokens_per_s": round(rate)})
            if cfg.save_every and state.step % cfg.save_every == 0:
                self._save_checkpoint()
        bar.close()

    def _step(self, batch: list[int]) -> tuple[float, int]:
        ids, labels = pad_batch([self.sequences[i] for i in batch], self.codec.pad_id)
        lr = self.config.lr_at(self.state.step, self.steps_per_epoch * self.config.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        # Right padding needs no attention mask: causal attention keeps pads after every real token.
        loss = self.model(input_ids=ids, labels=labels).loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return loss.item(), ids.numel()

    def _end_epoch(self) -> dict:
        state = self.state
        summary = self.validate() if self.val_records else {}
        accuracy = summary.get("accuracy", -1.0)
        state.epoch, state.batch = state.epoch + 1, 0
        self._log({"step": state.step, "epoch": state.epoch, **{f"val_{k}": v for k, v in summary.items()}})
        if self.val_records and accuracy > state.best_accuracy:
            state.best_accuracy = accuracy
            self._save(self.out / "best", with_optimizer=False)
        self._save_checkpoint()
        return summary

    def validate(self) -> dict:
        self.model.eval()
        result = evaluate(self.model, self.codec, self.val_records, self.method)
        self.model.train()
        return result.summary

    def _save_checkpoint(self):
        self._save(self.out / "checkpoint", with_optimizer=True)

    def _save(self, folder: Path, with_optimizer: bool):
        meta = {"method": self.method.name, "step": self.state.step, "epoch": self.state.epoch,
                "rendering": self.codec.rendering, "best_accuracy": self.state.best_accuracy}
        ckpt.save_checkpoint(
            folder, self.model, self.codec, meta,
            optimizer=self.optimizer if with_optimizer else None,
            state=self.state.__dict__ if with_optimizer else None,
        )

    def _log(self, record: dict):
        record = {"time": round(time.time(), 1), **record}
        with open(self.out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
