"""The training room's charts read right before and during a run (issue 12 §3.6)."""

from __future__ import annotations

import numpy as np
import pytest

from facestudio.ui.training.training_plots import THRESHOLD_LEGEND, TrainingPlots


def rec(step, **kw):
    return {"step": step, "seconds": step * 0.1, "loss_g": 1.0, "loss_d": 0.5, "d_real": 0.7, "d_fake": 0.3, **kw}


@pytest.fixture
def plots(qtbot):
    p = TrainingPlots()
    qtbot.addWidget(p)
    p.resize(600, 700)
    p.show()
    qtbot.waitExposed(p)
    return p


def step_axis(plots):
    return plots.variety_plot.getAxis("bottom")


def test_an_empty_chart_counts_steps_from_0_to_100_without_si_scaling(plots):
    lo, hi = plots.loss_plot.viewRange()[0]
    assert lo <= 0 < 100 <= hi < 110
    axis = step_axis(plots)
    assert "x0.001" not in axis.labelString() and axis.autoSIPrefixScale == 1.0
    ticks = [v for level in axis.tickValues(lo, hi, 500) for v in level[1]]
    assert ticks and max(ticks) >= 50 and all(float(v).is_integer() for v in ticks)


def test_a_long_run_keeps_plain_step_numbers(plots):
    plots.series.extend(rec(s) for s in range(0, 50_001, 500))
    plots.refresh()
    axis = step_axis(plots)
    assert "x1000" not in axis.labelString() and "(x" not in axis.labelString()
    assert plots.loss_plot.viewRange()[0][1] >= 50_000


def test_a_planned_short_run_ends_the_axis_at_its_last_step(plots):
    plots.set_planned_steps(40)
    plots.series.extend([rec(1), rec(2)])
    plots.refresh()
    assert plots.loss_plot.viewRange()[0][1] == pytest.approx(40, abs=1)


def test_the_collapse_threshold_line_is_labelled_and_in_the_legend(plots):
    names = [label.text for _sample, label in plots.variety_plot.legend.items]
    assert THRESHOLD_LEGEND in names and "variety" in names
    assert plots.threshold_line.label is not None and "collapse" in plots.threshold_line.label.toPlainText()
    plots.set_collapse_threshold(0.35)
    assert plots.threshold_line.value() == pytest.approx(0.35)
    plots.series.extend([rec(100, diversity=0.5), rec(200, diversity=np.nan)])
    plots.refresh()
    assert plots.point_count("diversity") == 1
