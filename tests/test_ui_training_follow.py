"""Following a run another process writes: torn lines, rewrites on resume, sample grids,
the end of the run, warnings, snapshots, and a real `facestudio train` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from facestudio.models import ModelConfig, new_bundle, save_model
from facestudio.ui.training.training_panel import TrainingWindow
from trainer.config import TrainConfig

WAIT = 60_000


@pytest.fixture
def room(qtbot, tmp_path):
    room = TrainingWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(room)
    room.show()
    yield room
    room.close()
    assert room.panel.training.thread.isFinished() and room.panel._watcher is None


def record(step: int, **kw) -> str:
    r = {"step": step, "seconds": step * 0.05, "images_per_s": 160.0, "steps_per_s": 20.0, "loss_g": 1.5, "loss_d": 1.0,
         "d_real": 0.6, "d_fake": 0.4, "warnings": [], **kw}
    return json.dumps(r) + "\n"


def append(path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def test_following_a_run_folder_as_another_process_writes_it(qtbot, room, tmp_path):
    run = tmp_path / "00007-elsewhere"
    (run / "samples").mkdir(parents=True)
    (run / "checkpoints").mkdir()
    cfg = TrainConfig(image_size=32, nz=16, ngf=8, ndf=8, batch_size=8, max_steps=400).to_dict()
    (run / "config.json").write_text(json.dumps({"format": "facestudio-run", "version": 1, "config": cfg,
                                                 "data": {"images": 64}, "world_size": 1}))
    metrics = run / "metrics.jsonl"
    append(metrics, "".join(record(i) for i in range(1, 11)) + record(11)[:25])  # step 11 half written
    p = room.panel
    assert p.follow_run(run)
    assert p.state == "following" and p.stop_button.text() == "Stop following" and p.start_button.isEnabled()
    qtbot.waitUntil(lambda: len(p.series) == 10, timeout=WAIT)
    qtbot.waitUntil(lambda: p.step_label.text() == "Step 10 of 400", timeout=WAIT)
    assert "left" in p.left_label.text()  # 390 steps at 20 steps/s

    append(metrics, record(11)[25:] + "".join(record(i) for i in range(12, 21)))
    append(metrics, record(21, warnings=["The discriminator has been winning outright for 200 steps."], diversity=0.05))
    grid = np.random.default_rng(0).integers(0, 255, (70, 70, 3), dtype=np.uint8)
    Image.fromarray(grid).save(run / "samples" / "step_0000020.png")
    qtbot.waitUntil(lambda: len(p.series) == 21 and p.timeline.count() == 1, timeout=WAIT)
    assert list(p.series.column("step")) == list(range(1, 22))
    assert p.health.warning_count() == 1 and "winning outright" in p.health.warnings.item(0).text()
    np.testing.assert_array_equal(p.timeline.view.image(), grid)

    assert not p.explore_snapshot() and "no checkpoint yet" in p.banner.text()
    bundles = []
    p.snapshotBundle.connect(lambda b, label: bundles.append(label))
    save_model(new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="elsewhere")), run / "checkpoints" / "ckpt_0000020.safetensors")
    assert p.explore_snapshot() and bundles == ["00007-elsewhere at step 20"]

    (run / "log.txt").write_text("2026-01-01 10:00:00  finished at step 21 (max_steps); model: model.safetensors\n")
    qtbot.waitUntil(lambda: p.left_label.text() == "run ended", timeout=WAIT)
    assert "finished at step 21" in p.run_label.text()

    tmp = run / ".metrics.jsonl.tmp"  # a resume from step 10 rewrites the log atomically
    tmp.write_text("".join(record(i, loss_g=9.0) for i in range(1, 11)))
    os.replace(tmp, metrics)
    qtbot.waitUntil(lambda: len(p.series) == 10 and p.series.column("loss_g")[-1] == 9.0, timeout=WAIT)

    p.stop_button.click()
    assert p.state == "idle" and p._watcher is None and len(p.series) == 10  # the curves stay to look at


def test_following_a_command_line_run_in_another_process(qtbot, room, tmp_path):
    runs = tmp_path / "cli-runs"
    cmd = [sys.executable, "-m", "facestudio", "train", "--data", "synthetic", "--data-count", "64", "--size", "32",
           "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "8", "--max-steps", "20", "--sample-every", "5",
           "--checkpoint-every", "10", "--threads", "1", "--runs-dir", str(runs), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        qtbot.waitUntil(lambda: runs.is_dir() and any(runs.iterdir()) or proc.poll() is not None, timeout=WAIT)
        assert proc.poll() in (None, 0), proc.stderr.read().decode()
        run = next(runs.iterdir())
        qtbot.waitUntil(lambda: (run / "config.json").is_file() or proc.poll() is not None, timeout=WAIT)
        p = room.panel
        assert p.follow_run(run)
        qtbot.waitUntil(lambda: p.left_label.text() == "run ended", timeout=WAIT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    qtbot.waitUntil(lambda: p.series.last_step == 20 and p.timeline.count() == 5, timeout=WAIT)
    assert list(p.series.column("step")) == list(range(1, 21))
    assert p.timeline.steps() == [0, 5, 10, 15, 20]  # the step-0 grid too
    qtbot.waitUntil(lambda: p.step_label.text() == "Step 20 of 20")  # the next redraw, within 1/10 s
