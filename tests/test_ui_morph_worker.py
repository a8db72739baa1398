"""The morph thread: a newer path abandons a stale one mid-strip; exports report and cancel."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from facestudio.models import ModelConfig, new_bundle
from facestudio.render.renderer import Renderer
from facestudio.ui.workers.morph_worker import STRIP_BATCH, ExportJob, ExportThread, MorphThread, StripJob

WAIT = 20000


@pytest.fixture(scope="module")
def renderer():
    return Renderer(new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32)))


@pytest.fixture
def morph_thread():
    t = MorphThread()
    yield t
    t.close()
    assert t.thread.isFinished()


@pytest.fixture
def export_thread():
    t = ExportThread()
    yield t
    t.close()
    assert t.thread.isFinished()


def latents(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 16)).astype(np.float32)


def test_a_newer_path_abandons_the_stale_one(qtbot, morph_thread, renderer):
    worker = morph_thread.worker
    received: dict[int, int] = {1: 0, 2: 0}
    done: list[int] = []
    stale = latents(2000)

    def on_frames(token, indices, images):
        received[token] += len(indices)
        if token == 1 and received[1] == STRIP_BATCH:  # the old strip has begun: change the path
            worker.submit(StripJob(renderer, latents(12, seed=1), 1.0, 2))

    worker.framesRendered.connect(on_frames)
    worker.stripDone.connect(done.append)
    with qtbot.waitSignal(worker.stripDone, timeout=WAIT, check_params_cb=lambda t: t == 2):
        worker.submit(StripJob(renderer, stale, 1.0, 1))
    assert done == [2]
    assert received[2] == 12
    assert received[1] < len(stale) // 4  # abandoned within a few batches, never finished


def test_frames_arrive_from_the_playhead_and_match_the_renderer(qtbot, morph_thread, renderer):
    path = latents(20)
    batches = []
    morph_thread.worker.framesRendered.connect(lambda t, idx, imgs: batches.append((idx.copy(), imgs)))
    with qtbot.waitSignal(morph_thread.worker.stripDone, timeout=WAIT):
        morph_thread.worker.submit(StripJob(renderer, path, 0.8, 7, first=13))
    assert batches[0][0][0] == 13
    order = np.concatenate([idx for idx, _ in batches])
    assert sorted(order.tolist()) == list(range(20))
    expected = renderer.render_batch(path, psi=0.8)
    for idx, imgs in batches:
        np.testing.assert_array_equal(imgs, expected[idx])


def test_export_reports_progress_and_writes_the_file(qtbot, export_thread, renderer, tmp_path):
    steps = []
    export_thread.worker.progressed.connect(lambda t, d, n: steps.append((d, n)))
    target = tmp_path / "m.gif"
    with qtbot.waitSignal(export_thread.worker.finished, timeout=WAIT) as sig:
        export_thread.worker.submit(ExportJob(renderer, latents(10), 1.0, target, "gif", 3, size=48, fps=12))
    assert sig.args == [3, str(target)]
    assert target.is_file()
    assert steps[-1] == (20, 20) and [d for d, _ in steps] == sorted(d for d, _ in steps)


@pytest.mark.parametrize("kind,name", [("gif", "c.gif"), ("mp4", "c.mp4"), ("frames", "frames")])
@pytest.mark.parametrize("phase", ["rendering", "writing"])
def test_export_cancel_writes_nothing(qtbot, export_thread, renderer, tmp_path, kind, name, phase):
    if kind == "mp4":
        pytest.importorskip("imageio_ffmpeg")
    worker = export_thread.worker
    n = 120

    def on_progress(token, done, total):
        if done >= (1 if phase == "rendering" else n + 1):
            worker.cancel()

    # Direct: the flag is set in the export thread at that very step, not when the GUI gets round to it.
    worker.progressed.connect(on_progress, Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(worker.cancelled, timeout=WAIT) as sig:
        worker.submit(ExportJob(renderer, latents(n), 1.0, tmp_path / name, kind, 9, size=128))
    assert sig.args == [9]
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


def test_export_errors_are_sentences(qtbot, export_thread, renderer, tmp_path):
    with qtbot.waitSignal(export_thread.worker.failed, timeout=WAIT) as sig:
        export_thread.worker.submit(ExportJob(renderer, latents(3), 1.0, tmp_path / "m.gif", "gif", 4, fps=500))
    token, message = sig.args
    assert token == 4 and "frames per second" in message
    with pytest.raises(ValueError):
        export_thread.worker.submit(ExportJob(renderer, latents(3), 1.0, tmp_path / "m.avi", "avi", 5))
