"""When a session ends: the budgets (steps, epochs, minutes), a stop request, and pauses.

`SessionControl` is what other threads touch (stop, pause, resume); it also keeps this
session's clock, in which paused time does not count. `StopReason` names why `run()`
ended; it is a string enum, so files and payloads hold plain "max_steps", "stopped", ...
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable

from trainer.config import TrainConfig
from trainer.train_state import Progress


class StopReason(enum.StrEnum):
    """Why training stopped (in order of urgency when processes disagree: the last wins)."""

    MAX_STEPS = "max_steps"
    EPOCHS = "epochs"
    MINUTES = "minutes"
    STOPPED = "stopped"  # request_stop(): Ctrl-C, the Stop button, closing the app


class SessionControl:
    """Stop and pause requests from any thread, and the session's training time."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._start = time.monotonic()
        self._paused_seconds = 0.0

    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()

    def request_pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        """The session's clock starts now."""
        self._start = time.monotonic()
        self._paused_seconds = 0.0

    def seconds(self) -> float:
        """Training time of this session so far (pauses excluded)."""
        return time.monotonic() - self._start - self._paused_seconds

    def wait_while_paused(self, announce: Callable[[str], None]) -> None:
        """Block while paused (until resumed or stopped); `announce("paused")`, then `announce("running")`."""
        if self._running.is_set():
            return
        t0 = time.monotonic()
        announce("paused")
        while not self._running.wait(0.1) and not self._stop.is_set():
            pass
        self._paused_seconds += time.monotonic() - t0
        announce("running")


def stop_reason(config: TrainConfig, progress: Progress, epochs_done: float, session: SessionControl) -> StopReason | None:
    """The first budget spent, or a stop request; None: train on."""
    c = config
    if session.stop_requested:
        return StopReason.STOPPED
    if c.max_steps is not None and progress.step >= c.max_steps:
        return StopReason.MAX_STEPS
    if c.epochs is not None and epochs_done >= c.epochs - 1e-9:
        return StopReason.EPOCHS
    if c.minutes is not None and session.seconds() >= c.minutes * 60:
        return StopReason.MINUTES
    return None
