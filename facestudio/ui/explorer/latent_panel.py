"""The latent panel: one slider per latent dimension, with randomise / reset / unlock."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStyle, QToolButton, QVBoxLayout, QWidget

from facestudio.sessions.explorer.explorer_state import DIMENSION_RANGE
from facestudio.ui.widgets.icons import dice_icon, reset_icon, unlock_icon
from facestudio.ui.widgets.slider_list import SliderList


def _tool_button(icon: QStyle.StandardPixmap, text: str, tip: str, parent: QWidget) -> QToolButton:
    b = QToolButton(parent)
    b.setIcon(parent.style().standardIcon(icon))
    b.setText(text)
    b.setToolTip(tip)
    b.setAutoRaise(True)
    b.setToolButtonStyle(b.toolButtonStyle().ToolButtonTextBesideIcon)
    return b


class LatentPanel(QWidget):
    """Header (title, count, actions) over a `SliderList` of every latent dimension."""

    randomiseRequested = Signal()
    resetAllRequested = Signal()
    unlockAllRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sliders = SliderList(lockable=True, value_range=DIMENSION_RANGE, noun="dimension")
        self.summary = QLabel("")
        self.summary.setObjectName("Hint")
        # The summary grows as dimensions are edited and locked; it must never widen the
        # panel (the dock would grow and the face jump sideways), so its width is not asked.
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.randomise_button = _tool_button(QStyle.StandardPixmap.SP_BrowserReload, "Randomise",
                                             "A new random face; locked dimensions keep their values (R)", self)
        self.reset_button = _tool_button(QStyle.StandardPixmap.SP_DialogResetButton, "Reset",
                                         "Every unlocked dimension back to where this face started (Ctrl+Backspace)", self)
        self.unlock_button = _tool_button(QStyle.StandardPixmap.SP_DialogOpenButton, "Unlock",
                                          "Unlock every dimension", self)
        self.randomise_button.clicked.connect(self.randomiseRequested)
        self.reset_button.clicked.connect(self.resetAllRequested)
        self.unlock_button.clicked.connect(self.unlockAllRequested)
        self.randomise_button.setIcon(dice_icon())
        self.unlock_button.setIcon(unlock_icon())
        self.reset_button.setIcon(reset_icon())
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        buttons.addWidget(self.randomise_button)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.unlock_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 2, 2)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)  # a line of its own: room for "512 dims · 40 edited · 12 locked"
        layout.addWidget(self.sliders, 1)

    def set_latent(self, base: np.ndarray, origin: np.ndarray, locked: set[int]) -> None:
        """Show a face's latent; rebuilds the rows only when the size changed."""
        if self.sliders.row_count() != base.shape[0]:
            self.sliders.set_rows([f"z {i}" for i in range(base.shape[0])], base, origin)
        else:
            self.sliders.set_values(base, origin)
        self.sliders.set_locked(locked)
        self.update_summary(base, origin, locked)

    def update_summary(self, base: np.ndarray, origin: np.ndarray, locked: set[int]) -> None:
        edited = int(np.count_nonzero(np.abs(base - origin) > 1e-6))
        parts = [f"{base.shape[0]} dims"]
        if edited:
            parts.append(f"{edited} edited")
        if locked:
            parts.append(f"{len(locked)} locked")
        self.summary.setText(" \u00b7 ".join(parts))
        self.summary.setToolTip(", ".join(parts))
        self.unlock_button.setEnabled(bool(locked))
        self.reset_button.setEnabled(bool(edited))
