"""Atomic file writes: a temporary file in the target folder, then an atomic rename."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def append_line(path: str | os.PathLike, line: str) -> None:
    """One line appended with a single write(): a killed process leaves whole lines only."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike, error: type[Exception] = ValueError) -> str:
    """A UTF-8 text file's contents; a missing file, a folder or other bytes raise `error` naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a data file") from None
    try:
        return data.decode("utf-8-sig")  # tolerate a byte-order mark
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        bad = data[err.start]
        raise error(f"{path.name}: not UTF-8 text (byte 0x{bad:02x} on line {line})") from None


def check_output(path: str | os.PathLike, inputs=(), folder: bool = False) -> None:
    """Refuse, before any work, an output that is one of the inputs or of the wrong kind (file vs folder)."""
    out = Path(path)
    for given in inputs:
        if out.exists() and Path(given).exists() and os.path.samefile(out, given):
            raise ValueError(f"{path}: this output is also an input ({given}); choose another output")
    if folder and out.exists() and not out.is_dir():
        raise ValueError(f"{path}: is a file; the output here is a folder")
    if not folder and out.is_dir():
        raise ValueError(f"{path}: is a folder; give a file name")
