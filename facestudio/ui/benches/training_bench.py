"""`facestudio bench ui`: does training in the app keep the window responsive, and at what cost?

Two figures, offscreen, on this machine's CPU threads:

- event_loop_lag_ms: while a run trains in the training room (curves, samples and
  health redrawing live), a 10 ms precise QTimer on the GUI thread is watched; its
  lateness (time between ticks minus 10 ms) is what a person feels as stutter.
  Percentiles over the training phase; `idle_lag_ms` is the same with nothing training.
- app_images_per_s vs headless_images_per_s: the same config and data set trained in
  the app (worker thread + live UI) and headless, i.e. `facestudio train --quiet` in its
  own process, alternating app and headless runs so machine load
  drifts affect both alike. Speed is taken from the runs' own metrics records (steps x
  batch over training seconds), after the first `--warmup` steps, so start-up and data
  loading count for neither. (`Trainer.run()` on the main thread of this process was the
  first yardstick; it ran 15 % slower than the real command, which flattered the app.)

Targets: lag p99 <= 50 ms; app >= 0.9 x headless.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from facestudio.sessions.training.room_state import RoomState

TICK_MS = 10


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--size", type=int, default=64, choices=(32, 64, 128), help="image size (default 64)")
    p.add_argument("--width", type=int, default=64, help="network width ngf = ndf (default 64)")
    p.add_argument("--nz", type=int, default=100, help="latent size (default 100)")
    p.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--steps", type=int, default=120, help="steps per run (default 120)")
    p.add_argument("--warmup", type=int, default=10, help="first steps of each run left out of the speed (default 10)")
    p.add_argument("--rounds", type=int, default=2, help="app/headless pairs, alternated (default 2)")
    p.add_argument("--sample-every", type=int, default=20, help="steps between sample grids (default 20)")
    p.add_argument("--data-count", type=int, default=2000, help="built-in faces in the data set (default 2000)")


def _percentiles(values_ms: list[float]) -> dict[str, float]:
    a = np.asarray(values_ms, dtype=np.float64)
    if a.size == 0:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    return {"p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "p99": round(float(np.percentile(a, 99)), 2), "max": round(float(a.max()), 2), "n": int(a.size)}


def _speed(records: list[dict[str, Any]], batch: int, warmup: int) -> float:
    """Images per second between the first record after warm-up and the last (training seconds)."""
    rs = [r for r in records if r["step"] > warmup]
    if len(rs) < 2:
        raise RuntimeError("too few steps to measure; raise --steps")
    first, last = rs[0], rs[-1]
    return (last["step"] - first["step"]) * batch / (last["seconds"] - first["seconds"])


class LagProbe:
    """A 10 ms precise timer on the GUI thread; collects how late each tick is."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.lateness_ms: list[float] = []
        self._last: float | None = None
        self.recording = False
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.recording and self._last is not None:
            self.lateness_ms.append(max(0.0, (now - self._last) * 1000 - TICK_MS))
        self._last = now

    def start(self) -> None:
        self._last = None
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


def _run_loop_until(condition, timeout_s: float) -> bool:
    """Run the event loop until `condition()` holds (checked every 20 ms) or the timeout passes."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return True
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: (condition() or time.monotonic() > deadline) and loop.quit())
    check.start()
    loop.exec()
    check.stop()
    return bool(condition())


def _app_run(config, dataset, runs_dir: str, threads: int, batch: int, warmup: int) -> dict[str, Any]:
    from facestudio.ui.training.training_panel import TrainingWindow
    from facestudio.ui.workers.training_worker import TrainingRequest

    window = TrainingWindow(runs_dir=runs_dir, threads=threads)
    window.resize(1560, 960)
    window.show()
    panel = window.panel
    _run_loop_until(lambda: not panel.setup.checking(), 60)
    probe = LagProbe()
    probe.start()
    try:
        if not panel.submit(TrainingRequest(config=config, runs_dir=runs_dir, dataset=dataset, threads=threads)):
            raise RuntimeError("the training room did not accept the run")
        if not _run_loop_until(lambda: panel.state is RoomState.RUNNING, 600):
            raise RuntimeError("the run did not start")
        probe.recording = True
        if not _run_loop_until(lambda: panel.state in (RoomState.FINISHED, RoomState.IDLE), 3600):
            raise RuntimeError("the run did not finish")
        probe.recording = False
        if panel.banner.level() == "error":
            raise RuntimeError(panel.banner.text())
        n = len(panel.series)
        records = [{"step": int(s), "seconds": float(t)} for s, t in
                   zip(panel.series.column("step")[:n], panel.series.column("seconds")[:n])]
        return {"images_per_s": _speed(records, batch, warmup), "lag": probe.lateness_ms, "redraws": panel.plots.redraws}
    finally:
        probe.stop()
        window.close()


def headless_command(config, run_root: str | Path, threads: int) -> list[str]:
    """The `facestudio train` command line that trains `config` with `threads` CPU threads.

    Generated from the config (every setting with a flag spelled out, not left to the
    command's defaults), and `_headless_run` parses the line back and refuses to run if
    it would train anything else.
    """
    from trainer.config_flags import command_line

    flags = command_line(config.replace(threads=threads, checkpoint_every=0))
    return [sys.executable, "-m", "facestudio", "train", *flags, "--runs-dir", str(run_root), "--quiet"]


def command_config(cmd: list[str]):
    """The TrainConfig `facestudio train` builds from `cmd`: its settings flags parsed by the same
    generated parser part (trainer/config_flags.py) that the command uses; nothing is run."""
    from trainer.config import TrainConfig
    from trainer.config_flags import add_setting_arguments, given_settings

    p = argparse.ArgumentParser()
    add_setting_arguments(p)
    settings, _files_and_output = p.parse_known_args(cmd[cmd.index("train") + 1:])  # --runs-dir, --quiet
    return TrainConfig(**given_settings(settings))


def _headless_run(config, runs_dir: str, threads: int, warmup: int) -> float:
    """`facestudio train` with `config` in a fresh process (no progress bar); images/s from its metrics.jsonl."""
    from trainer.metrics_log import read_metrics

    run_root = Path(tempfile.mkdtemp(prefix="headless-", dir=runs_dir))
    cmd = headless_command(config, run_root, threads)
    wanted = config.replace(threads=threads, checkpoint_every=0)
    if command_config(cmd).replace(data="synthetic") != wanted.replace(data="synthetic"):
        raise RuntimeError("the headless command would not train the app's configuration; fix headless_command()")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"facestudio train failed: {done.stderr.strip()[-2000:]}")
    metrics = next(run_root.glob("*/metrics.jsonl"), None)
    if metrics is None:
        raise RuntimeError(f"facestudio train wrote no metrics under {run_root}: {done.stderr.strip()[-2000:]}")
    records = [r for r in read_metrics(metrics) if "step" in r and "seconds" in r]
    return _speed(records, config.batch_size, warmup)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from facestudio.data import load_dataset
    from facestudio.ui.app_launch import create_application
    from trainer import TrainConfig

    app = create_application()  # noqa: F841 (kept alive for the windows)
    threads = torch.get_num_threads()
    config = TrainConfig(image_size=args.size, nz=args.nz, ngf=args.width, ndf=args.width, batch_size=args.batch,
                         max_steps=args.steps, sample_every=args.sample_every, checkpoint_every=0, data_count=args.data_count,
                         name="bench")
    dataset = load_dataset("synthetic", args.size, args.data_count)

    # Idle lag: the same window and probe with nothing training.
    from facestudio.ui.training.training_panel import TrainingWindow

    window = TrainingWindow(runs_dir=tempfile.gettempdir())
    window.resize(1560, 960)
    window.show()
    probe = LagProbe()
    probe.start()
    probe.recording = True
    _run_loop_until(lambda: len(probe.lateness_ms) >= 200, 30)
    probe.stop()
    idle = probe.lateness_ms
    window.close()

    app_speeds, headless_speeds, lag, redraws = [], [], [], 0
    with tempfile.TemporaryDirectory(prefix="facestudio-bench-ui-") as runs:
        for _ in range(args.rounds):
            headless_speeds.append(_headless_run(config, runs, threads, args.warmup))
            result = _app_run(config, dataset, runs, threads, args.batch, args.warmup)
            app_speeds.append(result["images_per_s"])
            lag += result["lag"]
            redraws += result["redraws"]
    app_speed, headless_speed = statistics.median(app_speeds), statistics.median(headless_speeds)
    return {
        "event_loop_lag_ms": _percentiles(lag),
        "idle_lag_ms": _percentiles(idle),
        "app_images_per_s": round(app_speed, 1),
        "headless_images_per_s": round(headless_speed, 1),
        "app_over_headless": round(app_speed / headless_speed, 3),
        "runs": {"app_images_per_s": [round(v, 1) for v in app_speeds],
                 "headless_images_per_s": [round(v, 1) for v in headless_speeds]},
        "plot_redraws": redraws,
        "config": {"image_size": args.size, "nz": args.nz, "width": args.width, "batch": args.batch, "steps": args.steps,
                   "sample_every": args.sample_every, "data_count": args.data_count},
        "targets": {"lag_p99_ms": 50, "app_over_headless": 0.9},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    with tempfile.TemporaryDirectory(prefix="facestudio-bench-home-") as home:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        os.environ["FACESTUDIO_HOME"] = home  # the bench's own settings, never the person's
        os.environ["FACESTUDIO_SETTINGS_ORG"] = "FaceStudioBench"
        figures = measure(args)
    figures["torch_threads"] = torch.get_num_threads()
    figures["cpu_count"] = os.cpu_count()
    # Timings on a shared machine mean little without knowing how busy it was.
    figures["load_average_1min"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return figures
