"""The explorer window, driven like a person would: sliders, keys, files, drops.

Tiny models (32 px, nz 16) keep every test fast; each window is closed at the end and
its render and directions threads must have finished.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from facestudio.latent.sampling import latent_for_seed
from facestudio.models import ModelConfig, new_bundle, save_model
from facestudio.render.face_png import read_face_png
from facestudio.ui.explorer.explorer_window import ExplorerWindow
from facestudio.ui.explorer.model_opening import STARTER_NAME

from explorer_helpers import TINY, save_tiny, settle, shows_current_face


@pytest.fixture
def window(open_window, model_file) -> ExplorerWindow:
    return open_window(model_file)


def drag(qtbot, sliders, row: int, values: list[float]) -> None:
    sliders.set_current_row(row)
    vp = sliders.viewport()
    y = sliders.row_rect(row).center().y()
    points = [QPoint(int(round(sliders.value_to_x(v))), y) for v in values]
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=points[0])
    for p in points[1:]:
        qtbot.mouseMove(vp, p)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=points[-1])


def write_png_with_text(path: Path, text: str | None) -> Path:
    info = PngImagePlugin.PngInfo()
    if text is not None:
        info.add_itxt("facestudio", text)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path, pnginfo=info)
    return path


# ---------------------------------------------------------------- sliders, undo, seeds
def test_dragging_a_latent_slider_changes_the_face_and_is_one_undo_step(qtbot, window):
    start_state, start_image = window.session.state, window.face_view.image()
    drag(qtbot, window.latent_panel.sliders, 2, [-3.0, -1.0, 1.0, 3.0])
    settle(qtbot, window)
    assert window.session.state.base[2] == pytest.approx(3.0, abs=0.05)
    assert not np.array_equal(window.face_view.image(), start_image)
    assert shows_current_face(window)
    assert len(window.session.history) == 2  # the whole drag is one step

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert window.session.state == start_state
    assert np.array_equal(window.face_view.image(), start_image)
    assert window.latent_panel.sliders.value(2) == pytest.approx(float(start_state.base[2]))

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, window)
    assert window.session.state.base[2] == pytest.approx(3.0, abs=0.05) and shows_current_face(window)


def test_reset_one_reset_all_randomise_and_lock(qtbot, window):
    sliders = window.latent_panel.sliders
    origin = window.session.state.origin.copy()
    drag(qtbot, sliders, 0, [2.5])
    drag(qtbot, sliders, 1, [-2.5])
    with qtbot.waitSignal(sliders.resetRequested):
        qtbot.mouseDClick(sliders.viewport(), Qt.MouseButton.LeftButton, pos=sliders.bar_rect(0).center())
    assert window.session.state.base[0] == origin[0]
    window.latent_panel.reset_button.click()
    assert np.array_equal(window.session.state.base, origin)

    drag(qtbot, sliders, 3, [3.5])
    qtbot.mouseClick(sliders.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(8, sliders.row_rect(3).center().y()))
    assert window.session.locked == {3}
    window.latent_panel.randomise_button.click()
    settle(qtbot, window)
    assert window.session.state.base[3] == pytest.approx(3.5, abs=0.05)
    assert not np.allclose(window.session.state.base, origin)
    assert shows_current_face(window)


def test_seed_box_steps_and_truncation(qtbot, window):
    window.seed_box.setValue(41)
    settle(qtbot, window)
    assert window.session.state.seed == 41
    assert np.array_equal(window.session.state.base, latent_for_seed(41, 16))
    window.act_next_seed.trigger()
    window.act_next_seed.trigger()
    window.act_prev_seed.trigger()
    assert window.session.state.seed == 42 and window.seed_box.value() == 42
    before = window.face_view.image()
    window.psi_slider.setValue(40)
    settle(qtbot, window)
    assert window.session.state.psi == pytest.approx(0.4)
    assert not np.array_equal(before, window.face_view.image()) and shows_current_face(window)
    window.undo()
    assert window.session.state.psi == pytest.approx(1.0) and window.psi_slider.value() == 100


def test_direction_sliders_move_the_face_on_top_of_the_latent(qtbot, open_window, model_file):
    w = ExplorerWindow(model_file)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.directionsReady, timeout=20000):
        w.show()
    assert {"sefa", "pca"} <= set(w.directions_panel.kinds())
    settle(qtbot, w)
    base, before = w.session.state.base.copy(), w.face_view.image()
    drag(qtbot, w.directions_panel.slider_list("sefa"), 0, [0.5, 2.0, 4.0])
    settle(qtbot, w)
    assert w.session.state.amount("sefa", "SeFa 1") == pytest.approx(4.0, abs=0.1)
    assert np.array_equal(w.session.state.base, base)  # the latent sliders are untouched
    assert not np.array_equal(before, w.face_view.image()) and shows_current_face(w)
    w.close()
    assert w._render.thread.isFinished() and w._directions.thread.isFinished()


def test_nz_512_slider_panel_builds_and_drives_the_face(qtbot, open_window, tmp_path):
    w = open_window(save_tiny(tmp_path / "wide.safetensors", nz=512))
    sliders = w.latent_panel.sliders
    assert sliders.row_count() == 512
    before = w.face_view.image()
    drag(qtbot, sliders, 511, [-3.9, 3.9])
    settle(qtbot, w)
    assert w.session.state.base[511] == pytest.approx(3.9, abs=0.05)
    assert not np.array_equal(before, w.face_view.image()) and shows_current_face(w)


def test_clicking_a_nearby_face_makes_it_current(qtbot, window):
    if window._var_token == 0 or window.variations._stale:
        with qtbot.waitSignal(window.variationsShown, timeout=10000):
            pass
    bases = window._variation_bases.copy()
    with qtbot.waitSignal(window.faceShown, timeout=10000):
        qtbot.mouseClick(window.variations, Qt.MouseButton.LeftButton, pos=window.variations.tile_rect(2).center().toPoint())
    assert np.array_equal(window.session.state.base, bases[2])
    settle(qtbot, window)
    assert shows_current_face(window)


# ---------------------------------------------------------------- faces as files
def test_save_face_png_and_open_it_back_exactly(qtbot, window, tmp_path):
    window.seed_box.setValue(7)
    drag(qtbot, window.latent_panel.sliders, 5, [1.75])
    window.psi_slider.setValue(70)
    if "sefa" not in window.session.directions:
        with qtbot.waitSignal(window.directionsReady, timeout=20000):
            pass
    window.session.set_amount("sefa", "SeFa 2", -2.5)
    window.session.commit()
    settle(qtbot, window)
    saved_latent, saved_state = window.session.effective_latent(), window.session.state
    out = tmp_path / "face.png"
    assert window.save_face(out, size=96)
    record = read_face_png(out)
    assert Image.open(out).size == (96, 96)
    assert np.array_equal(record.latent, saved_latent) and record.truncation == pytest.approx(0.7)
    assert record.model_sha256 == window.bundle.sha256

    window.randomise()
    assert window.open_face(out)
    settle(qtbot, window)
    assert np.array_equal(window.session.effective_latent(), saved_latent)
    assert window.session.state.psi == saved_state.psi
    assert window.session.state.amount("sefa", "SeFa 2") == pytest.approx(-2.5)
    assert window.banner.level() == ""  # same model: no warning
    assert shows_current_face(window)


face_text = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.fixed_dictionaries(
        {"format": st.sampled_from(["facestudio-face", "other"]), "version": st.one_of(st.integers(-2, 3), st.text(max_size=3)),
         "nz": st.one_of(st.integers(-5, 20), st.floats(), st.none()),
         "latent": st.one_of(st.text(max_size=40), st.binary(max_size=80).map(lambda b: __import__("base64").b64encode(b).decode())),
         "model": st.one_of(st.none(), st.fixed_dictionaries({"name": st.text(max_size=5), "sha256": st.text(max_size=70)})),
         "truncation": st.one_of(st.floats(allow_nan=True), st.text(max_size=3))},
    ).map(lambda d: json.dumps(d)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=face_text)
def test_malformed_face_metadata_is_refused_and_changes_nothing(qtbot, window, tmp_path, text):
    before, image, history = window.session.state, window.face_view.image(), len(window.session.history)
    path = write_png_with_text(tmp_path / "hostile.png", text)
    assert not window.open_face(path)
    assert window.banner.level() == "error" and window.banner.text()
    assert window.session.state == before and len(window.session.history) == history
    assert np.array_equal(window.face_view.image(), image)
    window.banner.dismiss()


def test_plain_png_and_missing_file_are_refused_with_a_sentence(window, tmp_path):
    assert not window.open_face(write_png_with_text(tmp_path / "plain.png", None))
    assert "ordinary picture" in window.banner.text()
    assert not window.open_face(tmp_path / "nope.png")
    assert "does not exist" in window.banner.text()


def test_face_from_another_model_warns_and_another_nz_is_refused(qtbot, window, tmp_path):
    window.seed_box.setValue(3)
    settle(qtbot, window)
    face = tmp_path / "mine.png"
    window.save_face(face, size=32)
    latent = window.session.effective_latent()
    assert window.open_model(save_tiny(tmp_path / "other.safetensors", seed=9, name="other"))
    settle(qtbot, window)
    assert window.open_face(face)
    assert window.banner.level() == "warning" and "another model" in window.banner.text()
    assert np.array_equal(window.session.effective_latent(), latent)

    assert window.open_model(save_tiny(tmp_path / "wide.safetensors", nz=32))
    settle(qtbot, window)
    state = window.session.state
    assert not window.open_face(face)
    assert window.banner.level() == "error" and "latent size of 16" in window.banner.text()
    assert window.session.state == state


def test_copy_and_paste_latent_as_text(qtbot, window):
    window.seed_box.setValue(12)
    latent = window.session.effective_latent()
    window.copy_latent()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("fslatent1:")
    window.seed_box.setValue(13)
    assert window.paste_latent(text)
    assert np.array_equal(window.session.effective_latent(), latent)
    state = window.session.state
    assert not window.paste_latent("hello there")
    assert window.banner.level() == "error" and window.session.state == state


def test_dropping_a_face_png_restores_it(qtbot, window, tmp_path):
    window.seed_box.setValue(21)
    settle(qtbot, window)
    face = tmp_path / "dropped.png"
    window.save_face(face, size=32)
    latent = window.session.effective_latent()
    window.seed_box.setValue(22)

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(face))])
    pos = QPointF(window.face_view.geometry().center())
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()
    settle(qtbot, window)
    assert np.array_equal(window.session.effective_latent(), latent) and shows_current_face(window)

    text_mime = QMimeData()
    text_mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    refused = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, text_mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()


# ---------------------------------------------------------------- models
def test_open_a_run_folder_a_tutorial_pth_and_survive_a_bad_file(qtbot, window, tmp_path):
    window.seed_box.setValue(3)
    window.seed_box.setValue(4)
    run = tmp_path / "run-0001"
    (run / "checkpoints").mkdir(parents=True)
    save_tiny(run / "checkpoints" / "step_000100.safetensors", seed=2, name="early")
    save_tiny(run / "checkpoints" / "step_000200.safetensors", seed=3, name="late")
    assert window.open_path(run)
    settle(qtbot, window)
    assert window.bundle.source.name == "step_000200.safetensors"
    assert "late" in window.windowTitle()
    assert window.session.state.seed == 4 and shows_current_face(window)
    window.undo()  # history survived the reload: same nz
    assert window.session.state.seed == 3

    netg = new_bundle(ModelConfig(nz=16, **TINY), seed=5).generator
    pth = tmp_path / "netG.pth"
    torch.save(netg.state_dict(), pth)
    assert window.open_path(pth)
    settle(qtbot, window)
    assert window.bundle.config.nz == 16 and window.bundle.discriminator is None
    assert not window.realism.is_available()
    assert "netG" in window.windowTitle() and shows_current_face(window)

    bundle = window.bundle
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a model at all")
    assert not window.open_path(bad)
    assert window.banner.level() == "error" and "broken.safetensors" in window.banner.text()
    assert window.bundle is bundle
    assert not window.open_path(tmp_path / "notes.txt")


def test_realism_meter_says_what_judges_the_face(qtbot):
    from facestudio.ui.explorer.realism_meter import RealismMeter

    meter = RealismMeter()
    qtbot.addWidget(meter)
    meter.set_available(True)
    assert "face check" in meter.toolTip() and "discriminator" not in meter.toolTip()
    meter.set_available(True, by_discriminator=True)  # style models read their own discriminator
    assert "discriminator" in meter.toolTip() and "face check" not in meter.toolTip()
    meter.set_available(False, by_discriminator=True)
    assert "64 px" in meter.text() and meter.value() is None


def test_realism_meter_judges_models_of_the_built_in_faces_only(qtbot, open_window, tmp_path):
    w = open_window(save_tiny(tmp_path / "gd.safetensors", info={"data": "synthetic"}, size=64))
    with qtbot.waitSignal(w.realismShown, timeout=20000) as shown:
        w.step_seed(1)
    assert 0.0 <= shown.args[0] <= 1.0 and w.realism.value() == pytest.approx(shown.args[0])
    assert w.realism.is_available() and "Realism" in w.realism.text()
    assert w.open_model(save_tiny(tmp_path / "photos.safetensors", info={"data": "/home/me/photos"}, size=64))
    assert not w.realism.is_available() and "built-in faces" in w.realism.text()
    assert w.open_model(save_tiny(tmp_path / "small.safetensors", info={"data": "synthetic"}))  # 32 px: too small to judge
    assert not w.realism.is_available() and "64 px" in w.realism.text()


def test_without_a_shipped_default_the_app_opens_on_a_fresh_model(qtbot, open_window, monkeypatch, tmp_path):
    import facestudio.models.checkpoint as checkpoint

    monkeypatch.setattr(checkpoint, "default_model_path", lambda: tmp_path / "missing.safetensors")
    monkeypatch.setattr("facestudio.ui.explorer.model_opening.photographic_available", lambda: False)
    w = open_window(None)
    assert STARTER_NAME in w.windowTitle() and "untrained" in w.model_label.text()
    assert w.banner.level() == "info" and "untrained" in w.banner.text()
    assert w.bundle.config.image_size == 64 and w.face_view.image().shape == (64, 64, 3)


# ---------------------------------------------------------------- gallery
def test_gallery_persists_restores_and_sends_to_morph(qtbot, open_window, model_file, tmp_path):
    gallery = tmp_path / "my-gallery"
    w = open_window(model_file, gallery)
    latents = []
    for seed in (5, 6, 7):
        w.seed_box.setValue(seed)
        settle(qtbot, w)
        assert w.add_to_gallery()
        latents.append(w.session.effective_latent())
    assert (gallery / "gallery.json").is_file()
    w.close()

    w2 = open_window(model_file, gallery)
    assert w2.gallery_panel.list.count() == 3
    first = w2.gallery_panel.list.item(2)  # newest first: seed 5 is last
    rect = w2.gallery_panel.list.visualItemRect(first)
    qtbot.mouseClick(w2.gallery_panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    settle(qtbot, w2)
    assert np.array_equal(w2.session.effective_latent(), latents[0]) and shows_current_face(w2)

    w2.gallery_panel.list.selectAll()
    assert w2.gallery_panel.morph_button.isEnabled()
    with qtbot.waitSignal(w2.morphRequested) as sent:
        w2.gallery_panel.morph_button.click()
    got = sent.args[0]
    assert len(got) == 3 and all(np.array_equal(a, b) for a, b in zip(got, latents[::-1]))
    assert "morph" in w2.statusBar().currentMessage()

    w2.gallery_panel.select_ids([w2.gallery.entries[0].id])
    w2.gallery_panel.remove_selected()
    assert len(w2.gallery) == 2 and w2.gallery_panel.list.count() == 2


# ---------------------------------------------------------------- preferences and shutdown
def test_preferences_survive_a_relaunch(qtbot, open_window, model_file):
    w = open_window(model_file)
    w.set_smooth(True)
    w.spread.setValue(80)
    w.close()
    w2 = open_window(model_file)
    assert w2.face_view.smooth() and w2.act_smooth.isChecked()
    assert w2.spread.value() == 80
    assert str(model_file.absolute()) in w2.prefs.recent_models
    w2._fill_recent_menu()
    assert any(a.toolTip() == str(model_file.absolute()) for a in w2.recent_menu.actions())
    w2.set_smooth(False)


def test_closing_mid_drag_stops_every_thread(qtbot, open_window, model_file):
    w = open_window(model_file)
    sliders = w.latent_panel.sliders
    qtbot.mousePress(sliders.viewport(), Qt.MouseButton.LeftButton, pos=sliders.bar_rect(0).center())
    for x in range(sliders.bar_rect(0).left(), sliders.bar_rect(0).right(), 3):
        qtbot.mouseMove(sliders.viewport(), QPoint(x, sliders.bar_rect(0).center().y()))
    w.close()
    assert w._render.thread.isFinished() and w._directions.thread.isFinished()


def test_shipped_attribute_directions_get_their_own_tab(qtbot, open_window, tmp_path):
    from facestudio.models import DirectionSet

    bundle = new_bundle(ModelConfig(nz=16, name="attrs", **TINY), seed=1)
    vectors = np.eye(2, 16, dtype=np.float32)
    bundle.directions = {"attribute": DirectionSet("attribute", ["smile", "glasses"], vectors)}
    save_model(bundle, tmp_path / "attrs.safetensors")
    w = open_window(tmp_path / "attrs.safetensors")
    assert w.directions_panel.kinds()[0] == "attribute"
    assert w.directions_panel.tabs.tabText(0) == "Attributes"
    base = w.session.state.base.copy()
    drag(qtbot, w.directions_panel.slider_list("attribute"), 1, [2.0])
    settle(qtbot, w)
    assert w.session.state.amount("attribute", "glasses") == pytest.approx(2.0, abs=0.05)
    expected = base.copy()
    expected[1] += w.session.state.amount("attribute", "glasses")
    assert np.allclose(w.session.effective_latent(), expected) and shows_current_face(w)


def test_typing_a_seed(qtbot, window):
    window.seed_box.lineEdit().selectAll()
    qtbot.keyClicks(window.seed_box, "1234")
    assert window.session.state.seed != 1234  # nothing happens mid-typing
    qtbot.keyClick(window.seed_box, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert window.session.state.seed == 1234 and shows_current_face(window)


def test_other_panels_can_read_and_show_a_latent(qtbot, window):
    z = np.linspace(-1, 1, 16).astype(np.float32)
    assert window.show_latent(z, psi=0.6)
    settle(qtbot, window)
    assert np.array_equal(window.current_latent(), z) and window.session.state.psi == pytest.approx(0.6)
    assert shows_current_face(window)
    assert not window.show_latent(np.zeros(5, np.float32))
    assert window.banner.level() == "error"
    window.undo()
    assert not np.array_equal(window.current_latent(), z)
