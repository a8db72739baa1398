"""Morph frames and morph exports off the GUI thread.

`MorphWorker` renders the frames of an interpolation path ahead of playback, in batches,
on its own QThread. Paths change all the time (a keyframe added, the easing switched),
so requests go into a newest-wins slot (`LatestRequest`): between two batches the worker
looks for a newer path and abandons the old one at once (cooperative cancel), so a
change never waits for a stale strip to finish. Frames are rendered starting at the
playhead and wrapping around, so the frame the person is looking at comes first.

`ExportWorker` renders a whole path at full quality, enlarges it to the chosen size and
writes it through `facestudio.render.export` (GIF, MP4, PNG frames, contact sheet),
reporting progress and polling a per-job cancel flag between frames; files appear
atomically or not at all.

Results cross threads as plain data (ints, strings, numpy arrays).
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from facestudio.errors import FaceStudioError
from facestudio.render.export import contact_sheet, export_gif, export_mp4, export_png_frames, save_png
from facestudio.render.grid import resize_all
from facestudio.render.renderer import LatestRequest, Renderer
from facestudio.ui.workers.worker_thread import WorkerThread

# Frames per batch: big enough that batching pays, small enough that a newer path is
# noticed within a few tens of milliseconds and the first frames show at once.
STRIP_BATCH = 8
EXPORT_KINDS = ("gif", "mp4", "frames", "sheet")


@dataclass(frozen=True)
class StripJob:
    renderer: Renderer
    latents: np.ndarray  # (F, nz) float32 z faces, or (F, num_ws, w_dim) styles of a W+ path
    psi: float
    token: int
    first: int = 0  # frame to render first (the playhead); the rest follow, wrapping around


def render_frames(renderer: Renderer, latents: np.ndarray, psi: float) -> np.ndarray:
    """Frames of a path: z faces (F, nz) with truncation, or a W+ path's styles (F, num_ws, w_dim) as they are."""
    if latents.ndim == 3:
        return renderer.render_ws(latents)
    return renderer.render_batch(latents, psi=psi)


def strip_order(count: int, first: int, batch: int = STRIP_BATCH) -> list[np.ndarray]:
    """Frame indices in render order, grouped in batches: from `first` to the end, then from 0."""
    first = min(max(int(first), 0), max(count - 1, 0))
    order = np.concatenate([np.arange(first, count), np.arange(0, first)]).astype(np.int64)
    return [order[i:i + batch] for i in range(0, count, batch)]


class MorphWorker(QObject):
    """Lives in the morph thread; see the module docstring."""

    framesRendered = Signal(int, object, object)  # token, frame indices (B,) int64, images (B, H, W, 3) uint8
    stripDone = Signal(int)  # token: every frame of this path was sent
    failed = Signal(str)
    _wake = Signal()

    def __init__(self, batch: int = STRIP_BATCH) -> None:
        super().__init__()
        self.batch = batch
        self._jobs: LatestRequest = LatestRequest()
        self._lock = threading.Lock()
        self._wake_pending = False
        self._stopping = False
        self._wake.connect(self._drain)

    # ------------------------------------------------------------ any thread
    def submit(self, job: StripJob) -> None:
        """Render this path next; a path still waiting or rendering is dropped."""
        self._jobs.put(job)
        with self._lock:
            if self._wake_pending or self._stopping:
                return
            self._wake_pending = True
        self._wake.emit()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        self._jobs.close()

    @property
    def dropped(self) -> int:
        """Paths replaced before they were started (for tests and benchmarks)."""
        return self._jobs.dropped

    # ------------------------------------------------------------ morph thread
    def _superseded(self) -> bool:
        return self._stopping or self._jobs.pending

    @Slot()
    def _drain(self) -> None:
        with self._lock:
            self._wake_pending = False
        while not self._stopping:
            job = self._jobs.take()
            if job is None:
                return
            try:
                complete = True
                for indices in strip_order(len(job.latents), job.first, self.batch):
                    if self._superseded():
                        complete = False
                        break
                    images = render_frames(job.renderer, job.latents[indices], job.psi)
                    self.framesRendered.emit(job.token, indices, images)
                if complete:
                    self.stripDone.emit(job.token)
            except Exception as exc:  # a broken model must not kill the thread
                traceback.print_exc()
                self.failed.emit(f"Rendering the morph failed: {exc}")


@dataclass(frozen=True)
class ExportJob:
    renderer: Renderer
    latents: np.ndarray  # (F, nz) float32 or (F, num_ws, w_dim) styles, in playing order
    psi: float
    target: Path  # a file (gif, mp4, sheet) or a folder (frames)
    kind: str  # one of EXPORT_KINDS
    token: int
    size: int | None = None  # output side in pixels; None = the model's size
    fps: float = 24.0
    loop: bool = True  # GIF plays forever (else once)
    smooth: bool = True  # Lanczos enlarging, else crisp pixel squares
    sheet_columns: int = 10


class ExportWorker(QObject):
    """Lives in the export thread; one export at a time, cancellable between frames."""

    progressed = Signal(int, int, int)  # token, steps done, steps in all
    finished = Signal(int, str)  # token, path written
    cancelled = Signal(int)  # token: nothing was written
    failed = Signal(int, str)  # token, a sentence for the person
    _run = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._run.connect(self._export)

    # ------------------------------------------------------------ any thread
    def submit(self, job: ExportJob) -> None:
        if job.kind not in EXPORT_KINDS:
            raise ValueError(f"unknown export kind {job.kind!r}; use one of {EXPORT_KINDS}")
        with self._lock:
            self._cancel = threading.Event()
            cancel = self._cancel
        self._run.emit((job, cancel))

    def cancel(self) -> None:
        """Stop the export under way (and any queued one); it ends with `cancelled`."""
        with self._lock:
            self._cancel.set()

    # ------------------------------------------------------------ export thread
    @Slot(object)
    def _export(self, item: tuple[ExportJob, threading.Event]) -> None:
        job, cancel = item
        n = len(job.latents)
        # Rendering and writing count one step per frame each (the sheet is written at once).
        total = n + (1 if job.kind == "sheet" else n)
        try:
            frames = self._render(job, cancel, total)
            if frames is None:
                self.cancelled.emit(job.token)
                return

            def progress(done: int, _count: int) -> None:
                self.progressed.emit(job.token, n + done, total)

            written = self._write(job, frames, progress, cancel.is_set)
        except FaceStudioError as exc:
            self.failed.emit(job.token, str(exc))
            return
        except Exception as exc:
            traceback.print_exc()
            self.failed.emit(job.token, f"The export failed: {exc}")
            return
        if written is None or cancel.is_set():
            self.cancelled.emit(job.token)
        else:
            self.progressed.emit(job.token, total, total)
            self.finished.emit(job.token, str(written))

    def _render(self, job: ExportJob, cancel: threading.Event, total: int) -> np.ndarray | None:
        n = len(job.latents)
        s = job.size or job.renderer.image_size
        frames = np.empty((n, s, s, 3), dtype=np.uint8)
        for start in range(0, n, STRIP_BATCH):
            if cancel.is_set():
                return None
            part = render_frames(job.renderer, job.latents[start:start + STRIP_BATCH], job.psi)
            frames[start:start + len(part)] = resize_all(part, job.size, smooth=job.smooth)
            self.progressed.emit(job.token, start + len(part), total)
        return frames

    @staticmethod
    def _write(job: ExportJob, frames: np.ndarray, progress, cancel) -> Path | None:
        if job.kind == "gif":
            return export_gif(frames, job.target, job.fps, job.loop, progress=progress, cancel=cancel)
        if job.kind == "mp4":
            return export_mp4(frames, job.target, job.fps, progress=progress, cancel=cancel)
        if job.kind == "frames":
            return export_png_frames(frames, job.target, progress=progress, cancel=cancel)
        return None if cancel() else save_png(job.target, contact_sheet(frames, cols=job.sheet_columns))


class MorphThread(WorkerThread):
    """The strip-rendering thread and its `MorphWorker`."""

    worker: MorphWorker

    def __init__(self) -> None:
        worker = MorphWorker()
        super().__init__(worker, "facestudio-morph", worker.stop)


class ExportThread(WorkerThread):
    """The export thread and its `ExportWorker`."""

    worker: ExportWorker

    def __init__(self) -> None:
        worker = ExportWorker()
        super().__init__(worker, "facestudio-morph-export", worker.cancel)
