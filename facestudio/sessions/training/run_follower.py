"""Follow a run folder that another process is writing (`facestudio train` in a terminal).

The app polls this about twice a second on its UI thread, so each poll reads only what
is new: the bytes appended to metrics.jsonl since the last poll (at most `max_bytes`),
the sample grids not seen yet, and the last line of log.txt. A line without its newline
is a write in progress (or torn by a kill): it is kept back until it is complete. When
metrics.jsonl is replaced (a resume rewrites it atomically) or shrinks, following
starts over and says so, so the caller can clear its curves.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facestudio.errors import ConfigError
from facestudio.models import run_folder as rd

#: Bytes of metrics.jsonl read per poll (about 6,000 records): catching up with a long
#: run takes a few polls instead of one long stall of the UI.
MAX_BYTES = 2 * 1024 * 1024
_LOG_TAIL = 4096


@dataclass
class FollowUpdate:
    """What changed in the run folder since the previous poll."""

    records: list[dict[str, Any]] = field(default_factory=list)
    samples: list[tuple[int, Path]] = field(default_factory=list)  # (step, png), oldest first
    reset: bool = False  # metrics.jsonl was rewritten: drop what was shown before
    more: bool = False  # unread bytes remain (poll again soon)
    ended: str | None = None  # last line of log.txt when the run has finished or failed, else None

    def __bool__(self) -> bool:
        return bool(self.records or self.samples or self.reset or self.ended)


def sample_steps(run: Path) -> list[tuple[int, Path]]:
    """Sample grids of a run folder as (step, path), oldest first."""
    folder = Path(run) / rd.SAMPLES
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        step = rd.sample_step(entry.name)
        if step is not None:
            found.append((step, Path(entry.path)))
    return sorted(found)


def run_ended(run: Path) -> str | None:
    """The last line of log.txt if it says the run finished or stopped by an error, else None."""
    path = Path(run) / rd.LOG_FILE
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _LOG_TAIL))
            tail = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1]
    return last if (" finished at step " in last or " by an error:" in last) else None


class RunFollower:
    """Reads a run folder's new metrics records and sample grids, a little at a time."""

    def __init__(self, run: str | os.PathLike, max_bytes: int = MAX_BYTES) -> None:
        self.run = Path(run).expanduser()
        if not self.run.is_dir() or not ((self.run / rd.CONFIG_FILE).is_file() or (self.run / rd.METRICS_FILE).is_file()):
            raise ConfigError(
                f"{self.run} is not a FaceStudio run folder (it has no config.json or metrics.jsonl); "
                "choose the folder `facestudio train` printed as its run folder."
            )
        self.max_bytes = max_bytes
        self.metrics_path = self.run / rd.METRICS_FILE
        self._inode: tuple[int, int] | None = None
        self._offset = 0
        self._partial = b""
        self._seen_samples: set[int] = set()
        self.damaged_lines = 0

    def poll(self) -> FollowUpdate:
        update = FollowUpdate()
        self._read_metrics(update)
        for step, path in sample_steps(self.run):
            if step not in self._seen_samples:
                self._seen_samples.add(step)
                update.samples.append((step, path))
        update.ended = run_ended(self.run)
        return update

    def _read_metrics(self, update: FollowUpdate) -> None:
        try:
            with open(self.metrics_path, "rb") as fh:
                st = os.fstat(fh.fileno())
                identity = (st.st_dev, st.st_ino)
                if self._inode is not None and (identity != self._inode or st.st_size < self._offset):
                    update.reset = True
                    self._offset, self._partial = 0, b""
                    self._seen_samples.clear()  # a resumed run may rewrite later grids too
                self._inode = identity
                fh.seek(self._offset)
                chunk = fh.read(self.max_bytes)
        except FileNotFoundError:
            return
        except OSError:
            return  # being replaced right now; the next poll sees the new file
        self._offset += len(chunk)
        update.more = len(chunk) == self.max_bytes
        data = self._partial + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._partial = data
            return
        self._partial = data[cut + 1 :]
        for line in data[:cut].split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                record = None
            if isinstance(record, dict):
                update.records.append(record)
            else:
                self.damaged_lines += 1
