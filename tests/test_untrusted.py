"""Untrusted files: loading a folder never unpickles and never runs code found in it."""

import json
import pickle
import re
import shutil
from pathlib import Path

import pytest

from latentsearch.cli import main
from latentsearch.data.schema import save_records
from latentsearch.models.checkpoint import CheckpointError, load_checkpoint

SRC = Path(__file__).parents[1] / "src" / "latentsearch"
COCONUT = SRC / "assets" / "prosqa-coconut"


class Payload:
    """Unpickling this creates the marker file: proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def plant_pickle(folder: Path, marker: Path) -> None:
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Payload(marker)))


def plant_remote_code(folder: Path, marker: Path) -> None:
    (folder / "evil.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).touch()\n")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModelForCausalLM": "evil.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))


def test_a_checkpoint_with_remote_code_loads_without_running_it(tmp_path):
    folder, marker = tmp_path / "ckpt", tmp_path / "ran"
    shutil.copytree(COCONUT, folder)
    plant_remote_code(folder, marker)
    try:
        load_checkpoint(folder)
    except CheckpointError:
        pass  # refusing is as good as ignoring; running it is not
    assert not marker.exists()


def test_a_pickle_instead_of_safetensors_is_refused_not_loaded(tmp_path, capsys, small_records):
    folder, marker = tmp_path / "ckpt", tmp_path / "unpickled"
    shutil.copytree(COCONUT, folder)
    (folder / "model.safetensors").unlink()
    plant_pickle(folder, marker)
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_checkpoint(folder)
    hf = tmp_path / "hf"  # an HF-style folder: config.json + a pickled state dict only
    hf.mkdir()
    shutil.copy(COCONUT / "config.json", hf / "config.json")
    plant_pickle(hf, marker)
    plant_remote_code(hf, marker)
    save_records(small_records[:4], tmp_path / "x.json")
    for argv in (["search", "--model", str(hf), "Rex"], ["train", "--train", str(tmp_path / "x.json"), "--init",
                                                          str(hf), "--out", str(tmp_path / "run")]):
        assert main(argv) == 2
        assert f"{hf}: cannot load a model" in capsys.readouterr().err
    assert not marker.exists()


def test_the_source_never_unpickles_or_trusts_remote_code():
    forbidden = re.compile(r"torch\.load\(|import pickle|pickle\.load|trust_remote_code\s*=\s*True"
                           r"|weights_only\s*=\s*False")
    offenders = [f"{path.relative_to(SRC)}:{n}" for path in SRC.rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if forbidden.search(line)]
    assert offenders == []
