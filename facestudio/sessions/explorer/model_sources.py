"""What a path the person chose is (model file, run folder, face PNG) and which snapshots
a training run folder offers. Qt-free, so the rules are tested without a window."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path

from facestudio.errors import ModelFileError
from facestudio.models import run_folder as rf

MODEL_SUFFIXES = (".safetensors",)
FOREIGN_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".pkl")  # .pkl: StyleGAN2-ADA / StyleGAN3 network pickles
FACE_SUFFIXES = (".png",)
MAX_RECENT = 10


@dataclass(frozen=True)
class Snapshot:
    """One model file inside a run folder, described for a picker."""

    path: Path
    label: str
    modified: float


def path_kind(path: str | os.PathLike) -> str:
    """"run", "model", "foreign", "face" or "unknown" (decided from the name, not the bytes)."""
    p = Path(path)
    if p.is_dir():
        return "run"
    suffix = p.suffix.lower()
    if suffix in MODEL_SUFFIXES:
        return "model"
    if suffix in FOREIGN_SUFFIXES:
        return "foreign"
    if suffix in FACE_SUFFIXES:
        return "face"
    return "unknown"


def run_snapshots(run_dir: str | os.PathLike) -> list[Snapshot]:
    """Model files of a run folder, the one `load_model` opens for the folder first.

    That is the exported model, else the last checkpoint the trainer judged healthy;
    then every checkpoint, newest step first.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise ModelFileError(f"{folder} is not a folder.")
    snaps: list[Snapshot] = []
    exported = folder / rf.MODEL_FILE
    if exported.is_file():
        snaps.append(_snapshot(exported, "final model"))
    good = rf.latest_good_path(folder)
    if good.is_file():
        snaps.append(_snapshot(good, "last healthy checkpoint"))
    for ckpt in reversed(rf.checkpoint_files(folder)):
        snaps.append(_snapshot(ckpt, f"checkpoint {ckpt.stem}"))
    if not snaps:
        raise ModelFileError(
            f"{folder} holds no model.safetensors and no checkpoints/*.safetensors; is it a FaceStudio run folder?"
        )
    return snaps


def _snapshot(path: Path, label: str) -> Snapshot:
    mtime = path.stat().st_mtime
    when = _dt.datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M")
    return Snapshot(path=path, label=f"{label}  ({path.name}, {when})", modified=mtime)


def still_openable(entry: str) -> bool:
    """A recent-models entry worth listing: an existing file or folder, or a model id."""
    from facestudio.models.mobilestylegan.convert import MODEL_ID

    return entry == MODEL_ID or Path(entry).exists()


def updated_recent(recent: list[str], path: str | os.PathLike, *, limit: int = MAX_RECENT) -> list[str]:
    """`recent` with `path` moved to the front, duplicates and vanished files removed.

    Model ids ("mobilestylegan-ffhq") are kept as they are, not turned into paths."""
    from facestudio.models.mobilestylegan.convert import MODEL_ID, is_model_id

    first = MODEL_ID if is_model_id(path) else str(Path(path).expanduser().absolute())
    rest = [p for p in recent if isinstance(p, str) and p != first and still_openable(p)]
    return [first, *rest][:limit]
