"""The one way FaceStudio runs a worker QObject on its own QThread.

Every background job of the UI (rendering, morph strips and exports, projection,
directions, training) is a QObject whose slots do the work, moved to a QThread that
this class owns. Keeping the start/stop/join sequence in one place means every thread
is named (readable in a debugger and in the no-dangling-threads tests), the worker is
deleted on its own thread, and `close()` always stops the work before joining, so a
closing window never waits on a job nobody wants any more.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QThread


class WorkerThread:
    """A QThread running one worker QObject; `close()` stops the worker, quits and joins."""

    def __init__(self, worker: QObject, name: str, stop: Callable[[], None]) -> None:
        """`stop()` is called (from the GUI thread) before joining: it must make the worker's slot return soon."""
        self.thread = QThread()
        self.thread.setObjectName(name)
        self.worker = worker
        self._stop = stop
        self.worker.moveToThread(self.thread)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()

    def close(self) -> None:
        """Stop the worker, end the thread's event loop and wait for it. Blocks until done; safe to repeat."""
        if self.thread.isRunning():
            self._stop()
            self.thread.quit()
            self.thread.wait()
