"""Checkpoints: a folder of safetensors weights, HF config.json, meta.json and the tokenizer.

Optimizer and RNG state sit beside the weights as safetensors + JSON. Nothing is ever unpickled.
A folder is written under a temporary name and renamed into place, so a crash leaves either the
old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, PreTrainedModel

import latentsearch
from latentsearch import faults
from latentsearch.data.tokenizer import Codec
from latentsearch.errors import CheckpointError
from latentsearch.io import atomic_write_json
from latentsearch.models import shipped
from latentsearch.models.factory import parameter_bytes, quietly

REQUIRED_FILES = ("config.json", "model.safetensors", "meta.json", "tokenizer.json", "rendering.txt")


def git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def save_checkpoint(folder, model: PreTrainedModel, codec: Codec, meta: dict, optimizer=None,
                    state: dict | None = None):
    """Write the whole checkpoint to `folder` atomically (temporary folder, then rename)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _write(tmp, model, codec, meta, optimizer, state)
    except BaseException:  # a full disk, a kill: the half-written folder goes, the last whole one stays
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap_into_place(tmp, folder)


def _write(tmp: Path, model, codec: Codec, meta: dict, optimizer, state: dict | None) -> None:
    model.save_pretrained(tmp, safe_serialization=True)
    faults.reached("save")
    codec.save(tmp)
    full_meta = {
        "latentsearch": latentsearch.__version__, "torch": torch.__version__,
        "transformers": transformers.__version__, "git_sha": git_sha(), **meta,
    }
    atomic_write_json(tmp / "meta.json", full_meta)
    if optimizer is not None:
        save_optimizer(tmp, optimizer)
    if state is not None:
        save_trainer_state(tmp, state)


def _swap_into_place(tmp: Path, folder: Path) -> None:
    """At every moment `folder` or its `.old` twin holds a whole checkpoint (see `resolve`)."""
    old = folder.with_name(folder.name + ".old")
    if folder.exists():  # else `.old` may be the only whole checkpoint left by a crash: keep it until the end
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
        faults.reached("swap")
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def resolve(folder) -> Path:
    """A shipped model's folder for its short name; else the folder itself, or its `.old` twin when a
    crash hit between the two renames."""
    folder = Path(shipped.resolve(str(folder)))
    old = folder.with_name(folder.name + ".old")
    return old if not folder.exists() and old.exists() else folder


def is_pretrained_lm(spec: str) -> bool:
    """`smollm2`, a hub name, or an HF model folder -- anything but one of our checkpoint folders."""
    folder = resolve(spec)
    if spec == "smollm2" or not folder.exists():
        return spec == "smollm2" or "/" in spec and not spec.startswith((".", "/"))
    ours = any((folder / name).is_file() for name in ("meta.json", "rendering.txt"))
    return not ours and (folder / "config.json").is_file()


def check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: checkpoint folder not found")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(f"{folder}: checkpoint is missing {', '.join(missing)}")


def load_checkpoint(folder) -> tuple[PreTrainedModel, Codec, dict]:
    """Model (eval mode), codec and meta. Loading runs no code from the folder."""
    folder = resolve(folder)
    check_folder(folder)
    check_size(folder)
    check_weight_types(folder / "model.safetensors")
    try:
        with quietly():
            model, info = AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True, trust_remote_code=False,
                                                               output_loading_info=True)
    except Exception as err:  # a damaged file fails in whichever library layer reads it first
        why = _first_line(err)
        if "ignore_mismatched_sizes" in why:  # transformers' own line points at a report we silence
            why = "a tensor's shape does not match config.json"
        raise CheckpointError(f"{folder}: cannot load the weights: {why}") from None
    check_loaded(info, folder)
    check_finite(model, folder)
    try:
        codec = Codec.load(folder)
    except ValueError as err:
        raise CheckpointError(str(err)) from None
    needed = max(codec.vocab.values()) + 1
    if needed > model.get_input_embeddings().num_embeddings:
        raise CheckpointError(f"{folder}: the tokenizer uses token ids up to {needed - 1} but the model has only "
                              f"{model.get_input_embeddings().num_embeddings} embeddings")
    meta = read_meta(folder)
    codec.untrained = frozenset(meta.get("untrained_words", ()))
    return model.eval(), codec, meta


def check_size(folder: Path) -> None:
    """Refuse, before building anything, a config.json whose model would not fit the memory budget."""
    from latentsearch import limits

    try:
        needed = parameter_bytes(read_config(folder))
    except ValueError as err:
        raise CheckpointError(f"{folder}: {err}") from None
    limits.check(f"the model of {folder / 'config.json'}", needed)


def read_config(folder: Path) -> dict:
    """The saved model config as a dict ({} when it is not an object); a clear error when it is not JSON."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise CheckpointError(f"{folder / 'config.json'}: invalid JSON ({type(err).__name__})") from None
    return config if isinstance(config, dict) else {}


def check_weight_types(path: Path) -> None:
    """Every stored tensor is floating point (an integer tensor would be cast without a word)."""
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as weights:
            kinds = {name: weights.get_slice(name).get_dtype() for name in weights.keys()}
    except MemoryError:
        raise
    except Exception:  # not a safetensors file: the loader below names it, as before
        return
    wrong = sorted(name for name, kind in kinds.items() if not kind.startswith(("F", "BF")))
    if wrong:
        raise CheckpointError(f"{path}: {wrong[0]} is stored as {kinds[wrong[0]]}, not as floating point numbers")


def check_loaded(info: dict, folder: Path) -> None:
    """The file's tensors are exactly the ones the config's model needs: none missing, none left over."""
    for key, what in (("missing_keys", "lacks"), ("mismatched_keys", "has the wrong shape for"),
                      ("unexpected_keys", "holds tensors the model does not have, e.g.")):
        names = sorted(str(n if isinstance(n, str) else n[0]) for n in info.get(key) or ())
        if names:
            raise CheckpointError(f"{folder / 'model.safetensors'} {what} {names[0]}"
                                  + (f" (and {len(names) - 1} more)" if len(names) > 1 else "")
                                  + " for the model of config.json")


def check_finite(model, folder) -> None:
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{folder}: the weights hold NaN or infinite numbers ({name})")


def read_meta(folder: Path) -> dict:
    path = folder / "meta.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: invalid JSON ({_first_line(err)})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: must hold a JSON object")
    if "method" not in meta:  # without it the model would be read as a CoT model, whatever it is
        raise CheckpointError(f'{path}: lacks "method" (the training method: cot, coconut, ...)')
    words = meta.get("untrained_words", [])
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise CheckpointError(f'{path}: "untrained_words" must be a list of words')
    return meta


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def save_optimizer(folder: Path, optimizer: torch.optim.Optimizer) -> None:
    """Optimizer state as flat safetensors (`state.<param>.<key>`) plus its param groups as JSON."""
    sd = optimizer.state_dict()
    tensors = {
        f"state.{param}.{key}": value.detach().clone().contiguous() if torch.is_tensor(value) else torch.tensor(value)
        for param, entry in sd["state"].items()
        for key, value in entry.items()
    }
    save_file(tensors, str(folder / "optimizer.safetensors"))
    atomic_write_json(folder / "optimizer.json", sd["param_groups"])


def load_optimizer(folder, optimizer: torch.optim.Optimizer) -> None:
    folder = resolve(folder)
    with _resuming(folder / "optimizer.safetensors"):
        state: dict[int, dict] = {}
        for name, value in load_file(str(folder / "optimizer.safetensors")).items():
            _, param, key = name.split(".", 2)
            state.setdefault(int(param), {})[key] = value
    with _resuming(folder / "optimizer.json"):
        groups = json.loads((folder / "optimizer.json").read_text())
        optimizer.load_state_dict({"state": state, "param_groups": groups})


@contextmanager
def _resuming(path: Path):
    """A damaged or missing file of the training state: one line naming it, not a traceback."""
    try:
        yield
    except Exception as err:  # noqa: BLE001 - safetensors, JSON and torch each raise their own kinds
        raise CheckpointError(f"{path}: cannot resume from it ({_first_line(err)[:160]}); start the run in a new "
                              f"folder, or --init from {path.parent} without --resume") from None


def save_trainer_state(folder: Path, state: dict) -> None:
    """Counters as JSON; torch's CPU RNG state as a safetensors tensor."""
    save_file({"torch_rng": torch.get_rng_state()}, str(folder / "rng.safetensors"))
    atomic_write_json(folder / "trainer_state.json", state)


def load_trainer_state(folder, keys) -> dict:
    """The counters saved beside the weights, which must be exactly `keys`; restores torch's RNG."""
    folder = resolve(folder)
    with _resuming(folder / "rng.safetensors"):
        torch.set_rng_state(load_file(str(folder / "rng.safetensors"))["torch_rng"])
    with _resuming(folder / "trainer_state.json"):
        state = json.loads((folder / "trainer_state.json").read_text())
        if not isinstance(state, dict) or set(state) != set(keys) or not all(
                type(v) in (int, float) and v >= (-1 if k == "best_accuracy" else 0) for k, v in state.items()):
            raise ValueError(f"expected a JSON object of the counters {', '.join(keys)}")
    return state
