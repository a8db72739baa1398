"""A slim message bar above the face for errors and warnings that need reading.

Modal boxes interrupt the work (and freeze scripted sessions); a banner says the same
sentence, stays until dismissed (errors, warnings) or fades after a while (notes), and
the person carries on.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

LEVEL_COLORS = {"error": "#7a2630", "warning": "#6b5316", "info": "#24496b"}
LEVEL_ICONS = {
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}
INFO_TIMEOUT_MS = 8000


class MessageBanner(QFrame):
    """Shows one message at a time with an icon, the sentence and a close button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessageBanner")
        self._level = ""
        self._icon = QLabel()
        self._label = QLabel()
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setAutoRaise(True)
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.setSpacing(10)
        row.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self._label, 1)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.hide()

    def show_message(self, text: str, level: str = "error", *, sticky: bool = False) -> None:
        """Show `text`; notes ("info") fade after a while unless `sticky`."""
        if level not in LEVEL_COLORS:
            raise ValueError(f"unknown message level {level!r}")
        self._level = level
        self._label.setText(text)
        self._icon.setPixmap(self.style().standardIcon(LEVEL_ICONS[level]).pixmap(20, 20))
        self.setStyleSheet(f"#MessageBanner {{ background: {LEVEL_COLORS[level]}; border-radius: 4px; }}"
                           "#MessageBanner QLabel { color: #f2f2f2; }")
        self.show()
        if level == "info" and not sticky:
            self._timer.start(INFO_TIMEOUT_MS)
        else:
            self._timer.stop()

    def dismiss(self) -> None:
        self._timer.stop()
        self._level = ""
        self.hide()

    def text(self) -> str:
        """The message shown, or "" when the banner is dismissed."""
        return self._label.text() if self._level else ""

    def level(self) -> str:
        return self._level
