"""A row of neighbouring faces: small random steps away from the current one.

Clicking a tile makes it the current face, so a person can wander through the latent
space by eye without touching a single slider.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from facestudio.ui.widgets.qt_images import qpixmap_from_rgb


class VariationStrip(QWidget):
    """`count` square tiles in a row; emits `picked(index)` on click."""

    picked = Signal(int)

    def __init__(self, count: int = 8, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._count = count
        self._pixmaps: list[QPixmap] = []
        self._hover = -1
        self._smooth = False
        self._stale = False
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(64)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Nearby faces: click one to make it the current face.")

    @property
    def count(self) -> int:
        return self._count

    def set_images(self, images: np.ndarray) -> None:
        """(N, H, W, 3) uint8, one per tile (copied)."""
        self._pixmaps = [qpixmap_from_rgb(img) for img in images[: self._count]]
        self._stale = False
        self.update()

    def set_stale(self, stale: bool) -> None:
        """Dim the tiles while they no longer match the face (e.g. during a drag)."""
        if stale != self._stale:
            self._stale = stale
            self.update()

    def is_stale(self) -> bool:
        return self._stale

    def set_smooth(self, smooth: bool) -> None:
        self._smooth = smooth
        self.update()

    def tile_rect(self, index: int) -> QRectF:
        gap = 8
        side = self._side()
        total = self._count * side + (self._count - 1) * gap
        x0 = (self.width() - total) / 2
        return QRectF(x0 + index * (side + gap), (self.height() - side) / 2, side, side)

    def _side(self) -> float:
        gap = 8
        return max(24.0, min(self.height() - 8.0, (self.width() - (self._count - 1) * gap - 8) / self._count))

    def sizeHint(self) -> QSize:
        return QSize(self._count * 96, 100)

    def heightForWidth(self, width: int) -> int:
        return int(min(120, max(64, (width - 8 * (self._count - 1)) / self._count + 8)))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        h = self.heightForWidth(self.width())
        if h != self.height():
            self.setFixedHeight(h)

    def _index_at(self, x: float, y: float) -> int:
        for i in range(len(self._pixmaps)):
            if self.tile_rect(i).contains(x, y):
                return i
        return -1

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        pal = self.palette()
        accent = pal.color(QPalette.ColorRole.Highlight)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for i in range(self._count):
            r = self.tile_rect(i)
            if i < len(self._pixmaps):
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth)
                p.drawPixmap(r, self._pixmaps[i], QRectF(self._pixmaps[i].rect()))
                if self._stale:
                    p.fillRect(r, QColor(0, 0, 0, 110))
            else:
                p.fillRect(r, pal.color(QPalette.ColorRole.Base))
            pen = QPen(accent, 2.5) if i == self._hover else QPen(pal.color(QPalette.ColorRole.Mid), 1)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(r.adjusted(-1, -1, 1, 1), 3, 3)
        p.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hover = self._index_at(event.position().x(), event.position().y())
        if hover != self._hover:
            self._hover = hover
            self.update()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hover = -1
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            index = self._index_at(event.position().x(), event.position().y())
            if index >= 0:
                self.picked.emit(index)
