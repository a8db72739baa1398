"""Reading a model file a person chose: whole, with its sha256, refusing what is no plain file.

Shared by every format's reader (FaceStudio safetensors, foreign PyTorch checkpoints, the
factor encoder), so the checks against FIFOs, devices, huge files and files that change
while read are written once.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from facestudio.errors import ModelFileError

MAX_FILE_BYTES = 4 * 1024**3


def _regular_file_size(path: Path) -> int:
    """Size of `path`, refusing what is not a plain file (a FIFO or /dev/zero never ends)."""
    label = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ModelFileError(f"{label} does not exist.") from None
    except OSError as exc:
        raise ModelFileError(f"{label} cannot be read: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise ModelFileError(f"{label} is a folder, not a model file.")
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(f"{label} is not a regular file (a device or pipe?); choose a model file.")
    if info.st_size > MAX_FILE_BYTES:
        raise ModelFileError(f"{label} is {info.st_size / 1e9:.1f} GB, far larger than any DCGAN model; it is not a model file.")
    return info.st_size


def read_model_file(path: Path) -> tuple[bytes, str]:
    """Read a file fully (model files are small) and its sha256, with clear errors."""
    size = _regular_file_size(path)
    try:
        # Non-blocking open and fstat: a path swapped for a FIFO after the stat above
        # must not hang us (the flag does nothing for regular files).
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise ModelFileError(f"{path} is not a regular file (a device or pipe?); choose a model file.")
            # read(n) reserves n bytes up front, so ask for the size stat gave, not the cap.
            data = fh.read(size + 1)
    except OSError as exc:
        raise ModelFileError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if len(data) != size:
        raise ModelFileError(f"{path} changed while it was being read (is it still being written?); try again.")
    return data, hashlib.sha256(data).hexdigest()
