"""About box (model card) and the run-folder snapshot picker."""

from facestudio.models import ModelConfig, new_bundle, save_model
from facestudio.ui.explorer.model_dialogs import AboutDialog, SnapshotDialog, model_card_html
from facestudio.sessions.explorer.model_sources import run_snapshots


def test_model_card_tells_what_the_model_is(tmp_path):
    from facestudio.models import load_model

    config = ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="Portraits <v2>", info={"data": "synthetic"})
    path = tmp_path / "m.safetensors"
    save_model(new_bundle(config), path)
    bundle = load_model(path)
    html = model_card_html(bundle, note="a note")
    for fact in (bundle.sha256, str(path), "32 x 32 px", "synthetic", "Portraits &lt;v2&gt;", "discriminator", "a note"):
        assert fact in html


def test_about_dialog_shows_the_card(qtbot, tmp_path):
    bundle = new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="card"))
    dialog = AboutDialog(bundle)
    qtbot.addWidget(dialog)
    assert "card" in dialog.browser.toPlainText() and "nz" in dialog.browser.toPlainText()


def test_snapshot_dialog_preselects_the_newest(qtbot, tmp_path):
    (tmp_path / "checkpoints").mkdir()
    for step in (1, 2, 3):
        save_model(new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32)), tmp_path / "checkpoints" / f"step_{step:06d}.safetensors")
    dialog = SnapshotDialog(tmp_path, run_snapshots(tmp_path))
    qtbot.addWidget(dialog)
    assert dialog.chosen().name == "step_000003.safetensors"
    dialog.list.setCurrentRow(2)
    assert dialog.chosen().name == "step_000001.safetensors"
