"""Training configuration: a dataclass that the CLI fills and every run writes as config.json."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields

from latentsearch import accel
from latentsearch.data.tokenizer import RENDERINGS
from latentsearch.methods import METHODS, Curriculum
from latentsearch.models.factory import ModelConfig


@dataclass
class TrainConfig:
    train: str  # training data (Coconut JSON or JSONL)
    out: str  # run folder: config.json, metrics.jsonl, checkpoint/, best/
    val: str = ""  # validation data, evaluated at the end of every epoch ("" = none)
    method: str = "cot"  # a name from latentsearch.methods.METHODS
    rendering: str = ""  # text or symbolic ("" = the task's first: symbolic for ProsQA; ignored with --init)
    model: ModelConfig = field(default_factory=ModelConfig)  # architecture of a fresh model
    init: str = ""  # start from this checkpoint folder instead of a fresh model
    add_layers: int = 0  # blocks appended to the init model, starting as the identity (models/deepen.py)
    curriculum: Curriculum = field(default_factory=Curriculum)  # stages of the Coconut family, pause count
    epochs: int = 10  # passes over the training data
    batch_size: int = 32  # sequences per optimizer step
    lr: float = 1e-3  # peak learning rate (AdamW)
    warmup_steps: int = 100  # linear warm-up to the peak
    min_lr_ratio: float = 0.1  # cosine decay ends at this fraction of the peak
    weight_decay: float = 0.01  # AdamW weight decay
    grad_clip: float = 1.0  # max gradient norm (0 = no clipping)
    seed: int = 0  # model init, batch order
    val_limit: int = 500  # validation records scored per epoch (0 = all)
    save_every: int = 0  # optimizer steps between mid-epoch checkpoints (0 = end of epoch only)
    log_every: int = 20  # optimizer steps between metric lines
    drill: str = ""  # a drill of the task (tasks/*_drill.py) replacing some records' steps ("" = none)
    drill_share: float = 0.5  # share of the records drilled in an epoch, drawn afresh every epoch
    drill_epochs: int = 0  # drill in the first N epochs only (0 = every epoch)
    frontier_loss: float = 0.0  # weight of a loss pulling thought k's lens onto the BFS layer F_k (train/frontier.py)
    precision: str = "fp32"  # fp32, or bf16 autocast (accel.py; for a GPU)
    compile: str = "off"  # torch.compile mode of the model's passes (accel.py; for a GPU)

    def __post_init__(self):
        if isinstance(self.model, dict):
            self.model = ModelConfig(**self.model)
        if isinstance(self.curriculum, dict):
            self.curriculum = Curriculum(**self.curriculum)
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose from {', '.join(METHODS)}")
        accel.check(self.precision, self.compile)
        if self.rendering and self.rendering not in RENDERINGS:
            raise ValueError(f"unknown rendering {self.rendering!r}; choose from {', '.join(RENDERINGS)}")
        for name in ("epochs", "batch_size", "log_every"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("add_layers", "lr", "warmup_steps", "min_lr_ratio", "weight_decay", "grad_clip", "val_limit",
                     "save_every", "frontier_loss"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if not 0 < self.drill_share <= 1 or self.drill_epochs < 0:
            raise ValueError(f"drill_share must be in (0, 1] and drill_epochs >= 0, got {self.drill_share} and "
                             f"{self.drill_epochs}")
        if not self.drill and (self.drill_share != type(self).drill_share or self.drill_epochs):
            raise ValueError("drill_share and drill_epochs shape a drill: name one with drill (--drill)")
        if self.add_layers and not self.init:
            raise ValueError("add_layers grows an --init model; a fresh model takes --layers")
        # Beyond these bounds training diverges from the first step (NaN), which is never what was meant.
        for name, high in (("lr", 1.0), ("weight_decay", 1.0), ("min_lr_ratio", 1.0)):
            if getattr(self, name) > high:
                raise ValueError(f"{name} must be at most {high}, got {getattr(self, name)}")
        if self.lr == 0:
            raise ValueError("lr must be positive")

    # Fields a resumed run may change: how long it runs and how often it reports; anything else would
    # silently train a different run into the same folder.
    # `out` is the folder being resumed, whatever path names it (run, run/, /abs/run, a copy).
    RESUMABLE = ("epochs", "save_every", "log_every", "val_limit", "out", "compile")
    PATHS = ("train", "val", "init")  # the same file however it is written

    def differences(self, saved: dict) -> list[str]:
        """The fields (other than RESUMABLE ones) where `saved` (a run's config.json) differs from this."""
        mine, defaults = self.to_dict(), {f.name: f.default for f in fields(self)}
        # A field newer than the saved run counts as its default there.
        return [k for k in mine if k not in self.RESUMABLE and not self._same(k, saved.get(k, defaults[k]), mine[k])]

    def _same(self, key: str, saved, mine) -> bool:
        if key in self.PATHS and isinstance(saved, str) and saved and mine:
            return saved == mine or os.path.realpath(saved) == os.path.realpath(mine)
        return saved == mine

    def to_dict(self) -> dict:
        return asdict(self)

    def lr_at(self, step: int, total_steps: int) -> float:
        """Linear warm-up, then cosine decay to `min_lr_ratio * lr`."""
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        progress = min(1.0, (step - self.warmup_steps) / max(1, total_steps - self.warmup_steps))
        cosine = 0.5 * (1 + math.cos(math.pi * progress))
        return self.lr * (self.min_lr_ratio + (1 - self.min_lr_ratio) * cosine)
