"""The toolbar's seed box: shows the face's seed, or "custom" for a face that has none.

A face moved to a nearby one, pasted, found from a photo, opened from a PNG or browsed with
locked dimensions is not the face of any seed; showing the last seed there would claim it
is. The arrows still step from the last seed the person went to.
"""

from __future__ import annotations

from PySide6.QtWidgets import QSpinBox, QWidget

CUSTOM = -1  # the value that displays as "custom"


class SeedBox(QSpinBox):
    """A spin box over 0..max_seed plus CUSTOM (shown as "custom")."""

    def __init__(self, max_seed: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._last = 0
        self.setRange(CUSTOM, max_seed)
        self.setSpecialValueText("custom")

    def show_seed(self, seed: int | None, last_seed: int) -> None:
        """Show `seed` (None: "custom") without emitting valueChanged; arrows step from `last_seed`."""
        self._last = int(last_seed)
        self.blockSignals(True)
        self.setValue(CUSTOM if seed is None else int(seed))
        self.blockSignals(False)

    def seed(self) -> int | None:
        return None if self.value() == CUSTOM else self.value()

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt naming)
        base = self._last if self.value() == CUSTOM else self.value()
        self.setValue(min(max(base + steps, 0), self.maximum()))
