"""`facestudio bench morph`: time to render a morph strip (the morph studio's preview).

Times a 60-frame slerp path through three seeds at the model's size, rendered by
`Renderer.render_batch` (batches of 16), from latents to uint8 frames, against the same
strip drawn by the plain eager generator (`torch.no_grad`, eval mode) in the same
batches, runs alternating in one process. Target: about 200 ms on 2 cores for 64 px.
Uses the built-in model, or an untrained network of the default architecture when
none is installed (the time depends on the architecture, not on the weights).
`--cpu-time` runs on 1 thread and reports CPU time, which other busy processes on a
shared machine do not inflate.
"""

from __future__ import annotations

import argparse
import time


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="model to time instead of the default")
    p.add_argument("--frames", type=int, default=60, help="frames in the strip (default 60)")
    p.add_argument("--repeats", type=int, default=9, help="timed strips per method (default 9)")
    p.add_argument("--cpu-time", action="store_true", help="1 thread, CPU time instead of wall time (steady on a busy machine)")


def _percentile_ms(values: list[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(np.asarray(values) * 1000.0, q)), 2)


def run(args: argparse.Namespace) -> dict:
    import numpy as np
    import torch

    from facestudio.errors import ConfigError, ModelFileError
    from facestudio.latent.interpolation import keyframe_path
    from facestudio.latent.sampling import latent_for_seed
    from facestudio.models import ModelConfig, load_model, new_bundle
    from facestudio.render.grid import tensor_to_uint8
    from facestudio.render.renderer import MAX_BATCH, Renderer

    if args.frames < 2 or args.repeats < 1:
        raise ConfigError("--frames must be at least 2 and --repeats at least 1.")
    clock = time.perf_counter
    if args.cpu_time:
        torch.set_num_threads(1)
        clock = time.thread_time
    try:
        bundle = load_model(args.model)
        model = bundle.name
    except ModelFileError:
        if args.model is not None:
            raise
        bundle, model = new_bundle(ModelConfig(), seed=0), "untrained default architecture"
    nz = bundle.config.nz
    keys = [latent_for_seed(s, nz) for s in (1, 2, 3)]
    renderer = Renderer(bundle)
    generator = bundle.viewing_generator.eval()

    def facestudio_strip() -> np.ndarray:
        return renderer.render_batch(keyframe_path(keys, total_frames=args.frames))

    def eager_strip() -> np.ndarray:
        z = torch.from_numpy(keyframe_path(keys, total_frames=args.frames))
        with torch.no_grad():
            return np.concatenate([tensor_to_uint8(generator(part)) for part in z.split(MAX_BATCH)])

    methods = {"facestudio": facestudio_strip, "eager": eager_strip}
    for fn in methods.values():  # warm-up: first calls allocate and pick kernels
        fn()
    times: dict[str, list[float]] = {name: [] for name in methods}
    for i in range(args.repeats):
        order = list(methods) if i % 2 == 0 else list(methods)[::-1]
        for name in order:
            t0 = clock()
            methods[name]()
            times[name].append(clock() - t0)
    p50 = _percentile_ms(times["facestudio"], 50)
    eager_p50 = _percentile_ms(times["eager"], 50)
    return {
        "strip_ms": {"p50": p50, "p95": _percentile_ms(times["facestudio"], 95), "min": _percentile_ms(times["facestudio"], 0)},
        "eager_strip_ms": {"p50": eager_p50, "p95": _percentile_ms(times["eager"], 95), "min": _percentile_ms(times["eager"], 0)},
        "speedup_p50": round(eager_p50 / p50, 3) if p50 > 0 else None,
        "per_frame_ms": round(p50 / args.frames, 3),
        "frames": args.frames,
        "batch": MAX_BATCH,
        "image_size": bundle.config.image_size,
        "threads": torch.get_num_threads(),
        "clock": "cpu" if args.cpu_time else "wall",
        "inference_path": renderer.inference_path,
        "model": model,
    }
