"""A training run whose process is killed still opens and resumes (issue 12: a crash lost the model).

Real `facestudio train` processes are SIGKILLed: once mid-run, once inside the final
export (the model file half written). Each time the run folder must open with
`load_model(RUN_DIR)` and in the explorer from its latest good checkpoint, and
`facestudio train --resume` must finish it and write the model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from safetensors import safe_open

from facestudio.models import load_model
from facestudio.models.run_folder import model_file_of_run as resolve_run_dir

pytestmark = pytest.mark.slow

TINY = ["--data", "synthetic", "--data-count", "64", "--size", "32", "--nz", "8", "--ngf", "8", "--ndf", "8",
        "--batch", "8", "--sample-every", "0", "--checkpoint-every", "4", "--threads", "1", "--quiet"]


def _train(*args: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen([sys.executable, "-m", "facestudio", "train", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def _checkpoint_step(path: Path) -> int:
    with safe_open(str(path), "pt") as f:
        return int(json.loads(f.metadata()["train_state"])["step"])


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 240) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"training ended early: {proc.stdout.read()}"
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _opens_everywhere(run: Path, qtbot) -> int:
    """load_model(run) and the explorer open the latest good checkpoint; returns its step."""
    from facestudio.ui.explorer.explorer_window import ExplorerWindow

    good = run / "checkpoints" / "latest_good.safetensors"
    assert resolve_run_dir(run) == good
    bundle = load_model(run)
    assert bundle.generator is not None
    w = ExplorerWindow(run, gallery_folder=run.parent / "gallery")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.face_view.image() is not None, timeout=20000)
    assert w.bundle.config == bundle.config and w.face_view.image().shape[0] == 32
    w.close()
    return _checkpoint_step(good)


def _resume_to_the_end(run: Path, max_steps: int | None = None) -> str:
    args = ["--resume", str(run), "--quiet"] + (["--max-steps", str(max_steps)] if max_steps else [])
    proc = _train(*args)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert (run / "model.safetensors").is_file()
    assert resolve_run_dir(run) == run / "model.safetensors"
    return out


def test_run_killed_mid_training_opens_and_resumes(tmp_path, qtbot):
    proc = _train(*TINY, "--max-steps", "100000", "--runs-dir", str(tmp_path), "--name", "killed")
    try:
        good = lambda: list(tmp_path.glob("*-killed/checkpoints/latest_good.safetensors"))  # noqa: E731
        _wait_for(lambda: good() and _checkpoint_step(good()[0]) >= 8, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    run = next(tmp_path.glob("*-killed"))
    assert not (run / "model.safetensors").exists()
    step = _opens_everywhere(run, qtbot)
    assert step >= 8
    _resume_to_the_end(run, max_steps=step + 4)
    assert load_model(run).generator is not None


def test_run_killed_during_final_export_opens_and_resumes(tmp_path, qtbot):
    # The child trains to its budget and is SIGKILLed half-way through writing model.safetensors.
    child = textwrap.dedent(f"""
        import os, signal, sys
        import trainer.gan_pair as t
        from facestudio.atomic_file import atomic_open
        real = t.save_model
        def dying_save(bundle, path, **kw):
            if os.path.basename(path) != "model.safetensors":
                return real(bundle, path, **kw)
            real(bundle, str(path) + ".full", **kw)
            data = open(str(path) + ".full", "rb").read()
            os.remove(str(path) + ".full")
            with atomic_open(path) as fh:
                fh.write(data[: len(data) // 2])
                fh.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        t.save_model = dying_save
        from facestudio.cli import main
        sys.exit(main(["train", *{TINY!r}, "--max-steps", "10", "--runs-dir", {str(tmp_path)!r}, "--name", "export"]))
    """)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    run = next(tmp_path.glob("*-export"))
    assert not (run / "model.safetensors").exists()
    assert list(run.glob(".model.safetensors.*.tmp"))  # the half-written export the kill left behind
    assert _opens_everywhere(run, qtbot) == 10
    _resume_to_the_end(run)  # to the saved budget: nothing left to train, the model is written
    assert load_model(run).generator is not None


def test_export_older_than_latest_good_loses_to_it(tmp_path):
    """A finished run resumed and then killed: its old export must not hide the newer checkpoint."""
    run = tmp_path / "00000-r"
    (run / "checkpoints").mkdir(parents=True)
    exported, good = run / "model.safetensors", run / "checkpoints" / "latest_good.safetensors"
    exported.write_bytes(b"old")
    good.write_bytes(b"new")
    os.utime(exported, ns=(1_000_000_000, 1_000_000_000))
    assert resolve_run_dir(run) == good
    os.utime(exported, ns=(time.time_ns() + 10**9,) * 2)
    assert resolve_run_dir(run) == exported
