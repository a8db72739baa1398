"""Undo/redo of the explorer's face, as a plain (Qt-free) stack of snapshots.

Snapshots rather than commands: a face is a few hundred floats, so storing whole states
is cheap, trivially correct, and lets history survive a model reload (the states do not
refer to the model). Consecutive records that share a merge key within a short time
collapse into one step, so a burst of arrow-key or mouse-wheel nudges on one slider is a
single undo step, just like one slider drag.
"""

from __future__ import annotations

import time
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")

MERGE_WINDOW_S = 1.0


class LatentHistory(Generic[T]):
    """Linear history of states with a cursor; recording after an undo drops the redo tail."""

    def __init__(self, initial: T, *, limit: int = 1000, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 2:
            raise ValueError("a history needs room for at least two states")
        self._states: list[T] = [initial]
        self._index = 0
        self._limit = limit
        self._clock = clock
        self._merge_key: Hashable | None = None
        self._merge_time = 0.0

    @property
    def current(self) -> T:
        return self._states[self._index]

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._states) - 1

    def __len__(self) -> int:
        return len(self._states)

    def record(self, state: T, *, merge_key: Hashable | None = None) -> bool:
        """Make `state` the newest step; returns False when it equals the current one.

        With a `merge_key` equal to the previous record's (and within MERGE_WINDOW_S of
        it), the state replaces that step instead of adding one.
        """
        if state == self.current:
            return False
        now = self._clock()
        merging = (
            merge_key is not None
            and merge_key == self._merge_key
            and now - self._merge_time <= MERGE_WINDOW_S
            and self._index == len(self._states) - 1
            and self._index > 0
        )
        del self._states[self._index + 1 :]
        if merging:
            self._states[self._index] = state
            if state == self._states[self._index - 1]:  # nudged back to where it started
                self._states.pop()
                self._index -= 1
                merge_key = None
        else:
            self._states.append(state)
            self._index += 1
            if len(self._states) > self._limit:
                drop = len(self._states) - self._limit
                del self._states[:drop]
                self._index -= drop
        self._merge_key = merge_key
        self._merge_time = now
        return True

    def undo(self) -> T | None:
        """Step back; returns the state to show, or None at the oldest step."""
        if not self.can_undo:
            return None
        self._index -= 1
        self._merge_key = None
        return self.current

    def redo(self) -> T | None:
        """Step forward again; returns the state to show, or None at the newest step."""
        if not self.can_redo:
            return None
        self._index += 1
        self._merge_key = None
        return self.current

    def reset(self, initial: T) -> None:
        """Forget every step (e.g. a model with another latent size was opened)."""
        self._states = [initial]
        self._index = 0
        self._merge_key = None
