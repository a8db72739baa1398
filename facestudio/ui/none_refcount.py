"""Watch `None`'s reference count: a Qt binding that leaks it makes CPython abort later.

PySide6 6.12.0 drops one reference to `None` on every call of a method that returns
nothing; after enough painting the count reaches zero and the interpreter aborts with
"none_dealloc", far from the cause. These helpers measure the drift per call without
letting it get that far (they stop at the first chunk that drifts), so a check on a
leaking binding fails cleanly instead of killing the process. Used by the regression
test and by `facestudio bench soak`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap

# Below this many references None is close to being freed: stop measuring.
SAFE_FLOOR = 2000


@dataclass
class Drift:
    """How `sys.getrefcount(None)` moved over `calls` calls (0 on a sound binding)."""

    name: str
    calls: int
    drift: int


def none_drift(name: str, call: Callable[[], object], n: int = 10_000, chunk: int = 500,
               tolerance: int = 50) -> Drift:
    """Call `call` n times; stop early once the drift passes `tolerance` (a leak)."""
    call()  # first call may cache things (method lookups, enum objects)
    start = sys.getrefcount(None)
    done = 0
    while done < n:
        step = min(chunk, n - done)
        if sys.getrefcount(None) - step < SAFE_FLOOR:
            break
        for _ in range(step):
            call()
        done += step
        if abs(sys.getrefcount(None) - start) > tolerance:
            break
    return Drift(name, done, sys.getrefcount(None) - start)


def painter_calls(painter: QPainter) -> dict[str, Callable[[], object]]:
    """Every QPainter method FaceStudio's widgets call, with the argument types they pass."""
    pixmap = QPixmap(16, 16)
    pixmap.fill(QColor(90, 60, 40))
    path = QPainterPath(QPointF(1, 1))
    path.lineTo(9, 4)
    path.addEllipse(QRectF(2, 2, 6, 6))
    pen, color = QPen(QColor(200, 10, 10), 1.5), QColor(10, 200, 10)
    return {
        "drawPixmap(QRectF, QPixmap, QRectF)": lambda: painter.drawPixmap(QRectF(0, 0, 32, 32), pixmap, QRectF(pixmap.rect())),
        "drawPixmap(QRect, QPixmap)": lambda: painter.drawPixmap(QRect(0, 0, 32, 32), pixmap),
        "drawPixmap(int, int, QPixmap)": lambda: painter.drawPixmap(1, 1, pixmap),
        "fillRect(QRect, QColor)": lambda: painter.fillRect(QRect(0, 0, 8, 8), color),
        "fillRect(QRectF, QColor)": lambda: painter.fillRect(QRectF(0, 0, 8, 8), color),
        "setRenderHint": lambda: painter.setRenderHint(QPainter.RenderHint.Antialiasing, True),
        "setPen(QPen)": lambda: painter.setPen(pen),
        "setPen(QColor)": lambda: painter.setPen(color),
        "setPen(PenStyle)": lambda: painter.setPen(Qt.PenStyle.NoPen),
        "setBrush(QColor)": lambda: painter.setBrush(color),
        "setBrush(BrushStyle)": lambda: painter.setBrush(Qt.BrushStyle.NoBrush),
        "drawText(QRect, flags, str)": lambda: painter.drawText(QRect(0, 0, 40, 20), Qt.AlignmentFlag.AlignCenter, "x"),
        "drawText(QPointF, str)": lambda: painter.drawText(QPointF(2, 12), "x"),
        "drawRect": lambda: painter.drawRect(QRect(1, 1, 6, 6)),
        "fontMetrics().elidedText": lambda: painter.fontMetrics().elidedText("a long name", Qt.TextElideMode.ElideRight, 20),
        "drawRoundedRect": lambda: painter.drawRoundedRect(QRectF(1, 1, 9, 9), 2, 2),
        "drawPath": lambda: painter.drawPath(path),
        "drawLine": lambda: painter.drawLine(QPointF(0, 0), QPointF(9, 9)),
        "drawEllipse": lambda: painter.drawEllipse(QPointF(5, 5), 2, 2),
        "drawArc": lambda: painter.drawArc(QRectF(1, 1, 9, 9), 100 * 16, 280 * 16),
        "save/restore": lambda: (painter.save(), painter.restore()),
        "scale": lambda: (painter.save(), painter.scale(1.5, 1.5), painter.restore()),
    }


def measure_painter_calls(n: int = 10_000) -> list[Drift]:
    """`none_drift` of each call in `painter_calls`, painting onto an image."""
    image = QImage(64, 64, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    try:
        return [none_drift(name, call, n) for name, call in painter_calls(painter).items()]
    finally:
        painter.end()
