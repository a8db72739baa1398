"""The app on photographic faces (mobilestylegan-ffhq) and without them (one line on how to add them)."""

from __future__ import annotations

import pytest

from facestudio.models.mobilestylegan.source import INSTALL_HINT
from facestudio.ui.explorer.explorer_window import ExplorerWindow
from facestudio.ui.explorer.model_dialogs import model_card_html


@pytest.fixture
def window(qtbot, tmp_path):
    made = []

    def make() -> ExplorerWindow:
        w = ExplorerWindow(None, gallery_folder=tmp_path / "gallery")
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()
        assert w._render.thread.isFinished() and w._directions.thread.isFinished()


def test_app_opens_on_photographic_faces_when_random_face_is_installed(qtbot, window, photographic_model):
    w = window()
    qtbot.waitUntil(lambda: w.face_view.image() is not None and w._shown_token == w._token, timeout=300_000)
    assert w.bundle.family == "mobilestylegan" and w.face_view.image().shape == (1024, 1024, 3)
    assert "MobileStyleGAN" in w.windowTitle() and "1024 px" in w.model_label.text()
    card = model_card_html(w.bundle)
    assert "CC BY-NC-SA 4.0" in card and "Apache-2.0" in card and "StyleGAN2" in card and "ngf" not in card
    assert w.open_path("mobilestylegan-ffhq")  # the id as File > Open Recent gives it back
    assert w.prefs.recent_models[0] == "mobilestylegan-ffhq"
    assert w.act_open_photographic.isEnabled()


def test_without_random_face_the_app_opens_the_builtin_model_and_says_how(qtbot, window, monkeypatch):
    monkeypatch.setattr("facestudio.ui.explorer.model_opening.photographic_available", lambda: False)
    w = window()
    qtbot.waitUntil(lambda: w.face_view.image() is not None, timeout=60_000)
    assert w.bundle.family == "dcgan"
    assert INSTALL_HINT in w.statusBar().currentMessage() or INSTALL_HINT in w.banner.text()
    assert not w.open_photographic()
    assert w.banner.level() == "error" and INSTALL_HINT in w.banner.text()
