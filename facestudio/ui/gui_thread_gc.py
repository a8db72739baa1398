"""Python's cyclic garbage collection, run only on the GUI thread.

Automatic collection runs in whichever thread happens to allocate when a threshold is
crossed. With worker threads (rendering, morphing, training) that is often a worker, and
if the garbage holds a Qt object that belongs to the GUI thread, Qt deletes it from the
wrong thread and the process crashes (seen here: a segfault while a training worker
deep-copied its EMA generator). So automatic collection is switched off and a GUI-thread
timer collects instead, by generation, as often as the thresholds would have.
The same recipe as pyqtgraph's GarbageCollector, without importing pyqtgraph at startup.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class GuiThreadGarbageCollector(QObject):
    """Disables automatic gc and collects from a timer on the thread that creates it."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(interval_ms)

    def collect(self) -> None:
        """Collect the generations whose counts passed their thresholds (cheap when none did)."""
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self._threshold[generation]:
                break
            gc.collect(generation)

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()
