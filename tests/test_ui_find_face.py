"""Find Face -> "Open in explorer" is one undoable change and hands the explorer back (issue 12 §3.3)."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from facestudio.latent.projection import ProjectionSettings
from explorer_helpers import settle

QUICK = ProjectionSettings(steps=10, restarts=1, candidates=4, report_every=5)


def test_open_in_explorer_is_undoable_and_closes_the_dialog(qtbot, open_window, model_file, tmp_path):
    w = open_window(model_file)
    w.go_to_seed(7)
    w.act_next_seed.trigger()  # some history before: seed 7, seed 8
    settle(qtbot, w)
    before, steps = w.session.state, len(w.session.history)
    photo = tmp_path / "me.png"
    Image.fromarray(np.full((40, 40, 3), 120, np.uint8)).save(photo)
    dialog = w.open_projection(photo)
    dialog.base_settings = QUICK
    dialog.steps_spin.setValue(QUICK.steps)
    dialog.restarts_spin.setValue(QUICK.restarts)
    with qtbot.waitSignal(dialog.projectionFinished, timeout=60000):
        dialog.start_button.click()
    found = dialog.result.latent.copy()
    dialog.open_button.click()
    settle(qtbot, w)
    assert np.array_equal(w.session.state.base, found)
    assert not dialog.isVisible() and w._projection is None  # the dialog is out of the way
    assert len(w.session.history) == steps + 1 and w.act_undo.isEnabled()
    assert "Ctrl+Z" in w.statusBar().currentMessage()
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, w)
    assert w.session.state == before  # the previous face is back
    w.undo()
    assert w.session.state.seed == 7
    w.redo()
    w.redo()
    assert np.array_equal(w.session.state.base, found)
