"""`None`'s reference count must not drift while FaceStudio paints (issue 12, the crash).

A binding that drops a reference to None per call (PySide6 6.12.0 on Python 3.11) makes
CPython abort with "none_dealloc" after minutes of use. These checks fail cleanly on such
a binding (the measurement stops at the first drifting chunk) instead of aborting.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from facestudio.ui.none_refcount import measure_painter_calls, none_drift, painter_calls

UI = Path(__file__).resolve().parents[1] / "facestudio" / "ui"
CALLS = 10_000
REPAINTS = 300


def test_every_painter_call_the_app_makes_is_measured(qapp):
    """Scanning facestudio/ui: each QPainter method used there is in the measured table."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    measured = {name.split("(")[0] for name in painter_calls(painter)} | {"save", "restore"}
    painter.end()
    used = set()
    for source in UI.rglob("*.py"):
        text = source.read_text()
        if "QPainter(" not in text:
            continue
        names = set(re.findall(r"\b(?:p|painter)\.([a-zA-Z]+)\(", text))
        used |= {n for n in names if hasattr(QPainter, n) and n != "end"}
    assert used, "the scan found no painter calls: the pattern is out of date"
    assert used <= measured, f"painter calls not measured for None refcount drift: {sorted(used - measured)}"


def test_painter_calls_keep_none_refcount(qapp):
    drifts = measure_painter_calls(CALLS)
    bad = [f"{d.name}: {d.drift:+d} after {d.calls} calls" for d in drifts if d.calls < CALLS or abs(d.drift) > 5]
    assert not bad, "the Qt binding leaks references to None (see the pin in pyproject.toml): " + "; ".join(bad)


def _widgets():
    """Every FaceStudio widget with its own paintEvent, showing content, plus the training plots."""
    from facestudio.ui.widgets.face_view import FaceView
    from facestudio.ui.explorer.realism_meter import RealismMeter
    from facestudio.ui.training.sample_timeline import GridView
    from facestudio.ui.widgets.slider_list import SliderList
    from facestudio.ui.training.training_plots import TrainingPlots
    from facestudio.ui.explorer.variation_strip import VariationStrip
    from facestudio.sessions.training.metric_series import MetricSeries

    rng = np.random.default_rng(0)
    face = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    view = FaceView()
    view.set_image(face)
    view.set_drop_hint(True)
    strip = VariationStrip(count=4)
    strip.set_images(rng.integers(0, 255, (4, 64, 64, 3), dtype=np.uint8))
    strip.set_stale(True)
    meter = RealismMeter()
    meter.set_value(0.7)
    grid = GridView("no samples yet")
    grid.set_image(face)
    sliders = SliderList()
    sliders.set_rows([f"z{i}" for i in range(12)], list(rng.normal(size=12)))
    sliders.set_locked({1, 3})
    series = MetricSeries()
    series.extend({"step": s, "loss_g": 1 + rng.random(), "loss_d": rng.random(), "d_real": 0.6, "d_fake": 0.4,
                   "diversity": 0.8 if s % 50 == 0 else None} for s in range(1, 400))
    plots = TrainingPlots(series)
    plots.refresh()
    widgets = [view, strip, meter, grid, sliders, plots]
    for w in widgets:
        w.resize(420, 300)
    return widgets


def test_widget_repaints_keep_none_refcount(qapp):
    """Each widget's whole paint path (pyqtgraph items included) leaves None's count alone."""
    from PySide6.QtGui import QImage

    image = QImage(420, 300, QImage.Format.Format_ARGB32_Premultiplied)
    bad = []
    for widget in _widgets():
        d = none_drift(type(widget).__name__, lambda w=widget: w.render(image), n=REPAINTS, chunk=50, tolerance=20)
        if d.calls < REPAINTS or abs(d.drift) > 20:
            bad.append(f"{d.name}: {d.drift:+d} after {d.calls} repaints")
        widget.deleteLater()
    assert not bad, "painting leaks references to None: " + "; ".join(bad)


def test_pyqtgraph_item_painting_keeps_none_refcount(qapp):
    """pyqtgraph's own Python paint path: boundingRect and paint of curves and axes (the second crash)."""
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QStyleOptionGraphicsItem

    plots = [w for w in _widgets() if type(w).__name__ == "TrainingPlots"][0]
    image = QImage(200, 200, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    option = QStyleOptionGraphicsItem()
    curve = plots.curves["loss_g_smoothed"].curve
    axis = plots.loss_plot.getAxis("left")
    calls = {
        "PlotCurveItem.boundingRect": curve.boundingRect,
        "PlotCurveItem.paint": lambda: curve.paint(painter, option, None),
        "AxisItem.boundingRect": axis.boundingRect,
        "AxisItem.paint": lambda: axis.paint(painter, option, None),
    }
    try:
        drifts = [none_drift(name, call, n=CALLS if "bounding" in name else 1000) for name, call in calls.items()]
    finally:
        painter.end()
    bad = [f"{d.name}: {d.drift:+d} after {d.calls} calls" for d in drifts if abs(d.drift) > 5]
    assert not bad, "pyqtgraph painting leaks references to None: " + "; ".join(bad)
    assert all(d.calls == (CALLS if "bounding" in d.name else 1000) for d in drifts)


def test_drift_measure_catches_a_leak():
    """The measure itself: a call that drops a reference to None is caught, and stopped early."""
    import ctypes

    decref = ctypes.pythonapi.Py_DecRef
    decref.argtypes = [ctypes.py_object]
    d = none_drift("leaky", lambda: decref(None), n=CALLS)
    for _ in range(-d.drift):  # give the references back
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    assert d.drift <= -50 and d.calls < CALLS
    assert sys.getrefcount(None) > 1000
