"""The training room's states, and what each allows (one place instead of string lists in the view)."""

from __future__ import annotations

from enum import Enum


class RoomState(str, Enum):
    """Where the training room is. A str enum: it compares equal to its value ("running")."""

    IDLE = "idle"
    PREPARING = "preparing"  # the data set is being decoded / drawn
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"  # saving the last checkpoint and the model
    FOLLOWING = "following"  # drawing a run another process writes
    FINISHED = "finished"

    @property
    def label(self) -> str:
        return _LABELS[self][0]

    @property
    def color(self) -> str:
        return _LABELS[self][1]

    @property
    def trains_here(self) -> bool:
        """A run of this app's worker is under way: the settings form is locked."""
        return self in (RoomState.PREPARING, RoomState.RUNNING, RoomState.PAUSED, RoomState.STOPPING)

    @property
    def can_start(self) -> bool:
        """A new run (or a resume, or following one) may begin."""
        return self in (RoomState.IDLE, RoomState.FINISHED, RoomState.FOLLOWING)

    @property
    def can_pause(self) -> bool:
        return self in (RoomState.RUNNING, RoomState.PAUSED)

    @property
    def can_stop(self) -> bool:
        return self in (RoomState.PREPARING, RoomState.RUNNING, RoomState.PAUSED, RoomState.FOLLOWING)

    @property
    def has_snapshot(self) -> bool:
        """A model being trained or followed exists to explore (a finished one also needs its folder)."""
        return self in (RoomState.RUNNING, RoomState.PAUSED, RoomState.FOLLOWING)


_LABELS = {
    RoomState.IDLE: ("Ready", "#8a8a8a"), RoomState.PREPARING: ("Preparing", "#d6b24f"),
    RoomState.RUNNING: ("Training", "#6cc070"), RoomState.PAUSED: ("Paused", "#d6b24f"),
    RoomState.STOPPING: ("Saving", "#d6b24f"), RoomState.FOLLOWING: ("Following", "#4f8fd6"),
    RoomState.FINISHED: ("Finished", "#8a8a8a"),
}


class RoomChange(Enum):
    STATE = "state"  # the room moved to another RoomState
    RUN = "run"  # the run folder shown changed (a new run, a resumed or followed one)


class TrainingRoom:
    """The training room's own state, free of Qt: where it is (`RoomState`) and which run it shows.

    The panel changes it through `set_state` / `set_run` and subscribes to its changes: the
    buttons, the status light and the settings lock follow `RoomChange.STATE` in one place.
    """

    def __init__(self) -> None:
        self.state = RoomState.IDLE
        self.run_dir = None
        self._listeners: list = []

    def subscribe(self, listener) -> None:
        """Call `listener(change)` after every change."""
        self._listeners.append(listener)

    def _emit(self, change: RoomChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    def set_state(self, state: "RoomState | str") -> None:
        self.state = RoomState(state)
        self._emit(RoomChange.STATE)  # also when unchanged: the view re-reads it (e.g. a run folder appeared)

    def set_run(self, run_dir) -> None:
        if run_dir != self.run_dir:
            self.run_dir = run_dir
            self._emit(RoomChange.RUN)
