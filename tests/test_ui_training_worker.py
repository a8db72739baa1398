"""The training worker on its QThread: plain-data signals, throttling, pause/resume/stop,
snapshots of the EMA generator, failures as sentences, and the data check.

Tiny runs (32 px, nz 16, widths 8, batch 8, tens of steps); every thread is joined at the
end. The worker's signals are received by a QObject of the test's (GUI) thread, as the
app receives them (queued), and the tests wait for what arrived. (qtbot.waitSignal on a
signal emitted in another thread runs its callback in that thread and can miss the quit
of its event loop.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QObject

import trainer as trainer_package
from facestudio.data import FaceDataSet
from facestudio.models import load_model
from facestudio.ui.workers import training_worker as tw
from facestudio.ui.workers.training_worker import TrainingRequest, TrainingThread, bundle_from_snapshot
from trainer import TrainConfig, Trainer

WAIT = 60_000
TINY = dict(image_size=32, nz=16, ngf=8, ndf=8, batch_size=8, sample_count=16)


@pytest.fixture
def thread():
    t = TrainingThread()
    yield t
    t.close()
    assert t.thread.isFinished()


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    return FaceDataSet(torch.randint(0, 256, (64, 3, 32, 32), generator=g, dtype=torch.uint8), None, [], "noise")


def config(**kw) -> TrainConfig:
    return TrainConfig(**{**TINY, "sample_every": 5, "checkpoint_every": 10, **kw})


class Collect(QObject):
    """Receives a worker signal on the GUI thread (queued, as the app does) and keeps what it sent."""

    def __init__(self, signal) -> None:
        super().__init__()
        self.items: list = []
        signal.connect(self._add)

    def _add(self, *args) -> None:
        self.items.append(args[0] if len(args) == 1 else args)

    def wait(self, qtbot, pred=lambda item: True, timeout: int = WAIT):
        """The first item (from now on) that satisfies `pred`."""
        start = len(self.items)
        found: list = []

        def arrived() -> bool:
            found[:] = [i for i in self.items[start:] if pred(i)]
            return bool(found)

        qtbot.waitUntil(arrived, timeout=timeout)
        return found[0]


def signals(worker) -> dict[str, Collect]:
    return {name: Collect(getattr(worker, name)) for name in
            ("started", "metrics", "samples", "status", "snapshotReady", "finished", "failed", "dataChecked", "dataCheckFailed")}


def test_a_run_sends_every_record_and_its_sample_grids_as_plain_data(qtbot, thread, data, tmp_path):
    w = thread.worker
    got = signals(w)
    w.submit(TrainingRequest(config=config(max_steps=20), runs_dir=str(tmp_path), dataset=data))
    result = got["finished"].wait(qtbot)
    qtbot.waitUntil(lambda: len(got["samples"].items) == 5)  # queued before `finished`: all here by now
    info = got["started"].items[0]
    assert info["step"] == 0 and info["planned_steps"] == 20 and info["n_images"] == 64 and info["history"] == []
    steps = [r["step"] for batch in got["metrics"].items for r in batch]
    assert steps == list(range(1, 21))
    assert all(isinstance(batch, list) and all(isinstance(r, dict) for r in batch) for batch in got["metrics"].items)
    assert [g["step"] for g in got["samples"].items] == [0, 5, 10, 15, 20]  # step 0: the starting point
    grid = got["samples"].items[-1]["grid"]
    assert isinstance(grid, np.ndarray) and grid.dtype == np.uint8 and grid.ndim == 3 and grid.flags.owndata
    assert result["reason"] == "max_steps" and result["step"] == 20
    assert load_model(result["run_dir"]).config.nz == 16
    assert not w.busy


def test_records_are_batched_to_at_most_twenty_emissions_a_second(monkeypatch):
    worker = tw.TrainingWorker()
    emitted = []
    worker.metrics.connect(lambda batch: emitted.append(len(batch)))
    clock = [100.0]
    monkeypatch.setattr(tw.time, "monotonic", lambda: clock[0])
    for step in range(1, 201):  # 200 steps in one second of (fake) time
        clock[0] = 100.0 + step / 200
        worker._on_metrics({"step": step})
    worker._flush()
    assert sum(emitted) == 200 and len(emitted) <= 21
    worker.deleteLater()


def test_pause_snapshot_resume_and_stop(qtbot, thread, data, tmp_path):
    w = thread.worker
    got = signals(w)
    w.submit(TrainingRequest(config=config(max_steps=100_000), runs_dir=str(tmp_path), dataset=data))
    got["metrics"].wait(qtbot)
    w.pause()
    _, paused_at = got["status"].wait(qtbot, lambda s: s[0] == "paused")

    # paused: the copy is made at once, on this thread, under the trainer's weight lock
    payload = w.snapshot_now()
    assert payload["step"] == paused_at and all(isinstance(v, np.ndarray) for v in payload["state"].values())
    bundle = bundle_from_snapshot(payload)
    z = torch.randn(3, 16)
    with torch.no_grad():
        before = bundle.generator(z).clone()
    assert bundle.generator(z).shape == (3, 3, 32, 32) and torch.isfinite(before).all()

    w.resume()
    got["status"].wait(qtbot, lambda s: s[0] == "running")
    # running: the training thread copies the weights after its next step
    assert w.request_snapshot()
    snapshot = got["snapshotReady"].wait(qtbot)
    assert snapshot["step"] > paused_at
    with torch.no_grad():
        assert torch.equal(bundle.generator(z), before)  # the first snapshot is independent of training

    w.stop()
    result = got["finished"].wait(qtbot)
    assert result["reason"] == "stopped" and result["step"] >= snapshot["step"]
    assert result["checkpoint_path"].endswith(f"ckpt_{result['step']:07d}.safetensors")
    assert load_model(result["checkpoint_path"]).discriminator is not None
    assert w.request_snapshot() is False and w.snapshot_now() is None  # nothing training any more


def test_a_crash_in_the_run_reaches_the_ui_as_a_sentence_and_the_thread_lives_on(qtbot, thread, data, tmp_path, monkeypatch):
    class Exploding(Trainer):
        def _step(self):
            if self.progress.step == 3:
                raise RuntimeError("kaboom")
            super()._step()

    monkeypatch.setattr(trainer_package, "Trainer", Exploding)
    w = thread.worker
    got = signals(w)
    w.submit(TrainingRequest(config=config(max_steps=50), runs_dir=str(tmp_path), dataset=data))
    text = got["failed"].wait(qtbot)
    assert "kaboom" in text and "resume" in text
    monkeypatch.undo()
    w.submit(TrainingRequest(config=config(max_steps=5, data=str(tmp_path / "gone")), runs_dir=str(tmp_path)))
    assert got["failed"].wait(qtbot).startswith("There is no folder")  # a typed error is shown as it is
    w.submit(TrainingRequest(config=config(max_steps=3), dataset=data))  # no runs_dir: nothing written
    assert got["finished"].wait(qtbot)["run_dir"] is None


def test_resume_trains_extra_steps_past_the_newest_checkpoint_and_replays_the_history(qtbot, thread, data, tmp_path):
    w = thread.worker
    got = signals(w)
    w.submit(TrainingRequest(config=config(max_steps=12, sample_every=4, checkpoint_every=5), runs_dir=str(tmp_path), dataset=data))
    run = got["finished"].wait(qtbot)["run_dir"]
    w.submit(TrainingRequest(resume=run, extra_steps=6, dataset=data))
    info = got["started"].wait(qtbot, lambda i: i["step"] > 0)
    assert info["step"] == 12 and info["planned_steps"] == 18
    assert [r["step"] for r in info["history"]] == list(range(1, 13))
    assert [s for s, _ in info["samples"]] == [0, 4, 8, 12]
    result = got["finished"].wait(qtbot, lambda r: r["step"] > 12)
    assert result["step"] == 18 and result["reason"] == "max_steps"


def test_the_data_check_counts_lists_skipped_files_and_previews(qtbot, thread, tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(folder / "sub" / f"face{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("hello")
    w = thread.worker
    got = signals(w)
    w.check_data(str(folder))
    result = got["dataChecked"].wait(qtbot)
    assert result["images"] == 3 and result["root"] == str(folder)
    assert sorted(s["path"].rsplit("/", 1)[-1] for s in result["skipped"]) == ["broken.jpg", "notes.txt"]
    assert all(s["reason"] and s["kind"] for s in result["skipped"])
    assert result["preview"].dtype == np.uint8 and result["preview"].shape[2] == 3
    w.check_data("synthetic", 500)
    synthetic = got["dataChecked"].wait(qtbot, lambda r: r["root"] == "synthetic")
    assert synthetic["images"] == 500 and synthetic["preview"].shape[0] > 64
    w.check_data(str(tmp_path / "nowhere"))
    root, text = got["dataCheckFailed"].wait(qtbot)
    assert root == str(tmp_path / "nowhere") and "nowhere" in text
