"""Semantic direction sliders (attribute, SeFa, PCA), one tab per kind.

Each slider moves the face along one direction on top of the latent sliders, so an
artist can add "smile" or a SeFa component without losing the edits underneath.
"""

from __future__ import annotations

from typing import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from facestudio.models.bundle import DirectionSet
from facestudio.sessions.explorer.explorer_state import DIRECTION_RANGE
from facestudio.ui.widgets.slider_list import SliderList

KIND_ORDER = ("attribute", "sefa", "pca")
KIND_TITLES = {"attribute": "Attributes", "sefa": "SeFa", "pca": "PCA"}
KIND_HINTS = {
    "attribute": "Directions learned for named features of the face. \"Fitted N\": fitted for a feature but failed an independent check, so left unnamed.",
    "sefa": "Closed-form factors of the generator's first layer (SeFa): the directions it is most sensitive to.",
    "pca": "Principal components of what the generator draws: the main ways its faces vary.",
}



def direction_label(name: str) -> str:
    """What a person reads for a direction id: "hair_darkness" -> "Hair darkness",
    "smile|yaw,light" (a conditional direction) -> "Smile (yaw, light kept)"."""
    def words(t: str) -> str:
        return t.replace("_", " ").strip()

    base, _, kept = name.partition("|")
    label = words(base)
    label = label[:1].upper() + label[1:]
    if kept:
        label += " (" + ", ".join(words(k) for k in kept.split(",") if k) + " kept)"
    return label

class DirectionsPanel(QWidget):
    """Tabs of direction sliders; emits (kind, name, value) gestures."""

    dragged = Signal(str, str, float)
    released = Signal(str, str)
    nudged = Signal(str, str, float)
    resetRequested = Signal(str, str)
    resetKindRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._sets: dict[str, DirectionSet] = {}
        self._lists: dict[str, SliderList] = {}
        self._computing = False
        self._busy = QLabel("Finding directions...")
        self._busy.setObjectName("Hint")
        self._busy.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._busy.setWordWrap(True)
        self._stack = QStackedWidget()
        self._stack.addWidget(self._busy)
        self._stack.addWidget(self.tabs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 2)
        layout.addWidget(self._stack)

    def kinds(self) -> list[str]:
        return list(self._lists)

    def slider_list(self, kind: str) -> SliderList:
        return self._lists[kind]

    def is_busy(self) -> bool:
        """True while directions are being computed for the open model."""
        return self._computing

    def set_busy(self, text: str, computing: bool = True) -> None:
        """Show `text` instead of the tabs when there are no directions yet."""
        self._computing = computing
        self._busy.setText(text)
        if not self._lists:
            self._stack.setCurrentWidget(self._busy)

    def set_directions(self, sets: Mapping[str, DirectionSet], amounts: Mapping[tuple[str, str], float]) -> None:
        """Rebuild the tabs for a model's direction sets."""
        self._computing = False
        current = self.tabs.tabText(self.tabs.currentIndex()) if self.tabs.count() else ""
        self.tabs.clear()
        self._lists.clear()
        self._sets = dict(sets)
        kinds = [k for k in KIND_ORDER if k in sets] + sorted(k for k in sets if k not in KIND_ORDER)
        for kind in kinds:
            dset = sets[kind]
            page = QWidget()
            sliders = SliderList(lockable=False, value_range=DIRECTION_RANGE, noun="direction")
            values = [amounts.get((kind, n), 0.0) for n in dset.names]
            sliders.set_rows([direction_label(n) for n in dset.names], values, [0.0] * len(dset.names))
            sliders.dragged.connect(lambda row, v, k=kind: self.dragged.emit(k, self._sets[k].names[row], v))
            sliders.released.connect(lambda row, k=kind: self.released.emit(k, self._sets[k].names[row]))
            sliders.nudged.connect(lambda row, v, k=kind: self.nudged.emit(k, self._sets[k].names[row], v))
            sliders.resetRequested.connect(lambda row, k=kind: self.resetRequested.emit(k, self._sets[k].names[row]))
            hint = QLabel(KIND_HINTS.get(kind, f"Directions of kind {kind!r} shipped with the model."))
            hint.setObjectName("Hint")
            hint.setWordWrap(True)
            reset = QPushButton("Reset all")
            reset.setToolTip(f"Set every {KIND_TITLES.get(kind, kind)} slider back to zero")
            reset.clicked.connect(lambda _=False, k=kind: self.resetKindRequested.emit(k))
            box = QVBoxLayout(page)
            box.setContentsMargins(4, 6, 4, 4)
            box.setSpacing(6)
            box.addWidget(hint)
            box.addWidget(sliders, 1)
            box.addWidget(reset, 0, Qt.AlignmentFlag.AlignRight)
            self._lists[kind] = sliders
            self.tabs.addTab(page, KIND_TITLES.get(kind, kind.capitalize()))
            if KIND_TITLES.get(kind, kind.capitalize()) == current:
                self.tabs.setCurrentIndex(self.tabs.count() - 1)
        self._stack.setCurrentWidget(self.tabs if self._lists else self._busy)

    def set_amounts(self, amounts: Mapping[tuple[str, str], float]) -> None:
        for kind, sliders in self._lists.items():
            names = self._sets[kind].names
            sliders.set_values([amounts.get((kind, n), 0.0) for n in names])
