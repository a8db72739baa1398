"""`facestudio bench soak --seconds N`: does the real app survive N seconds of busy use?

The issue-12 crash (a Qt binding leaking references to None) killed the app after 6-15
minutes of ordinary use, with a core dump far from the cause. This soak drives the real
explorer offscreen the whole time: a latent slider dragged at 60 Hz, the morph studio
playing a looping morph, and the training room training a small model live (curves,
sample grids). It runs in a child process, so a crash is reported (survived: false and
the signal) instead of taking the benchmark down; the child reports, every second,
`sys.getrefcount(None)`, resident memory and the events the application handled.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

CHILD_FLAG = "--soak-child"
DRAG_HZ = 60


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float, default=60.0, help="how long to soak (default 60)")
    p.add_argument("--model", default=None, help="model to open instead of the default")
    p.add_argument("--train-threads", type=int, default=1, help="torch threads of the live training run (default 1)")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _train_config(seconds: float, runs_dir: str):
    """A small live run (32 px, narrow nets) that keeps training for the whole soak."""
    from trainer.config import TrainConfig

    return TrainConfig(data="synthetic", data_count=1000, image_size=32, nz=32, ngf=16, ndf=16, batch_size=16,
                       name="soak", minutes=seconds / 60.0 + 1.0, sample_every=25, sample_count=16,
                       checkpoint_every=200, keep=2)


def soak_in_process(seconds: float, model: str | None, train_threads: int, report) -> dict[str, Any]:
    """The soak itself, in this process (`report(dict)` is called once a second)."""
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from facestudio.ui.benches.latency_bench import _move_event, _open_window, _wait
    from facestudio.ui.benches.training_bench import _run_loop_until
    from facestudio.ui.training.training_panel import TrainingWindow
    from facestudio.ui.workers.training_worker import TrainingRequest

    class EventCounter(QObject):
        count = 0

        def eventFilter(self, _obj, _event) -> bool:  # noqa: N802
            EventCounter.count += 1
            return False

    app, window = _open_window(model)
    counter = EventCounter()
    app.installEventFilter(counter)
    runs_dir = tempfile.mkdtemp(prefix="soak-runs-")
    training = TrainingWindow(runs_dir=runs_dir, threads=train_threads)
    training.resize(1200, 800)
    try:
        _wait(window.face_view.framePainted, 30000)
        # the morph studio: three faces, looping
        nz = window.bundle.config.nz
        rng = np.random.default_rng(1)
        morph = window.morph_panel
        morph.set_keyframes([rng.standard_normal(nz).astype(np.float32) for _ in range(3)])
        window.act_morph_studio.trigger()
        morph.set_playback_mode("loop")
        morph.set_fps(24)
        morph_frames = [0]
        morph.frameShown.connect(lambda _i: morph_frames.__setitem__(0, morph_frames[0] + 1))
        morph.play()
        # the training room, training live
        training.show()
        panel = training.panel
        _run_loop_until(lambda: not panel.setup.checking(), 60)
        if not panel.submit(TrainingRequest(config=_train_config(seconds, runs_dir), runs_dir=runs_dir, threads=train_threads)):
            raise RuntimeError("the training room did not accept the soak run")
        # a hand on a latent slider, 60 moves a second
        sliders = window.latent_panel.sliders
        viewport = sliders.viewport()
        moves = [0]
        t0 = time.monotonic()

        def drag() -> None:
            row = (moves[0] // 240) % max(1, min(8, sliders.row_count()))
            bar = sliders.bar_rect(row)
            if moves[0] % 240 == 0:
                QApplication.sendEvent(viewport, _move_event(bar.center().x(), bar.center().y(), QEvent.Type.MouseButtonPress))
            x = bar.left() + 5 + (bar.width() - 10) * (0.5 + 0.5 * np.sin(moves[0] / 20.0))
            QApplication.sendEvent(viewport, _move_event(x, bar.center().y()))
            moves[0] += 1
            if moves[0] % 240 == 0:
                QApplication.sendEvent(viewport, _move_event(x, bar.center().y(), QEvent.Type.MouseButtonRelease))

        drag_timer = QTimer()
        drag_timer.setInterval(round(1000 / DRAG_HZ))
        drag_timer.timeout.connect(drag)
        samples: list[dict[str, Any]] = []

        def sample() -> None:
            if not morph.is_playing():
                morph.play()
            record = {"t": round(time.monotonic() - t0, 1), "none_refs": sys.getrefcount(None), "rss_mb": round(_rss_mb(), 1),
                      "events": EventCounter.count, "slider_moves": moves[0], "faces_painted": window.face_view.painted_frame(),
                      "morph_frames_shown": morph_frames[0],
                      "training_steps": len(panel.series), "plot_redraws": panel.plots.redraws}
            samples.append(record)
            report(record)

        sampler = QTimer()
        sampler.setInterval(1000)
        sampler.timeout.connect(sample)
        sample()
        drag_timer.start()
        sampler.start()
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()
        drag_timer.stop()
        sampler.stop()
        sample()
        morph.pause()
        return _summary(samples, panel.state)
    finally:
        app.removeEventFilter(counter)
        training.close()
        window.close()
        window.shutdown()


def _summary(samples: list[dict[str, Any]], training_state: str) -> dict[str, Any]:
    """Drift and growth between the first sample after warm-up (10 % of the run) and the last.

    None's count rises as the live run's metric records (which hold None) pile up; a leaking
    binding shows as a fall: `largest_fall` is the biggest drop between two samples."""
    first = samples[min(len(samples) - 1, max(1, len(samples) // 10))]
    last = samples[-1]
    rss = [s["rss_mb"] for s in samples]
    refs = [s["none_refs"] for s in samples]
    return {
        "seconds": last["t"],
        "none_refcount": {"start": first["none_refs"], "end": last["none_refs"], "drift": last["none_refs"] - first["none_refs"],
                          "min": min(refs), "max": max(refs),
                          "largest_fall": max([0] + [a - b for a, b in zip(refs, refs[1:])])},
        "rss_mb": {"start": first["rss_mb"], "end": last["rss_mb"], "max": max(rss), "growth": round(last["rss_mb"] - first["rss_mb"], 1)},
        "events_handled": last["events"] - samples[0]["events"],
        "slider_moves": last["slider_moves"],
        "faces_painted": last["faces_painted"] - samples[0]["faces_painted"],
        "morph_frames_shown": last["morph_frames_shown"],
        "training_steps": last["training_steps"],
        "plot_redraws": last["plot_redraws"],
        "training_state_at_end": training_state,
    }


def _child(seconds: float, model: str | None, train_threads: int, out: str) -> int:
    """In the child: soak, append one JSON line per second to `out`, then the summary."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    def report(record: dict[str, Any]) -> None:
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")

    summary = soak_in_process(seconds, model, train_threads, report)
    report({"summary": summary})
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Soak in a child process; survived = it exited normally and wrote its summary."""
    with tempfile.TemporaryDirectory(prefix="facestudio-soak-") as home:
        out = Path(home) / "soak.jsonl"
        env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"), FACESTUDIO_HOME=home,
                   FACESTUDIO_SETTINGS_ORG="FaceStudioBench")
        cmd = [sys.executable, "-m", "facestudio.ui.benches.soak_bench", CHILD_FLAG, str(args.seconds), args.model or "",
               str(args.train_threads), str(out)]
        started = time.monotonic()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.seconds + 600)
        lines = [json.loads(line) for line in out.read_text().splitlines() if line.strip()] if out.exists() else []
    summary = next((r["summary"] for r in lines if "summary" in r), None)
    figures: dict[str, Any] = {
        "survived": proc.returncode == 0 and summary is not None,
        "exit": proc.returncode if proc.returncode >= 0 else f"signal {signal.Signals(-proc.returncode).name}",
        "wall_s": round(time.monotonic() - started, 1),
    }
    if summary is not None:
        figures.update(summary)
    else:
        samples = [r for r in lines if "none_refs" in r]
        figures["last_sample"] = samples[-1] if samples else None
        figures["stderr_tail"] = proc.stderr.strip().splitlines()[-3:]
    figures["load_average_1min"] = round(os.getloadavg()[0], 2)
    return figures


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == CHILD_FLAG:
    sys.exit(_child(float(sys.argv[2]), sys.argv[3] or None, int(sys.argv[4]), sys.argv[5]))
