"""The face, shown as large as the window allows.

A 64 px face on a 700 px canvas: "crisp" scales by whole multiples with no filtering so
every generated pixel stays a sharp square (what the network really made), "smooth"
filters bilinearly for a softer picture. Painting scales on the fly, so switching is
instant and costs nothing per frame.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from facestudio.ui.widgets.qt_images import qpixmap_from_rgb


class FaceView(QWidget):
    """Paints one RGB image centred, square, scaled to fit."""

    framePainted = Signal(int)  # frame number, once per new image actually painted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._image: np.ndarray | None = None
        self._smooth = False
        self._frame = 0
        self._painted_frame = 0
        self._drop_hint = False
        self._placeholder = "Rendering the first face..."
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(192, 192)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    # ------------------------------------------------------------ data
    def set_image(self, image: np.ndarray) -> int:
        """Show an (H, W, 3) uint8 image (copied); returns its frame number."""
        self._image = np.array(image, dtype=np.uint8, copy=True)
        self._pixmap = qpixmap_from_rgb(self._image)
        self._frame += 1
        self.update()
        return self._frame

    def image(self) -> np.ndarray | None:
        """The image on screen (a copy), or None before the first face."""
        return None if self._image is None else self._image.copy()

    def frame(self) -> int:
        """Number of images received so far."""
        return self._frame

    def painted_frame(self) -> int:
        """Number of the last image actually painted on screen."""
        return self._painted_frame

    def set_smooth(self, smooth: bool) -> None:
        self._smooth = bool(smooth)
        self.update()

    def smooth(self) -> bool:
        return self._smooth

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def set_drop_hint(self, on: bool) -> None:
        self._drop_hint = on
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(560, 560)

    def target_rect(self) -> QRectF:
        """Where the image is painted: the largest centred square (whole multiples when crisp)."""
        margin = 12
        side = max(1, min(self.width(), self.height()) - 2 * margin)
        if self._pixmap is not None and not self._smooth:
            native = max(self._pixmap.width(), self._pixmap.height())
            if side >= native:
                side = (side // native) * native
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    # ------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Window).darker(115))
        target = self.target_rect()
        if self._pixmap is None:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
        else:
            shadow = QColor(0, 0, 0, 90)
            for grow in (6, 4, 2):
                p.fillRect(target.adjusted(-grow, -grow + 2, grow, grow + 2), QColor(0, 0, 0, shadow.alpha() // (grow // 2 + 1)))
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth)
            p.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
        if self._drop_hint:
            accent = pal.color(QPalette.ColorRole.Highlight)
            fill = QColor(accent)
            fill.setAlphaF(0.18)
            p.fillRect(self.rect(), fill)
            p.setPen(QPen(accent, 3, Qt.PenStyle.DashLine))
            p.drawRect(self.rect().adjusted(2, 2, -3, -3))
            p.setPen(pal.color(QPalette.ColorRole.BrightText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Drop a face PNG or a model to open it")
        p.end()
        if self._pixmap is not None and self._painted_frame != self._frame:
            self._painted_frame = self._frame
            self.framePainted.emit(self._frame)
