"""The morph studio panel, driven like a person would: keyframes, scrubbing, playback, export.

Frames come from the morph worker thread through signals; tests wait on those signals
(never sleep) and every panel is shut down at the end, its threads joined.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from facestudio.latent.interpolation import keyframe_path
from facestudio.latent.sampling import latent_for_seed
from facestudio.models import ModelConfig, load_model, new_bundle, save_model
from facestudio.render.face_png import save_face_png
from facestudio.render.renderer import Renderer
from facestudio.ui.morph import morph_export, morph_panel_layout
from facestudio.ui.morph.morph_export import playing_order
from facestudio.ui.morph.morph_panel import MorphPanel
from facestudio.ui.workers.morph_worker import strip_order

NZ = 16
WAIT = 20000


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, lively_bundle) -> Path:
    path = tmp_path_factory.mktemp("model") / "lively.safetensors"
    save_model(lively_bundle(), path)
    return path


@pytest.fixture
def bundle(model_path):
    return load_model(model_path)


@pytest.fixture
def make_panel(qtbot, bundle):
    panels = []

    def make(**kwargs) -> MorphPanel:
        p = MorphPanel(start_folder=kwargs.pop("start_folder", None), **kwargs)
        qtbot.addWidget(p)
        p.resize(900, 640)
        p.set_model(bundle)
        p.show()
        panels.append(p)
        return p

    yield make
    for p in panels:
        p.close()
        assert p._morph.thread.isFinished()
        assert p._export is None


@pytest.fixture
def panel(make_panel) -> MorphPanel:
    return make_panel()


def seeds(*s: int) -> list[np.ndarray]:
    return [latent_for_seed(x, NZ) for x in s]


def morph(qtbot, panel: MorphPanel, keys: list[np.ndarray], frames_per_segment: int = 10) -> None:
    panel.frames_spin.setValue(frames_per_segment)
    with qtbot.waitSignal(panel.stripReady, timeout=WAIT):
        assert panel.set_keyframes(keys)


# ---------------------------------------------------------------- rendering the strip
def test_two_faces_render_a_spherical_strip_on_the_worker(qtbot, panel, bundle):
    assert panel.interpolation() == "slerp"  # spherical by default
    a, b = seeds(1, 2)
    morph(qtbot, panel, [a, b], 10)
    assert panel.frame_count() == 11 and panel.rendered_count() == 11
    expected_path = keyframe_path([a, b], frames_per_segment=10, mode="slerp", easing="linear")
    np.testing.assert_array_equal(panel.path_latents(), expected_path)
    expected = Renderer(bundle).render_batch(expected_path)
    for i in range(11):
        np.testing.assert_array_equal(panel.frame_image(i), expected[i])
    assert panel.filmstrip.count() == 11
    assert not panel.filmstrip.item(5).icon().isNull()
    np.testing.assert_array_equal(panel.preview.image(), expected[0])
    assert panel.key_list.item(0).text() == "A" and panel.key_list.item(1).text() == "B"


def test_path_settings_change_the_frames(qtbot, panel):
    a, b, c = seeds(1, 2, 3)
    morph(qtbot, panel, [a, b, c], 4)
    assert panel.frame_count() == 9
    with qtbot.waitSignal(panel.stripReady, timeout=WAIT):
        panel.set_interpolation("lerp")
    np.testing.assert_array_equal(panel.path_latents(), keyframe_path([a, b, c], frames_per_segment=4, mode="lerp"))
    with qtbot.waitSignal(panel.stripReady, timeout=WAIT):
        panel.set_easing("ease-in-out")
    np.testing.assert_array_equal(panel.path_latents(),
                                  keyframe_path([a, b, c], frames_per_segment=4, mode="lerp", easing="ease-in-out"))
    with qtbot.waitSignal(panel.stripReady, timeout=WAIT):
        panel.closed_check.setChecked(True)
    assert panel.frame_count() == 12  # 3 segments of 4, back to A without repeating it


def test_newest_path_wins(qtbot, panel):
    a, b = seeds(4, 5)
    morph(qtbot, panel, [a, b], 60)
    with qtbot.waitSignal(panel.stripReady, timeout=WAIT):
        for n in range(50, 20, -3):  # a burst of changes, as from holding a spin box arrow
            panel.frames_spin.setValue(n)
    assert panel.frame_count() == 24
    assert panel.rendered_count() == 24
    expected = Renderer(panel.bundle).render_batch(keyframe_path([a, b], frames_per_segment=23))
    for i in range(24):
        np.testing.assert_array_equal(panel.frame_image(i), expected[i])


def test_frames_are_rendered_from_the_playhead_first():
    batches = strip_order(20, 14, batch=4)
    assert [b.tolist() for b in batches] == [[14, 15, 16, 17], [18, 19, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9], [10, 11, 12, 13]]
    assert np.concatenate(strip_order(5, 99, batch=8)).tolist() == [4, 0, 1, 2, 3]


def test_keyframe_thumbnails_come_from_the_strip(qtbot, panel):
    morph(qtbot, panel, seeds(1, 2, 3), 5)
    for i in range(3):
        assert not panel.key_list.item(i).icon().isNull()


# ---------------------------------------------------------------- scrubbing and playback
def test_scrubbing_shows_the_frame(qtbot, panel):
    morph(qtbot, panel, seeds(1, 2), 10)
    with qtbot.waitSignal(panel.frameShown, timeout=WAIT) as sig:
        panel.scrubber.setValue(6)
    assert sig.args == [6]
    assert panel.current_frame() == 6
    np.testing.assert_array_equal(panel.preview.image(), panel.frame_image(6))
    assert panel.filmstrip.currentRow() == 6
    assert panel.frame_label.text() == "7 / 11"
    panel.filmstrip.setCurrentRow(2)  # clicking the filmstrip scrubs too
    assert panel.current_frame() == 2 and panel.scrubber.value() == 2
    panel.step(-1)
    assert panel.current_frame() == 1


def test_play_a_few_ticks_then_pause(qtbot, panel):
    morph(qtbot, panel, seeds(1, 2), 10)
    shown: list[int] = []
    panel.frameShown.connect(shown.append)
    panel.set_fps(60)
    panel.set_playback_mode("loop")
    panel.set_frame(8)
    shown.clear()
    panel.play()
    assert panel.is_playing()
    qtbot.waitUntil(lambda: len(shown) >= 6, timeout=WAIT)
    panel.pause()
    assert not panel.is_playing()
    assert shown[:6] == [9, 10, 0, 1, 2, 3]  # loops around the end
    frozen = panel.current_frame()
    qtbot.wait(60)
    assert panel.current_frame() == frozen
    # Space toggles playback while the focus is inside the panel.
    panel.activateWindow()
    panel.scrubber.setFocus()
    qtbot.keyClick(panel.scrubber, Qt.Key.Key_Space)
    assert panel.is_playing()
    qtbot.keyClick(panel.scrubber, Qt.Key.Key_Space)
    assert not panel.is_playing()


def test_ping_pong_turns_at_both_ends(qtbot, panel):
    morph(qtbot, panel, seeds(1, 2), 4)  # frames 0..4
    shown: list[int] = []
    panel.frameShown.connect(shown.append)
    panel.set_fps(60)
    panel.set_playback_mode("pingpong")
    panel.set_frame(2)
    shown.clear()
    panel.play()
    qtbot.waitUntil(lambda: len(shown) >= 10, timeout=WAIT)
    panel.pause()
    assert shown[:10] == [3, 4, 3, 2, 1, 0, 1, 2, 3, 4]
    assert playing_order(5, "pingpong").tolist() == [0, 1, 2, 3, 4, 3, 2, 1]


def test_once_stops_at_the_last_frame(qtbot, panel):
    morph(qtbot, panel, seeds(1, 2), 4)
    panel.set_fps(60)
    panel.set_playback_mode("once")
    panel.set_frame(2)
    panel.play()
    qtbot.waitUntil(lambda: not panel.is_playing(), timeout=WAIT)
    assert panel.current_frame() == 4
    panel.play()  # from the end, play starts over
    assert panel.current_frame() == 0 and panel.is_playing()
    panel.pause()


def test_playback_waits_for_frames_not_rendered_yet(qtbot, panel):
    morph(qtbot, panel, seeds(1, 2), 10)
    panel.set_playback_mode("loop")
    panel._have[5:] = False  # as if frames 5.. were still being rendered
    panel.set_frame(3)
    panel._tick()
    assert panel.current_frame() == 4
    panel._tick()
    panel._tick()
    assert panel.current_frame() == 4  # holds rather than showing a missing frame


# ---------------------------------------------------------------- keyframes from everywhere
def test_keyframes_from_seeds_face_pngs_and_the_explorer(qtbot, make_panel, bundle, tmp_path):
    current = latent_for_seed(77, NZ)
    panel = make_panel(current_face=lambda: current)
    assert panel.add_current_button.isVisibleTo(panel)
    png = tmp_path / "face.png"
    z = latent_for_seed(9, NZ)
    save_face_png(png, np.zeros((32, 32, 3), np.uint8), z, model_name=bundle.name, model_sha256=bundle.sha256)
    with qtbot.waitSignal(panel.stripReady, timeout=WAIT):
        assert panel.add_seed(3)
        assert panel.add_face_png(png)
        assert panel.add_current_face()
    keys = panel.keyframes()
    np.testing.assert_array_equal(keys[0], latent_for_seed(3, NZ))
    np.testing.assert_array_equal(keys[1], z)
    np.testing.assert_array_equal(keys[2], current)
    assert panel.key_list.item(1).toolTip() == "face.png"


def test_face_pngs_dropped_on_the_panel_become_keyframes(qtbot, panel, bundle, tmp_path):
    paths = []
    for seed in (11, 12):
        path = tmp_path / f"face{seed}.png"
        save_face_png(path, np.zeros((32, 32, 3), np.uint8), latent_for_seed(seed, NZ), model_name=bundle.name,
                      model_sha256=bundle.sha256)
        paths.append(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(panel.rect().center())
    args = (pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(pos.toPoint(), *args[1:])  # QPoint in PySide6 6.11 (pinned), QPointF in 6.12
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(panel.stripReady, timeout=WAIT):
        drop = QDropEvent(*args)
        QApplication.sendEvent(panel, drop)
        assert drop.isAccepted()
    np.testing.assert_array_equal(np.stack(panel.keyframes()), np.stack(seeds(11, 12)))
    text = QMimeData()
    text.setText("not a file")
    refused = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, text, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, refused)
    assert not refused.isAccepted()


def test_bad_face_files_are_refused_with_a_sentence(qtbot, panel, tmp_path):
    panel.set_keyframes(seeds(1, 2))
    bad = tmp_path / "bad.png"
    Image.new("RGB", (8, 8)).save(bad)  # a PNG without a latent
    assert not panel.add_face_png(bad)
    assert panel.banner.level() == "error" and panel.banner.text()
    other = tmp_path / "other.png"
    save_face_png(other, np.zeros((8, 8, 3), np.uint8), np.zeros(32, np.float32), model_name="x", model_sha256="")
    assert not panel.add_face_png(other)
    assert "16" in panel.banner.text()
    assert len(panel.keyframes()) == 2
    assert not panel.set_keyframes([np.zeros(16), np.full(16, np.nan)])
    assert len(panel.keyframes()) == 2


def test_reorder_remove_and_clear_keyframes(qtbot, panel):
    a, b, c = seeds(1, 2, 3)
    morph(qtbot, panel, [a, b, c], 4)
    panel.key_list.item(0).setSelected(True)
    assert panel.key_right_button.isEnabled()
    panel.move_selected_key(1)
    np.testing.assert_array_equal(np.stack(panel.keyframes()), np.stack([b, a, c]))
    assert panel.key_list.item(0).text() == "A"
    with qtbot.waitSignal(panel.pathChanged, timeout=WAIT):  # a drag in the list moves rows like this
        panel.key_list.model().moveRows(QModelIndex(), 2, 1, QModelIndex(), 0)
    np.testing.assert_array_equal(np.stack(panel.keyframes()), np.stack([c, b, a]))
    np.testing.assert_array_equal(panel.path_latents()[0], c)
    panel.key_list.clearSelection()
    panel.key_list.item(2).setSelected(True)
    panel.remove_selected_keys()
    np.testing.assert_array_equal(np.stack(panel.keyframes()), np.stack([c, b]))
    panel.clear_keyframes()
    assert panel.frame_count() == 0 and not panel.export_button.isEnabled()


def test_one_keyframe_shows_that_face(qtbot, panel):
    with qtbot.waitSignal(panel.stripReady, timeout=WAIT):
        panel.set_keyframes(seeds(5))
    assert panel.frame_count() == 1
    assert not panel.play_button.isEnabled() and not panel.export_button.isEnabled()
    assert panel.to_explorer_button.isEnabled()


def test_a_model_of_another_latent_size_clears_the_keyframes(qtbot, panel):
    panel.set_keyframes(seeds(1, 2))
    panel.set_model(new_bundle(ModelConfig(nz=8, ngf=8, ndf=8, image_size=32)))
    assert panel.keyframes() == [] and panel.banner.level() == "warning"


# ---------------------------------------------------------------- frames back to the explorer / gallery
def test_frames_go_back_to_the_explorer_and_the_gallery(qtbot, panel):
    morph(qtbot, panel, seeds(1, 2), 10)
    panel.set_truncation(0.7)
    qtbot.waitUntil(lambda: panel.rendered_count() == 11, timeout=WAIT)
    panel.set_frame(4)
    with qtbot.waitSignal(panel.explorerRequested, timeout=WAIT) as sig:
        panel.to_explorer_button.click()
    latent, psi = sig.args
    np.testing.assert_array_equal(latent, panel.path_latents()[4])
    assert psi == pytest.approx(0.7)
    with qtbot.waitSignal(panel.galleryRequested, timeout=WAIT) as sig:
        panel.to_gallery_button.click()
    latent, image, psi = sig.args
    np.testing.assert_array_equal(latent, panel.path_latents()[4])
    np.testing.assert_array_equal(image, Renderer(panel.bundle).render(latent, psi=0.7))
    assert psi == pytest.approx(0.7)


# ---------------------------------------------------------------- export
def test_export_gif_with_progress(qtbot, panel, tmp_path):
    morph(qtbot, panel, seeds(1, 2), 6)
    panel.set_playback_mode("loop")
    progress: list[tuple[int, int]] = []
    panel.exportProgressed.connect(lambda d, t: progress.append((d, t)))
    target = tmp_path / "morph.gif"
    with qtbot.waitSignal(panel.exportFinished, timeout=WAIT) as sig:
        assert panel.export_to(target, "gif", size=64)
        assert panel.is_exporting() and panel.export_progress.isVisible() and panel.export_cancel_button.isVisible()
        assert not panel.export_button.isEnabled()
    assert sig.args == [str(target)]
    assert not panel.is_exporting() and not panel.export_progress.isVisible()
    with Image.open(target) as gif:
        assert gif.size == (64, 64)
        assert gif.n_frames == 7
    done = [d for d, _ in progress]
    assert done == sorted(done) and progress[-1][0] == progress[-1][1] == 14  # 7 rendered + 7 written


def test_export_follows_the_playback_mode_and_writes_sheets_and_frames(qtbot, panel, tmp_path):
    morph(qtbot, panel, seeds(1, 2), 4)
    panel.set_playback_mode("pingpong")
    with qtbot.waitSignal(panel.exportFinished, timeout=WAIT):
        panel.export_to(tmp_path / "frames", "frames")
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [f"frame_{i:04d}.png" for i in range(8)]
    with qtbot.waitSignal(panel.exportFinished, timeout=WAIT):
        panel.export_to(tmp_path / "sheet.png", "sheet", size=32)
    with Image.open(tmp_path / "sheet.png") as sheet:
        assert sheet.width > 32 * 4


def test_cancel_an_export(qtbot, panel, tmp_path):
    morph(qtbot, panel, seeds(1, 2, 3, 4), 120)  # 361 frames, at 1024 px: seconds of work
    target = tmp_path / "long.gif"
    with qtbot.waitSignal(panel.exportCancelled, timeout=WAIT):
        with qtbot.waitSignal(panel.exportProgressed, timeout=WAIT):
            assert panel.export_to(target, "gif", size=1024)
        panel.export_cancel_button.click()
    assert not panel.is_exporting()
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left behind


def test_mp4_needs_the_video_extra(qtbot, make_panel, monkeypatch, tmp_path):
    monkeypatch.setattr(morph_export, "mp4_available", lambda: False)
    monkeypatch.setattr(morph_panel_layout, "mp4_installed", lambda: False)
    panel = make_panel()
    index = panel.format_combo.findData("mp4")
    assert not panel.format_combo.model().item(index).isEnabled()
    morph(qtbot, panel, seeds(1, 2), 3)
    assert not panel.export_to(tmp_path / "m.mp4", "mp4")
    assert "facestudio[video]" in panel.banner.text()


# ---------------------------------------------------------------- closing
def test_shutdown_mid_export_joins_every_thread(qtbot, panel, tmp_path):
    morph(qtbot, panel, seeds(1, 2, 3), 120)
    with qtbot.waitSignal(panel.exportProgressed, timeout=WAIT):
        panel.export_to(tmp_path / "x.gif", "gif", size=1024)
    export_thread = panel._export.thread
    panel.shutdown()
    assert export_thread.isFinished() and panel._morph.thread.isFinished()
    assert not (tmp_path / "x.gif").exists()
