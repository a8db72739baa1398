"""The morph studio's own window, beside the explorer instead of docked under it.

Docked at the bottom, the studio took most of the explorer's height (the face shrank from
about 540 to 145 px) and the main window grew taller each time it opened. Here the studio
has a window of its own with a sensible first size, remembers where the person put it, and
leaves the explorer as it was. Closing (hiding) it pauses playback; the explorer owns the
panel's threads and joins them on shutdown.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QHideEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QWidget

from facestudio.ui.morph.morph_panel import MorphPanel

DEFAULT_SIZE = (1100, 760)


class MorphWindow(QMainWindow):
    """A top-level window holding `panel`; `geometry` restores where it was last time."""

    def __init__(self, panel: MorphPanel, parent: QWidget | None = None, *,
                 geometry: QByteArray | None = None) -> None:
        # A window of its own (Qt.Window), owned by the explorer so it goes when the explorer goes.
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("MorphWindow")
        self.setWindowTitle("Morph Studio \u2014 FaceStudio")
        self.panel = panel
        self.setCentralWidget(panel)
        # Placed on first show when nothing was saved: the explorer has its real size by then.
        self._placed = geometry is not None and self.restoreGeometry(geometry)
        close = QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self)
        close.activated.connect(self.close)

    def _default_geometry(self) -> None:
        """DEFAULT_SIZE, or 90 % of the screen when that is smaller, centred on the explorer
        and kept on the screen."""
        parent = self.parentWidget()
        screen = (parent.screen() if parent is not None else None) or QGuiApplication.primaryScreen()
        w, h = DEFAULT_SIZE
        if screen is None:
            self.resize(w, h)
            return
        avail = screen.availableGeometry()
        w, h = min(w, int(avail.width() * 0.9)), min(h, int(avail.height() * 0.9))
        self.resize(w, h)
        centre = parent.frameGeometry().center() if parent is not None else avail.center()
        x = min(max(centre.x() - w // 2, avail.left()), avail.right() - w)
        y = min(max(centre.y() - h // 2, avail.top()), avail.bottom() - h)
        self.move(x, y)

    @property
    def placed(self) -> bool:
        """True once the window has a size and place (restored, or shown once)."""
        return self._placed

    def present(self) -> None:
        """Show the window in front (it keeps its size and place)."""
        if not self._placed:
            self._default_geometry()
            self._placed = True
        self.show()
        self.raise_()
        self.activateWindow()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        self.panel.pause()  # nobody watches a hidden morph: no frames to paint
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.panel.pause()
        super().closeEvent(event)
