"""Progressive rendering policy: a cheap preview while the hand moves, the full image when it stops.

Qt-free, so the explorer, the morph studio and the latency benchmark share one policy:

- `ProgressiveScheduler.move(ws)`: a slider moved. The newest styles go into the
  one-slot mailbox (`LatestRequest`) as a preview request (or a full one when the model
  has no preview resolution); a request still waiting is replaced, never queued.
- `ProgressiveScheduler.tick()`: called by a timer (the UI's, or a loop). When no move
  has come for `settle_seconds` (150 ms by default) and the last styles were only shown
  as a preview, it posts the full request once.
- `RenderLoop`: a worker thread taking requests from the mailbox and calling
  `deliver(RenderedFrame)`; it renders the newest request only.

The preview resolution defaults to the largest the network offers at or below a quarter
of the full side (256 px for a 1024 px model): cheap enough to follow the hand, large
enough to judge the edit.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from facestudio.render.latest_request import LatestRequest
from facestudio.render.renderer import Renderer

SETTLE_SECONDS = 0.15


@dataclass(frozen=True)
class RenderRequest:
    """Styles (num_ws, w_dim) to draw; `resolution` None means the full image."""

    ws: np.ndarray
    resolution: int | None
    serial: int
    posted: float  # time.monotonic() when posted


@dataclass(frozen=True)
class RenderedFrame:
    request: RenderRequest
    image: np.ndarray  # uint8 (H, W, 3)
    seconds: float  # render time
    latency: float  # posted -> delivered


def default_preview_resolution(previews: tuple[int, ...], full: int) -> int | None:
    """The largest preview at or below full / 4, else the smallest there is, else None."""
    if not previews:
        return None
    small = [r for r in previews if r <= full // 4]
    return max(small) if small else min(previews)


class ProgressiveScheduler:
    """Turns slider moves into preview and full requests (see the module docstring)."""

    def __init__(self, previews: tuple[int, ...], full: int, *, preview_resolution: int | None = -1,
                 settle_seconds: float = SETTLE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        if preview_resolution == -1:
            preview_resolution = default_preview_resolution(tuple(previews), full)
        if preview_resolution is not None and preview_resolution not in previews:
            raise ValueError(f"{preview_resolution} px is not one of this model's previews {tuple(previews) or '(none)'}.")
        if not 0 <= settle_seconds <= 10:
            raise ValueError(f"The settle time must be 0 to 10 seconds, not {settle_seconds!r}.")
        self.preview_resolution = preview_resolution
        self.settle_seconds = float(settle_seconds)
        self.clock = clock
        self.mailbox: LatestRequest[RenderRequest] = LatestRequest()
        self._serial = itertools.count(1)
        self._lock = threading.Lock()
        self._last_ws: np.ndarray | None = None
        self._last_move = 0.0
        self._full_due = False

    def _post(self, ws: np.ndarray, resolution: int | None, now: float) -> RenderRequest:
        request = RenderRequest(ws, resolution, next(self._serial), now)
        self.mailbox.put(request)
        return request

    def move(self, ws: np.ndarray) -> RenderRequest:
        """The hand moved to `ws`: post a preview (full if the model has no preview)."""
        now = self.clock()
        with self._lock:
            self._last_ws, self._last_move = np.array(ws, dtype=np.float32), now
            self._full_due = self.preview_resolution is not None
            return self._post(self._last_ws, self.preview_resolution, now)

    def show(self, ws: np.ndarray) -> RenderRequest:
        """A jump (new face, undo): post the full image at once."""
        now = self.clock()
        with self._lock:
            self._last_ws, self._last_move, self._full_due = np.array(ws, dtype=np.float32), now, False
            return self._post(self._last_ws, None, now)

    def tick(self) -> RenderRequest | None:
        """Post the full image if the hand has rested `settle_seconds`; None otherwise."""
        now = self.clock()
        with self._lock:
            if not self._full_due or self._last_ws is None or now - self._last_move < self.settle_seconds:
                return None
            self._full_due = False
            return self._post(self._last_ws, None, now)


class RenderLoop:
    """A worker thread serving a scheduler's mailbox with a renderer; `close()` stops and joins it."""

    def __init__(self, renderer: Renderer, mailbox: LatestRequest[RenderRequest],
                 deliver: Callable[[RenderedFrame], None], on_error: Callable[[Exception], None] | None = None) -> None:
        self.renderer, self.mailbox, self.deliver, self.on_error = renderer, mailbox, deliver, on_error
        self._thread = threading.Thread(target=self._run, name="facestudio-render-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            request = self.mailbox.take(timeout=None)
            if request is None:
                return
            started = time.monotonic()
            try:
                image = self.renderer.render_ws(request.ws, request.resolution)[0]
            except Exception as exc:  # reported, never lost in a thread
                if self.on_error is not None:
                    self.on_error(exc)
                continue
            done = time.monotonic()
            self.deliver(RenderedFrame(request, image, done - started, done - request.posted))

    def close(self, timeout: float | None = 30.0) -> None:
        self.mailbox.close()
        self._thread.join(timeout)
