"""metrics.jsonl: one JSON record per training step, appended and buffered.

It is a log, not a document: records are appended in batches (every few seconds, at
each checkpoint and at the end), flushed but not fsynced per step, so logging costs
nothing next to a training step. A crash or kill can therefore tear the last line;
`read_metrics` skips a torn final line, and a resumed run first rewrites the file
(atomically) to the records up to its checkpoint, so the file never holds a torn line
in the middle nor two records of one step.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

from facestudio.atomic_file import atomic_write_text

log = logging.getLogger(__name__)


def _clean(value: Any) -> Any:
    """JSON has no NaN/Infinity: write them as null (a NaN loss is a fact worth logging)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All records of a metrics.jsonl, oldest first; a torn final line is skipped.

    A damaged line elsewhere (which FaceStudio never writes) is skipped with a logged
    warning rather than making the whole history unreadable. A missing file is empty.
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    lines = raw.split(b"\n")
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        last = i == len(lines) - 1  # no newline after it: the write was cut short
        try:
            record = json.loads(line)
        except (ValueError, RecursionError, UnicodeDecodeError):
            record = None
        if not isinstance(record, dict) or last:
            if not last:
                log.warning("%s: line %d is damaged and was skipped", path, i + 1)
            continue
        records.append(record)
    return records


class MetricsLog:
    """Appends records to a metrics.jsonl, buffering them for `flush_seconds`."""

    def __init__(self, path: Path | None, flush_seconds: float = 5.0, max_buffered: int = 200) -> None:
        self.path = path
        self.flush_seconds = flush_seconds
        self.max_buffered = max_buffered
        self._buffer: list[str] = []
        self._last_flush = time.monotonic()

    def append(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        self._buffer.append(json.dumps(_clean(record), separators=(",", ":"), allow_nan=False))
        if len(self._buffer) >= self.max_buffered or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self, durable: bool = False) -> None:
        """Append buffered records; raises OSError (records stay buffered) if the disk fails."""
        self._last_flush = time.monotonic()
        if self.path is None or not self._buffer:
            return
        text = "\n".join(self._buffer) + "\n"
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        self._buffer.clear()

    def truncate_after(self, step: int) -> None:
        """Keep only records up to `step` (on resume: the steps after the checkpoint are redone)."""
        if self.path is None or not self.path.exists():
            return
        kept = [r for r in read_metrics(self.path) if isinstance(r.get("step"), int) and r["step"] <= step]
        atomic_write_text(self.path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in kept))
