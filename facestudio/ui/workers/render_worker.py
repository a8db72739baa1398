"""Rendering off the GUI thread, newest request only.

A QObject worker lives in its own QThread and drives the Qt-free `Renderer`. The window
puts jobs into newest-wins slots (`LatestRequest`): while a face renders, any number of
slider positions may arrive and only the last one is rendered next, so a drag never
queues work and the window never waits. At most one wake-up event is in flight.

Priorities: the face first; the discriminator's realism only when no newer face is
waiting; the strip of variations last. Jobs carry their own `Renderer`, so switching
models needs no handshake: old jobs still finish with the old model and the window
drops their results by token.

Results cross threads as plain data (ints, numpy arrays, floats).
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from facestudio.render.renderer import LatestRequest, Renderer
from facestudio.render.style_face import StyleEdit
from facestudio.ui.workers.worker_thread import WorkerThread


@dataclass(frozen=True)
class FaceJob:
    renderer: Renderer
    latent: np.ndarray  # (nz,) float32, read-only
    psi: float
    token: int
    want_realism: bool = True
    style: StyleEdit | None = None  # a style model's W+ edits (None: z and psi only)
    preview: int | None = None  # draw this preview resolution (a hand is moving a slider), None: the full image


@dataclass(frozen=True)
class VariationsJob:
    renderer: Renderer
    latents: np.ndarray  # (N, nz) float32
    psi: float
    token: int
    style: StyleEdit | None = None  # the face's W+ edits, applied to every nearby face too


class RenderWorker(QObject):
    """Lives in the render thread; see the module docstring."""

    faceRendered = Signal(int, object)  # token, (H, W, 3) uint8
    realismMeasured = Signal(int, object)  # token, float | None
    variationsRendered = Signal(int, object)  # token, (N, H, W, 3) uint8
    failed = Signal(str)
    _wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._faces: LatestRequest = LatestRequest()
        self._variations: LatestRequest = LatestRequest()
        self._lock = threading.Lock()
        self._wake_pending = False
        self._stopping = False
        self.last_render_ms = 0.0  # time spent in Renderer.render for the last face (for benchmarks)
        self._wake.connect(self._drain)

    # ------------------------------------------------------------ any thread
    def submit_face(self, job: FaceJob) -> None:
        self._faces.put(job)
        self._poke()

    def submit_variations(self, job: VariationsJob) -> None:
        self._variations.put(job)
        self._poke()

    def stop(self) -> None:
        """Make the worker finish the current job and ignore the rest."""
        with self._lock:
            self._stopping = True
        self._faces.close()
        self._variations.close()

    def _poke(self) -> None:
        with self._lock:
            if self._wake_pending or self._stopping:
                return
            self._wake_pending = True
        self._wake.emit()

    # ------------------------------------------------------------ render thread
    @Slot()
    def _drain(self) -> None:
        with self._lock:
            self._wake_pending = False
        last_face: tuple[FaceJob, np.ndarray] | None = None
        while not self._stopping:
            job = self._faces.take()
            if job is not None:
                start = time.perf_counter()
                image = self._run(lambda: self._render_face(job))
                self.last_render_ms = (time.perf_counter() - start) * 1000
                if image is not None:
                    self.faceRendered.emit(job.token, image)
                    last_face = (job, image) if job.want_realism else None
                continue
            if last_face is not None:
                face_job, image = last_face
                last_face = None
                realism = self._run(lambda: face_job.renderer.realism_percentile(image))
                self.realismMeasured.emit(face_job.token, realism)
                continue
            vjob = self._variations.take()
            if vjob is not None:
                images = self._run(lambda: self._render_variations(vjob))
                if images is not None:
                    self.variationsRendered.emit(vjob.token, images)
                continue
            break

    @staticmethod
    def _render_face(job: FaceJob) -> np.ndarray:
        if job.preview is not None or (job.style is not None and not job.style.is_plain):
            return job.renderer.render_style_face(job.latent, job.psi, job.style, job.preview)
        return job.renderer.render(job.latent, psi=job.psi)

    @staticmethod
    def _render_variations(job: VariationsJob) -> np.ndarray:
        if job.style is not None and not job.style.is_plain:
            return job.renderer.render_style_faces(job.latents, job.psi, job.style)
        return job.renderer.render_batch(job.latents, psi=job.psi)

    def _run(self, work):
        try:
            return work()
        except Exception as exc:  # a broken model must not kill the render thread
            traceback.print_exc()
            self.failed.emit(f"Rendering failed: {exc}")
            return None


class RenderThread(WorkerThread):
    """Owns the render QThread and its worker; `close()` stops and joins it."""

    worker: RenderWorker

    def __init__(self) -> None:
        worker = RenderWorker()
        super().__init__(worker, "facestudio-render", worker.stop)
