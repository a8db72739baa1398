"""Benchmark: `Renderer` vs the plain eager forward, 64 px default architecture.

    python tests/bench/bench_render.py [--rounds 300] [--json]

For batch 1 (`Renderer.render`) and batch 16 (`Renderer.render_batch`), each round times
the FaceStudio renderer and the plain eager forward (`with torch.no_grad():
G.eval()(z)` + conversion to uint8 (N, H, W, 3)) on the same fresh latents, alternating
which goes first, in one process and at the same thread count. Reports p50/p95 in ms and
the ratio renderer / eager (target: p95 ratio <= 0.9).

On a shared machine other processes inflate both sides alike (that is why the runs
alternate); compare ratios, and prefer a quiet machine for absolute figures.
`--cpu-time` runs on 1 thread and times the CPU time of the forward instead of the wall
clock: figures that stay put however busy the machine is.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from facestudio.models import ModelConfig, new_bundle
from facestudio.render.grid import tensor_to_uint8
from facestudio.render.renderer import Renderer


def _stats(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000.0
    return {"p50": round(float(np.percentile(ms, 50)), 3), "p95": round(float(np.percentile(ms, 95)), 3), "mean": round(float(ms.mean()), 3)}


CLOCK = time.perf_counter


def measure(batch: int, rounds: int, seed: int = 0) -> dict:
    config = ModelConfig()  # nz=100, ngf=64, 64 px: the DCGAN-tutorial network
    bundle = new_bundle(config, seed=seed)
    generator = bundle.viewing_generator
    renderer = Renderer(bundle)
    rng = np.random.default_rng(seed)

    def facestudio(z: np.ndarray) -> np.ndarray:
        return renderer.render(z[0]) if batch == 1 else renderer.render_batch(z)

    def eager(z: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return tensor_to_uint8(generator.eval()(torch.from_numpy(z)))

    for _ in range(10 if batch == 1 else 3):  # warm-up
        z = rng.standard_normal((batch, config.nz)).astype(np.float32)
        facestudio(z), eager(z)
    times: dict[str, list[float]] = {"renderer": [], "eager": []}
    fns = {"renderer": facestudio, "eager": eager}
    for i in range(rounds):
        z = rng.standard_normal((batch, config.nz)).astype(np.float32)
        for name in ("renderer", "eager") if i % 2 == 0 else ("eager", "renderer"):
            t0 = CLOCK()
            fns[name](z)
            times[name].append(CLOCK() - t0)
    r, e = _stats(times["renderer"]), _stats(times["eager"])
    return {
        "renderer_ms": r,
        "eager_ms": e,
        "ratio_p50": round(r["p50"] / e["p50"], 3),
        "ratio_p95": round(r["p95"] / e["p95"], 3),
        "rounds": rounds,
        "inference_path": renderer.inference_path,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="timed rounds at batch 1 (batch 16 uses a tenth, at least 20)")
    parser.add_argument("--cpu-time", action="store_true", help="1 thread, CPU time instead of wall time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    global CLOCK
    if args.cpu_time:
        torch.set_num_threads(1)
        CLOCK = time.thread_time
    figures = {
        "clock": "cpu" if args.cpu_time else "wall",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "batch_1": measure(1, args.rounds),
        "batch_16": measure(16, max(20, args.rounds // 10)),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"threads {figures['threads']}, {figures['clock']} clock, torch {figures['torch']}")
    for key in ("batch_1", "batch_16"):
        f = figures[key]
        print(f"{key}: renderer p50 {f['renderer_ms']['p50']:.2f} p95 {f['renderer_ms']['p95']:.2f} ms | "
              f"eager p50 {f['eager_ms']['p50']:.2f} p95 {f['eager_ms']['p95']:.2f} ms | "
              f"ratio p50 {f['ratio_p50']:.2f} p95 {f['ratio_p95']:.2f} ({f['inference_path']}, {f['rounds']} rounds)")


if __name__ == "__main__":
    main()
