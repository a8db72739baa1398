"""`facestudio bench ui` runs end to end on a tiny config and reports what the issue asks for.

Speed is never asserted (the suite runs on shared machines); only that the figures exist,
are positive, and come from the real app and the real `facestudio train` command.
"""

from __future__ import annotations

import argparse

from facestudio.ui import training_bench


def test_bench_ui_reports_lag_and_both_speeds(qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(training_bench.tempfile, "tempdir", str(tmp_path))
    p = argparse.ArgumentParser()
    training_bench.add_arguments(p)
    args = p.parse_args(["--size", "32", "--width", "8", "--nz", "16", "--batch", "8", "--steps", "16",
                         "--warmup", "2", "--rounds", "1", "--sample-every", "5", "--data-count", "64"])
    figures = training_bench.measure(args)
    for key in ("p50", "p99"):
        assert figures["event_loop_lag_ms"][key] >= 0
    assert figures["event_loop_lag_ms"]["n"] > 0
    assert figures["app_images_per_s"] > 0 and figures["headless_images_per_s"] > 0
    assert abs(figures["app_over_headless"] - figures["app_images_per_s"] / figures["headless_images_per_s"]) < 0.01
    assert len(figures["runs"]["headless_images_per_s"]) == 1
