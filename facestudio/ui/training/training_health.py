"""How the run is doing, in words: a standing verdict plus the trainer's warnings.

The verdict (`facestudio.sessions.training.health_report`) is refreshed with the curves; the warnings are
the trainer's own sentences (NaN steps skipped, rollbacks, a winning discriminator,
collapse), each already saying what to try, listed newest first with their step.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from facestudio.sessions.training.health_report import OK, PROBLEM, WATCH, HealthNote, overall_level

LEVEL_COLORS = {OK: "#6cc070", WATCH: "#d6b24f", PROBLEM: "#d65a5a"}
LEVEL_TITLES = {OK: "Healthy", WATCH: "Worth a look", PROBLEM: "Needs attention"}
MAX_WARNINGS = 200


class HealthView(QFrame):
    """Verdict lines on the left, the warning list on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HealthView")
        self._level = OK
        self._notes: list[HealthNote] | None = None
        self.title = QLabel()
        self.title.setObjectName("SectionTitle")
        self._note_labels: list[QLabel] = []
        notes = QVBoxLayout()
        notes.setSpacing(3)
        notes.addWidget(self.title)
        for _ in range(3):
            label = QLabel()
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            notes.addWidget(label)
            self._note_labels.append(label)
        notes.addStretch(1)
        self.warnings = QListWidget()
        self.warnings.setWordWrap(True)
        self.warnings.setAlternatingRowColors(True)
        self.warnings.setToolTip("The trainer's warnings, newest first, each with what to try")
        self.warnings.setMinimumWidth(280)
        warn_title = QLabel("Warnings")
        warn_title.setObjectName("SectionTitle")
        warn_box = QVBoxLayout()
        warn_box.setSpacing(3)
        warn_box.addWidget(warn_title)
        warn_box.addWidget(self.warnings, 1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        row.addLayout(notes, 3)
        row.addLayout(warn_box, 2)
        self.clear()

    def clear(self) -> None:
        self.warnings.clear()
        self._empty_item()
        self.set_notes([])

    def set_notes(self, notes: list[HealthNote]) -> None:
        """Show the verdict (`describe_health`'s notes, worst first); unchanged notes cost nothing."""
        if notes == self._notes:
            return
        self._notes = list(notes)
        self._level = overall_level(notes) if notes else OK
        color = LEVEL_COLORS[self._level]
        title = LEVEL_TITLES[self._level] if notes else "Health appears once training starts"
        self.title.setText(f"<span style='color:{color}'>\u25cf</span> {title}")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        for label, note in zip(self._note_labels, list(notes) + [None] * len(self._note_labels)):
            if note is None:
                label.clear()
                label.hide()
                continue
            label.setText(f"<span style='color:{LEVEL_COLORS[note.level]}'>\u25cf</span>&nbsp;{html.escape(note.text, quote=False)}")
            label.show()

    def level(self) -> str:
        return self._level

    def note_texts(self) -> list[str]:
        return [label.text() for label in self._note_labels if label.text()]

    def add_warning(self, step: int | None, message: str) -> None:
        if self.warnings.count() == 1 and self.warnings.item(0).data(Qt.ItemDataRole.UserRole) == "empty":
            self.warnings.clear()
        text = f"Step {step:,}: {message}" if isinstance(step, int) else message
        item = QListWidgetItem(text)
        item.setToolTip(message)
        self.warnings.insertItem(0, item)
        while self.warnings.count() > MAX_WARNINGS:
            self.warnings.takeItem(self.warnings.count() - 1)

    def warning_count(self) -> int:
        if self.warnings.count() == 1 and self.warnings.item(0).data(Qt.ItemDataRole.UserRole) == "empty":
            return 0
        return self.warnings.count()

    def _empty_item(self) -> None:
        item = QListWidgetItem("No warnings.")
        item.setData(Qt.ItemDataRole.UserRole, "empty")
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        self.warnings.addItem(item)
