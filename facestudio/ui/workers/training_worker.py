"""Training off the GUI thread: a QObject worker in its own QThread wrapping `trainer.Trainer`.

The worker turns the trainer's callbacks (called on the training thread between steps)
into Qt signals carrying plain data: lists of metric dicts, copied uint8 grids, numpy
copies of the EMA weights. Metric records are batched and sent at most `EMIT_HZ` times a
second whatever the step rate, so a tiny fast model cannot flood the event loop, and
the per-step Python work on the training thread is one list append and a clock read
(the GIL is shared with the UI: heavy hooks here would make the window stutter).

Control is cooperative and called directly from the UI thread (not through queued
signals: the training thread's event loop is busy inside `Trainer.run()`): `pause()`,
`resume()`, `stop()` and `request_snapshot()` only set flags the trainer polls between
steps (`snapshot_now()` copies a paused run's weights on the caller's thread). Any exception in a run reaches the UI as `failed(sentence)`; the thread survives.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal, Slot

from facestudio.errors import FaceStudioError
from facestudio.models.bundle import ModelBundle
from facestudio.models.config import ModelConfig
from facestudio.models.networks import Generator
from facestudio.models import run_folder as rf
from facestudio.ui.workers.worker_thread import WorkerThread

#: Most metric emissions per second (records in between are batched).
EMIT_HZ = 20
#: Images shown in the data check preview (a 4 x 4 grid).
PREVIEW_COUNT = 16
PREVIEW_SIZE = 64


@dataclass(frozen=True)
class TrainingRequest:
    """One training session: a new run (`config` + `runs_dir`) or a resumed one (`resume`).

    `extra_steps` (resume only): train this many steps past the newest checkpoint, since
    `max_steps` counts over the whole run and a finished run has already reached its own.
    """

    config: Any = None  # trainer.TrainConfig for a new run
    runs_dir: str | None = None
    resume: str | None = None  # run folder or checkpoint to continue
    changes: dict[str, Any] = field(default_factory=dict)  # session settings for a resume (minutes, sample_every...)
    extra_steps: int | None = None
    threads: int | None = None  # torch threads on the training thread (None: the UI thread's count)
    dataset: Any = None  # a prepared facestudio.data.FaceDataSet (tests, benchmarks); None: load from the config


def bundle_from_snapshot(snapshot: dict[str, Any]) -> ModelBundle:
    """An independent ModelBundle from a `snapshotReady` payload (UI thread; a small model builds in ms)."""
    config = ModelConfig.from_dict(snapshot["model_config"])
    with torch.device("meta"):  # no point initialising weights that load_state_dict replaces
        generator = Generator(config)
    state = {k: torch.from_numpy(v) for k, v in snapshot["state"].items()}
    generator.load_state_dict(state, assign=True)
    return ModelBundle(config=config, generator=generator)


def newest_checkpoint_step(run: str | Path) -> int:
    """Step of the newest checkpoint a resume of `run` (folder or checkpoint file) starts from."""
    return rf.newest_checkpoint_step(run)


class TrainingWorker(QObject):
    """Lives in the training thread; runs one session (or one data check) at a time."""

    preparing = Signal(str)  # what is being prepared before the first step (a sentence)
    prepareProgress = Signal(int, int)  # images prepared so far, of how many
    started = Signal(dict)  # run_dir, step, planned_steps, seconds, minutes, n_images, data, augment, config, threads, history, samples
    metrics = Signal(list)  # metric records (dicts) since the previous emission
    samples = Signal(dict)  # step, grid (uint8 HxWx3 copy), path, diversity
    status = Signal(str, int)  # "running" / "paused" / "stopping", step
    warned = Signal(dict)  # step, message
    checkpointed = Signal(dict)  # step, path, good
    snapshotReady = Signal(dict)  # step, label, model_config (dict), state (name -> numpy copy)
    finished = Signal(dict)  # run_dir, step, reason, model_path, checkpoint_path, warnings
    failed = Signal(str)  # a sentence for the person
    dataChecked = Signal(dict)  # root, images, skipped [{path, reason, kind}], celeba, preview (uint8 grid | None)
    dataCheckFailed = Signal(str, str)  # root, sentence
    _run = Signal(object)
    _check = Signal(str, int)

    def __init__(self, default_threads: int | None = None) -> None:
        super().__init__()
        # Read on the creating (UI) thread: a new thread's OpenMP pool starts from the
        # environment's default, not from what the main thread was set to.
        self.default_threads = int(default_threads or torch.get_num_threads())
        self._lock = threading.Lock()
        self._trainer = None
        self._stop = threading.Event()
        self._pause = threading.Event()
        self._want_snapshot = threading.Event()
        self._busy = threading.Event()
        self._buffer: list[dict[str, Any]] = []
        self._last_emit = 0.0
        #: How the last session ended (the `finished` payload), readable once the thread is joined.
        self.last_result: dict[str, Any] | None = None
        self._run.connect(self._train)
        self._check.connect(self._check_data)

    # ================================================================ any thread
    def submit(self, request: TrainingRequest) -> None:
        """Queue a training session (it starts when the thread is free)."""
        self._stop.clear()
        self._pause.clear()
        self._want_snapshot.clear()
        self._busy.set()
        self.last_result = None
        self._run.emit(request)

    def check_data(self, root: str, count: int = 0) -> None:
        """Count and preview a folder's usable images ("synthetic": the built-in faces, `count` of them)."""
        self._check.emit(str(root), int(count))

    @property
    def busy(self) -> bool:
        """Whether a session is queued or running."""
        return self._busy.is_set()

    def pause(self) -> None:
        self._pause.set()
        with self._lock:
            if self._trainer is not None:
                self._trainer.request_pause()

    def resume(self) -> None:
        self._pause.clear()
        with self._lock:
            if self._trainer is not None:
                self._trainer.resume_training()

    def stop(self) -> None:
        """Stop after the current step; the run then saves a checkpoint and the model."""
        self._stop.set()
        with self._lock:
            if self._trainer is not None:
                self._trainer.request_stop()

    def request_snapshot(self) -> bool:
        """Ask for the EMA generator's weights, copied on the training thread right after the
        next step and sent as `snapshotReady`; False when nothing is training.

        While paused there is no next step: use `snapshot_now()`.
        """
        with self._lock:
            if self._trainer is None:
                return False
        self._want_snapshot.set()
        return True

    def snapshot_now(self) -> dict[str, Any] | None:
        """The `snapshotReady` payload, copied on the calling thread (None when nothing is training).

        For a paused run, whose weights do not change: the copy (a few MB) is taken under
        the trainer's weight lock, so it is consistent even if training resumes meanwhile.
        It is returned rather than emitted: a signal emitted here would be queued to the
        training thread's receivers, whose event loop is busy inside `Trainer.run()`.
        """
        with self._lock:
            trainer = self._trainer
        return None if trainer is None else _snapshot_payload(trainer)

    # ================================================================ training thread
    @Slot(object)
    def _train(self, request: TrainingRequest) -> None:
        try:
            self._train_session(request)
        except FaceStudioError as exc:
            self._flush()
            self.failed.emit(str(exc))
        except MemoryError:
            self._flush()
            self.failed.emit("Training ran out of memory; try a smaller image size, batch or network width.")
        except Exception as exc:  # the thread must survive anything a run throws
            traceback.print_exc()
            self._flush()
            self.failed.emit(f"Training stopped because of an unexpected error ({type(exc).__name__}: {exc}). "
                             "The checkpoints already in the run folder are intact; you can resume from the last one.")
        finally:
            with self._lock:
                self._trainer = None
            self._buffer = []
            self._busy.clear()

    def _on_prepare_progress(self, done: int, total: int) -> None:
        self.prepareProgress.emit(int(done), int(total))

    def _train_session(self, request: TrainingRequest) -> None:
        from trainer import Trainer
        from trainer.metrics_log import read_metrics
        from facestudio.sessions.training.run_follower import sample_steps

        torch.set_num_threads(int(request.threads or self.default_threads))
        if request.resume:
            changes = dict(request.changes)
            if request.extra_steps is not None:
                changes["max_steps"] = newest_checkpoint_step(request.resume) + int(request.extra_steps)
            self.preparing.emit(f"Opening {Path(request.resume).name} and its training images...")
            trainer = Trainer.resume(request.resume, request.dataset, prepare_progress=self._on_prepare_progress, **changes)
        else:
            config = request.config
            what = "the built-in faces" if str(config.data).lower() == "synthetic" else Path(config.data).name
            self.preparing.emit(f"Preparing {what} at {config.image_size} px (cached after the first time)...")
            trainer = Trainer(config, request.dataset, runs_dir=request.runs_dir, prepare_progress=self._on_prepare_progress)
        for event, fn in (("metrics", self._on_metrics), ("samples", self._on_samples), ("status", self._on_status),
                          ("warning", self._on_warning), ("checkpoint", self._on_checkpoint)):
            trainer.add_callback(event, fn)
        step = trainer.progress.step
        history: list[dict[str, Any]] = []
        grids: list[tuple[int, str]] = []
        if request.resume and trainer.run_dir is not None:  # what the run did before this session
            history = [r for r in read_metrics(trainer.run_dir / rf.METRICS_FILE) if isinstance(r.get("step"), int) and r["step"] <= step]
            grids = [(s, str(p)) for s, p in sample_steps(trainer.run_dir) if s <= step]
        c = trainer.config
        self.started.emit({
            "run_dir": str(trainer.run_dir) if trainer.run_dir else None, "step": step,
            "planned_steps": trainer.planned_steps, "seconds": trainer.progress.seconds,
            "minutes": c.minutes, "n_images": trainer.n_images, "data": trainer.data.name,
            "augment": list(trainer.augment_ops), "config": c.to_dict(), "threads": torch.get_num_threads(),
            "history": history, "samples": grids,
        })
        with self._lock:
            self._trainer = trainer
            if self._pause.is_set():
                trainer.request_pause()
            if self._stop.is_set():  # stopped while the data was loading: still save what exists
                trainer.request_stop()
        self._last_emit = 0.0
        result = trainer.run()
        self._flush()
        self.last_result = {
            "run_dir": str(result.run_dir) if result.run_dir else None, "step": result.step, "reason": str(result.reason),
            "model_path": str(result.model_path) if result.model_path else None,
            "checkpoint_path": str(result.checkpoint_path) if result.checkpoint_path else None,
            "warnings": list(result.warnings),
        }
        self.finished.emit(dict(self.last_result))

    # ------------------------------------------------------------ trainer callbacks (training thread)
    def _on_metrics(self, record: dict[str, Any]) -> None:
        self._buffer.append(record)
        if self._want_snapshot.is_set():
            self._want_snapshot.clear()
            with self._lock:
                trainer = self._trainer
            if trainer is not None:
                self._emit_snapshot(trainer)
        now = time.monotonic()
        if now - self._last_emit >= 1.0 / EMIT_HZ:
            self._last_emit = now
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.metrics.emit(batch)

    def _on_samples(self, payload: dict[str, Any]) -> None:
        self._flush()  # the curves reach the grid's step first
        payload["grid"] = np.array(payload["grid"], dtype=np.uint8, copy=True)
        self.samples.emit(payload)

    def _on_status(self, payload: dict[str, Any]) -> None:
        self._flush()
        self.status.emit(str(payload.get("state")), int(payload.get("step", 0)))

    def _on_warning(self, payload: dict[str, Any]) -> None:
        self.warned.emit(payload)

    def _on_checkpoint(self, payload: dict[str, Any]) -> None:
        self.checkpointed.emit(payload)

    def _emit_snapshot(self, trainer) -> None:
        self.snapshotReady.emit(_snapshot_payload(trainer))

    # ------------------------------------------------------------ data check (training thread, when idle)
    @Slot(str, int)
    def _check_data(self, root: str, count: int) -> None:
        try:
            if root.strip().lower() == "synthetic":
                self.dataChecked.emit(_synthetic_check(count))
            else:
                self.dataChecked.emit(_folder_check(root))
        except FaceStudioError as exc:
            self.dataCheckFailed.emit(root, str(exc))
        except Exception as exc:  # noqa: BLE001 - a check must never take the thread down
            traceback.print_exc()
            self.dataCheckFailed.emit(root, f"Checking {root} failed: {type(exc).__name__}: {exc}.")


def _snapshot_payload(trainer) -> dict[str, Any]:
    """The EMA (else raw) generator's weights as numpy copies, with its config and a label."""
    state = {k: v.numpy().copy() for k, v in trainer.ema_state_dict().items()}
    step = trainer.progress.step
    config = trainer.model_config.replace(
        name=f"{trainer.model_config.name}-step{step}",
        info={"snapshot_step": str(step), "data": trainer.data.name},
    )
    label = f"{trainer.run_dir.name if trainer.run_dir else trainer.model_config.name} at step {step}"
    return {"step": step, "label": label, "model_config": config.to_dict(), "state": state}


def _preview_grid(tiles: list[np.ndarray]) -> np.ndarray | None:
    from facestudio.pixels import to_float
    from trainer.sample_grid import make_grid

    if not tiles:
        return None
    stack = to_float(torch.from_numpy(np.stack(tiles)).permute(0, 3, 1, 2))
    return make_grid(stack, columns=4)


def _synthetic_check(count: int) -> dict[str, Any]:
    """The built-in faces: nothing to skip; the preview shows the set's first faces."""
    from facestudio.data import DEFAULT_SYNTHETIC_COUNT, render_face
    from facestudio.data.synthetic_faces import face_seed

    n = int(count) if count and count > 0 else DEFAULT_SYNTHETIC_COUNT
    tiles = [render_face(face_seed(0, i), PREVIEW_SIZE)[0] for i in range(min(PREVIEW_COUNT, n))]
    return {"root": "synthetic", "images": n, "skipped": [], "celeba": False, "preview": _preview_grid(tiles)}


def _folder_check(root: str) -> dict[str, Any]:
    """`facestudio.data.check_folder`'s figures, plus a preview of the first usable images."""
    from facestudio.data import center_crop_resize, find_celeba, load_image, scan_folder
    from facestudio.errors import ImageFileError

    result = scan_folder(root)
    tiles = []
    for path in result.usable[:PREVIEW_COUNT]:
        try:
            tiles.append(center_crop_resize(load_image(path, draft_size=PREVIEW_SIZE), PREVIEW_SIZE))
        except ImageFileError:  # changed since the scan; the training run will report it
            continue
    return {
        "root": str(Path(root)), "images": len(result.usable),
        "skipped": [{"path": str(s.path), "reason": s.reason, "kind": s.kind} for s in result.skipped],
        "celeba": find_celeba(root) is not None, "preview": _preview_grid(tiles),
    }


class TrainingThread(WorkerThread):
    """Owns the training QThread and its worker; `close()` stops any run (it saves a
    checkpoint and the model) and joins the thread."""

    worker: TrainingWorker

    def __init__(self, threads: int | None = None) -> None:
        worker = TrainingWorker(threads)
        super().__init__(worker, "facestudio-training", worker.stop)
