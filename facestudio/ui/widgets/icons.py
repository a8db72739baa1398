"""A few icons Qt's standard set lacks (favourite star, dice, padlock), drawn as vectors.

Drawn at run time in the palette's text colour, so they are crisp at any scale and sit
right in dark and light themes, and no image files need shipping.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QApplication

SIZES = (16, 20, 24, 32, 48)


def _icon(draw, color: QColor | None = None) -> QIcon:
    color = color or QApplication.palette().text().color()
    disabled = QColor(color)
    disabled.setAlphaF(0.35)
    icon = QIcon()
    for size in SIZES:
        for mode, c in ((QIcon.Mode.Normal, color), (QIcon.Mode.Disabled, disabled)):
            pm = QPixmap(size, size)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.scale(size / 24.0, size / 24.0)
            draw(p, c)
            p.end()
            icon.addPixmap(pm, mode)
    return icon


def _star(p: QPainter, c: QColor) -> None:
    path = QPainterPath()
    for i in range(10):
        r = 10.0 if i % 2 == 0 else 4.3
        a = -math.pi / 2 + i * math.pi / 5
        pt = QPointF(12 + r * math.cos(a), 12.8 + r * math.sin(a))
        path.moveTo(pt) if i == 0 else path.lineTo(pt)
    path.closeSubpath()
    fill = QColor("#f0c24b") if c.alphaF() > 0.5 else c
    p.setPen(QPen(fill.darker(130), 1.2))
    p.setBrush(fill)
    p.drawPath(path)


def _dice(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c, 1.6))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(3.5, 3.5, 17, 17), 3.5, 3.5)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    for x, y in ((8, 8), (16, 8), (12, 12), (8, 16), (16, 16)):
        p.drawEllipse(QPointF(x, y), 1.7, 1.7)


def _open_padlock(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c, 1.8))
    p.setBrush(Qt.BrushStyle.NoBrush)
    shackle = QPainterPath()
    shackle.moveTo(4, 11)
    shackle.lineTo(4, 7.5)
    shackle.arcTo(QRectF(4, 3, 8, 8), 180, -180)
    shackle.lineTo(12, 8)
    p.drawPath(shackle)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    p.drawRoundedRect(QRectF(7, 11, 14, 10), 2, 2)


def _reset_arrow(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c, 1.9, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(4.5, 4.5, 15, 15), 100 * 16, 280 * 16)
    head = QPainterPath(QPointF(12.5, 1.8))
    head.lineTo(QPointF(12.5, 8.2))
    head.lineTo(QPointF(8.2, 5.0))
    head.closeSubpath()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    p.drawPath(head)


def reset_icon() -> QIcon:
    return _icon(_reset_arrow)


def favourite_icon() -> QIcon:
    return _icon(_star)


def dice_icon() -> QIcon:
    return _icon(_dice)


def unlock_icon() -> QIcon:
    return _icon(_open_padlock)
