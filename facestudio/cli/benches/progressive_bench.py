"""`facestudio bench progressive --model M`: preview and full render times of a style model.

Qt-free figures (the explorer adds its paint on top), all in one process and thread
count so they compare:

- bare_synthesis_ms: `generator.synthesis(ws)` alone on a ready tensor (the floor);
- full_ms: `Renderer.render_ws(ws)` (checks, copy, uint8 conversion included) and its
  ratio to the bare time (target <= 1.2);
- preview_ms: `Renderer.render_ws(ws, resolution=preview)`;
- move_to_preview_ms / rest_to_full_ms: through `ProgressiveScheduler` and `RenderLoop`,
  a slider move -> preview delivered, and the settle tick -> full image delivered
  (includes the 150 ms settle wait only in rest_to_full_after_move_ms).
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np
import torch


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="style model: .pkl, FaceStudio file or model id")
    p.add_argument("--samples", type=int, default=20, help="renders to time per figure (default 20)")
    p.add_argument("--preview", type=int, default=None, help="preview resolution (default: largest at or below 1/4 size)")


def _stats(seconds: list[float]) -> dict[str, float]:
    a = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {"p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "mean": round(float(a.mean()), 2), "n": int(a.size)}


def measure(bundle, samples: int = 20, preview: int | None = None) -> dict:
    """The figures above for a loaded bundle."""
    from facestudio.latent.spaces import seed_latent, to_wplus
    from facestudio.render.progressive import ProgressiveScheduler, RenderLoop, default_preview_resolution
    from facestudio.render.renderer import Renderer

    g = bundle.viewing_generator
    renderer = Renderer(bundle)
    preview = preview or default_preview_resolution(renderer.preview_resolutions, renderer.image_size)
    faces = [to_wplus(g, seed_latent(g, s), psi=0.7) for s in range(samples + 1)]
    renderer.render_ws(faces[0])  # warm-up
    bare, full, small = [], [], []
    for ws in faces[1:]:
        t = torch.from_numpy(ws[None])
        start = time.perf_counter()
        with torch.inference_mode():
            g.synthesis(t)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        renderer.render_ws(ws)
        full.append(time.perf_counter() - start)
        if preview:
            start = time.perf_counter()
            renderer.render_ws(ws, preview)
            small.append(time.perf_counter() - start)
    scheduler = ProgressiveScheduler(renderer.preview_resolutions, renderer.image_size, preview_resolution=preview)
    frames: list = []
    arrived = threading.Event()

    def deliver(frame) -> None:
        frames.append(frame)
        arrived.set()

    move_lat, rest_lat = [], []
    loop = RenderLoop(renderer, scheduler.mailbox, deliver)
    try:
        for ws in faces[1:]:
            arrived.clear()
            scheduler.move(ws)
            arrived.wait(120)
            move_lat.append(frames[-1].latency)
            while True:
                arrived.clear()
                request = scheduler.tick()
                if request is not None:
                    break
                time.sleep(0.005)
            arrived.wait(120)
            rest_lat.append(frames[-1].latency)
    finally:
        loop.close()
    bare_s, full_s = _stats(bare), _stats(full)
    return {
        "model": bundle.name, "family": bundle.family, "resolution": renderer.image_size, "preview_resolution": preview,
        "threads": torch.get_num_threads(), "loadavg": os.getloadavg()[0],
        "bare_synthesis_ms": bare_s, "full_ms": full_s,
        "full_over_bare_p50": round(full_s["p50"] / bare_s["p50"], 3),
        "preview_ms": _stats(small) if small else None,
        "move_to_preview_ms": _stats(move_lat), "rest_to_full_ms": _stats(rest_lat),
    }


def run(args: argparse.Namespace) -> dict:
    from facestudio.models import load_model

    return measure(load_model(args.model), samples=max(2, args.samples), preview=args.preview)
