"""`facestudio bench ui` runs end to end on a tiny config and reports what the issue asks for.

Speed is never asserted (the suite runs on shared machines); only that the figures exist,
are positive, and that the headless side is the real `facestudio train` command training
exactly the app's configuration.
"""

from __future__ import annotations

import argparse

import pytest

from facestudio.ui.benches import training_bench
from trainer import TrainConfig


def test_headless_command_trains_the_same_configuration(tmp_path):
    config = TrainConfig(image_size=32, nz=16, ngf=8, ndf=16, batch_size=8, max_steps=30, sample_every=5,
                         checkpoint_every=0, data_count=64, name="bench", loss="hinge", d_norm="spectral",
                         lr_g=1e-4, lr_d=4e-4, ema_decay=0.99, diffaugment="on", seed=3)
    cmd = training_bench.headless_command(config, tmp_path, threads=2)
    assert cmd[1:4] == ["-m", "facestudio", "train"]
    assert training_bench.command_config(cmd) == config.replace(threads=2)


@pytest.mark.slow
def test_bench_ui_reports_lag_and_both_speeds(qapp, tmp_path, monkeypatch):
    monkeypatch.setattr(training_bench.tempfile, "tempdir", str(tmp_path))
    commands = []
    real_run = training_bench.subprocess.run
    monkeypatch.setattr(training_bench.subprocess, "run", lambda cmd, **kw: commands.append(cmd) or real_run(cmd, **kw))
    p = argparse.ArgumentParser()
    training_bench.add_arguments(p)
    args = p.parse_args(["--size", "32", "--width", "8", "--nz", "16", "--batch", "8", "--steps", "16",
                         "--warmup", "2", "--rounds", "1", "--sample-every", "5", "--data-count", "64"])
    figures = training_bench.measure(args)
    assert [c[1:4] for c in commands] == [["-m", "facestudio", "train"]]  # one headless run per round, the real command
    for key in ("p50", "p99"):
        assert figures["event_loop_lag_ms"][key] >= 0
    assert figures["event_loop_lag_ms"]["n"] > 0
    assert figures["app_images_per_s"] > 0 and figures["headless_images_per_s"] > 0
    assert abs(figures["app_over_headless"] - figures["app_images_per_s"] / figures["headless_images_per_s"]) < 0.01
