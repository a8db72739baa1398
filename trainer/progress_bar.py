"""A terminal progress line on stderr: step, bar, speed, losses, time left.

Plain `\\r` updates at most a few times a second (no tqdm dependency); when stderr is
not a terminal (a log file, CI) it prints a full line every `line_seconds` instead,
so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class ProgressBar:
    def __init__(self, total_steps: int | None, stream: IO[str] | None = None, width: int = 24,
                 refresh_seconds: float = 0.25, line_seconds: float = 15.0) -> None:
        self.total = total_steps
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = refresh_seconds if self.tty else line_seconds
        self._last = 0.0
        self._shown = False

    def text(self, record: dict[str, Any]) -> str:
        step = record["step"]
        parts = [f"step {step}" + (f"/{self.total}" if self.total else "")]
        if self.total:
            done = min(1.0, step / self.total)
            filled = int(done * self.width)
            parts.append("[" + "#" * filled + "." * (self.width - filled) + f"] {done:4.0%}")
        speed = record.get("images_per_s")
        if speed:
            parts.append(f"{speed:.0f} img/s")
        if record.get("loss_g") is not None and record.get("loss_d") is not None:
            parts.append(f"G {record['loss_g']:.3f} D {record['loss_d']:.3f}")
        if record.get("d_real") is not None and record.get("d_fake") is not None:
            parts.append(f"D(x) {record['d_real']:.2f} D(G(z)) {record['d_fake']:.2f}")
        steps_per_s = record.get("steps_per_s")
        if self.total and steps_per_s:
            parts.append(f"ETA {_clock((self.total - step) / steps_per_s)}")
        return "  ".join(parts)

    def update(self, record: dict[str, Any], force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        line = self.text(record)
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
            self._shown = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line (a warning, a checkpoint) without mangling the bar."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self._shown = False
        self.stream.write(text + "\n")
        self.stream.flush()
        if self.tty:
            self._last = 0.0  # redraw the bar under the message at once

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
