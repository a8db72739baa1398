"""`facestudio bench train`: training images/s of FaceStudio's Trainer vs the DCGAN tutorial's loop.

Both train the tutorial's network (64 px, nz=100, ngf=ndf=64, batch 64, Adam 2e-4/0.5,
BCE) on the same folder of PNG faces with the same number of threads, in the same
process, in alternating rounds (so a busy machine slows both alike). The reference decodes
the folder with Pillow in two DataLoader workers on every epoch, as the tutorial does;
FaceStudio decodes it once with `load_dataset` and trains from uint8 in memory, with EMA
and DiffAugment off so the maths is the same. Reported: images/s of both, their ratio
(and each round's), each as a share of the machine's float32 matmul peak (2.48 GFLOP per
training image), and the training process's CPU milliseconds per image, a figure that a
busy machine moves far less than images/s.

The reference loop ships beside this bench (facestudio/cli/benches/reference_dcgan.py).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from facestudio.atomic_file import atomic_write_bytes

GFLOP_PER_IMAGE = 2.48  # forward + backward of G and D per training image, tutorial network at 64 px


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, default=10, help="timed steps per loop and round (default 10)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds; medians are reported (default 2)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before each timing (default 3)")
    p.add_argument("--images", type=int, default=2000, help="synthetic faces written to the temporary folder (default 2000)")
    p.add_argument("--threads", type=int, default=None, help="torch threads for both loops (default: torch's choice)")
    p.add_argument("--folder", help="use this folder of images instead of synthetic faces")


def reference_module():
    """A fresh copy of the DCGAN tutorial's loop (reference_dcgan.py, shipped beside this bench).

    A private copy per bench: the quality bench wraps its Generator to capture the net, and
    that must not leak into another bench in the same process.
    """
    spec = importlib.util.find_spec("facestudio.cli.benches.reference_dcgan")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_face_folder(folder: Path, n: int, size: int = 64) -> None:
    """n built-in synthetic faces as PNG files (the kind of folder a person would train on)."""
    from facestudio.data.synthetic_faces import synthetic_faces

    images, _ = synthetic_faces(n, size=size, seed=0)
    for i, img in enumerate(images.permute(0, 2, 3, 1).numpy()):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="PNG")
        atomic_write_bytes(folder / f"face_{i:05d}.png", buf.getvalue())


def bench_face_folder(given: str | None, tmp_path: Path, n: int) -> Path:
    """The folder a bench trains on: the person's `--folder`, else `n` faces written under `tmp_path`."""
    if given:
        return Path(given)
    folder = tmp_path / "faces"
    folder.mkdir()
    write_face_folder(folder, n)
    return folder


@contextlib.contextmanager
def cache_in(folder: Path):
    """Keep the decoded copy of a throw-away folder out of the person's cache."""
    old = os.environ.get("FACESTUDIO_CACHE")
    os.environ["FACESTUDIO_CACHE"] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("FACESTUDIO_CACHE", None)
        else:
            os.environ["FACESTUDIO_CACHE"] = old


def train_facestudio(data, folder: Path, steps: int, warmup: int, threads: int) -> dict[str, Any]:
    """The Trainer on the tutorial's settings; images/s over `steps` after `warmup` steps."""
    from trainer.config import TrainConfig
    from trainer.trainer import Trainer

    config = TrainConfig(
        data=str(folder), image_size=64, nz=100, ngf=64, ndf=64, batch_size=64, loss="bce", ema_decay=0.0,
        diffaugment="off", sample_every=0, checkpoint_every=0, max_steps=warmup + steps, seed=999, threads=threads,
    )
    trainer = Trainer(config, data)
    marks: dict[int, tuple[float, float]] = {}
    trainer.add_callback(
        "metrics",
        lambda r: r["step"] in (warmup, warmup + steps) and marks.__setitem__(r["step"], (time.perf_counter(), time.process_time())),
    )
    trainer.run()
    seconds = marks[warmup + steps][0] - marks[warmup][0]
    cpu_seconds = marks[warmup + steps][1] - marks[warmup][1]
    return {"images_per_s": steps * 64 / seconds, "seconds": seconds, "cpu_seconds": cpu_seconds, "steps": steps}


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best float32 matmul rate of this machine at the current thread count (GFLOP/s)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeats):
            torch.mm(a, b)
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - t0) / 1e9)
    return best


def run(args: argparse.Namespace) -> dict[str, Any]:
    from facestudio.data import load_dataset

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    reference = reference_module()
    with tempfile.TemporaryDirectory(prefix="facestudio-bench-train-") as tmp:
        tmp_path = Path(tmp)
        folder = bench_face_folder(args.folder, tmp_path, args.images)
        t0 = time.perf_counter()
        with cache_in(tmp_path / "cache"):
            data = load_dataset(str(folder), 64)
        load_seconds = time.perf_counter() - t0
        rounds: list[dict[str, float]] = []
        cpu_rounds: list[dict[str, float]] = []
        for r in range(args.rounds):
            ours_first = r % 2 == 1  # ABBA order: drift in machine load hits both alike
            runs = {}
            for name in (("facestudio", "reference") if ours_first else ("reference", "facestudio")):
                torch.set_num_threads(threads)
                if name == "reference":
                    runs[name] = reference.train_reference(folder, args.steps, args.warmup, workers=2)
                else:
                    runs[name] = train_facestudio(data, folder, args.steps, args.warmup, threads)
            rounds.append({k: round(v["images_per_s"], 2) for k, v in runs.items()})
            cpu_rounds.append({k: v["cpu_seconds"] / (args.steps * 64) for k, v in runs.items()})
    peak = matmul_peak_gflops()
    ref = statistics.median(r["reference"] for r in rounds)
    ours = statistics.median(r["facestudio"] for r in rounds)
    ref_cpu = statistics.median(r["reference"] for r in cpu_rounds)
    ours_cpu = statistics.median(r["facestudio"] for r in cpu_rounds)
    return {
        "threads": threads,
        "images": len(data),
        "steps_per_round": args.steps,
        "rounds": rounds,
        "reference_images_per_s": round(ref, 2),
        "facestudio_images_per_s": round(ours, 2),
        "ratio": round(ours / ref, 3),
        "round_ratios": [round(r["facestudio"] / r["reference"], 3) for r in rounds],
        # CPU time of the training process per image: barely moved by other programs on a
        # busy machine, unlike images/s. The reference's decoding workers are not counted,
        # so this ratio understates FaceStudio's edge.
        "reference_cpu_ms_per_image": round(ref_cpu * 1e3, 2),
        "facestudio_cpu_ms_per_image": round(ours_cpu * 1e3, 2),
        "cpu_ratio": round(ref_cpu / ours_cpu, 3),
        "matmul_peak_gflops": round(peak, 1),
        "gflop_per_image": GFLOP_PER_IMAGE,
        "reference_share_of_peak": round(ref * GFLOP_PER_IMAGE / peak, 3),
        "facestudio_share_of_peak": round(ours * GFLOP_PER_IMAGE / peak, 3),
        "facestudio_load_seconds": round(load_seconds, 2),
    }
