"""Live training curves: losses, the discriminator's verdicts and sample variety (pyqtgraph).

Built the way pyqtgraph's own examples stay smooth on long runs: every plot item is
created once and fed whole columns with `setData`; the columns are views of
`MetricSeries`' preallocated growing buffers (no per-refresh copies); plots downsample
by peak (`setDownsampling(auto=True, mode="peak")`) and draw only what is in view
(`setClipToView`), so a 100k-step run redraws like a 1k-step one. Refreshes are
coalesced by the owner (the training panel calls `refresh()` at most `training_figures.REFRESH_HZ` times a
second, however many records arrive).

Raw per-step values are drawn thin and faint, the smoothed ones (a debiased moving
average, as TensorBoard draws it) bold on top.

Axis ranges are set here rather than auto-ranged: the step axis starts at 0-100 and
grows in coarse jumps (100, 200, 250, 500... up to the run's planned steps), the loss axis snaps outward to
half units. Redrawing
the axes (tick layout and text) was most of the cost of a frame; with ranges that change
rarely a frame is mostly the curves, and the window stays responsive while training.
"""

from __future__ import annotations

from pathlib import Path

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from facestudio.atomic_file import atomic_write_bytes, atomic_write_text
from facestudio.ui.widgets.qt_images import png_bytes
from facestudio.sessions.training.metric_series import MetricSeries

BACKGROUND = "#1f1f21"
AXIS = "#9a9a9a"
G_COLOR = "#4f8fd6"  # generator: the app's accent
D_COLOR = "#e0894a"
REAL_COLOR = "#6cc070"
FAKE_COLOR = "#d46a8c"
VARIETY_COLOR = "#c9b458"
THRESHOLD_COLOR = "#d05a5a"
THRESHOLD_LABEL = "collapse warning"
THRESHOLD_LEGEND = "collapse warning below this"
EMPTY_STEPS = 100.0  # the step axis of a run with no or few records yet spans 0-100


def _pen(color: str, width: float, alpha: float = 1.0) -> "pg.QtGui.QPen":
    c = QColor(color)
    c.setAlphaF(alpha)
    pen = pg.mkPen(c, width=width)
    pen.setCosmetic(True)
    return pen


class TrainingPlots(QWidget):
    """Three stacked plots sharing the step axis; fed from a `MetricSeries`."""

    def __init__(self, series: MetricSeries | None = None, parent: QWidget | None = None,
                 collapse_threshold: float = 0.2) -> None:
        super().__init__(parent)
        self.series = series if series is not None else MetricSeries()
        self.redraws = 0  # how many refreshes drew something (tests, benchmarks)
        self._drawn = -1
        self._planned: int | None = None
        self._x_hi: float | None = None
        self._loss_range: tuple[float, float] | None = None
        self._variety_hi: float | None = None
        self._user_x = False  # the person panned or zoomed the step axis: leave it alone
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.graphics.ci.setSpacing(6)
        self.loss_plot = self._plot("Losses", "loss", row=0)
        self.verdict_plot = self._plot("Discriminator's verdict (1 = surely real)", "probability", row=1)
        self.variety_plot = self._plot("Variety of the samples (share of the training images')", "variety", row=2, bottom=True)
        self.verdict_plot.setYRange(0.0, 1.0, padding=0.02)
        self.verdict_plot.getViewBox().setLimits(yMin=-0.05, yMax=1.05)
        for p in (self.verdict_plot, self.variety_plot):
            p.setXLink(self.loss_plot)
        for p in (self.loss_plot, self.verdict_plot):  # the step numbers once, under the last plot
            p.getAxis("bottom").setStyle(showValues=False)
        self.loss_plot.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)

        self.curves: dict[str, pg.PlotDataItem] = {}
        self._add_pair(self.loss_plot, "loss_g", "G loss", G_COLOR)
        self._add_pair(self.loss_plot, "loss_d", "D loss", D_COLOR)
        self._add_pair(self.verdict_plot, "d_real", "D(x): photos", REAL_COLOR)
        self._add_pair(self.verdict_plot, "d_fake", "D(G(z)): generated", FAKE_COLOR)
        self.curves["diversity"] = self.variety_plot.plot(
            [], [], pen=_pen(VARIETY_COLOR, 2), symbol="o", symbolSize=5, symbolBrush=VARIETY_COLOR,
            symbolPen=None, name="variety")
        threshold_pen = _pen(THRESHOLD_COLOR, 1, 0.8)
        self.threshold_line = pg.InfiniteLine(
            pos=collapse_threshold, angle=0, pen=threshold_pen, label=THRESHOLD_LABEL,
            labelOpts={"position": 0.02, "color": THRESHOLD_COLOR, "anchors": [(0, 1), (0, 1)]})
        self.threshold_line.setToolTip("Below this line the trainer warns of mode collapse")
        self.variety_plot.addItem(self.threshold_line)
        # The legend says what the red line is too (an InfiniteLine has no legend entry of its own).
        self.variety_plot.legend.addItem(pg.PlotDataItem([], [], pen=threshold_pen), THRESHOLD_LEGEND)
        self.variety_plot.setYRange(0.0, 1.2, padding=0.02)
        self._update_ranges(np.zeros(0), np.zeros(0))  # a sensible empty chart: steps 0-100

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

    # ------------------------------------------------------------ building
    def _plot(self, title: str, y_label: str, row: int, bottom: bool = False) -> pg.PlotItem:
        p = self.graphics.addPlot(row=row, col=0)
        p.setTitle(title, color=AXIS, size="9pt")
        p.showGrid(x=True, y=True, alpha=0.15)
        p.setDownsampling(auto=True, mode="peak")
        p.setClipToView(True)
        p.setMenuEnabled(False)
        p.hideButtons()
        p.getViewBox().setMouseEnabled(x=True, y=False)
        p.disableAutoRange()
        for name in ("left", "bottom"):
            axis = p.getAxis(name)
            axis.setPen(_pen(AXIS, 1, 0.5))
            axis.setTextPen(AXIS)
        p.setLabel("left", y_label, color=AXIS)
        if bottom:
            p.setLabel("bottom", "step", color=AXIS)
        # Steps are counts: never "step (x0.001)" with ticks 100-900, nor "(x1000)".
        p.getAxis("bottom").enableAutoSIPrefix(False)
        legend = p.addLegend(offset=(-8, 6), labelTextColor=AXIS, brush=pg.mkBrush(0, 0, 0, 110))
        legend.setParentItem(p.getViewBox())
        return p

    def _add_pair(self, plot: pg.PlotItem, column: str, label: str, color: str) -> None:
        """A faint raw curve and a bold smoothed one (only the smoothed one in the legend)."""
        raw = pg.PlotDataItem([], [], pen=_pen(color, 1, 0.28), connect="finite")
        plot.addItem(raw)
        self.curves[column] = raw
        self.curves[column + "_smoothed"] = plot.plot([], [], pen=_pen(color, 2), name=label, connect="finite")

    # ------------------------------------------------------------ feeding
    def refresh(self) -> None:
        """Feed every curve the current columns (views, not copies) if anything changed."""
        s = self.series
        n = len(s)
        if n == self._drawn:
            return
        self._drawn = n
        x = s.column("step")
        for name in ("loss_g", "loss_d", "d_real", "d_fake"):
            self.curves[name].setData(x, s.column(name))
            self.curves[name + "_smoothed"].setData(x, s.smoothed(name))
        diversity = s.column("diversity")
        measured = np.isfinite(diversity)
        self.curves["diversity"].setData(x[measured], diversity[measured])
        self._update_ranges(x, diversity[measured])
        self.redraws += 1

    def set_planned_steps(self, steps: int | None) -> None:
        """The step the run ends at (None: unknown); the step axis never goes beyond it."""
        self._planned = int(steps) if steps else None
        self._x_hi = None
        self._drawn = -1

    def _update_ranges(self, x: np.ndarray, diversity: np.ndarray) -> None:
        """Ranges that change only when the data outgrows them (see the module docstring)."""
        last = float(x[-1]) if len(x) else 0.0
        if not self._user_x:
            hi = _nice_ceiling(max(EMPTY_STEPS, last * 1.25))
            if self._planned and self._planned >= last:
                hi = min(hi, float(self._planned))
            if hi != self._x_hi:
                self._x_hi = hi
                self.loss_plot.setXRange(0.0, hi, padding=0.01)
        finite = [a[np.isfinite(a)] for a in (self.series.column("loss_g"), self.series.column("loss_d"))]
        finite = [a for a in finite if a.size]
        if finite:
            lo = math.floor(min(float(a.min()) for a in finite) * 2) / 2
            hi = math.floor(max(float(a.max()) for a in finite) * 2) / 2 + 0.5
            if (lo, hi) != self._loss_range:
                self._loss_range = (lo, hi)
                self.loss_plot.setYRange(lo, hi, padding=0.02)
        top = max(1.2, math.floor(float(diversity.max()) * 5) / 5 + 0.2) if diversity.size else 1.2
        if top != self._variety_hi:
            self._variety_hi = top
            self.variety_plot.setYRange(0.0, top, padding=0.02)

    def _on_manual_range(self, *_args) -> None:
        self._user_x = True

    def clear(self) -> None:
        self.series.clear()
        self._drawn = -1
        self._x_hi = None
        self._loss_range = None
        self._variety_hi = None
        self._user_x = False
        self.refresh()

    def set_collapse_threshold(self, value: float) -> None:
        """Where the run's collapse warning fires (its collapse_threshold)."""
        self.threshold_line.setValue(float(value))

    def point_count(self, name: str) -> int:
        """Points the curve `name` was given (e.g. "loss_g", "loss_g_smoothed", "diversity")."""
        x, _ = self.curves[name].getOriginalDataset()
        return 0 if x is None else len(x)

    # ------------------------------------------------------------ export
    def export_png(self, path: str | Path) -> None:
        """The three plots as one PNG, as on screen (written atomically)."""
        self.refresh()
        atomic_write_bytes(path, png_bytes(self.graphics.grab()))

    def export_csv(self, path: str | Path) -> None:
        """Every step's figures, raw and smoothed, as CSV (written atomically)."""
        atomic_write_text(path, self.series.to_csv())


def _nice_ceiling(value: float) -> float:
    """The next of 1, 2, 2.5, 5 x 10^k at or above `value` (axis ends that change rarely)."""
    if value <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if m * base >= value:
            return float(m * base)
    return float(10 * base)
