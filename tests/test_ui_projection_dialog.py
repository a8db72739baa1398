"""The "find a face from a photo" dialog: live progress, stop, open in explorer, save, close mid-search."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from facestudio.latent.projection import ProjectionSettings
from facestudio.render.face_png import read_face_png
from facestudio.ui.explorer.projection_dialog import ProjectionDialog

WAIT = 60000
QUICK = ProjectionSettings(steps=20, restarts=2, candidates=8, report_every=2)


@pytest.fixture(scope="module")
def bundle(lively_bundle):
    return lively_bundle()


@pytest.fixture
def photo(tmp_path, bundle):
    z = torch.from_numpy(np.random.default_rng(3).standard_normal((1, 16)).astype(np.float32))
    with torch.no_grad():
        x = bundle.viewing_generator(z)
    pixels = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()
    path = tmp_path / "me.png"
    Image.fromarray(pixels).resize((96, 96), Image.NEAREST).save(path)
    return path


@pytest.fixture
def make_dialog(qtbot, bundle):
    dialogs = []

    def make(b=None, **kwargs) -> ProjectionDialog:
        d = ProjectionDialog(b or bundle, settings=kwargs.pop("settings", QUICK), **kwargs)
        qtbot.addWidget(d)
        d.show()
        dialogs.append(d)
        return d

    yield make
    for d in dialogs:
        d.close()
        assert d._thread is None


def test_search_shows_progress_and_the_result_opens_in_the_explorer(qtbot, make_dialog, photo, tmp_path):
    dialog = make_dialog(photo=photo)
    assert dialog.target.shape == (32, 32, 3)
    np.testing.assert_array_equal(dialog.target_view.image(), dialog.target)
    assert dialog.start_button.isEnabled() and not dialog.open_button.isEnabled()
    reports = []
    dialog.progressed.connect(reports.append)
    with qtbot.waitSignal(dialog.projectionFinished, timeout=WAIT) as sig:
        dialog.start_button.click()
        assert dialog.running and dialog.cancel_button.isEnabled() and not dialog.start_button.isEnabled()
    result = sig.args[0]
    assert not result.cancelled and result.steps_done == QUICK.steps
    assert reports and reports[0].step == 0
    assert result.pixel_mse < result.start_pixel_mse
    np.testing.assert_array_equal(dialog.result_view.image(), result.image)
    assert dialog.progress_bar.value() == QUICK.steps
    assert "Done" in dialog.status.text()

    with qtbot.waitSignal(dialog.latentChosen, timeout=WAIT) as chosen:
        dialog.open_button.click()
    np.testing.assert_array_equal(chosen.args[0], result.latent)

    out = tmp_path / "found.png"
    assert dialog.save(out, size=64)
    record = read_face_png(out)
    np.testing.assert_array_equal(record.latent, result.latent)
    assert record.model_name == "lively"
    with Image.open(out) as img:
        assert img.size == (64, 64)


def test_stop_keeps_the_best_face_so_far(qtbot, make_dialog, photo):
    dialog = make_dialog(photo=photo, settings=replace(QUICK, steps=5000))
    with qtbot.waitSignal(dialog.progressed, timeout=WAIT):
        dialog.start()
    with qtbot.waitSignal(dialog.projectionFinished, timeout=WAIT) as sig:
        dialog.cancel_button.click()
    result = sig.args[0]
    assert result.cancelled and result.steps_done < 5000
    assert "Stopped early" in dialog.status.text()
    assert dialog.open_button.isEnabled() and dialog.start_button.isEnabled()


def test_closing_mid_search_cancels_and_joins(qtbot, make_dialog, photo):
    dialog = make_dialog(photo=photo, settings=replace(QUICK, steps=5000))
    with qtbot.waitSignal(dialog.progressed, timeout=WAIT):
        dialog.start()
    thread = dialog._thread.thread
    dialog.close()
    assert thread.isFinished() and dialog._thread is None and not dialog.running
    # The dialog can search again after being reopened.
    dialog.show()
    with qtbot.waitSignal(dialog.projectionFinished, timeout=WAIT):
        dialog.steps_spin.setValue(10)
        dialog.start()


def test_a_bad_photo_is_refused_with_a_sentence(qtbot, make_dialog, tmp_path):
    dialog = make_dialog()
    assert not dialog.start_button.isEnabled()
    bad = tmp_path / "holiday.jpg"
    bad.write_bytes(b"this is not a picture")
    assert not dialog.set_photo(bad)
    assert dialog.banner.level() == "error" and "holiday.jpg" in dialog.banner.text()
    assert dialog.target is None and not dialog.start_button.isEnabled()


def test_without_a_discriminator_the_dialog_says_pixels_only(qtbot, make_dialog, photo, lively_bundle):
    dialog = make_dialog(lively_bundle(with_discriminator=False), photo=photo)
    assert "no discriminator" in dialog.loss_note.text()
    with qtbot.waitSignal(dialog.projectionFinished, timeout=WAIT) as sig:
        dialog.start()
    assert not sig.args[0].perceptual


def test_settings_come_from_the_controls(make_dialog):
    dialog = make_dialog()
    dialog.steps_spin.setValue(120)
    dialog.restarts_spin.setValue(12)
    s = dialog.settings()
    assert (s.steps, s.restarts) == (120, 12) and s.candidates >= 12


def test_the_face_box_frames_the_photo_by_hand(qtbot, bundle, tmp_path):
    from facestudio.ui.explorer.projection_dialog import ProjectionDialog

    pixels = np.zeros((60, 100, 3), np.uint8)
    pixels[10:50, 50:90] = (200, 30, 30)  # the "face": a red square right of the centre
    path = tmp_path / "wide.png"
    Image.fromarray(pixels).save(path)
    dialog = ProjectionDialog(bundle, photo=path)
    qtbot.addWidget(dialog)
    centred = dialog.target.copy()
    dialog.crop_edit.setText("50, 10, 40")
    dialog._on_crop_edited()
    framed = dialog.target
    assert framed.mean(axis=(0, 1))[0] > 190 and not np.array_equal(framed, centred)  # all red now
    dialog.crop_edit.setText("50, ten, 40")
    dialog._on_crop_edited()
    assert dialog.banner.level() == "error" and "three whole numbers" in dialog.banner.text()
    assert np.array_equal(dialog.target, framed)  # nothing lost
    dialog.close()
