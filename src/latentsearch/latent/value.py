"""A latent value model: after every thought, the probability that the trajectory's final answer is right.

A small causal transformer reads a trajectory one thought at a time -- each thought's state plus how
surely the model would answer right then (the two likeliest candidates' log-likelihoods and their
margin) -- and outputs a logit after every thought. It is trained on *generated* questions only,
from noisy rollouts of the model it scores (latent/noise.py), every thought of a rollout labelled
with whether the rollout's final answer is right, with binary cross-entropy: we need calibrated
probabilities (a vote weighs answers by them, adaptive thinking stops at a threshold on them), which
a contrastive objective does not give. Saved as safetensors + JSON beside the model it scores.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from latentsearch.errors import CheckpointError, MemoryBudgetError
from latentsearch.io import atomic_write_json

N_EXTRA = 3  # per thought beyond its state: best candidate log-likelihood, second best, their margin


@dataclass(frozen=True)
class ValueConfig:
    d_state: int = 128  # the scored model's hidden size
    d_model: int = 32  # the value transformer's width
    layers: int = 1  # causal transformer layers over the thoughts
    heads: int = 4  # attention heads
    max_thoughts: int = 64  # longest trajectory it reads

    def __post_init__(self):
        sizes = (self.d_state, self.d_model, self.layers, self.heads, self.max_thoughts)
        if any(isinstance(v, bool) or not isinstance(v, int) for v in sizes) or min(sizes) <= 0 \
                or self.d_model % self.heads:
            raise ValueError(f"bad value-model config {self}")

    def parameter_bytes(self) -> int:
        """float32 weights: the input projection, positions, the layers (attention 4 d^2, MLP 8 d^2), the head."""
        d = self.d_model
        return 4 * ((self.d_state + N_EXTRA + self.max_thoughts + 1) * d + self.layers * 12 * d * d)


class ValueModel(nn.Module):
    def __init__(self, config: ValueConfig):
        super().__init__()
        self.config = config
        self.project = nn.Linear(config.d_state + N_EXTRA, config.d_model)
        self.position = nn.Embedding(config.max_thoughts, config.d_model)
        layer = nn.TransformerEncoderLayer(config.d_model, config.heads, 4 * config.d_model, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.head = nn.Linear(config.d_model, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(batch, thoughts, d_state + 3) -> (batch, thoughts) logits of P(the final answer is right)."""
        steps = features.shape[1]
        if steps > self.config.max_thoughts:
            raise ValueError(f"the value model reads at most {self.config.max_thoughts} thoughts, got {steps}")
        x = self.project(features) + self.position(torch.arange(steps, device=features.device))
        causal = nn.Transformer.generate_square_subsequent_mask(steps, device=features.device)
        return self.head(self.encoder(x, mask=causal, is_causal=True))[..., 0]

    def save(self, folder: str | Path, report: dict) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "value.safetensors.tmp"
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(tmp))
        tmp.replace(folder / "value.safetensors")
        atomic_write_json(folder / "value.json", {"config": asdict(self.config), **report})

    @classmethod
    def load(cls, folder: str | Path) -> "ValueModel":
        from safetensors import SafetensorError

        from latentsearch import limits

        folder = Path(folder)
        for name in ("value.json", "value.safetensors"):
            if not (folder / name).is_file():
                raise CheckpointError(f"{folder}: not a value model folder ({name} is missing)")
        try:
            meta = json.loads((folder / "value.json").read_text())
            config = ValueConfig(**meta["config"])
            limits.check(f"the value model of {folder}", config.parameter_bytes())  # before building it
            model = cls(config)
            model.load_state_dict(load_file(str(folder / "value.safetensors")))
        except (ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as err:
            if isinstance(err, MemoryBudgetError):
                raise
            raise CheckpointError(f"{folder}: cannot load the value model ({str(err).splitlines()[0][:200]})") from None
        for name, tensor in model.state_dict().items():
            if not torch.isfinite(tensor).all():
                raise CheckpointError(f"{folder}: value.safetensors holds non-finite numbers in {name}")
        return model.eval()


def value_folder(checkpoint: str | Path, value: str | Path = "") -> str:
    """The value model to use: the one given, else the one saved beside the checkpoint (`value/`), else ""."""
    from latentsearch.models.checkpoint import resolve

    if value:
        return str(value)
    beside = resolve(checkpoint) / "value"
    return str(beside) if (beside / "value.safetensors").is_file() else ""


def load_valuer(checkpoint: str | Path, value: str | Path = "") -> "Valuer | None":
    """The Valuer of `value_folder(checkpoint, value)`, or None when there is no value model."""
    folder = value_folder(checkpoint, value)
    return Valuer(ValueModel.load(folder)) if folder else None


# ----------------------------------------------------------------------------- trajectories -> features


def step_features(handle) -> torch.Tensor:
    """(d_state + 3,) one thought of a latent-space node: its state, and how surely it answers."""
    extras = torch.tensor([handle.best, handle.best - handle.margin, handle.margin])
    return torch.cat([handle.hidden.float().cpu(), extras])


def path_features(handle) -> torch.Tensor:
    """(depth, d_state + 3) the features of every thought from the first to `handle`."""
    chain = []
    while handle is not None and handle.path:
        chain.append(step_features(handle))
        handle = handle.parent
    return torch.stack(chain[::-1])


def pad(sequences: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (batch, longest, features) and the lengths."""
    lengths = torch.tensor([len(s) for s in sequences])
    out = torch.zeros(len(sequences), int(lengths.max()), sequences[0].shape[-1])
    for i, s in enumerate(sequences):
        out[i, : len(s)] = s
    return out, lengths


class Valuer:
    """A `LatentSpace` valuer: the value model's log P(right) of each node's trajectory so far."""

    def __init__(self, model: ValueModel):
        self.model = model

    @torch.no_grad()
    def __call__(self, handles) -> torch.Tensor:
        if not handles[0].path:  # the root: no thought yet, nothing to read
            return torch.zeros(len(handles))
        features, lengths = pad([path_features(h) for h in handles])
        logits = self.model(features)[torch.arange(len(handles)), lengths - 1]
        return torch.nn.functional.logsigmoid(logits)


# ----------------------------------------------------------------------------- training


@dataclass
class Trajectory:
    features: torch.Tensor  # (thoughts, d_state + 3)
    right: bool  # whether its final answer is right


def train_value(trajectories: list[Trajectory], config: ValueConfig, epochs: int = 8, lr: float = 1e-3,
                batch_size: int = 64, seed: int = 0, val: list[Trajectory] | None = None,
                progress: bool = False) -> tuple[ValueModel, dict]:
    """BCE at every thought of every trajectory; with `val`, the epoch with the lowest held-out loss is
    kept (rollouts of one question are alike, so the model soon learns its questions by heart).
    Returns the model and its training report."""
    torch.manual_seed(seed)
    model = ValueModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    order = list(range(len(trajectories)))
    losses, held_out, best = [], [], (math.inf, None)
    for epoch in tqdm(range(epochs), desc="value model", disable=not progress):
        random.Random(seed + epoch).shuffle(order)
        model.train()
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = [trajectories[i] for i in order[start : start + batch_size]]
            loss = _loss(model, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        losses.append(total / len(order))
        if val:
            held_out.append(evaluate_value(model.eval(), val))
            if held_out[-1]["loss"] < best[0]:
                best = (held_out[-1]["loss"], {k: v.clone() for k, v in model.state_dict().items()})
    report = {"train_loss": losses, "trajectories": len(trajectories),
              "right_share": sum(t.right for t in trajectories) / len(trajectories)}
    if val:
        model.load_state_dict(best[1])
        chosen = min(range(len(held_out)), key=lambda i: held_out[i]["loss"])
        report.update(val=held_out[chosen], chosen_epoch=chosen + 1, val_per_epoch=held_out)
    return model.eval(), report


def _loss(model: ValueModel, batch: list[Trajectory]) -> torch.Tensor:
    features, lengths = pad([t.features for t in batch])
    logits = model(features)  # (batch, longest)
    mask = torch.arange(logits.shape[1])[None] < lengths[:, None]
    labels = torch.tensor([float(t.right) for t in batch])[:, None].expand_as(logits)
    loss = nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    return (loss * mask).sum() / mask.sum()


@torch.no_grad()
def evaluate_value(model: ValueModel, trajectories: list[Trajectory]) -> dict:
    """Loss, and the AUC of the final thought's value at telling right trajectories from wrong ones."""
    features, lengths = pad([t.features for t in trajectories])
    final = model(features)[torch.arange(len(trajectories)), lengths - 1].tolist()
    rights = [f for f, t in zip(final, trajectories) if t.right]
    wrongs = [f for f, t in zip(final, trajectories) if not t.right]
    auc = (sum((r > w) + 0.5 * (r == w) for r in rights for w in wrongs) / (len(rights) * len(wrongs))
           if rights and wrongs else None)  # undefined when every trajectory is right, or every one wrong
    return {"loss": float(_loss(model, trajectories)), "auc": auc, "n": len(trajectories)}


# ----------------------------------------------------------------------------- collecting trajectories


def collect(model, codec, records, recipe, options, rollouts: int = 8, sigmas=(0.0, 0.1, 0.2, 0.3),
            n_thoughts: int | str | None = None, progress: bool = False, source: str = "data") -> list[Trajectory]:
    """`rollouts` noisy trajectories of every question (question i at noise sigmas[i % len]), each with its
    per-thought features and whether its final answer is right (the right candidate comes first)."""
    from dataclasses import replace

    from latentsearch.data.examples import encode_records
    from latentsearch.evaluate import candidate_answers
    from latentsearch.latent.space import LatentSpace
    from latentsearch.latent.strategies import prompt_item
    from latentsearch.latent.strategies import rollouts as all_rollouts

    out = []
    pairs = list(zip(records, encode_records(records, codec, source)))
    for i, (record, example) in enumerate(tqdm(pairs, desc="rollouts", disable=not progress)):
        item = prompt_item(recipe, example, record, n_thoughts)
        config = options.space_config(max(item.n_thoughts, 1), root_children=rollouts, children=1)
        config = replace(config, perturb=replace(config.perturb, sigma=sigmas[i % len(sigmas)]), seed=options.seed + i)
        space = LatentSpace(model, item.prompt, item.after, candidate_answers(record, codec), config)
        with torch.no_grad():
            finals = all_rollouts(space)
        out += [Trajectory(path_features(n.handle), n.handle.answer == 0) for n in finals]
    return out
