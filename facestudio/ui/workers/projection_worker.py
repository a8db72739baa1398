"""Photo projection off the GUI thread.

A QObject worker in its own QThread runs the Qt-free `facestudio.latent.projection`. The
dialog starts a job with `ProjectionThread.start(job)`; progress comes back as plain data
(`ProjectionProgress`: numbers and a copied uint8 image), at most about 15 times a
second so a fast model cannot flood the event loop. `cancel()` is cooperative: the
optimiser polls a flag every step and returns the best latent found so far. `close()`
cancels, quits and joins, so closing the dialog never leaves a thread behind.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from facestudio.errors import FaceStudioError
from facestudio.latent.projection import ProjectionProgress, ProjectionSettings, project
from facestudio.models.bundle import ModelBundle
from facestudio.ui.workers.worker_thread import WorkerThread

# Minimum seconds between two progress signals (the final report is always sent).
PROGRESS_INTERVAL = 1 / 15


@dataclass(frozen=True)
class ProjectionJob:
    bundle: ModelBundle
    target: np.ndarray  # uint8 (H, W, 3), already at the model's size
    settings: ProjectionSettings
    token: int


class ProjectionWorker(QObject):
    """Lives in the projection thread; runs one job at a time."""

    progressed = Signal(int, object)  # token, ProjectionProgress
    finished = Signal(int, object)  # token, ProjectionResult (cancelled=True if stopped early)
    failed = Signal(int, str)  # token, a sentence for the person
    _run = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._run.connect(self._project)

    # ------------------------------------------------------------ any thread
    def submit(self, job: ProjectionJob) -> None:
        """Queue `job`; a job still running is cancelled (the newest one matters)."""
        with self._lock:
            self._cancel.set()
            self._cancel = threading.Event()
            cancel = self._cancel
        self._run.emit((job, cancel))

    def cancel(self) -> None:
        with self._lock:
            self._cancel.set()

    # ------------------------------------------------------------ projection thread
    @Slot(object)
    def _project(self, item: tuple[ProjectionJob, threading.Event]) -> None:
        job, cancel = item  # a job cancelled before it starts still ends with `finished`
        last = 0.0

        def progress(report: ProjectionProgress) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL or report.step >= report.steps:
                last = now
                self.progressed.emit(job.token, report)

        try:
            result = project(job.bundle, job.target, job.settings, progress=progress, should_cancel=cancel.is_set)
        except FaceStudioError as exc:
            self.failed.emit(job.token, str(exc))
            return
        except Exception as exc:  # a broken model must not kill the thread silently
            traceback.print_exc()
            self.failed.emit(job.token, f"Finding the latent failed: {exc}")
            return
        self.finished.emit(job.token, result)


class ProjectionThread(WorkerThread):
    """Owns the projection QThread and its worker; `close()` cancels and joins it."""

    worker: ProjectionWorker

    def __init__(self) -> None:
        worker = ProjectionWorker()
        super().__init__(worker, "facestudio-projection", worker.cancel)

    def start(self, job: ProjectionJob) -> None:
        self.worker.submit(job)

    def cancel(self) -> None:
        self.worker.cancel()
