"""A one-slot mailbox where the newest request wins (Qt-free).

While a slider is dragged, positions arrive faster than faces can be rendered. Queueing
them would make the face lag further and further behind the hand; instead each new
request replaces the one still waiting, and the worker always renders the newest. The
replaced (stale) requests are counted so benchmarks and tests can see the dropping.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestRequest(Generic[T]):
    """Holds at most one pending request; `put` replaces it, `take` removes it.

    Safe to use from any number of threads. `take()` returns at once by default (None
    when nothing is waiting); `take(timeout=None)` blocks until a request arrives or the
    slot is closed, for a worker that owns its own loop.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._request: T | None = None
        self._has_request = False
        self._closed = False
        self._dropped = 0
        self._taken = 0

    def put(self, request: T) -> None:
        """Make `request` the pending one; a request still pending is dropped (and counted)."""
        with self._cond:
            if self._closed:
                self._dropped += 1
                return
            if self._has_request:
                self._dropped += 1
            self._request, self._has_request = request, True
            self._cond.notify()

    def take(self, timeout: float | None = 0.0) -> T | None:
        """The pending request (removing it), or None if none came within `timeout` seconds.

        timeout 0 (default) never waits; None waits until a request arrives or `close()`.
        """
        with self._cond:
            if timeout is None or timeout > 0:
                self._cond.wait_for(lambda: self._has_request or self._closed, timeout)
            if not self._has_request:
                return None
            request, self._request, self._has_request = self._request, None, False
            self._taken += 1
            return request

    def close(self) -> None:
        """Wake every waiting `take` (they return None); later requests are dropped."""
        with self._cond:
            self._closed = True
            if self._has_request:
                self._dropped += 1
            self._request, self._has_request = None, False
            self._cond.notify_all()

    @property
    def pending(self) -> bool:
        with self._cond:
            return self._has_request

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    @property
    def dropped(self) -> int:
        """Requests that were replaced before anyone took them (never served)."""
        with self._cond:
            return self._dropped

    @property
    def taken(self) -> int:
        """Requests handed to a worker."""
        with self._cond:
            return self._taken
