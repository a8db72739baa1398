"""Training metrics as growing numpy columns: what live plots draw and what CSV export writes.

A live plot redraws from whole arrays many times a second, so appending a record must
not reallocate (the buffers double when full, amortised O(1)) and a column must be a
view, not a new list. Smoothed columns are kept incrementally (a debiased exponential
moving average, as TensorBoard draws it), so a long run never re-smooths its history.
Qt-free, so the app, tests and the headless tools share it.
"""

from __future__ import annotations

import io
import math
from typing import Any, Iterable

import numpy as np

#: Columns kept from each metrics.jsonl record (missing or null values become NaN).
COLUMNS = ("step", "seconds", "loss_g", "loss_d", "d_real", "d_fake", "images_per_s", "diversity")
#: Columns that also get a smoothed twin.
SMOOTHED = ("loss_g", "loss_d", "d_real", "d_fake")
#: Weight of the past in the moving average: about a 50-step window.
DEFAULT_SMOOTHING = 0.98
_INITIAL = 1024


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


class MetricSeries:
    """Columns of per-step figures, appended record by record, read as numpy views."""

    def __init__(self, smoothing: float = DEFAULT_SMOOTHING) -> None:
        if not 0.0 <= smoothing < 1.0:
            raise ValueError("smoothing must be in [0, 1)")
        self.smoothing = smoothing
        self.latest: dict[str, Any] = {}
        self.clear()

    def clear(self) -> None:
        self._n = 0
        self._data = {name: np.empty(_INITIAL, np.float64) for name in COLUMNS}
        self._smooth = {name: np.empty(_INITIAL, np.float64) for name in SMOOTHED}
        self._ema = {name: 0.0 for name in SMOOTHED}
        self._count = {name: 0 for name in SMOOTHED}
        self.latest = {}

    def __len__(self) -> int:
        return self._n

    @property
    def last_step(self) -> int | None:
        return int(self._data["step"][self._n - 1]) if self._n else None

    def extend(self, records: Iterable[dict[str, Any]]) -> int:
        """Append records in step order; returns how many were kept.

        A record whose step is not after the last one means the run went back (resumed
        from an older checkpoint): the newer history is dropped before it is appended.
        Records without an integer step are ignored.
        """
        kept = 0
        for record in records:
            step = record.get("step") if isinstance(record, dict) else None
            if not isinstance(step, int) or isinstance(step, bool):
                continue
            if self._n and step <= self._data["step"][self._n - 1]:
                self._rewind(step)
            self._grow()
            i = self._n
            for name in COLUMNS:
                self._data[name][i] = _number(record.get(name))
            for name in SMOOTHED:
                self._smooth[name][i] = self._smooth_next(name, self._data[name][i])
            self._n += 1
            self.latest = record
            kept += 1
        return kept

    def column(self, name: str) -> np.ndarray:
        """A read-only view of one column (valid until the next append)."""
        view = self._data[name][: self._n]
        view.flags.writeable = False
        return view

    def smoothed(self, name: str) -> np.ndarray:
        view = self._smooth[name][: self._n]
        view.flags.writeable = False
        return view

    def to_csv(self) -> str:
        """All columns (raw and smoothed) as CSV text, one row per step."""
        names = list(COLUMNS) + [f"{n}_smoothed" for n in SMOOTHED]
        cols = [self.column(n) for n in COLUMNS] + [self.smoothed(n) for n in SMOOTHED]
        out = io.StringIO()
        out.write(",".join(names) + "\n")
        for row in zip(*cols):
            cells = []
            for name, v in zip(names, row):
                if math.isnan(v):
                    cells.append("")
                elif name == "step":
                    cells.append(str(int(v)))
                else:
                    cells.append(f"{v:.6g}")
            out.write(",".join(cells) + "\n")
        return out.getvalue()

    # ------------------------------------------------------------ internals
    def _smooth_next(self, name: str, value: float) -> float:
        if math.isnan(value):
            return math.nan
        a = self.smoothing
        self._ema[name] = a * self._ema[name] + (1.0 - a) * value
        self._count[name] += 1
        return self._ema[name] / (1.0 - a ** self._count[name]) if a else value

    def _grow(self) -> None:
        size = self._data["step"].shape[0]
        if self._n < size:
            return
        for store in (self._data, self._smooth):
            for name, arr in store.items():
                bigger = np.empty(size * 2, np.float64)
                bigger[: self._n] = arr[: self._n]
                store[name] = bigger

    def _rewind(self, step: int) -> None:
        """Forget records at or after `step`, and the smoothing state they built."""
        self._n = int(np.searchsorted(self._data["step"][: self._n], step, side="left"))
        for name in SMOOTHED:
            self._ema[name], self._count[name] = 0.0, 0
            for i in range(self._n):
                self._smooth[name][i] = self._smooth_next(name, self._data[name][i])
