"""The explorer's Style tab on a StyleGAN model: directions on layer ranges, style mixing, cutoff, undo."""

import numpy as np

from explorer_helpers import settle
from facestudio.latent.layers import group_layers
from facestudio.latent.spaces import StyleLatent, to_wplus
from tests.stylegan_fixtures import fixture


def styled_window(qtbot, open_window):
    w = open_window(fixture("sg2_skip_32.pkl"))
    qtbot.waitUntil(lambda: bool(w.style_panel.directions()), timeout=60000)
    settle(qtbot, w)
    return w


def expected_ws(w, amounts=(), mix=None, cutoff=None):
    g = w.bundle.viewing_generator
    z = w.session.effective_latent()
    ws = to_wplus(g, StyleLatent("z", z), w.session.state.psi, cutoff)
    if mix is not None:
        seed, layers = mix
        from facestudio.latent.sampling import latent_for_seed

        donor = to_wplus(g, StyleLatent("z", latent_for_seed(seed, g.z_dim)), w.session.state.psi, cutoff)
        ws[list(layers)] = donor[list(layers)]
    for direction, layers, amount in amounts:
        ws[list(layers)] += amount * direction.scale * direction.vector
    return ws


def test_a_direction_on_the_coarse_layers_moves_only_them_and_undo_restores(qtbot, open_window):
    w = styled_window(qtbot, open_window)
    assert w.style_dock.isVisible() and "unnamed" in w.style_panel.status.text()
    plain = w.face_view.image().copy()
    panel = w.style_panel
    panel.group_combo.setCurrentIndex(panel.group_combo.findData("coarse"))
    coarse = group_layers(w.bundle.viewing_generator, "coarse")
    assert panel.current_layers() == coarse
    label = panel._rows[0][0].text()
    assert label.startswith("PCA 1 \u00b7 ") and label.endswith("%")  # its share of the variance of W
    panel._rows[0][1].setValue(250)  # +2.5 steps of PCA 1, keyboard-like: one undo step
    settle(qtbot, w)
    direction = panel.directions()[("pca", "PCA 1")]
    assert w.session.state.style.amounts == (("pca", "PCA 1", coarse, 2.5),)
    ws = expected_ws(w, [(direction, coarse, 2.5)])
    untouched = [i for i in range(w.bundle.viewing_generator.num_ws) if i not in coarse]
    base = expected_ws(w)
    np.testing.assert_array_equal(ws[untouched], base[untouched])
    assert np.array_equal(w.face_view.image(), w.renderer.render_ws(ws)[0])
    assert not np.array_equal(w.face_view.image(), plain)
    assert "style edits" in w.face_label.text()
    w.undo()
    settle(qtbot, w)
    assert w.session.state.style.is_empty and np.array_equal(w.face_view.image(), plain)
    assert panel._rows[0][1].value() == 0  # the slider follows the session


def test_style_mixing_takes_the_donors_layers(qtbot, open_window):
    w = styled_window(qtbot, open_window)
    panel = w.style_panel
    panel.donor_spin.setValue(7)
    assert not panel.group_checks["fine"].isEnabled()  # a 32 px model has no 64 px+ layers
    panel.group_checks["middle"].setChecked(True)
    settle(qtbot, w)
    middle = group_layers(w.bundle.viewing_generator, "middle")
    assert middle
    choice = w.session.state.style
    assert choice.mix_seed == 7 and choice.mix_layers == middle
    assert all(panel._layer_buttons[i].isChecked() for i in middle)
    assert np.array_equal(w.face_view.image(), w.renderer.render_ws(expected_ws(w, mix=(7, middle)))[0])
    panel._layer_buttons[0].setChecked(True)  # one more single layer
    settle(qtbot, w)
    assert w.session.state.style.mix_layers == tuple(sorted({0, *middle}))
    panel.cutoff_spin.setValue(2)
    settle(qtbot, w)
    assert w.session.state.style.cutoff == 2
    assert np.array_equal(w.face_view.image(),
                          w.renderer.render_ws(expected_ws(w, mix=(7, sorted({0, *middle})), cutoff=2))[0])
    w.undo()
    w.undo()
    settle(qtbot, w)
    assert w.session.state.style.mix_layers == middle and w.session.state.style.cutoff is None
    assert panel.cutoff_spin.value() == 0 and not panel._layer_buttons[0].isChecked()


def test_dcgan_models_have_no_style_tab(qtbot, open_window, model_file):
    w = open_window(model_file)
    assert w.style_dock.isHidden() and not w.style_panel.isEnabled()


def test_a_moving_hand_sees_the_preview_then_the_full_face_at_rest(qtbot, open_window, monkeypatch):
    from facestudio.ui.explorer import explorer_window

    monkeypatch.setattr(explorer_window, "PREVIEW_FROM_SIZE", 32)  # the fixture is a 32 px model
    w = styled_window(qtbot, open_window)
    preview = w.renderer.preview_resolution(32)
    assert preview is not None and preview < 32
    sizes = []
    w.faceShown.connect(lambda _t: sizes.append(w.face_view.image().shape[0]))
    monkeypatch.setattr(explorer_window, "REST_MS", 60_000)  # hold: no full image until the release
    w._on_dim_dragged(3, 1.5)
    qtbot.waitUntil(lambda: w._shown_token == w._token, timeout=10000)
    assert sizes[-1] == preview
    assert w.current_image().shape[0] == 32  # saving never takes the preview
    w._on_released(3)  # the hand lets go: the full face, one undo step
    settle(qtbot, w)
    assert sizes[-1] == 32 and w.session.history.can_undo
    expected = w.renderer.render(w.session.effective_latent(), psi=w.session.state.psi)
    assert np.array_equal(w.face_view.image(), expected)
    monkeypatch.setattr(explorer_window, "REST_MS", 50)  # a hand that rests gets the full face without letting go
    w._on_dim_dragged(3, 0.5)
    qtbot.waitUntil(lambda: w.face_view.image().shape[0] == 32 and w._shown_token == w._token and sizes[-2] == preview,
                    timeout=10000)


def test_your_own_direction_saves_loads_and_refuses_another_model(qtbot, open_window, tmp_path):
    w = styled_window(qtbot, open_window)
    panel = w.style_panel
    panel.group_combo.setCurrentIndex(panel.group_combo.findData("coarse"))
    assert not panel.save_user_direction("nothing moved", tmp_path / "none.json")
    assert "Move some direction sliders" in panel.status.text() and not (tmp_path / "none.json").exists()
    panel._rows[0][1].setValue(200)
    panel._rows[2][1].setValue(-100)
    settle(qtbot, w)
    moved = w.face_view.image().copy()
    path = tmp_path / "jaw.json"
    assert panel.save_user_direction("jaw", path) and path.is_file(), panel.status.text()
    w.undo()
    w.undo()
    settle(qtbot, w)
    assert w.session.state.style.is_empty

    other = open_window(fixture("sg2_skip_32.pkl"))  # a fresh window: no directions of its own
    qtbot.waitUntil(lambda: bool(other.style_panel.directions()), timeout=60000)
    assert other.style_panel.load_user_directions(path)
    p2 = other.style_panel
    assert p2.basis_combo.currentData() == "user" and p2._rows[0][0].text() == "jaw" and not p2.group_combo.isEnabled()
    p2._rows[0][1].setValue(100)  # one step of "jaw" = the saved combination
    settle(qtbot, other)
    coarse = group_layers(other.bundle.viewing_generator, "coarse")
    assert other.session.state.style.amounts == (("user", "jaw", coarse, 1.0),)
    assert np.abs(other.face_view.image().astype(int) - moved.astype(int)).max() <= 1  # the same face (float rounding)

    doc = path.read_text().replace(other.bundle.sha256, "0" * 64)
    forged = tmp_path / "other_model.json"
    forged.write_text(doc)
    assert not p2.load_user_directions(forged), "a file for another model must be refused"
    assert "directions only work on the model they were found on" in p2.status.text()


def test_a_face_with_style_edits_saves_as_w_plus_and_reopens_the_same(qtbot, open_window, tmp_path):
    w = styled_window(qtbot, open_window)
    panel = w.style_panel
    panel.group_checks["coarse"].setChecked(True)  # mix with seed 42's coarse layers
    panel._rows[1][1].setValue(180)
    settle(qtbot, w)
    shown = w.face_view.image().copy()
    path = tmp_path / "styled.png"
    assert w.save_face(path, size=32)
    assert "w+ face" in w.statusBar().currentMessage()

    other = open_window(fixture("sg2_skip_32.pkl"))
    assert other.open_face(path)
    settle(qtbot, other)
    assert other.session.state.style.wplus is not None and not other.latent_panel.isEnabled()
    assert "W+ face" in other.face_label.text()
    assert np.abs(other.face_view.image().astype(int) - shown.astype(int)).max() <= 1
    other.style_panel._rows[0][1].setValue(100)  # a W+ face takes style edits too
    settle(qtbot, other)
    assert not np.array_equal(other.face_view.image(), shown)
    other.undo()
    other.undo()
    other.go_to_seed(3)  # a seed starts a new z face
    settle(qtbot, other)
    assert other.session.state.style.wplus is None and other.latent_panel.isEnabled()


def test_find_face_on_a_style_model_opens_the_w_plus_face_as_one_undo_step(qtbot, open_window, tmp_path):
    from PIL import Image

    from facestudio.latent.projection import ProjectionSettings

    w = styled_window(qtbot, open_window)
    steps = len(w.session.history)
    photo = tmp_path / "me.png"
    Image.fromarray(np.full((40, 40, 3), 120, np.uint8)).save(photo)
    dialog = w.open_projection(photo)
    quick = ProjectionSettings(steps=6, restarts=1, candidates=4, report_every=3, resolution=32)
    dialog.base_settings = quick
    dialog.steps_spin.setValue(quick.steps)
    dialog.restarts_spin.setValue(quick.restarts)
    with qtbot.waitSignal(dialog.projectionFinished, timeout=120000):
        dialog.start_button.click()
    found = dialog.result.latent.copy()
    g = w.bundle.viewing_generator
    assert found.shape == (g.num_ws, g.w_dim)  # W then W+
    saved = tmp_path / "found.png"
    assert dialog.save(saved)
    dialog.open_button.click()
    settle(qtbot, w)
    assert np.array_equal(w.session.state.style.wplus, found) and len(w.session.history) == steps + 1
    assert np.array_equal(w.face_view.image(), w.renderer.render_ws(found)[0])
    w.undo()
    settle(qtbot, w)
    assert w.session.state.style.wplus is None
    assert w.open_face(saved)  # the dialog's face PNG opens as the same W+ face
    settle(qtbot, w)
    assert np.array_equal(w.session.state.style.wplus, found)


def test_the_morph_studio_takes_a_styled_face_and_exports_it(qtbot, open_window, tmp_path):
    w = styled_window(qtbot, open_window)
    panel = w.morph_panel
    panel.add_seed(5)
    w.style_panel.group_checks["coarse"].setChecked(True)
    settle(qtbot, w)
    assert panel.add_current_face()  # the face with its style edits: a W+ key
    g = w.bundle.viewing_generator
    panel.frames_spin.setValue(6)
    qtbot.waitUntil(lambda: panel.frame_count() == 7 and panel.rendered_count() == 7, timeout=30000)
    assert panel.morph.in_wplus and panel.path_latents().shape == (7, g.num_ws, g.w_dim)
    assert np.array_equal(panel.frame_image(6), w.face_view.image())  # the last frame is the styled face
    out = tmp_path / "m.gif"
    with qtbot.waitSignal(panel.exportFinished, timeout=60000):
        assert panel.export_to(out, "gif", size=64)
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (64, 64) and im.n_frames >= 7
    panel.set_frame(3)
    panel.send_frame_to_explorer()  # a W+ frame comes back as a W+ face
    settle(qtbot, w)
    assert np.array_equal(w.session.state.style.wplus, panel.frame_latent(3))


def test_the_donor_can_be_a_face_png_or_a_gallery_face_and_a_w_plus_face_keeps_its_styles(qtbot, open_window, tmp_path):
    w = styled_window(qtbot, open_window)
    g = w.bundle.viewing_generator
    coarse = group_layers(g, "coarse")
    w.go_to_seed(7)
    settle(qtbot, w)
    donor_png = tmp_path / "seven.png"
    assert w.save_face(donor_png, size=32)  # a z face
    assert w.add_to_gallery()
    w.go_to_seed(2)
    settle(qtbot, w)
    assert w.set_donor_face(donor_png)  # nothing ticked: the coarse layers
    settle(qtbot, w)
    choice = w.session.state.style
    assert choice.mix_layers == coarse and choice.mix_face is not None and choice.mix_seed is None
    assert w.style_panel.donor_label.text() == "Donor: seven.png"
    assert np.array_equal(w.face_view.image(), w.renderer.render_ws(expected_ws(w, mix=(7, coarse)))[0])
    w.undo()
    settle(qtbot, w)
    ids = [e.id for e in w.gallery.entries]
    w.gallery_panel.select_ids(ids[:1])
    w.style_panel._layer_buttons[0].setChecked(True)  # one layer ticked: that one comes from the gallery face
    assert w.donor_from_gallery()
    settle(qtbot, w)
    choice = w.session.state.style
    assert choice.mix_label.startswith("gallery face") and choice.mix_layers == (0,)
    assert np.array_equal(w.face_view.image(), w.renderer.render_ws(expected_ws(w, mix=(7, (0,))))[0])
    w.gallery_panel.select_ids([])
    assert not w.donor_from_gallery()  # nothing selected: a hint, no change

    # a W+ face: mixing, cutoff and resets keep the face it is
    found = expected_ws(w) + 0.05
    w.session.show_wplus(found, psi=1.0)
    settle(qtbot, w)
    w.style_panel.group_checks["middle"].setChecked(True)
    w.style_panel.cutoff_spin.setValue(2)
    w.style_panel.reset_directions_button.click()
    settle(qtbot, w)
    assert np.array_equal(w.session.state.style.wplus, found.astype(np.float32))


def test_a_styled_face_in_the_gallery_comes_back_styled_and_morphs_as_a_w_plus_key(qtbot, open_window):
    w = styled_window(qtbot, open_window)
    w.style_panel.group_checks["coarse"].setChecked(True)
    settle(qtbot, w)
    styled = w.face_view.image().copy()
    assert w.add_to_gallery()
    w.go_to_seed(4)
    assert w.add_to_gallery()  # a plain z face
    settle(qtbot, w)
    styled_id, plain_id = [e.id for e in w.gallery.entries][1], [e.id for e in w.gallery.entries][0]
    assert w.restore_from_gallery(styled_id)
    settle(qtbot, w)
    assert w.session.state.style.wplus is not None
    assert np.abs(w.face_view.image().astype(int) - styled.astype(int)).max() <= 1
    assert w.send_to_morph([plain_id, styled_id])
    assert w.morph_panel.morph.in_wplus and len(w.morph_panel.keyframes()) == 2


def test_nearby_faces_carry_the_style_edits(qtbot, open_window):
    w = styled_window(qtbot, open_window)
    got = []
    w._render.worker.variationsRendered.connect(lambda token, images: got.append((token, images)))
    w.style_panel.group_checks["coarse"].setChecked(True)
    settle(qtbot, w)
    qtbot.waitUntil(lambda: any(token == w._var_token for token, _ in got) and not w.variations.is_stale(), timeout=30000)
    images = next(images for token, images in got if token == w._var_token)
    first = (w._variation_bases[0] + w.session.direction_offset()).astype(np.float32)
    expected = w.renderer.render_style_face(first, w.session.state.psi, w._style_edit())
    assert np.array_equal(images[0], expected)
    w._on_variation_picked(0)  # picking one keeps the edits: the face is the tile
    settle(qtbot, w)
    assert np.array_equal(w.face_view.image(), expected)
