"""torchrun with two CPU processes (gloo) trains the same weights as one process on the same global batch."""

import os
import subprocess
import sys

import torch

from latentsearch.data.schema import load_records, save_records
from latentsearch.methods import Curriculum
from latentsearch.models.checkpoint import load_checkpoint
from latentsearch.train.trainer import Trainer
from test_train import config_for

ARGS = ["--method", "coconut", "--epochs", "2", "--epochs-per-stage", "1", "--max-stage", "1", "--batch-size", "16",
        "--lr", "1e-3", "--warmup-steps", "2", "--d-model", "64", "--max-positions", "64", "--no-progress"]


def test_two_gloo_processes_match_one_process(one_hop, tmp_path):
    save_records(load_records(one_hop / "train.jsonl")[:100], tmp_path / "train.jsonl")  # 7 steps per epoch
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # `python -m torch.distributed.run` is torchrun, bound to this interpreter.
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "latentsearch", "train", "--train", str(tmp_path / "train.jsonl"), "--out", str(tmp_path / "ddp"),
               *ARGS]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count('"output"') == 1  # only rank 0 prints

    single = config_for(tmp_path, tmp_path / "one", val="", method="coconut", epochs=2, batch_size=16, lr=1e-3,
                        warmup_steps=2, curriculum=Curriculum(epochs_per_stage=1, max_stage=1))
    Trainer(single, progress_bar=False).run()
    a, _, _ = load_checkpoint(tmp_path / "ddp" / "checkpoint")
    b, _, _ = load_checkpoint(tmp_path / "one" / "checkpoint")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=0, msg=name)
