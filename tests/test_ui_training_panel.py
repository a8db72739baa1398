"""The training room driven as a person would: set up, start, watch, pause, explore, stop,
close mid-run, see errors as sentences, export the curves, and reach it from the explorer.

Tiny runs from the form (64 built-in faces, 32 px, nz 16, widths 8, batch 8, tens of
steps). Tests wait on the panel's state (which follows the worker's queued signals) and
every window's training thread must be finished at the end.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import torch
from PIL import Image

import facestudio.sessions.training.background_run as background_run
from facestudio.models import ModelConfig, load_model, new_bundle, save_model
from facestudio.ui.training.training_panel import TrainingPanel, TrainingWindow

WAIT = 60_000


@pytest.fixture
def open_room(qtbot, tmp_path):
    rooms = []

    def make() -> TrainingWindow:
        room = TrainingWindow(runs_dir=tmp_path / "runs")
        qtbot.addWidget(room)
        room.resize(1400, 900)
        room.show()
        rooms.append(room)
        qtbot.waitUntil(lambda: not room.panel.setup.checking(), timeout=WAIT)  # the built-in faces' preview
        return room

    yield make
    for room in rooms:
        room.close()
        assert room.is_shut_down and room.panel.training.thread.isFinished()


@pytest.fixture
def room(open_room) -> TrainingWindow:
    return open_room()


def tiny_form(panel: TrainingPanel, steps: int, **more) -> None:
    panel.setup.set_values(data_count=64, image_size=32, nz=16, width=8, batch_size=8, max_steps=steps,
                           sample_every=5, checkpoint_every=10, **more)


def wait_state(qtbot, panel: TrainingPanel, *states: str) -> None:
    qtbot.waitUntil(lambda: panel.state in states, timeout=WAIT)


def test_a_run_from_the_form_fills_curves_samples_status_and_exports(qtbot, room, tmp_path):
    p = room.panel
    assert p.setup.preview.pixmap() is not None and not p.setup.preview.pixmap().isNull()  # the data preview
    tiny_form(p, 30)
    p.start_button.click()
    assert p.state == "preparing" and not p.start_button.isEnabled() and not p.setup.batch_spin.isEnabled()
    wait_state(qtbot, p, "finished")
    qtbot.waitUntil(lambda: p.plots.point_count("loss_g") == 30)
    for curve in ("loss_g", "loss_d", "d_real", "d_fake", "loss_g_smoothed", "d_fake_smoothed"):
        assert p.plots.point_count(curve) == 30
    assert p.plots.point_count("diversity") == 6
    assert p.timeline.steps() == [0, 5, 10, 15, 20, 25, 30] and p.timeline.is_live() and p.timeline.shown_step() == 30
    assert p.timeline.view.image() is not None
    assert p.step_label.text() == "Step 30 of 30" and p.progress_bar.value() == 1000
    assert "images/s" in p.speed_label.text()
    assert "step budget" in p.banner.text() and p.run_dir is not None and (p.run_dir / "model.safetensors").is_file()
    assert p.health.note_texts() and p.health.title.text()
    assert p.start_button.isEnabled() and p.explore_button.isEnabled()
    assert p.setup.batch_spin.isEnabled() and not p.setup.folder_edit.isEnabled()  # unlocked, built-in faces chosen

    # scrub back through the timeline: an older grid stays until Live
    p.timeline.show_index(2)  # index 0 is the step-0 grid
    assert p.timeline.shown_step() == 10 and not p.timeline.is_live()
    p.timeline.go_live()
    assert p.timeline.shown_step() == 30

    png, table = tmp_path / "curves.png", tmp_path / "metrics.csv"
    assert p.export(png) and p.export(table)
    assert Image.open(png).size[0] > 200
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [int(r["step"]) for r in rows] == list(range(1, 31)) and rows[-1]["loss_g_smoothed"]


def test_pause_resume_explore_stop_and_resume_the_run(qtbot, room):
    p = room.panel
    bundles = []
    room.snapshotBundle.connect(lambda bundle, label: bundles.append((bundle, label)))
    tiny_form(p, 100_000)
    p.start()
    wait_state(qtbot, p, "running")
    qtbot.waitUntil(lambda: len(p.series) >= 3, timeout=WAIT)
    p.pause_button.click()
    wait_state(qtbot, p, "paused")
    assert p.pause_button.text() == "Resume"
    paused_points = len(p.series)

    assert p.explore_snapshot()  # paused: at once
    bundle, label = bundles[-1]
    assert "at step" in label and bundle.config.nz == 16 and bundle.discriminator is None
    with torch.no_grad():
        faces = bundle.generator(torch.randn(2, 16))
    assert faces.shape == (2, 3, 32, 32) and torch.isfinite(faces).all()
    assert len(p.series) == paused_points  # nothing trained while paused

    p.pause_button.click()
    wait_state(qtbot, p, "running")
    assert p.explore_snapshot()  # running: the training thread copies after its next step
    qtbot.waitUntil(lambda: len(bundles) == 2, timeout=WAIT)
    assert int(bundles[1][0].config.info["snapshot_step"]) > int(bundle.config.info["snapshot_step"])

    p.stop_button.click()
    assert p.state == "stopping"
    wait_state(qtbot, p, "finished")
    assert "you stopped it" in p.banner.text() and "Resume a run" in p.banner.text()
    run, stopped_at = p.run_dir, p.progress.step
    assert load_model(run).config.nz == 16

    p.setup.set_values(max_steps=4)  # for a resume: steps added to where it stopped
    assert p.resume_run(run)
    wait_state(qtbot, p, "finished")
    assert p.progress.step == stopped_at + 4 and p.series.last_step == stopped_at + 4
    assert len(p.series) == stopped_at + 4  # the history before the resume was replayed into the curves


def test_closing_the_window_mid_training_saves_a_checkpoint_and_joins_the_thread(qtbot, open_room):
    room = open_room()
    p = room.panel
    tiny_form(p, 100_000)
    p.start()
    qtbot.waitUntil(lambda: len(p.series) >= 3, timeout=WAIT)
    room.close()
    assert p.training.thread.isFinished()
    result = p.training.worker.last_result
    assert result["reason"] == "stopped" and result["step"] >= 3
    ckpt = load_model(result["checkpoint_path"])
    assert ckpt.discriminator is not None and ckpt.ema_generator is not None
    assert load_model(result["run_dir"]).config.info["steps"] == str(result["step"])


def test_keep_training_after_closing_hands_the_run_to_a_background_process(qtbot, open_room, monkeypatch):
    started = []

    class FakeProcess:
        pid = 4242

    def fake_continue(run, minutes=None, python=None):
        started.append((run, minutes, background_run.background_command(run, minutes)))
        return FakeProcess()

    monkeypatch.setattr(background_run, "continue_in_background", fake_continue)
    room = open_room()
    p = room.panel
    messages = []
    room.handedOff.connect(messages.append)
    tiny_form(p, 100_000)
    p.keep_going.setChecked(True)
    p.start()
    qtbot.waitUntil(lambda: len(p.series) >= 2, timeout=WAIT)
    room.close()
    assert p.training.thread.isFinished()
    run, minutes, command = started[0]
    assert run == p.training.worker.last_result["run_dir"] and minutes is None
    assert command[command.index("--resume") + 1] == str(p.run_dir.resolve()) and "--minutes" not in command
    assert "4242" in messages[0] and "background" in messages[0]


def test_a_failing_run_is_shown_as_a_sentence(qtbot, room, tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(16):
        Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    (folder / "readme.md").write_text("not a face")
    p = room.panel
    p.setup.set_folder(folder)
    qtbot.waitUntil(lambda: p.setup.data_ready(), timeout=WAIT)
    assert "16" in p.setup.data_summary.text() and p.setup.skipped_list.count() == 1
    assert "readme.md" in p.setup.skipped_list.item(0).text()
    assert "Suggested for 16 images" in p.setup.batch_spin.toolTip()
    for f in folder.iterdir():  # the folder becomes unusable between the check and the start
        f.unlink()
    folder.rmdir()
    p.setup.set_values(image_size=32, nz=16, width=8, batch_size=4, max_steps=10)
    p.start()
    qtbot.waitUntil(lambda: p.banner.level() == "error", timeout=WAIT)
    assert "There is no folder" in p.banner.text()
    assert p.state == "idle" and p.start_button.isEnabled()


def test_bad_settings_and_an_unchecked_folder_are_refused_with_a_sentence(qtbot, room, tmp_path):
    p = room.panel
    p.setup.set_values(name="no spaces allowed")
    assert not p.start() and "Run name" in p.banner.text()
    p.setup.set_values(name="ok")
    p.setup.folder_radio.setChecked(True)  # no folder chosen
    assert not p.start() and "Choose a folder" in p.banner.text()
    p.setup.set_folder(tmp_path / "missing")
    qtbot.waitUntil(lambda: not p.setup.checking(), timeout=WAIT)
    assert "does not exist" in p.setup.data_summary.text() and not p.setup.data_ready()
    assert not p.resume_run(tmp_path) and "not a FaceStudio run folder" in p.banner.text()
    assert p.state == "idle"


def test_the_explorer_opens_the_room_and_explores_a_training_snapshot(qtbot, tmp_path):
    from facestudio.ui.explorer.explorer_window import ExplorerWindow

    model = tmp_path / "tiny.safetensors"
    save_model(new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="tiny"), seed=1), model)
    explorer = ExplorerWindow(model, gallery_folder=tmp_path / "gallery")
    qtbot.addWidget(explorer)
    explorer.show()
    qtbot.waitUntil(lambda: explorer._shown_token == explorer._token, timeout=WAIT)
    explorer.act_training.trigger()
    room = explorer._training
    assert room is not None and room.isVisible()
    p = room.panel
    p.setup.set_values(runs_dir=tmp_path / "runs")
    qtbot.waitUntil(lambda: not p.setup.checking(), timeout=WAIT)
    tiny_form(p, 100_000)
    p.start()
    qtbot.waitUntil(lambda: len(p.series) >= 3, timeout=WAIT)
    assert p.explore_snapshot()
    qtbot.waitUntil(lambda: explorer.bundle.name.startswith("dcgan-step"), timeout=WAIT)
    qtbot.waitUntil(lambda: explorer._shown_token == explorer._token, timeout=WAIT)
    assert explorer.face_view.image().shape == (32, 32, 3)
    assert p.state == "running"  # training went on
    room.close()  # stops and saves; the explorer keeps the snapshot
    assert room.is_shut_down and p.training.thread.isFinished() and explorer.bundle.name.startswith("dcgan-step")
    explorer.act_training.trigger()  # a fresh room
    again = explorer._training
    assert again is not room and again.isVisible() and not again.is_shut_down
    explorer.close()
    assert again.is_shut_down and again.panel.training.thread.isFinished()
    assert explorer._render.thread.isFinished()


def test_a_long_history_reaches_the_curves_in_slices_and_grids_are_decoded_when_shown(qtbot, room, tmp_path):
    from facestudio.ui.training.training_figures import HISTORY_SLICE

    p = room.panel
    n = HISTORY_SLICE * 2 + 500
    p._take_records([{"step": i, "seconds": i * 0.1, "loss_g": 1.0, "loss_d": 1.0, "d_real": 0.5, "d_fake": 0.5}
                     for i in range(1, n + 1)])
    assert len(p.series) == 0  # nothing added in this turn of the event loop
    qtbot.waitUntil(lambda: len(p.series) == n, timeout=WAIT)
    qtbot.waitUntil(lambda: p.plots.point_count("loss_g") == n, timeout=WAIT)
    assert list(p.series.column("step")[:3]) == [1, 2, 3] and p.series.last_step == n

    grids = []
    for step in range(10, 130, 10):
        path = tmp_path / f"step_{step:07d}.png"
        Image.fromarray(np.full((20, 20, 3), step, np.uint8)).save(path)
        grids.append((step, str(path)))
    p.timeline.extend(grids)
    assert p.timeline.count() == 12 and len(p.timeline._cache) == 1  # only the newest was read
    assert p.timeline.view.image()[0, 0, 0] == 120
    p.timeline.show_index(0)
    assert p.timeline.view.image()[0, 0, 0] == 10 and not p.timeline.is_live()


def test_preparation_progress_fills_the_bar_while_preparing_only(qtbot, room):
    p = room.panel
    p._set_state("preparing")
    p.training.worker.prepareProgress.emit(2500, 10000)
    assert p.progress_bar.maximum() == 1000 and p.progress_bar.value() == 250
    assert p.left_label.text() == "2,500 of 10,000 images ready"
    p._set_state("idle")
    p.training.worker.prepareProgress.emit(9000, 10000)
    assert p.progress_bar.value() == 250  # a late report after the run started changes nothing
