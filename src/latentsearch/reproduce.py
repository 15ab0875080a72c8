"""`latentsearch reproduce prosqa -o DIR`: from nothing to a Coconut model, in one resumable command.

The schedule is the best recipe the lineage of the shipped model taught (docs/experiments.md), written
down once: generated data -> CoT from scratch (it must learn to follow edges before any latent stage)
-> Coconut's curriculum with stage mixing (each example at a random stage with probability 0.3: worth
about 28 points) and a small frontier loss (thought k's lens pulled onto the BFS layer F_k, which keeps
the first latent stages from collapsing) -> grown by one identity block, the last stage on fresh questions
(more of them on a GPU) -> the model chosen on generated validation questions -> scored on the real
validation split (if given) -> a report. Every phase writes DIR/PHASE/done.json when it ends; an
interrupted run picks up at the first phase without one (training phases resume from their last
checkpoint). With a time budget every training phase gets its share of it and stops there.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from latentsearch.io import FolderLock, atomic_write_json, read_text


@dataclass(frozen=True)
class Phase:
    name: str  # its folder under DIR
    method: str  # a training method (methods.py)
    data: str  # the training file, a key of Schedule.data
    epochs: int
    minutes: float  # its planned share of the time (budgets scale these)
    init: str = ""  # the phase whose chosen checkpoint it starts from ("" = a fresh model)
    lr: float = 1e-3
    batch_size: int = 32
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    epochs_per_stage: int = 1
    mix_prob: float = 0.0
    add_layers: int = 0
    frontier_loss: float = 0.0  # weight of train/frontier.py's loss (latent methods only)


@dataclass(frozen=True)
class Schedule:
    name: str  # how `reproduce` names it (SCHEDULES)
    data: dict  # name -> (questions, seed): generated with the real distribution, the real split excluded
    phases: tuple[Phase, ...]
    layers: int = 2  # the fresh model: GPT-2 family, 128-d, 4 heads
    d_model: int = 128
    val: int = 500  # generated validation questions scored after every epoch
    choose: int = 2000  # generated questions the candidates are compared on at the end

    def minutes(self) -> float:
        return sum(p.minutes for p in self.phases)


# Measured on the 2-core CPU (docs/reproduce.md): CoT escapes its edge-following plateau after about 12k
# steps of 32; one curriculum epoch at batch 256 takes about 5 minutes. From this schedule's own CoT, the
# curriculum without frontier loss fell to 51-65% (one epoch a stage) or 59-69% (two) from stage 1 on;
# two epochs with frontier loss 0.1 held 72-88% (0.3 gave the same, run 4). On the fresh data, a third layer
# (run 5: 88.0% real, 143.5 min) beats the same two epochs at two layers (run 3: 86.7%, 136.9 min); skipping
# the curriculum for all-latent training from the CoT reached 80.8% in 8 epochs (the curriculum: 88.4% in 16).
CPU = Schedule(
    name="cpu",
    data={"train": (100_000, 1), "fresh": (200_000, 2)},
    phases=(
        Phase("cot", "cot", "train", epochs=8, minutes=30),
        Phase("curriculum", "coconut", "train", epochs=16, minutes=82, init="cot", batch_size=256, lr=1e-3,
              epochs_per_stage=2, mix_prob=0.3, min_lr_ratio=0.3, frontier_loss=0.1),
        Phase("deeper", "coconut-no-curriculum", "fresh", epochs=2, minutes=29, init="curriculum", batch_size=256,
              lr=3e-4, warmup_steps=50, mix_prob=0.3, add_layers=1),
    ),
)
GPU = replace(CPU, name="gpu", data={"train": (100_000, 1), "fresh": (600_000, 2)}, phases=(
    Phase("cot", "cot", "train", epochs=16, minutes=2.5, batch_size=64, lr=2e-3),
    Phase("curriculum", "coconut", "train", epochs=24, minutes=4, init="cot", batch_size=256, epochs_per_stage=2,
          mix_prob=0.3, min_lr_ratio=0.3, frontier_loss=0.1),
    Phase("deeper", "coconut-no-curriculum", "fresh", epochs=3, minutes=3, init="curriculum", batch_size=256,
          lr=2e-4, mix_prob=0.3, add_layers=1),
))
QUICK = Schedule(  # the same code path in a few minutes, for CI and the docs (not a good model)
    name="quick", data={"train": (300, 1), "fresh": (300, 2)}, val=50, choose=50, layers=1, d_model=32,
    phases=(Phase("cot", "cot", "train", epochs=2, minutes=1),
            Phase("curriculum", "coconut", "train", epochs=3, minutes=1, init="cot", mix_prob=0.3,
                  epochs_per_stage=1, frontier_loss=0.1),
            Phase("deeper", "coconut-no-curriculum", "fresh", epochs=1, minutes=1, init="curriculum",
                  add_layers=1, mix_prob=0.3)),
)
SCHEDULES = {"cpu": CPU, "gpu": GPU, "quick": QUICK}
MARK = "reproduce.json"  # a run folder's settings: a folder without it is not ours to write in
FINAL_MINUTES = 5  # of a budget, kept for choosing, the real-split eval and the report
LATENT = {"coconut", "coconut-no-curriculum"}


@dataclass
class Reproduction:
    out: Path
    schedule: Schedule
    real: str = ""  # the real validation split, when there is one
    budget_minutes: float | None = None
    seed: int = 0  # the models' initialisation and batch order (the data stay the same)
    precision: str = "fp32"  # every training phase's (accel.py)
    compile: str = "off"

    def say(self, phase: str, line: str) -> None:
        print(f"[{phase}] {line}", flush=True)

    def run(self) -> dict:
        started = time.time()
        end = started + 60 * (self.budget_minutes - FINAL_MINUTES) if self.budget_minutes else None
        self.claim()  # before the lock, which would leave a .lock in a folder it refuses
        with FolderLock(self.out):
            atomic_write_json(self.out / MARK, self.claim())  # checked again: no other process writes now
            self.data()
            for i, phase in enumerate(self.schedule.phases):
                self.train(phase, self.deadline(end, self.schedule.phases[i:]))
            chosen = self.choose()
            summary = {"chosen": chosen, **self.evaluate(chosen), "minutes": round((time.time() - started) / 60, 1)}
            atomic_write_json(self.out / "summary.json", summary)
        self.say("done", json.dumps(summary))
        return summary

    def settings(self) -> dict:
        """What a resumed run must share with the run it resumes (the budget may change)."""
        from latentsearch.data.schema import load_records

        questions = "\n".join(r.question for r in load_records(self.real)) if self.real else ""
        real = hashlib.sha256(questions.encode()).hexdigest() if self.real else ""  # the questions data/ excludes
        return {"task": "prosqa", "schedule": self.schedule.name, "seed": self.seed, "real_sha256": real,
                "precision": self.precision, "compile": self.compile}

    def claim(self) -> dict:
        """This run's settings, once the folder is known to be new, empty, or a reproduce run with the same
        settings: files of anything else could be overwritten (data/, report/), so such a folder is refused."""
        mark, settings = self.out / MARK, self.settings()
        if mark.exists():
            before = _settings(mark)
            for key, value in settings.items():
                if before.get(key) != value:
                    raise ValueError(f"{self.out}: a reproduce run with {key} = {before.get(key)!r}, not "
                                     f"{value!r}; resume it with its own settings or give another folder")
            return settings
        found = sorted(p.name for p in self.out.iterdir() if p.name != ".lock") if self.out.is_dir() else []
        if found:
            raise ValueError(f"{self.out}: holds {found[0]!r} and is not a reproduce run (no {MARK}); give a "
                             "new or empty folder, so that nothing in it is overwritten")
        return settings

    # --- phases -------------------------------------------------------------------------------------
    def data(self) -> None:
        folder = self.out / "data"
        if (folder / "done.json").is_file():
            return
        from latentsearch.data.schema import load_records, save_records
        from latentsearch.tasks import get

        task = get("prosqa")
        exclude = {r.question for r in load_records(self.real)} if self.real else set()
        sets = {**self.schedule.data, "val": (self.schedule.val, 54_321), "choose": (self.schedule.choose, 777)}
        for name, (n, seed) in sets.items():
            records = task.generate(n, seed, exclude_questions=exclude, progress=True)
            exclude |= {r.question for r in records}  # no question in two sets
            save_records(records, folder / f"{name}.jsonl")
        atomic_write_json(folder / "done.json", {name: n for name, (n, _) in sets.items()})
        self.say("data", ", ".join(f"{name} {n:,}" for name, (n, _) in sets.items()) + " questions")

    def train(self, phase: Phase, deadline: float | None) -> None:
        from latentsearch.methods import Curriculum
        from latentsearch.models.factory import ModelConfig
        from latentsearch.train.config import TrainConfig
        from latentsearch.train.trainer import Trainer

        folder = self.out / phase.name
        if (folder / "done.json").is_file():
            return
        config = TrainConfig(
            train=str(self.out / "data" / f"{phase.data}.jsonl"), val=str(self.out / "data" / "val.jsonl"),
            out=str(folder), method=phase.method, val_limit=0, epochs=phase.epochs, batch_size=phase.batch_size,
            lr=phase.lr, warmup_steps=phase.warmup_steps, min_lr_ratio=phase.min_lr_ratio,
            init=str(self.checkpoint(phase.init)) if phase.init else "", add_layers=phase.add_layers,
            model=ModelConfig(n_layer=self.schedule.layers, d_model=self.schedule.d_model), save_every=200,
            frontier_loss=phase.frontier_loss, seed=self.seed, precision=self.precision, compile=self.compile,
            curriculum=Curriculum(epochs_per_stage=phase.epochs_per_stage, max_stage=6, mix_prob=phase.mix_prob))
        start = time.time()
        trainer = Trainer(config, resume=(folder / "config.json").is_file())
        summary = trainer.run(deadline=deadline)
        result = {"minutes": round((time.time() - start) / 60, 1), "epochs": trainer.state.epoch,
                  "stopped_by_budget": trainer.out_of_time, "best_val_accuracy": trainer.state.best_accuracy,
                  "last_val": summary, "phase": asdict(phase)}
        atomic_write_json(folder / "done.json", result)
        self.say(phase.name, f"{result['epochs']} epochs in {result['minutes']} min, best generated val "
                             f"{trainer.state.best_accuracy:.1%}" + (" (stopped by the budget)" * trainer.out_of_time))

    @staticmethod
    def deadline(end: float | None, phases) -> float | None:
        """This phase's share of the time left: phases split what remains by their planned minutes."""
        if end is None:
            return None
        return time.time() + max(0.0, end - time.time()) * phases[0].minutes / sum(p.minutes for p in phases)

    def checkpoint(self, phase: str) -> Path:
        """A phase's chosen model: its best validation checkpoint, else its latest."""
        best = self.out / phase / "best"
        return best if (best / "model.safetensors").is_file() else self.out / phase / "checkpoint"

    def choose(self) -> str:
        """The latent phases' models compared on the larger generated set; the best wins (real data unseen)."""
        folder = self.out / "choose"
        if (folder / "done.json").is_file():
            return json.loads((folder / "done.json").read_text())["chosen"]
        scores = {p.name: self.score(self.checkpoint(p.name), self.out / "data" / "choose.jsonl")["accuracy"]
                  for p in self.schedule.phases if p.method in LATENT and self.checkpoint(p.name).exists()}
        chosen = max(scores, key=scores.get)
        atomic_write_json(folder / "done.json", {"chosen": chosen, "generated_accuracy": scores})
        self.say("choose", ", ".join(f"{k} {v:.1%}" for k, v in scores.items()) + f" on generated questions: {chosen}")
        return chosen

    def evaluate(self, chosen: str) -> dict:
        model = self.checkpoint(chosen)
        generated = self.score(model, self.out / "data" / "choose.jsonl")["accuracy"]
        out = {"model": str(model), "generated_accuracy": generated}
        if self.real:
            out["real_accuracy"] = self.score(model, Path(self.real))["accuracy"]
            self.say("eval", f"{out['real_accuracy']:.1%} on the real split ({Path(self.real).name})")
        self.report(model)
        return out

    def score(self, model: Path, data: Path) -> dict:
        from latentsearch.data.schema import load_records
        from latentsearch.evaluate import evaluate
        from latentsearch.methods import Recipe
        from latentsearch.models.checkpoint import load_checkpoint

        net, codec, meta = load_checkpoint(model)
        recipe, stage = Recipe.from_meta(meta, codec)
        return evaluate(net, codec, load_records(data), recipe, stage=stage).summary

    def report(self, model: Path) -> None:
        from latentsearch.data.schema import load_records
        from latentsearch.methods import Recipe
        from latentsearch.models.checkpoint import load_checkpoint
        from latentsearch.probe.report import write_report
        from latentsearch.probe.run import probe, write_probe

        net, codec, meta = load_checkpoint(model)
        recipe, _ = Recipe.from_meta(meta, codec)
        records = load_records(self.real or self.out / "data" / "choose.jsonl")[:100]
        result = probe(net, codec, records, recipe, recipe.curriculum.final_stage, 6, trees=1)
        write_probe(result, self.out / "report", figures=1)
        self.say("report", str(write_report(self.out / "report", self.out / "report" / "report.html")))


def _settings(mark: Path) -> dict:
    try:
        settings = json.loads(read_text(mark))
    except (json.JSONDecodeError, RecursionError) as err:  # as checkpoint.py: nesting too deep is not JSON here
        where = f"{err.msg}, line {err.lineno}" if isinstance(err, json.JSONDecodeError) else "nested too deep"
        raise ValueError(f"{mark}: not JSON ({where}); a reproduce run writes its settings there, so this "
                         "folder's run cannot be resumed") from None
    if not isinstance(settings, dict):
        raise ValueError(f"{mark}: holds a {type(settings).__name__}, not a reproduce run's settings")
    return settings


def reproduce(task: str, out: str, schedule: str = "cpu", real: str = "", budget_minutes: float | None = None,
              seed: int = 0, precision: str = "fp32", compile: str = "off") -> dict:
    if task != "prosqa":
        raise ValueError(f"reproduce knows the recipe for prosqa only, not {task!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")
    return Reproduction(Path(out), SCHEDULES[schedule], real, budget_minutes, seed, precision, compile).run()
