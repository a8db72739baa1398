"""SeFa and PCA directions, computed in the background when a model opens.

SeFa is a closed-form eigen-decomposition of the first layer's weights; PCA samples the
generator. Either can take longer than a frame on a big model, so they run in their own
thread and the direction sliders appear when they are ready; the face stays live.
"""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, Signal, Slot

from facestudio.models.bundle import ModelBundle
from facestudio.ui.workers.worker_thread import WorkerThread

DIRECTIONS_PER_KIND = 10


class DirectionsWorker(QObject):
    """Computes (sefa, pca) for a bundle; results are tagged with the request token."""

    computed = Signal(int, object)  # token, list[DirectionSet] (or [(style directions, variance shares)] for "style")
    failed = Signal(int, str)
    _request = Signal(int, object, object)

    def __init__(self) -> None:
        super().__init__()
        self._latest = 0
        self._lock = threading.Lock()
        self._request.connect(self._compute)

    def submit(self, token: int, bundle: ModelBundle, kinds: tuple[str, ...]) -> None:
        with self._lock:
            self._latest = token
        self._request.emit(token, bundle, kinds)

    def cancel(self) -> None:
        with self._lock:
            self._latest = -1

    def _wanted(self, token: int) -> bool:
        with self._lock:
            return token == self._latest

    @Slot(int, object, object)
    def _compute(self, token: int, bundle: ModelBundle, kinds: tuple[str, ...]) -> None:
        from facestudio.latent.directions import pca_directions, sefa_directions

        compute = {"sefa": sefa_directions, "pca": pca_directions}
        found = []
        try:
            if kinds == ("style",):  # W PCA and SeFa of a style model, moved to layer ranges by the explorer
                from facestudio.latent.style_directions import explorer_style_directions

                found.append(explorer_style_directions(bundle.viewing_generator, bundle.sha256 or bundle.name, DIRECTIONS_PER_KIND))
                kinds = ()
            for kind in kinds:
                if not self._wanted(token):  # a newer model was opened, or the app closes
                    return
                k = min(DIRECTIONS_PER_KIND, bundle.config.nz)
                found.append(compute[kind](bundle.viewing_generator, k))
        except Exception as exc:
            traceback.print_exc()
            self.failed.emit(token, f"Could not compute directions: {exc}")
            return
        if self._wanted(token):
            self.computed.emit(token, found)


class DirectionsThread(WorkerThread):
    """Owns the directions QThread and its worker; `close()` cancels and joins it."""

    worker: DirectionsWorker

    def __init__(self) -> None:
        worker = DirectionsWorker()
        super().__init__(worker, "facestudio-directions", worker.cancel)
