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
