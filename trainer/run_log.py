"""log.txt of a run folder: what happened to the run, in sentences."""

from __future__ import annotations

import time
from pathlib import Path


class RunLog:
    """log.txt: what happened to the run, in sentences (start, resume, warnings, end)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.failed = False

    def write(self, message: str) -> None:
        if self.path is None:
            return
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {message}\n"
        try:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError:
            self.failed = True  # a log line is not worth stopping training for
