"""The layout of a training run folder, in one place: its file names, checkpoint naming
and which file to open. The trainer writes it, `load_model(RUN_DIR)` and the training
room read it; it sits in `facestudio.models` so that model loading (below the trainer)
can use it too.

`runs/NNNNN-<name>/` holds config.json, metrics.jsonl, log.txt, samples/step_NNNNNNN.png,
samples/fixed_z.npy, checkpoints/ckpt_NNNNNNN.safetensors and, at the end,
model.safetensors. Numbered like stylegan's results folders, so runs sort by age and never
collide. Every file in here is written atomically (metrics.jsonl and log.txt are
append-only logs). Checkpoint names zero-pad the step, so lexical order is step order;
`checkpoints/latest_good.safetensors` is the newest checkpoint taken while training looked
healthy (a hard link to it when the file system allows, else a copy).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from facestudio.atomic_file import atomic_write_bytes
from facestudio.errors import ConfigError, DiskWriteError, ModelFileError

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
LOG_FILE = "log.txt"
MODEL_FILE = "model.safetensors"
SAMPLES = "samples"
CHECKPOINTS = "checkpoints"
LATEST_GOOD = "latest_good.safetensors"
FIXED_Z = "fixed_z.npy"
ABANDONED = "abandoned"
BACKGROUND_LOG = "background.txt"  # output of a run continued in the background
_RUN_RE = re.compile(r"^(\d{5,})-")
_CKPT_RE = re.compile(r"^ckpt_(\d{7,})\.safetensors$")
_SAMPLE_RE = re.compile(r"^step_(\d{7,})\.png$")


def create_run_dir(runs_dir: str | os.PathLike, name: str) -> Path:
    """Make `runs_dir/NNNNN-name` with the next free number (safe against a parallel run)."""
    root = Path(runs_dir).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DiskWriteError(f"Cannot create the runs folder {root}: {exc.strerror or exc}. Choose another --runs-dir.") from None
    for _ in range(1000):
        numbers = [int(m.group(1)) for p in root.iterdir() if (m := _RUN_RE.match(p.name))]
        run = root / f"{max(numbers, default=-1) + 1:05d}-{name}"
        try:
            run.mkdir()
        except FileExistsError:
            continue  # another process took this number between listing and mkdir
        except OSError as exc:
            raise DiskWriteError(f"Cannot create the run folder {run}: {exc.strerror or exc}.") from None
        (run / SAMPLES).mkdir()
        (run / CHECKPOINTS).mkdir()
        return run
    raise DiskWriteError(f"Could not find a free run number in {root}.")


def checkpoint_path(run: Path, step: int) -> Path:
    return run / CHECKPOINTS / f"ckpt_{step:07d}.safetensors"


def latest_good_path(run: Path) -> Path:
    return run / CHECKPOINTS / LATEST_GOOD


def sample_path(run: Path, step: int) -> Path:
    return run / SAMPLES / f"step_{step:07d}.png"


def sample_step(name: str) -> int | None:
    """The step of a sample grid's file name, or None for any other file."""
    m = _SAMPLE_RE.match(name)
    return int(m.group(1)) if m else None


def checkpoint_step(path: Path) -> int | None:
    m = _CKPT_RE.match(path.name)
    return int(m.group(1)) if m else None


def list_checkpoints(run: Path) -> list[Path]:
    """Step checkpoints of a run, oldest first (not latest_good, not temporary files)."""
    folder = run / CHECKPOINTS
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if checkpoint_step(p) is not None and p.is_file()]
    return sorted(found, key=lambda p: checkpoint_step(p))


def remove_stale_temporaries(run: Path) -> list[Path]:
    """Delete temporary files a killed run left behind (`.name.XXXX.tmp` of atomic writes)."""
    removed = []
    for folder in (run, run / CHECKPOINTS, run / SAMPLES):
        if folder.is_dir():
            for p in folder.glob(".*.tmp"):
                try:
                    p.unlink()
                    removed.append(p)
                except OSError:
                    pass
    return removed


def publish_latest_good(checkpoint: Path) -> Path:
    """Point checkpoints/latest_good.safetensors at `checkpoint`, atomically.

    A hard link costs no disk and survives the rotation deleting the original name;
    file systems without hard links (FAT, some network shares) get a copy instead.
    """
    target = checkpoint.parent / LATEST_GOOD
    tmp = checkpoint.parent / f".{LATEST_GOOD}.{os.getpid()}.tmp"
    try:
        tmp.unlink(missing_ok=True)
        os.link(checkpoint, tmp)
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)
        atomic_write_bytes(target, checkpoint.read_bytes())
    return target


def rotate_checkpoints(run: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` step checkpoints (latest_good is a separate name)."""
    removed = []
    for old in list_checkpoints(run)[:-keep]:
        try:
            old.unlink()
            removed.append(old)
        except OSError:
            pass
    return removed


def abandon_after(run: Path, step: int) -> list[Path]:
    """Move checkpoints newer than `step` to checkpoints/abandoned/ (resuming from an older one).

    Kept rather than deleted: they are the person's work, and the newest-checkpoint rule of
    a later resume must not pick them up again.
    """
    moved = []
    newer = [p for p in list_checkpoints(run) if checkpoint_step(p) > step]
    if newer:
        dest = run / CHECKPOINTS / ABANDONED
        dest.mkdir(exist_ok=True)
        for p in newer:
            os.replace(p, dest / p.name)
            moved.append(dest / p.name)
    return moved


def resolve_resume_target(path: str | os.PathLike) -> tuple[Path, Path | None]:
    """`--resume` accepts a run folder or one checkpoint file inside it -> (run, checkpoint or None)."""
    p = Path(path).expanduser()
    if p.is_dir():
        if not (p / CONFIG_FILE).is_file() and not (p / CHECKPOINTS).is_dir():
            raise ConfigError(f"{p} is not a FaceStudio run folder (no config.json or checkpoints/); give the folder a training run created.")
        return p, None
    if p.is_file() and p.parent.name == CHECKPOINTS:
        return p.parent.parent, p
    if p.is_file():
        raise ConfigError(f"{p} is not inside a run folder's checkpoints/; resume a run folder or one of its checkpoints.")
    raise ConfigError(f"There is no run folder or checkpoint {p} to resume.")


def has_checkpoint(run: str | os.PathLike) -> bool:
    """Whether `run` (a run folder, or a checkpoint file in one) gives a resume something to start from."""
    path = Path(run)
    return bool(list_checkpoints(path)) or (path.is_file() and path.parent.name == CHECKPOINTS)


def checkpoint_files(run: Path) -> list[Path]:
    """Every model file in checkpoints/ except latest_good, in natural name order (oldest step first).

    Wider than `list_checkpoints`: a file a person copied in under another name still counts.
    """
    folder = run / CHECKPOINTS
    found = [p for p in folder.glob("*.safetensors") if p.is_file() and not p.name.startswith(".") and p.name != LATEST_GOOD]
    return sorted(found, key=_natural_key)


def _natural_key(path: Path) -> list[tuple[int, int | str]]:
    """`step_1000` after `step_999`, even without zero padding."""
    return [(1, int(part)) if part.isdigit() else (0, part) for part in re.split(r"(\d+)", path.name)]


def model_file_of_run(run: Path) -> Path:
    """The model file to open for a run folder (what `load_model(RUN_DIR)` opens).

    Its export when training finished; otherwise the last checkpoint the trainer judged
    healthy (the newest one may be from a run going wrong); otherwise the newest. An export
    older than latest_good is from before a resume whose process then died: the newer
    checkpoint wins, so a killed run opens where it stopped.
    """
    exported, good = run / MODEL_FILE, latest_good_path(run)
    if exported.is_file() and not (good.is_file() and good.stat().st_mtime_ns > exported.stat().st_mtime_ns):
        return exported
    if good.is_file():
        return good
    checkpoints = checkpoint_files(run)
    if not checkpoints:
        raise ModelFileError(f"{run} is a folder but holds no model.safetensors and no checkpoints; is it a FaceStudio run folder?")
    return checkpoints[-1]


def newest_model_file(run: Path) -> Path | None:
    """The freshest weights of a run: its newest checkpoint, or the exported model when that is newer."""
    candidates = [p for p in (run / MODEL_FILE, *list_checkpoints(run)[-1:]) if p.is_file()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: (p.stat().st_mtime, p.name == MODEL_FILE))


def newest_checkpoint_step(run: str | os.PathLike) -> int:
    """Step of the checkpoint a resume of `run` (folder or checkpoint file) starts from (0: none)."""
    folder, chosen = resolve_resume_target(run)
    if chosen is not None:
        return checkpoint_step(chosen) or 0
    found = list_checkpoints(folder)
    return (checkpoint_step(found[-1]) or 0) if found else 0
