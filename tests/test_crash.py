"""Crash safety: training killed with SIGKILL (mid-epoch, mid-checkpoint-write, between the renames)
resumes to the same weights, optimizer state, RNG state and metrics as a run never interrupted."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from latentsearch.data.schema import save_records
from latentsearch.tasks.prosqa_gen import ProsQAConfig, generate

STEPS_PER_EPOCH = 6  # 24 questions, batch 4


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("crash_data")
    config = ProsQAConfig.sized(nodes=8, depth=2)
    save_records(generate(24, seed=5, config=config), folder / "train.jsonl")
    save_records(generate(8, seed=6, config=config), folder / "val.jsonl")
    return folder / "train.jsonl", folder / "val.jsonl"


def train(data, out: Path, kill_at: str = "", resume: bool = False) -> int:
    """Coconut through a stage change (optimizer reset) with mid-epoch checkpoints, in a fresh process."""
    train_file, val_file = data
    argv = [sys.executable, "-m", "latentsearch", "train", "--method", "coconut", "--train", str(train_file),
            "--val", str(val_file), "--out", str(out), "--epochs", "3", "--epochs-per-stage", "1", "--max-stage", "1",
            "--batch-size", "4", "--save-every", "2", "--log-every", "1", "--d-model", "32", "--layers", "1",
            "--heads", "2", "--no-progress"] + (["--resume"] if resume else [])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LATENTSEARCH_KILL_AT": kill_at}
    return subprocess.run(argv, env=env, capture_output=True, timeout=300).returncode


def final_state(out: Path) -> dict:
    checkpoint = out / "checkpoint"
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {
        "model": load_file(checkpoint / "model.safetensors"),
        "optimizer": load_file(checkpoint / "optimizer.safetensors"),
        "rng": load_file(checkpoint / "rng.safetensors"),
        "trainer": json.loads((checkpoint / "trainer_state.json").read_text()),
        "best": load_file(out / "best" / "model.safetensors"),
        "metrics": [{k: v for k, v in m.items() if k not in ("time", "tokens_per_s", "val_seconds")} for m in metrics],
    }


def assert_same(a: dict, b: dict) -> None:
    for part in ("model", "optimizer", "rng", "best"):
        assert a[part].keys() == b[part].keys()
        for name in a[part]:
            assert a[part][name].equal(b[part][name]), f"{part}: {name} differs"
    assert a["trainer"] == b["trainer"]
    assert a["metrics"] == b["metrics"]


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("whole") / "run"
    assert train(data, out) == 0
    return final_state(out)


# step 9: mid-epoch 2, one step after the checkpoint at step 8, so that step's work is lost and redone;
# save 5: writing the mid-epoch checkpoint of step 8; swap 3: the end-of-epoch-1 checkpoint, old one moved aside.
@pytest.mark.parametrize("kill_at", ["step:9", "save:5", "swap:3"])
def test_sigkill_then_resume_equals_uninterrupted(kill_at, data, uninterrupted, tmp_path):
    out = tmp_path / "run"
    assert train(data, out, kill_at=kill_at) == -signal.SIGKILL
    trainer_state = json.loads((_whole(out / "checkpoint") / "trainer_state.json").read_text())
    assert trainer_state["step"] < 3 * STEPS_PER_EPOCH  # it did die before the end
    assert train(data, out, resume=True) == 0
    assert_same(final_state(out), uninterrupted)
    assert not any(p.name.endswith((".tmp", ".old")) for p in out.iterdir())


def _whole(folder: Path) -> Path:
    old = folder.with_name(folder.name + ".old")
    return folder if folder.exists() else old
