"""Atomic file writes: a crash, kill or full disk never leaves a half-written file.

Every file FaceStudio writes goes through here: the bytes go to a temporary file in the
same folder (so `os.replace` is a rename on one file system), are flushed and fsynced,
then replace the target in one step. On failure the temporary file is removed and the
previous version of the target is untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator

from facestudio.errors import ConfigError, DiskWriteError


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every OS allows opening a dir)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask_mode() -> int:
    """Mode a plain `open()` would give a new file (mkstemp would make it 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _describe(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"The disk is full, so {path} could not be written; the previous version is intact. Free some space and try again."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"No permission to write {path}; choose another folder."
    return f"Could not write {path}: {exc.strerror or exc}. The previous version, if any, is intact."


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary sibling of `path` for writing; on clean exit it replaces `path`."""
    if "w" not in mode:
        raise ValueError("atomic_open is for writing")
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DiskWriteError(_describe(exc, target)) from exc
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, _umask_mode())
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DiskWriteError(_describe(exc, target)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_with(path: str | os.PathLike, writer: Callable[[IO], None]) -> None:
    """Let `writer(fh)` fill a binary file handle, then publish it atomically."""
    with atomic_open(path, "wb") as fh:
        writer(fh)


def check_parent(path: str | os.PathLike, what: str = "output") -> Path:
    """`path` as a Path if its folder exists, else ConfigError (commands call this first).

    The atomic writers create missing folders (run folders need that); a file a person
    names on the command line must not, or a typo makes folders at the root.
    """
    p = Path(path).expanduser()
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        hint = "it is a file, not a folder" if parent.exists() else "create it first or choose another folder"
        raise ConfigError(f"The folder {parent} for the {what} {p.name} does not exist ({hint}); nothing was written.")
    return p
