"""The painted slider list used for latent dimensions and directions."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from facestudio.ui.widgets.slider_list import NUDGE, SliderList


@pytest.fixture
def sliders(qtbot):
    w = SliderList(lockable=True, value_range=4.0)
    qtbot.addWidget(w)
    values = np.linspace(-1, 1, 512)
    w.set_rows([f"z {i}" for i in range(512)], values)
    w.resize(360, 400)
    w.show()
    qtbot.waitExposed(w)
    return w


def point_for(w, row, value):
    return QPoint(int(round(w.value_to_x(value))), w.row_rect(row).center().y())


def test_512_rows_build_and_scroll(sliders):
    assert sliders.row_count() == 512
    assert sliders.verticalScrollBar().maximum() > 0
    sliders.set_current_row(500)
    r = sliders.row_rect(500)
    assert 0 <= r.top() and r.bottom() <= sliders.viewport().height()
    assert not sliders.grab().isNull()  # paints the rows in view


def test_drag_emits_live_values_then_one_release(sliders, qtbot):
    vp = sliders.viewport()
    live = []
    sliders.dragged.connect(lambda row, v: live.append((row, v)))
    with qtbot.waitSignal(sliders.released) as released:
        qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=point_for(sliders, 3, 2.0))
        qtbot.mouseMove(vp, point_for(sliders, 3, -1.5))
        qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=point_for(sliders, 3, -1.5))
    assert released.args == [3]
    assert live[0][0] == 3 and live[0][1] == pytest.approx(2.0, abs=0.05)
    assert live[-1][1] == pytest.approx(-1.5, abs=0.05)
    assert sliders.value(3) == pytest.approx(-1.5, abs=0.05)


def test_keyboard_nudges_and_moves_between_rows(sliders, qtbot):
    sliders.setFocus()
    sliders.set_current_row(10)
    start = sliders.value(10)
    with qtbot.waitSignal(sliders.nudged) as nudged:
        qtbot.keyClick(sliders, Qt.Key.Key_Right)
    assert nudged.args[0] == 10 and nudged.args[1] == pytest.approx(start + NUDGE)
    qtbot.keyClick(sliders, Qt.Key.Key_Down)
    assert sliders.current_row() == 11
    with qtbot.waitSignal(sliders.resetRequested) as reset:
        qtbot.keyClick(sliders, Qt.Key.Key_Backspace)
    assert reset.args == [11]


def test_lock_by_click_and_key(sliders, qtbot):
    vp = sliders.viewport()
    with qtbot.waitSignal(sliders.lockToggled) as toggled:
        qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=QPoint(8, sliders.row_rect(2).center().y()))
    assert toggled.args == [2, True] and sliders.locked() == {2}
    sliders.setFocus()
    sliders.set_current_row(2)
    with qtbot.waitSignal(sliders.lockToggled) as toggled:
        qtbot.keyClick(sliders, Qt.Key.Key_L)
    assert toggled.args == [2, False] and sliders.locked() == set()


def test_double_click_asks_for_reset(sliders, qtbot):
    with qtbot.waitSignal(sliders.resetRequested) as reset:
        qtbot.mouseDClick(sliders.viewport(), Qt.MouseButton.LeftButton, pos=point_for(sliders, 4, 1.0))
    assert reset.args == [4]


def test_ctrl_wheel_nudges_the_row_under_the_pointer(sliders, qtbot):
    pos = QPointF(point_for(sliders, 6, 0.0))
    event = QWheelEvent(pos, QPointF(sliders.viewport().mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    before = sliders.value(6)
    with qtbot.waitSignal(sliders.nudged) as nudged:
        QApplication.sendEvent(sliders.viewport(), event)
    assert nudged.args[0] == 6 and nudged.args[1] == pytest.approx(before + NUDGE)


def test_values_are_clamped_to_the_range(sliders, qtbot):
    vp = sliders.viewport()
    with qtbot.waitSignal(sliders.released):
        qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=QPoint(sliders.bar_rect(0).right() + 3, sliders.row_rect(0).center().y()))
        qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton)
    assert sliders.value(0) == pytest.approx(4.0)


def test_set_rows_checks_lengths(sliders):
    with pytest.raises(ValueError):
        sliders.set_rows(["a", "b"], [0.0])
