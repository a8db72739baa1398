"""The fixed-latent sample grid as it trains, with a timeline to scrub back through.

Every sample grid shows the same latents, so scrubbing the timeline is watching the
same faces emerge from noise. While the slider sits at the newest grid ("live") new
grids replace the picture; dragging it back pins an older grid until the person returns
to the end or presses Live.

Memory stays flat on long runs: grids that exist as files in the run folder are kept as
paths and decoded when shown (a few are cached); only grids without a file (a run with
no folder) are kept in memory.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout, QWidget

from facestudio.ui.widgets.qt_images import qpixmap_from_rgb, rgb_from_qimage

#: Decoded grids kept for scrubbing back and forth.
CACHE_SIZE = 8
#: Enlargements from this factor on are rounded down to whole multiples (crisp pixels).
CRISP_FROM = 3


class GridView(QWidget):
    """Paints one picture centred and scaled to fit: crisp whole multiples when it can be
    enlarged at least `CRISP_FROM` times, else filtered to fill the space (nearest-pixel
    scaling by a fraction would make some faces' pixels wider than others')."""

    MARGIN = 8

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._image: np.ndarray | None = None
        self._placeholder = placeholder
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: np.ndarray | None) -> None:
        self._image = None if image is None else np.array(image, dtype=np.uint8, copy=True)
        self._pixmap = None if image is None else qpixmap_from_rgb(self._image)
        self.update()

    def image(self) -> np.ndarray | None:
        return None if self._image is None else self._image.copy()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(460, 460)

    def target_rect(self) -> QRectF:
        w, h = self.width() - 2 * self.MARGIN, self.height() - 2 * self.MARGIN
        if self._pixmap is None or w <= 0 or h <= 0:
            return QRectF()
        pw, ph = self._pixmap.width(), self._pixmap.height()
        scale = min(w / pw, h / ph)
        if scale >= CRISP_FROM:  # whole multiples: every generated pixel a sharp square
            scale = float(int(scale))
        tw, th = pw * scale, ph * scale
        return QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Window).darker(115))
        if self._pixmap is None:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect().adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self._placeholder)
        else:
            target = self.target_rect()
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, target.width() % self._pixmap.width() != 0)
            p.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
        p.end()


@dataclass
class _Entry:
    step: int
    path: str | None
    grid: np.ndarray | None  # kept only when there is no file to read it back from


class SampleTimeline(QWidget):
    """Shows one sample grid at a time; `add()` appends, the slider picks."""

    shown = Signal(int)  # step of the grid now on screen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[_Entry] = []
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._live = True
        self._shown_step: int | None = None
        self.view = GridView("The faces of fixed latents appear here as the model learns.")
        self.view.setMinimumSize(240, 240)
        self.view.setToolTip("The same latents at every sample step: watch faces emerge from noise.")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.setToolTip("Scrub through the sample grids saved so far")
        self.slider.valueChanged.connect(self._on_slider)
        self.step_label = QLabel("No samples yet")
        self.step_label.setObjectName("Hint")
        self.step_label.setMinimumWidth(150)
        self.live_button = QPushButton("Live")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Follow the newest grid as training goes on")
        self.live_button.clicked.connect(self.go_live)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.step_label)
        row.addWidget(self.live_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)

    # ------------------------------------------------------------ data
    def clear(self) -> None:
        self._entries.clear()
        self._cache.clear()
        self._live = True
        self._shown_step = None
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(False)
        self.live_button.setChecked(True)
        self.step_label.setText("No samples yet")
        self.view.set_image(None)

    def add(self, step: int, grid: np.ndarray | None = None, path: str | Path | None = None) -> None:
        """Append the grid of `step` (an array, a PNG path, or both); shown at once when live."""
        self._append(step, grid, path)
        self._after_append()

    def extend(self, grids: list[tuple[int, str | Path]]) -> None:
        """Append many (step, PNG path) at once (a run's history); only the newest is decoded."""
        for step, path in grids:
            self._append(step, None, path)
        if grids:
            self._after_append()

    def _append(self, step: int, grid: np.ndarray | None, path: str | Path | None) -> None:
        if grid is None and path is None:
            raise ValueError("a sample grid needs pixels or a file")
        step = int(step)
        while self._entries and self._entries[-1].step >= step:  # a resumed run redoes later steps
            gone = self._entries.pop()
            self._cache.pop(gone.step, None)
        entry = _Entry(step, str(path) if path else None, None)
        if grid is not None:
            grid = np.array(grid, dtype=np.uint8, copy=True)
            if entry.path is None:
                entry.grid = grid
            self._remember(step, grid)
        self._entries.append(entry)

    def _after_append(self) -> None:
        last = len(self._entries) - 1
        self.slider.blockSignals(True)
        self.slider.setRange(0, last)
        if self._live:
            self.slider.setValue(last)
        self.slider.blockSignals(False)
        self.slider.setEnabled(last > 0)
        if self._live:
            self._show(last)
        else:
            self._update_label()

    def count(self) -> int:
        return len(self._entries)

    def steps(self) -> list[int]:
        return [e.step for e in self._entries]

    def shown_step(self) -> int | None:
        return self._shown_step

    def is_live(self) -> bool:
        return self._live

    def go_live(self) -> None:
        self._live = True
        self.live_button.setChecked(True)
        if self._entries:
            self.slider.setValue(len(self._entries) - 1)
            self._show(len(self._entries) - 1)

    def show_index(self, index: int) -> None:
        """Scrub to grid `index` (leaving live mode unless it is the newest)."""
        self.slider.setValue(int(index))

    # ------------------------------------------------------------ internals
    def _on_slider(self, index: int) -> None:
        if not self._entries:
            return
        self._live = index == len(self._entries) - 1
        self.live_button.setChecked(self._live)
        self._show(index)

    def _show(self, index: int) -> None:
        entry = self._entries[index]
        grid = self._pixels(entry)
        if grid is not None:
            self.view.set_image(grid)
        self._shown_step = entry.step
        self._update_label()
        self.shown.emit(entry.step)

    def _update_label(self) -> None:
        if self._shown_step is None:
            return
        n = len(self._entries)
        index = next((i for i, e in enumerate(self._entries) if e.step == self._shown_step), n - 1)
        where = "live" if self._live else f"{index + 1} of {n}"
        self.step_label.setText(f"Step {self._shown_step:,}  ({where})")

    def _pixels(self, entry: _Entry) -> np.ndarray | None:
        if entry.grid is not None:
            return entry.grid
        cached = self._cache.get(entry.step)
        if cached is not None:
            self._cache.move_to_end(entry.step)
            return cached
        image = QImage(entry.path)
        if image.isNull():  # deleted or being replaced; keep what is on screen
            return None
        grid = rgb_from_qimage(image)
        self._remember(entry.step, grid)
        return grid

    def _remember(self, step: int, grid: np.ndarray) -> None:
        self._cache[step] = grid
        self._cache.move_to_end(step)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
