"""`facestudio train` as a process: killed mid-checkpoint, stopped with Ctrl-C, two DDP processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facestudio.data import load_dataset
from facestudio.models import load_model
from facestudio.models.checkpoint import load_safetensors_model
from trainer import TrainConfig, Trainer, read_metrics, read_run_config

TINY_FLAGS = ["--data-count", "64", "--size", "32", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "8",
              "--sample-count", "16", "--threads", "1", "--quiet"]
TINY = dict(data_count=64, image_size=32, nz=16, ngf=8, ndf=8, batch_size=8, sample_count=16, threads=1)


def _start(args: list[str], prelude: str = "") -> subprocess.Popen:
    code = prelude + "\nimport sys\nfrom facestudio.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.Popen([sys.executable, "-c", code, "train", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the training process ended early ({proc.returncode}): {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the training process")
        time.sleep(0.05)


def _only_run(runs: Path) -> Path:
    (run,) = list(runs.iterdir())
    return run


def _assert_every_file_is_sound(run: Path) -> list[Path]:
    """Open every file of a run folder the way its readers do; returns the temporary files found."""
    temporaries = []
    for path in sorted(p for p in run.rglob("*") if p.is_file()):
        name = path.name
        if name.startswith(".") and name.endswith(".tmp"):
            temporaries.append(path)  # an unpublished atomic write: never read, removed on resume
        elif name.endswith(".safetensors"):
            load_safetensors_model(path)
        elif name == "config.json":
            read_run_config(run)
        elif name == "metrics.jsonl":
            text = path.read_text(encoding="utf-8")
            assert text.endswith("\n") and all(isinstance(json.loads(line), dict) for line in text.splitlines()), path
        elif name.endswith(".png"):
            with Image.open(path) as im:
                im.load()
        elif name == "fixed_z.npy":
            assert np.load(path, allow_pickle=False).dtype == np.float32
        elif name == "log.txt":
            path.read_text(encoding="utf-8")
        else:
            raise AssertionError(f"unexpected file {path}")
    return temporaries


def test_killed_while_writing_a_checkpoint_resumes_from_the_last_good_one(tmp_path):
    marker = tmp_path / "mid-write"
    # Test hook (this subprocess only): the second checkpoint's write puts half of its
    # bytes on disk in the temporary file, says how many bytes there were, and hangs there
    # until the test kills the process with SIGKILL.
    prelude = textwrap.dedent(f"""
        import contextlib, os, time
        import facestudio.atomic_file as af
        _open, _seen = af.atomic_open, []

        class _Torn:
            def __init__(self, fh):
                self.fh = fh
            def write(self, data):
                self.fh.write(data[: len(data) // 2])
                self.fh.flush()
                os.fsync(self.fh.fileno())
                with open({str(marker)!r}, "w") as m:
                    m.write(str(len(data)))
                time.sleep(600)
            def __getattr__(self, name):
                return getattr(self.fh, name)

        @contextlib.contextmanager
        def _atomic_open(path, mode="wb"):
            with _open(path, mode) as fh:
                if os.path.basename(str(path)).startswith("ckpt_"):
                    _seen.append(path)
                    if len(_seen) == 2:
                        yield _Torn(fh)
                        return
                yield fh

        af.atomic_open = _atomic_open
    """)
    proc = _start([*TINY_FLAGS, "--runs-dir", str(tmp_path / "runs"), "--max-steps", "20", "--checkpoint-every", "6",
                   "--sample-every", "4"], prelude)
    _wait_for(lambda: marker.exists() and marker.read_text(), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    run = _only_run(tmp_path / "runs")
    ckpts = run / "checkpoints"
    (torn,) = _assert_every_file_is_sound(run)
    assert torn.parent == ckpts and torn.name.startswith(".ckpt_0000012.safetensors.")
    assert 0 < torn.stat().st_size == int(marker.read_text()) // 2  # killed in the middle of the file
    assert sorted(p.name for p in ckpts.glob("*.safetensors")) == ["ckpt_0000006.safetensors", "latest_good.safetensors"]
    assert load_model(run).source.name == "latest_good.safetensors"
    assert [r["step"] for r in read_metrics(run / "metrics.jsonl")] == list(range(1, 13))

    resumed = Trainer.resume(run)
    assert resumed.progress.step == 6
    result = resumed.run()
    assert result.step == 20 and _assert_every_file_is_sound(run) == []
    records = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(1, 21))
    assert load_model(run).source == run / "model.safetensors"
    # ... and it is the run that was never interrupted.
    whole = Trainer(TrainConfig(**TINY, max_steps=20, checkpoint_every=6, sample_every=4), runs_dir=tmp_path / "whole").run()
    for a, b in zip(read_metrics(whole.run_dir / "metrics.jsonl"), records, strict=True):
        assert (a["loss_d"], a["loss_g"]) == pytest.approx((b["loss_d"], b["loss_g"]), abs=1e-5)


def test_ctrl_c_stops_after_the_step_and_saves(tmp_path):
    load_dataset("synthetic", 32, n=64)  # render the faces here, so the subprocess finds them cached
    proc = _start([*TINY_FLAGS, "--runs-dir", str(tmp_path), "--checkpoint-every", "5", "--sample-every", "0"])
    _wait_for(lambda: any(tmp_path.glob("*/checkpoints/ckpt_0000005.safetensors")), proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Stopping after this step and saving a checkpoint" in err and "(stopped)" in err
    run = _only_run(tmp_path)
    last = read_metrics(run / "metrics.jsonl")[-1]["step"]
    assert (run / "checkpoints" / f"ckpt_{last:07d}.safetensors").is_file() and (run / "model.safetensors").is_file()
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["fixed_z.npy", f"step_{last:07d}.png"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(args: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), "-m", "facestudio", "train", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def test_two_processes_stay_in_sync_and_resume(tmp_path):
    load_dataset("synthetic", 32, n=64)
    done = _torchrun([*TINY_FLAGS, "--runs-dir", str(tmp_path), "--max-steps", "6", "--checkpoint-every", "3", "--sample-every", "3"])
    assert done.returncode == 0, done.stderr
    run = _only_run(tmp_path)  # only rank 0 made a run folder
    again = _torchrun(["--resume", str(run), "--max-steps", "9", "--threads", "1", "--quiet"])
    assert again.returncode == 0, again.stderr
    records = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(1, 10))
    assert [r.get("ddp_in_sync") for r in records if r["step"] % 3 == 0] == [True, True, True]
    assert records[-1]["epoch"] == pytest.approx(9 * 16 / 64)  # each step took 2 x 8 images
    _, _, meta = load_safetensors_model(run / "checkpoints" / "ckpt_0000009.safetensors")
    assert '"world_size": 2' in meta["train_state"] and '"images_seen": 144' in meta["train_state"]
    assert "resumed from ckpt_0000006.safetensors at step 6" in (run / "log.txt").read_text()
    assert "batch 8 x 2" in (run / "log.txt").read_text()
