"""What a training run writes to its folder, beside the loop: config.json, metrics.jsonl,
log.txt, sample grids, checkpoints (latest_good and rotation) and the exported model.

The loop (trainer/trainer.py) decides *when*; this decides *where* and *how*, with the
names of `facestudio.models.run_folder`. Only the main process has a writer with a
folder; the other processes, and a Trainer without a runs_dir, get one whose run_dir is
None, which writes nothing. A failing disk is reported through `warn` and training goes
on: the checkpoints already written are intact.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from facestudio.atomic_file import atomic_write_bytes, atomic_write_text
from facestudio.errors import ConfigError, DiskWriteError, FaceStudioError, ModelFileError
from facestudio.models import run_folder as rf
from facestudio.models.bundle import ModelBundle
from facestudio.models.checkpoint import load_safetensors_model
from trainer.config import TrainConfig
from trainer.metrics_log import MetricsLog
from trainer.run_log import RunLog
from trainer.sample_grid import png_bytes

RUN_FORMAT = "facestudio-run"


def read_run_config(run: str | Path) -> TrainConfig:
    """The TrainConfig saved in a run folder's config.json."""
    path = Path(run) / rf.CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}); the run folder is damaged.") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise ConfigError(f"{path} is not a FaceStudio run configuration.")
    return TrainConfig.from_dict(data.get("config"))


def newest_checkpoint(run: Path) -> tuple[Path, tuple[ModelBundle, dict[str, torch.Tensor], dict[str, str]], list[str]]:
    """The newest checkpoint of `run` that opens, loaded; damaged ones are skipped and named."""
    skipped = []
    for path in reversed(rf.list_checkpoints(run)):
        try:
            return path, load_safetensors_model(path), skipped
        except ModelFileError as exc:
            skipped.append(f"Skipped the damaged checkpoint {path.name}: {exc}")
    raise ConfigError(
        f"{run} holds no checkpoint to resume from (training stopped before its first checkpoint); start a new run."
    )


class RunWriter:
    """The files of one run folder (run_dir None: writes nothing)."""

    def __init__(self, run_dir: Path | None, warn: Callable[[str], None]) -> None:
        self.run_dir = run_dir
        self._warn = warn
        self.metrics = MetricsLog(run_dir / rf.METRICS_FILE if run_dir else None)
        self.log = RunLog(run_dir / rf.LOG_FILE if run_dir else None)

    def prepare(self, doc: dict[str, Any], fixed_z: torch.Tensor, resumed_at: int | None) -> None:
        """Sub-folders, config.json and samples/fixed_z.npy; on a resume, set aside what came after its checkpoint."""
        run = self.run_dir
        if run is None:
            return
        (run / rf.SAMPLES).mkdir(exist_ok=True)
        (run / rf.CHECKPOINTS).mkdir(exist_ok=True)
        if resumed_at is not None:
            rf.remove_stale_temporaries(run)
            moved = rf.abandon_after(run, resumed_at)
            if moved:
                self._warn(f"Resuming from step {resumed_at}: moved {len(moved)} newer checkpoint(s) to checkpoints/{rf.ABANDONED}/.")
            self.metrics.truncate_after(resumed_at)
        atomic_write_text(run / rf.CONFIG_FILE, json.dumps({"format": RUN_FORMAT, "version": 1, **doc}, indent=2) + "\n")
        z_path = run / rf.SAMPLES / rf.FIXED_Z
        if not z_path.exists():
            buf = io.BytesIO()
            np.save(buf, fixed_z.numpy().astype(np.float32), allow_pickle=False)
            atomic_write_bytes(z_path, buf.getvalue())

    def append_metrics(self, record: dict[str, Any]) -> None:
        try:
            self.metrics.append(record)
        except OSError as exc:
            self.warn_disk(rf.METRICS_FILE, exc)

    def flush_metrics(self) -> None:
        """metrics.jsonl on disk up to now, fsynced (before a checkpoint and at the end)."""
        try:
            self.metrics.flush(durable=True)
        except OSError as exc:
            self.warn_disk(rf.METRICS_FILE, exc)

    def write_samples(self, step: int, grid: np.ndarray) -> Path | None:
        """samples/step_NNNNNNN.png; None when there is no folder or the disk refused."""
        if self.run_dir is None:
            return None
        path = rf.sample_path(self.run_dir, step)
        try:
            atomic_write_bytes(path, png_bytes(grid))
        except DiskWriteError as exc:
            self._warn(f"Could not write the sample grid of step {step}: {exc}")
            return None
        return path

    def write_checkpoint(self, step: int, save: Callable[[Path], None], *, keep: int, good: bool,
                         previous: Path | None) -> tuple[Path | None, bool]:
        """checkpoints/ckpt_NNNNNNN.safetensors through `save(path)`, latest_good moved to it when `good`,
        then all but the newest `keep` deleted -> (path or None when not written, whether latest_good moved)."""
        path = rf.checkpoint_path(self.run_dir, step)
        try:
            save(path)
        except (DiskWriteError, ModelFileError) as exc:
            kept = f" the previous checkpoint, {previous.name}, is intact" if previous else " no earlier checkpoint exists"
            self._warn(f"Could not write the checkpoint of step {step}: {exc} Training goes on;{kept}.")
            return None, False
        moved = False
        if good:
            try:
                rf.publish_latest_good(path)
                moved = True
            except (OSError, DiskWriteError) as exc:
                self.warn_disk(rf.LATEST_GOOD, exc)
        rf.rotate_checkpoints(self.run_dir, keep)
        self.log.write(f"checkpoint step {step}: {path.name}" + ("" if good else " (training looked unhealthy; latest_good not moved)"))
        return path, moved

    def export(self, save: Callable[[Path], None]) -> Path | None:
        """model.safetensors through `save(path)` (what `load_model(run_dir)` opens); None when not written."""
        if self.run_dir is None:
            return None
        path = self.run_dir / rf.MODEL_FILE
        try:
            save(path)
        except (DiskWriteError, ModelFileError) as exc:
            self._warn(f"Could not export the model: {exc}")
            return None
        return path

    def finish(self, step: int, reason: str, model: Path | None) -> None:
        if self.run_dir is not None:
            self.flush_metrics()
            self.log.write(f"finished at step {step} ({reason}); model: {model.name if model else 'not written'}")

    def abort(self, step: int, exc: BaseException) -> None:
        """Leave the logs readable when training ends with an error (the checkpoints are already safe)."""
        if self.run_dir is None:
            return
        with contextlib.suppress(OSError):
            self.metrics.flush(durable=True)
        reason = str(exc) if isinstance(exc, FaceStudioError) else f"{type(exc).__name__}: {exc}"
        self.log.write(f"stopped at step {step} by an error: {reason}")

    def warn_disk(self, what: str, exc: BaseException) -> None:
        self._warn(f"Could not write {what}: {getattr(exc, 'strerror', None) or exc}. Training goes on.")
