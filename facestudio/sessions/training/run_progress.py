"""Where a run stands against its budget: share done, time left, minutes left in the session.

Shared by the training room (live in-app runs and runs followed from their folder) and
the hand-off of a live run to a background `facestudio train --resume`, which must be
given the minutes the person still has in their budget, not the whole budget again.
Qt-free and fed with plain metric records.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facestudio.models import run_folder as rd


def format_duration(seconds: float | None) -> str:
    """'45 s', '12 min', '2 h 05 min' (rounded the way a person reads a clock)."""
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s" if s < 600 else f"{round(s / 60)} min"
    h, m = divmod(round(s / 60), 60)
    return f"{h} h {m:02d} min"


@dataclass
class RunProgress:
    """Budget of the current session (steps over the whole run, minutes for this session)."""

    planned_steps: int | None = None  # the run stops at this step (max_steps / epochs)
    minutes: float | None = None  # this session stops after these minutes of training
    session_start_seconds: float = 0.0  # the run's training seconds when this session began
    step: int = 0
    seconds: float = 0.0  # training seconds of the whole run so far
    steps_per_s: float | None = None

    @classmethod
    def from_started(cls, info: dict[str, Any]) -> "RunProgress":
        """From the training worker's `started` payload."""
        return cls(planned_steps=info.get("planned_steps"), minutes=info.get("minutes"),
                   session_start_seconds=float(info.get("seconds") or 0.0), step=int(info.get("step") or 0),
                   seconds=float(info.get("seconds") or 0.0))

    def update(self, record: dict[str, Any]) -> None:
        step, seconds, rate = record.get("step"), record.get("seconds"), record.get("steps_per_s")
        if isinstance(step, int) and not isinstance(step, bool):
            self.step = step
        if isinstance(seconds, (int, float)) and math.isfinite(seconds):
            self.seconds = float(seconds)
        if isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0:
            self.steps_per_s = float(rate)

    @property
    def session_seconds(self) -> float:
        return max(0.0, self.seconds - self.session_start_seconds)

    @property
    def minutes_left(self) -> float | None:
        """Minutes of this session's budget not yet trained (None: no minutes budget)."""
        if self.minutes is None:
            return None
        return max(0.0, self.minutes - self.session_seconds / 60.0)

    @property
    def fraction(self) -> float | None:
        """Share of the budget done, 0..1 (None: no budget, runs until stopped)."""
        parts = []
        if self.planned_steps:
            parts.append(self.step / self.planned_steps)
        if self.minutes:
            parts.append(self.session_seconds / (self.minutes * 60.0))
        return min(1.0, max(parts)) if parts else None

    @property
    def seconds_left(self) -> float | None:
        """Estimated seconds until the first budget runs out (None: unknown or unbounded)."""
        left = []
        if self.planned_steps and self.steps_per_s:
            left.append(max(0, self.planned_steps - self.step) / self.steps_per_s)
        if self.minutes_left is not None:
            left.append(self.minutes_left * 60.0)
        return min(left) if left else None


def plan_of_run(run: str | Path) -> RunProgress:
    """The budget a run folder's config.json records (for following a run started elsewhere).

    Missing or damaged files give an unbounded plan: following must still work while a
    run is being created.
    """
    try:
        doc = json.loads((Path(run) / rd.CONFIG_FILE).read_text(encoding="utf-8"))
        config = doc["config"]
        images = int(doc.get("data", {}).get("images") or 0)
        world = int(doc.get("world_size") or 1)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return RunProgress()
    ends = []
    if isinstance(config.get("max_steps"), int):
        ends.append(config["max_steps"])
    epochs, batch = config.get("epochs"), config.get("batch_size")
    if isinstance(epochs, (int, float)) and isinstance(batch, int) and batch > 0 and images:
        ends.append(math.ceil(epochs * (images // (batch * world))))
    minutes = config.get("minutes")
    if not isinstance(minutes, (int, float)) or _was_resumed(Path(run)):
        minutes = None  # the minutes count per session, and a resumed session's start is not in the files
    return RunProgress(planned_steps=min(ends) if ends else None, minutes=float(minutes) if minutes else None)


def _was_resumed(run: Path) -> bool:
    try:
        return " resumed from " in (run / rd.LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
