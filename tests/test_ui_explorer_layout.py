"""The explorer's layout holds at any window size (issue 12 §3.1, 3.2, 3.4).

Direction bars keep a usable width even after the window was narrow and its state was
saved; the morph studio has a window of its own and leaves the explorer's face alone; the
latent panel keeps its width when the first slider is edited.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from facestudio.models import DirectionSet, ModelConfig, new_bundle, save_model
from facestudio.ui.morph.morph_window import DEFAULT_SIZE
from facestudio.ui.preferences import Preferences
from facestudio.ui.widgets.slider_list import MIN_TRACK, SliderList
from explorer_helpers import TINY, settle

LONG_NAMES = ["face_width", "beard|smile,glasses", "glasses|beard", "yaw|light", "smile|yaw,light"]


@pytest.fixture
def attrs_model(tmp_path):
    bundle = new_bundle(ModelConfig(nz=16, name="attrs", **TINY), seed=1)
    bundle.directions = {"attribute": DirectionSet("attribute", LONG_NAMES, np.eye(len(LONG_NAMES), 16, dtype=np.float32))}
    save_model(bundle, tmp_path / "attrs.safetensors")
    return tmp_path / "attrs.safetensors"


@pytest.mark.parametrize("width", [120, 200, 260, 330, 420, 700])
def test_slider_bars_keep_a_usable_width_at_any_width(qtbot, width):
    sl = SliderList(lockable=False, value_range=6.0)
    qtbot.addWidget(sl)
    sl.set_rows(["Beard (smile, glasses kept)", "Face width"], [0.0, 1.5], [0.0, 0.0])
    sl.resize(max(width, sl.minimumSizeHint().width()), 300)
    sl.show()
    qtbot.waitExposed(sl)
    assert sl.bar_rect(0).width() >= MIN_TRACK and sl.bar_rect(1).width() >= MIN_TRACK
    # the bar drives the value across its whole range
    assert sl.x_to_value(sl.value_to_x(-6.0)) == pytest.approx(-6.0)
    assert sl.x_to_value(sl.value_to_x(6.0)) == pytest.approx(6.0)


def test_rows_wrap_when_the_names_leave_no_room_and_dragging_still_works(qtbot):
    sl = SliderList(lockable=False, value_range=6.0)
    qtbot.addWidget(sl)
    sl.set_rows(["Beard (smile, glasses kept)"] * 3, [0.0] * 3, [0.0] * 3)
    sl.resize(700, 300)
    sl.show()
    qtbot.waitExposed(sl)
    assert not sl.is_wrapped()
    one_line = sl.row_rect(1).height()
    sl.resize(300, 300)
    qtbot.waitUntil(lambda: sl.is_wrapped())
    assert sl.row_rect(1).height() > one_line
    assert sl.bar_rect(1).width() >= MIN_TRACK
    seen = []
    sl.dragged.connect(lambda row, v: seen.append((row, v)))
    at = QPoint(int(round(sl.value_to_x(3.0))), sl.bar_rect(1).center().y())
    qtbot.mousePress(sl.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseRelease(sl.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert seen and seen[-1][0] == 1 and seen[-1][1] == pytest.approx(3.0, abs=0.1)


def direction_bar_widths(w) -> list[int]:
    sl = w.directions_panel.slider_list("attribute")
    return [sl.bar_rect(i).width() for i in range(sl.row_count())]


def test_a_window_once_narrow_does_not_collapse_the_direction_bars(qtbot, open_window, attrs_model):
    w = open_window(attrs_model)
    w.directions_panel.tabs.setCurrentIndex(0)
    w.resize(1066, 666)
    qtbot.wait(50)
    assert min(direction_bar_widths(w)) >= MIN_TRACK
    w.close()  # the narrow state is saved
    w2 = open_window(attrs_model)
    w2.resize(1440, 900)
    qtbot.wait(50)
    assert w2.directions_dock.isVisible()
    assert min(direction_bar_widths(w2)) >= MIN_TRACK
    w2.resize(700, 500)  # as small as a person might make it
    qtbot.wait(50)
    assert min(direction_bar_widths(w2)) >= MIN_TRACK


def test_the_morph_studio_is_its_own_window_and_leaves_the_explorer_alone(qtbot, open_window, model_file):
    Preferences().clear()  # no morph window geometry from an earlier test
    w = open_window(model_file)
    qtbot.wait(50)
    size, face = w.size(), w.face_view.size()
    for _ in range(2):  # opening it twice must not grow anything either
        w.act_morph_studio.trigger()
        qtbot.waitExposed(w.morph_window)
        assert w.morph_window.isWindow() and w.morph_window.isVisible()
        assert w.morph_panel.window() is w.morph_window
        assert w.size() == size and w.face_view.size() == face
        avail = w.morph_window.screen().availableGeometry()  # a first size that fits the screen
        assert w.morph_window.width() == min(DEFAULT_SIZE[0], int(avail.width() * 0.9))
        assert w.morph_window.height() == min(DEFAULT_SIZE[1], int(avail.height() * 0.9))
        w.morph_window.close()
    w.act_morph_studio.trigger()
    w.morph_window.resize(700, 540)
    w.morph_window.move(40, 30)
    qtbot.wait(50)
    w.close()  # geometry remembered
    assert not w.morph_window.isVisible()
    w2 = open_window(model_file)
    w2.act_morph_studio.trigger()
    qtbot.waitExposed(w2.morph_window)
    assert (w2.morph_window.width(), w2.morph_window.height()) == (700, 540)


def test_the_latent_panel_keeps_its_width_when_sliders_are_edited(qtbot, open_window, model_file):
    w = open_window(model_file)
    qtbot.wait(50)
    dock_w, face_x = w.latent_dock.width(), w.face_view.mapTo(w, w.face_view.rect().topLeft()).x()
    sl = w.latent_panel.sliders
    for row in range(6):  # edits and locks make the summary longer
        sl.set_current_row(row)
        qtbot.keyClick(sl, Qt.Key.Key_Left)
        qtbot.keyClick(sl, Qt.Key.Key_L)
    settle(qtbot, w)
    qtbot.wait(50)
    assert "6 edited" in w.latent_panel.summary.text() and "6 locked" in w.latent_panel.summary.text()
    assert w.latent_dock.width() == dock_w
    assert w.face_view.mapTo(w, w.face_view.rect().topLeft()).x() == face_x


def test_gallery_captions_and_the_seed_box_say_what_the_face_is(qtbot, open_window, model_file):
    w = open_window(model_file)
    w.go_to_seed(42)
    settle(qtbot, w)
    assert w.seed_box.text() == "42"
    w.add_to_gallery()
    w.latent_panel.sliders.set_current_row(0)
    qtbot.keyClick(w.latent_panel.sliders, Qt.Key.Key_Right)
    w.add_to_gallery()
    w.show_latent(np.linspace(-1, 1, 16).astype(np.float32))  # a face no seed makes
    settle(qtbot, w)
    assert w.seed_box.text() == "custom" and w.seed_box.seed() is None
    w.add_to_gallery()
    items = [w.gallery_panel.list.item(i) for i in range(w.gallery_panel.list.count())]
    titles = [it.text().split("\n")[0] for it in items]
    assert titles == ["Face 1", "Seed 42 edited", "Seed 42"]
    assert all(len(it.text().split("\n")) == 2 for it in items)  # title and a short date
    assert all("F2" in it.toolTip() and "Seed" in items[2].toolTip() for it in items)
    w.seed_box.stepBy(1)  # the arrows step from the last seed, not from "custom"
    settle(qtbot, w)
    assert w.session.state.seed == 43 and w.seed_box.text() == "43"
    w.undo()
    assert w.seed_box.text() == "custom"


def test_the_morph_window_opens_on_the_screen(qtbot, open_window, model_file):
    w = open_window(model_file)
    w.move(0, 0)
    w.act_morph_studio.trigger()
    qtbot.waitExposed(w.morph_window)
    avail = w.morph_window.screen().availableGeometry()
    assert avail.contains(w.morph_window.geometry())
