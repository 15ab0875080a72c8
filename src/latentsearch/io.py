"""Files, safely: atomic writes (a temporary file in the target folder, then an atomic rename; a
symlink is written through, never replaced), whole-line appends, reads that refuse what is not a
regular file, outputs checked against inputs, and a lock for a folder one process owns."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees either the old file or the whole new one (a full disk
    leaves the old one). A symlink keeps pointing where it did: its target is what gets replaced."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
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
    """Strict JSON: a NaN or infinite number is written as null (json.dumps would write NaN, which
    strict parsers refuse)."""
    atomic_write_text(path, json.dumps(strict_json(obj), indent=2, allow_nan=False) + "\n")


def strict_json(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {key: strict_json(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(value) for value in obj]
    return obj


def append_line(path: str | os.PathLike, line: str) -> None:
    """One line appended with a single write(): a killed process leaves whole lines only, and a short
    write (a full disk) is cut back off and raised, so the file never ends in half a line."""
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
        except OSError:
            os.ftruncate(fd, size)
            raise
        if written != len(data):
            os.ftruncate(fd, size)
            raise OSError(28, f"{path}: short write ({written} of {len(data)} bytes): is the disk full?")
    finally:
        os.close(fd)


MAX_READ = 8 << 30  # bytes; a data file larger than this is refused before it is read


def _why_missing(path: Path) -> str:
    """Why a path does not lead to a file: a symlink loop or a dangling link, a parent that is a file, or
    nothing there."""
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError:
            return "a symlink loop"
        except OSError:
            return f"a symlink to nothing ({os.readlink(path)})"
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        return f"{parent} is a file, not a folder"
    return "no such file"


def read_text(path: str | os.PathLike, error: type[Exception] = ValueError) -> str:
    """A UTF-8 text file's contents; a missing file, a folder, a FIFO or device, an unreadable path or
    other bytes raise `error` naming the file (no read can hang or fill the memory)."""
    path = Path(path)
    try:
        if path.is_dir():
            raise error(f"{path}: is a directory, not a data file")
        if not path.exists():
            raise error(f"{path}: {_why_missing(path)}")
        if not path.is_file():
            raise error(f"{path}: is not a regular file (a FIFO, socket or device cannot be read as data)")
        if path.stat().st_size > MAX_READ:
            raise error(f"{path}: {path.stat().st_size:,} bytes is more than the {MAX_READ:,} a data file may hold")
        data = path.read_bytes()
    except OSError as err:  # a loop of links, a path through a file, a name too long, no permission
        raise error(f"{path}: cannot be read ({err.strerror or err})") from None
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
    if not folder and (out.is_dir() or str(path).endswith(("/", os.sep))):
        raise ValueError(f"{path}: is a folder; give a file name")
    if not folder and _holds_a_model(Path(os.path.realpath(out.parent))):
        raise ValueError(f"{path}: {out.parent} holds a model (weights or meta.json); write outside it")
    _check_writable(out if folder and out.is_dir() else out.parent, path)


def _holds_a_model(folder: Path) -> bool:
    """A checkpoint, value-model or HMM folder: a file written there could replace what loads it."""
    return folder.is_dir() and ((folder / "meta.json").exists() or any(folder.glob("*.safetensors")))


def _check_writable(where: Path, path) -> None:
    """The nearest existing folder of an output takes a file (a read-only or full disk fails here, before
    any work, not at the end)."""
    import tempfile

    while not where.exists() and where != where.parent:
        where = where.parent
    if not where.is_dir():
        raise ValueError(f"{path}: {where} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as err:
        raise ValueError(f"{path}: cannot write in {where} ({err.strerror or type(err).__name__})") from None


class FolderLock:
    """An exclusive lock on a folder (its `.lock` file), held while one process writes there."""

    def __init__(self, folder: str | os.PathLike):
        self.path = Path(folder) / ".lock"
        self.fd: int | None = None

    def __enter__(self) -> "FolderLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(self.fd)
            raise ValueError(f"{self.path.parent}: another process (pid {owner}) is writing there; "
                             "wait for it or choose another folder") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock; the file stays (removing it would race)
