"""Follow a run folder written by another process, from the UI thread, a little at a time.

`facestudio.sessions.training.run_follower.RunFollower` does the reading (new metrics.jsonl bytes only, torn
last lines kept back, new sample grids, the end of the run); this QObject polls it on a
QTimer about twice a second. Each poll reads at most `SLICE_BYTES` (a few hundred
records, a millisecond or two of parsing), and when a long history is still unread the
next slice is taken on the next turn of the event loop rather than in one long stall,
so attaching to a 100k-step run never freezes the window.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from facestudio.sessions.training.run_follower import RunFollower

POLL_MS = 500
SLICE_BYTES = 256 * 1024


class RunWatcher(QObject):
    """Polls one run folder; emits what is new. Construct with a folder; raises ConfigError if it is not a run."""

    reset = Signal()  # metrics.jsonl was rewritten (a resume): drop what was shown
    metrics = Signal(list)  # new records, oldest first
    samples = Signal(list)  # [(step, path str)], oldest first
    ended = Signal(str)  # the last log line once the run has finished or failed ("" when it goes on again)

    def __init__(self, run: str | Path, parent: QObject | None = None, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.follower = RunFollower(run, max_bytes=SLICE_BYTES)
        self.run = self.follower.run
        self._ended: str | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)
        self._catch_up = QTimer(self)
        self._catch_up.setSingleShot(True)
        self._catch_up.setInterval(0)
        self._catch_up.timeout.connect(self.poll)

    def start(self) -> None:
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        self._timer.stop()
        self._catch_up.stop()

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def poll(self) -> None:
        update = self.follower.poll()
        if update.reset:
            self.reset.emit()
        if update.records:
            self.metrics.emit(update.records)
        if update.samples:
            self.samples.emit([(step, str(path)) for step, path in update.samples])
        if update.more:
            self._catch_up.start()
        elif update.ended != self._ended:  # once the history is read, so the end comes after its records
            self._ended = update.ended
            self.ended.emit(update.ended or "")
