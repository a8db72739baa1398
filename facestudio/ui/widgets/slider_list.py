"""A long list of compact value sliders painted by one widget.

A model with nz=512 needs 512 sliders. Five real widgets per row (label, slider, value,
lock, reset) would be 2,500 widgets that take about a second to build and make layout
slow; this widget paints only the rows in view, so it builds in constant time and stays
fluid at any size. Each row shows: lock toggle, name, a bar centred on zero with a tick
at the row's reset value, the value, and a reset button when the value was edited.

The bar never gets narrower than MIN_TRACK px: when the names are too long for one line
beside such a bar (a narrow dock, a long direction name), each row wraps onto two lines,
name and value above, the bar across the whole width below. The minimum size hint keeps
room for that, so neither a narrow window nor a restored window state can squeeze the
bars away.

Gestures: drag a bar (Shift for fine control), double-click or the reset button to reset,
click the padlock to lock; keyboard: Up/Down pick a row, Left/Right nudge (Shift finer,
Ctrl coarser), Backspace resets, L locks; Ctrl+wheel nudges the row under the pointer.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPainterPath, QPalette, QPen, QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QToolTip, QWidget

NUDGE = 0.1
FINE = 0.1  # Shift-drag moves the value 10x slower than the pointer
MIN_TRACK = 150  # px: ~12 px per unit over a +-6 range, enough to aim at a value


class SliderList(QAbstractScrollArea):
    """Rows of (name, value in [-range, range]) with lock and reset affordances."""

    dragged = Signal(int, float)  # live while a bar is dragged
    released = Signal(int)  # the drag of that row ended: one undo step
    nudged = Signal(int, float)  # keyboard / Ctrl+wheel step to a new value
    resetRequested = Signal(int)
    lockToggled = Signal(int, bool)

    def __init__(self, parent: QWidget | None = None, *, lockable: bool = True, value_range: float = 4.0,
                 noun: str = "dimension") -> None:
        super().__init__(parent)
        self._lockable = lockable
        self._range = float(value_range)
        self._noun = noun
        self._labels: list[str] = []
        self._values = np.zeros(0, dtype=np.float64)
        self._origins = np.zeros(0, dtype=np.float64)
        self._locked: set[int] = set()
        self._current = 0
        self._hover = (-1, "")
        self._drag_row = -1
        self._drag_start = (0.0, 0.0)  # (pointer x, value) at press, for fine mode
        fm = QFontMetrics(self.font())
        self._line_h = max(22, fm.height() + 8)  # one line of a row: name, bar and value
        self._name_h = fm.height() + 2  # the name line of a wrapped row
        self._row_h = self._line_h
        self._wrapped = False
        self._value_w = fm.horizontalAdvance("+0.000") + 6
        self._label_w = fm.horizontalAdvance("z 0000") + 6
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalScrollBar().setSingleStep(self._row_h)
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)

    # ------------------------------------------------------------ data
    def set_rows(self, labels: Sequence[str], values: Sequence[float], origins: Sequence[float] | None = None) -> None:
        """Replace every row (e.g. a model with another latent size was opened)."""
        self._labels = list(labels)
        self._values = np.asarray(values, dtype=np.float64).copy()
        self._origins = self._values.copy() if origins is None else np.asarray(origins, dtype=np.float64).copy()
        if not (len(self._labels) == self._values.shape[0] == self._origins.shape[0]):
            raise ValueError("labels, values and origins must have one entry per row")
        fm = QFontMetrics(self.font())
        self._label_w = max([fm.horizontalAdvance("z 0000")] + [fm.horizontalAdvance(t) for t in self._labels]) + 8
        self._locked = {i for i in self._locked if i < len(self._labels)}
        self._current = min(self._current, max(0, len(self._labels) - 1))
        self._drag_row = -1
        self._update_wrapping()
        self._update_scrollbar()
        self.viewport().update()

    def set_values(self, values: Sequence[float], origins: Sequence[float] | None = None) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.shape != self._values.shape:
            raise ValueError(f"expected {self._values.shape[0]} values, got {values.shape}")
        self._values = values.copy()
        if origins is not None:
            self._origins = np.asarray(origins, dtype=np.float64).copy()
        self.viewport().update()

    def set_value(self, row: int, value: float) -> None:
        self._values[row] = value
        self._update_row(row)

    def set_locked(self, rows: set[int]) -> None:
        self._locked = set(rows)
        self.viewport().update()

    def values(self) -> np.ndarray:
        return self._values.copy()

    def value(self, row: int) -> float:
        return float(self._values[row])

    def locked(self) -> set[int]:
        return set(self._locked)

    def row_count(self) -> int:
        return len(self._labels)

    def current_row(self) -> int:
        return self._current

    def set_current_row(self, row: int) -> None:
        if not self._labels:
            return
        row = int(min(max(row, 0), len(self._labels) - 1))
        old, self._current = self._current, row
        self._update_row(old)
        self._update_row(row)
        self.ensure_visible(row)

    def ensure_visible(self, row: int) -> None:
        bar = self.verticalScrollBar()
        top, bottom = row * self._row_h, (row + 1) * self._row_h
        if top < bar.value():
            bar.setValue(top)
        elif bottom > bar.value() + self.viewport().height():
            bar.setValue(bottom - self.viewport().height())

    def row_rect(self, row: int) -> QRect:
        """Where `row` is in viewport coordinates (for tests and tooltips)."""
        return QRect(0, row * self._row_h - self.verticalScrollBar().value(), self.viewport().width(), self._row_h)

    def bar_rect(self, row: int) -> QRect:
        r = self._bar_band(self.row_rect(row))
        left = self._bar_left()
        return QRect(left, r.top() + 4, max(10, self._bar_right() - left), r.height() - 8)

    def is_wrapped(self) -> bool:
        """True when rows take two lines (name over bar) because one line has no room for the bar."""
        return self._wrapped

    def value_to_x(self, value: float) -> float:
        left, right = self._bar_left() + 3, self._bar_right() - 3
        t = (min(max(value, -self._range), self._range) + self._range) / (2 * self._range)
        return left + t * (right - left)

    def x_to_value(self, x: float) -> float:
        left, right = self._bar_left() + 3, self._bar_right() - 3
        t = (x - left) / max(1.0, right - left)
        return float(min(max(-self._range + t * 2 * self._range, -self._range), self._range))

    def sizeHint(self) -> QSize:
        return QSize(max(320, self._one_line_width() + self.verticalScrollBar().sizeHint().width()), 400)

    def minimumSizeHint(self) -> QSize:
        # Room for a wrapped row's full-width bar of MIN_TRACK px (plus the scroll bar).
        width = self._lock_w() + MIN_TRACK + 6 + 24 + self.verticalScrollBar().sizeHint().width()
        return QSize(width, self._line_h * 4)

    # ------------------------------------------------------------ geometry
    def _lock_w(self) -> int:
        return 22 if self._lockable else 6

    def _one_line_width(self) -> int:
        """Viewport width a one-line row needs for a MIN_TRACK bar."""
        return self._lock_w() + self._label_w + MIN_TRACK + 6 + self._value_w + 24

    def _update_wrapping(self) -> None:
        # Judged as if the scroll bar were shown, so wrapping (more rows to scroll) cannot
        # show the scroll bar and narrow the viewport into flipping back and forth.
        avail = self.width() - 2 * self.frameWidth() - self.verticalScrollBar().sizeHint().width()
        wrapped = avail < self._one_line_width()
        if wrapped != self._wrapped:
            self._wrapped = wrapped
            self._row_h = self._line_h + self._name_h if wrapped else self._line_h
            self.verticalScrollBar().setSingleStep(self._row_h)

    def _bar_band(self, r: QRect) -> QRect:
        """The part of row rect `r` that holds the bar (its lower line when wrapped)."""
        return QRect(r.left(), r.bottom() + 1 - self._line_h, r.width(), self._line_h) if self._wrapped else r

    def _name_rect(self, r: QRect) -> QRect:
        if self._wrapped:
            return QRect(self._lock_w(), r.top() + 2, self.viewport().width() - self._lock_w() - self._value_w - 28,
                         self._name_h)
        return QRect(self._lock_w(), r.top(), self._label_w - 6, r.height())

    def _value_rect(self, r: QRect) -> QRect:
        if self._wrapped:
            return QRect(self.viewport().width() - 24 - self._value_w, r.top() + 2, self._value_w, self._name_h)
        return QRect(self._bar_right() + 2, r.top(), self._value_w, r.height())

    def _bar_left(self) -> int:
        return self._lock_w() + (0 if self._wrapped else self._label_w)

    def _bar_right(self) -> int:
        return self.viewport().width() - 24 - (0 if self._wrapped else self._value_w)

    def _row_at(self, y: float) -> int:
        row = int((y + self.verticalScrollBar().value()) // self._row_h)
        return row if 0 <= row < len(self._labels) else -1

    def _region_at(self, pos: QPointF) -> tuple[int, str]:
        row = self._row_at(pos.y())
        if row < 0:
            return -1, ""
        x = pos.x()
        if self._lockable and x < self._lock_w():
            return row, "lock"
        if x >= self.viewport().width() - 22:
            return row, "reset"
        top = (row * self._row_h) - self.verticalScrollBar().value()
        on_name_line = self._wrapped and pos.y() - top < self._name_h
        if not on_name_line and self._bar_left() - 4 <= x <= self._bar_right() + 4:
            return row, "bar"
        return row, "label"

    def _edited(self, row: int) -> bool:
        return abs(self._values[row] - self._origins[row]) > 1e-6

    def _update_scrollbar(self) -> None:
        total = len(self._labels) * self._row_h
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, total - self.viewport().height()))
        bar.setPageStep(max(self._row_h, self.viewport().height()))

    def _update_row(self, row: int) -> None:
        if 0 <= row < len(self._labels):
            self.viewport().update(self.row_rect(row))

    # ------------------------------------------------------------ painting
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self._update_wrapping()
        self._update_scrollbar()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        self.viewport().update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self.viewport())
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        alt = pal.color(QPalette.ColorRole.AlternateBase)
        text = pal.color(QPalette.ColorRole.Text)
        dim = QColor(text)
        dim.setAlphaF(0.45)
        accent = pal.color(QPalette.ColorRole.Highlight)
        track = pal.color(QPalette.ColorRole.Mid)
        locked_fill = QColor(accent)
        locked_fill.setAlphaF(0.35)
        clip = event.rect()
        first = max(0, self._row_at(clip.top()))
        last = self._row_at(clip.bottom())
        last = len(self._labels) - 1 if last < 0 else last
        p.fillRect(clip, base)
        has_focus = self.hasFocus()
        for row in range(first, last + 1):
            r = self.row_rect(row)
            if row % 2:
                p.fillRect(r, alt)
            if row == self._current and has_focus:
                c = QColor(accent)
                c.setAlphaF(0.18)
                p.fillRect(r, c)
            hovered = self._hover[0] == row
            locked = row in self._locked
            value = self._values[row]
            cy = self._bar_band(r).center().y() + 0.5
            name_rect = self._name_rect(r)
            # padlock
            if self._lockable and (locked or hovered):
                ly = name_rect.center().y() + 0.5 if self._wrapped else cy
                self._paint_lock(p, QRectF(4, ly - 7, 14, 14), locked, text if locked else dim)
            # name (elided only when even a line of its own is too narrow)
            p.setPen(text if not locked else dim)
            name = p.fontMetrics().elidedText(self._labels[row], Qt.TextElideMode.ElideRight, name_rect.width())
            p.drawText(name_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            # bar: track, zero line, fill from zero, reset tick, handle
            left, right = self._bar_left() + 3, self._bar_right() - 3
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(track)
            p.drawRoundedRect(QRectF(left, cy - 2, right - left, 4), 2, 2)
            x0, xv, xo = self.value_to_x(0.0), self.value_to_x(value), self.value_to_x(self._origins[row])
            p.setBrush(locked_fill if locked else accent)
            p.drawRoundedRect(QRectF(min(x0, xv), cy - 2, abs(xv - x0), 4), 2, 2)
            p.setPen(QPen(dim, 1))
            p.drawLine(QPointF(x0, cy - 5), QPointF(x0, cy + 5))
            if self._edited(row):
                p.setPen(QPen(text, 1.5))
                p.drawLine(QPointF(xo, cy - 6), QPointF(xo, cy - 3))
                p.drawLine(QPointF(xo, cy + 3), QPointF(xo, cy + 6))
            p.setPen(QPen(base, 1.5))
            p.setBrush(text if (hovered or row == self._drag_row) else accent.lighter(130))
            radius = 6.0 if row == self._drag_row else 5.0
            p.drawEllipse(QPointF(xv, cy), radius, radius)
            # value
            p.setPen(text)
            p.drawText(self._value_rect(r), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, f"{value:+.3f}")
            # reset
            if self._edited(row):
                self._paint_reset(p, QRectF(r.right() - 18, cy - 7, 14, 14), text if hovered else dim)
        p.end()

    @staticmethod
    def _paint_lock(p: QPainter, r: QRectF, closed: bool, color: QColor) -> None:
        p.save()
        p.setPen(QPen(color, 1.4))
        p.setBrush(color if closed else Qt.BrushStyle.NoBrush)
        body = QRectF(r.left() + 2, r.top() + r.height() * 0.45, r.width() - 4, r.height() * 0.5)
        p.drawRoundedRect(body, 1.5, 1.5)
        p.setBrush(Qt.BrushStyle.NoBrush)
        shackle = QPainterPath()
        sx0, sx1 = r.left() + 4.5, r.right() - 4.5
        shackle.moveTo(sx0, body.top())
        shackle.lineTo(sx0, r.top() + 4)
        shackle.arcTo(QRectF(sx0, r.top() + 1, sx1 - sx0, 6), 180, -180)
        shackle.lineTo(sx1, body.top() if closed else r.top() + 5)
        p.drawPath(shackle)
        p.restore()

    @staticmethod
    def _paint_reset(p: QPainter, r: QRectF, color: QColor) -> None:
        p.save()
        p.setPen(QPen(color, 1.4))
        p.setBrush(Qt.BrushStyle.NoBrush)
        arc = r.adjusted(2, 2, -2, -2)
        p.drawArc(arc, 90 * 16, 270 * 16)
        tip = QPointF(arc.center().x(), arc.top())
        p.setBrush(color)
        head = QPainterPath(tip + QPointF(3.5, 0))
        head.lineTo(tip + QPointF(-0.5, -3))
        head.lineTo(tip + QPointF(-0.5, 3))
        head.closeSubpath()
        p.drawPath(head)
        p.restore()

    # ------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        row, region = self._region_at(event.position())
        if row < 0:
            return
        self.set_current_row(row)
        if region == "lock":
            locked = row not in self._locked
            (self._locked.add if locked else self._locked.discard)(row)
            self._update_row(row)
            self.lockToggled.emit(row, locked)
        elif region == "reset" and self._edited(row):
            self.resetRequested.emit(row)
        elif region in ("bar", "label"):
            self._drag_row = row
            self._drag_start = (event.position().x(), self._values[row])
            if region == "bar" and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self._drag_to(event.position().x(), event.modifiers())
            self._update_row(row)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag_row >= 0:
            self._drag_to(event.position().x(), event.modifiers())
            return
        hover = self._region_at(event.position())
        if hover != self._hover:
            old, self._hover = self._hover, hover
            self._update_row(old[0])
            self._update_row(hover[0])

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag_row >= 0 and event.button() == Qt.MouseButton.LeftButton:
            row, self._drag_row = self._drag_row, -1
            self._update_row(row)
            self.released.emit(row)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        row, region = self._region_at(event.position())
        if row >= 0 and region in ("bar", "label"):
            self._drag_row = -1
            self.resetRequested.emit(row)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        old, self._hover = self._hover, (-1, "")
        self._update_row(old[0])
        super().leaveEvent(event)

    def _drag_to(self, x: float, modifiers: Qt.KeyboardModifier) -> None:
        row = self._drag_row
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            x0, v0 = self._drag_start
            scale = 2 * self._range / max(1.0, self._bar_right() - self._bar_left())
            value = float(np.clip(v0 + (x - x0) * scale * FINE, -self._range, self._range))
        else:
            value = self.x_to_value(x)
            self._drag_start = (x, value)
        if value != self._values[row]:
            self._values[row] = value
            self._update_row(row)
            self.dragged.emit(row, value)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            row = self._row_at(event.position().y())
            steps = event.angleDelta().y() / 120.0
            if row >= 0 and steps:
                self.set_current_row(row)
                self._nudge(row, steps * NUDGE)
            event.accept()
            return
        super().wheelEvent(event)

    # ------------------------------------------------------------ keyboard
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if not self._labels:
            return super().keyPressEvent(event)
        key, mods = event.key(), event.modifiers()
        page = max(1, self.viewport().height() // self._row_h - 1)
        step = NUDGE * (0.1 if mods & Qt.KeyboardModifier.ShiftModifier else 5.0 if mods & Qt.KeyboardModifier.ControlModifier else 1.0)
        moves = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -page, Qt.Key.Key_PageDown: page}
        if key in moves:
            self.set_current_row(self._current + moves[key])
        elif key == Qt.Key.Key_Home:
            self.set_current_row(0)
        elif key == Qt.Key.Key_End:
            self.set_current_row(len(self._labels) - 1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self._nudge(self._current, step if key == Qt.Key.Key_Right else -step)
        elif key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
            self.resetRequested.emit(self._current)
        elif key == Qt.Key.Key_L and self._lockable:
            row = self._current
            locked = row not in self._locked
            (self._locked.add if locked else self._locked.discard)(row)
            self._update_row(row)
            self.lockToggled.emit(row, locked)
        else:
            return super().keyPressEvent(event)
        event.accept()

    def _nudge(self, row: int, delta: float) -> None:
        value = float(np.clip(self._values[row] + delta, -self._range, self._range))
        if value != self._values[row]:
            self._values[row] = value
            self._update_row(row)
            self.nudged.emit(row, value)

    def focusInEvent(self, event) -> None:  # noqa: N802
        super().focusInEvent(event)
        self._update_row(self._current)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self._update_row(self._current)

    # ------------------------------------------------------------ tooltips
    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ToolTip:
            row, region = self._region_at(QPointF(event.pos()))
            if row < 0:
                QToolTip.hideText()
                return True
            QToolTip.showText(event.globalPos(), self._tooltip(row, region), self.viewport(), self.row_rect(row))
            return True
        return super().viewportEvent(event)

    def _tooltip(self, row: int, region: str) -> str:
        name = self._labels[row]
        if region == "lock":
            return (f"{name} is locked: Randomise and new seeds keep its value. Click to unlock (L)."
                    if row in self._locked else f"Lock {name} so Randomise and new seeds keep its value (L).")
        if region == "reset":
            return f"Reset {name} to {self._origins[row]:+.3f} (Backspace)"
        return (f"{self._noun.capitalize()} {name} = {self._values[row]:+.3f} (starts at {self._origins[row]:+.3f}).\n"
                "Drag to change, Shift-drag for fine control, double-click to reset.\n"
                "Left/Right nudge it, Ctrl+wheel too.")
