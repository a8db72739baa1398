"""`facestudio bench style [--model ID_OR_PATH] [--json]`: StyleGAN synthesis speed on the CPU.

Times `G.synthesis(ws)` per image for networks of the published shapes, built natively
with random weights (speed depends on the shape, not the weights): StyleGAN2-ADA
`paper256` at 256 px and StyleGAN2 config-f at 1024 px, batch 1 and 4, on 2 threads
(restored afterwards). Reports achieved GFLOP/s (convolution and matmul FLOPs counted
by torch's FLOP counter) against a measured float32 matmul peak, and, in the same
process with the same weights, the time of the reference formulation (per-sample
modulated weights in grouped convolutions, FIR filters as full 2-D kernels on
zero-inserted images: how the published code computes on a CPU), runs alternating.
Target: at least 1.5x faster than the official CPU path measured on this machine
(1.8-2.0 s at 256 px, 9.1-9.4 s at 1024 px per image). On a shared machine read the
ratio, and the load average printed with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

SIZES = {"256": "paper256", "1024": "config-f"}
OFFICIAL_CPU_S = {"256": (1.8, 2.0), "1024": (9.1, 9.4)}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="time this model (file or id) instead of the published shapes")
    p.add_argument("--sizes", default="256,1024", help="which published shapes to time (default 256,1024)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per setting (default 3; the minimum is reported too)")
    p.add_argument("--no-reference", action="store_true", help="skip the slow reference formulation")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")


def _matmul_peak_gflops(torch, seconds: float = 1.5) -> float:
    """Best float32 GEMM rate over a few 1024^3 products: the machine's practical peak."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    best = float("inf")
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * 1024**3 / best / 1e9


def _flops_per_image(torch, g, ws) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        g.synthesis(ws[:1])
    return float(counter.get_total_flops())


def _time(torch, fn, repeats: int) -> list[tuple[float, float]]:
    """(wall, process CPU) seconds of each run; CPU time is what other busy processes do not inflate."""
    with torch.inference_mode():
        fn()  # warm-up: allocator, oneDNN primitive creation for these shapes
        fn()
        out = []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            fn()
            out.append((time.perf_counter() - t, time.process_time() - c))
    return out


def _summary(times: list[tuple[float, float]], batch: int, flops: float, peak: float) -> dict:
    per = [w / batch for w, _ in times]
    cpu = min(c for _, c in times) / batch
    best, median = min(per), statistics.median(per)
    return {"s_per_image_min": round(best, 4), "s_per_image_median": round(median, 4), "cpu_s_per_image": round(cpu, 4),
            "gflops": round(flops / best / 1e9, 1), "fraction_of_matmul_peak": round(flops / best / 1e9 / peak, 3)}


def _bench_generator(torch, g, args: argparse.Namespace, peak: float, label: str) -> dict:
    from facestudio.models.stylegan.ops import reference_ops

    gen = torch.Generator().manual_seed(0)
    z = torch.randn(4, g.z_dim, generator=gen)
    c = torch.zeros(4, g.c_dim) if g.c_dim else None
    if c is not None:
        c[:, 0] = 1
    with torch.inference_mode():
        ws = g.mapping(z, c)
    try:
        flops = _flops_per_image(torch, g, ws)
    except Exception:  # a generator whose ops the counter does not know
        flops = float("nan")
    result: dict = {"network": label, "resolution": g.img_resolution, "gflop_per_image": round(flops / 1e9, 2)}
    for batch in (1, 4):
        result[f"batch_{batch}"] = _summary(_time(torch, lambda: g.synthesis(ws[:batch]), args.repeats), batch, flops, peak)
    if not args.no_reference and hasattr(g, "synthesis"):
        fast, ref = [], []
        for _ in range(max(1, min(args.repeats, 2))):  # alternate, so both see the same machine load
            fast += _time(torch, lambda: g.synthesis(ws[:1]), 1)
            with reference_ops():
                ref += _time(torch, lambda: g.synthesis(ws[:1]), 1)
        result["reference_batch_1"] = _summary(ref, 1, flops, peak)
        result["speedup_vs_reference"] = round(min(w for w, _ in ref) / min(w for w, _ in fast), 2)
        result["cpu_time_speedup_vs_reference"] = round(min(c for _, c in ref) / min(c for _, c in fast), 2)
    return result


def run(args: argparse.Namespace) -> dict:
    import torch

    from facestudio.errors import ConfigError

    if args.repeats < 1 or args.threads < 1:
        raise ConfigError("--repeats and --threads must be at least 1.")
    from facestudio.models.mobilestylegan.convert import is_model_id

    if is_model_id(args.model):  # MobileStyleGAN has its own side-by-side bench against OpenVINO
        from facestudio.cli.benches.mobilestylegan_bench import run as run_mobilestylegan

        return run_mobilestylegan(args)
    before = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        peak = _matmul_peak_gflops(torch)
        figures: dict = {"threads": torch.get_num_threads(), "load_average_before": os.getloadavg()[0],
                         "matmul_peak_gflops": round(peak, 1)}
        if args.model is not None:
            from facestudio.models import load_model

            bundle = load_model(args.model)
            figures["model"] = _bench_generator(torch, bundle.viewing_generator, args, peak, bundle.name)
        else:
            from facestudio.models.stylegan.presets import preset_bundle

            for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
                if size not in SIZES:
                    raise ConfigError(f"--sizes takes {', '.join(SIZES)}; not {size!r}.")
                g = preset_bundle(SIZES[size]).viewing_generator
                entry = _bench_generator(torch, g, args, peak, SIZES[size])
                lo, hi = OFFICIAL_CPU_S[size]
                entry["official_cpu_s_per_image"] = [lo, hi]
                entry["speedup_vs_official_measurement"] = round((lo + hi) / 2 / entry["batch_1"]["s_per_image_min"], 2)
                figures[size] = entry
                del g
        figures["load_average_after"] = os.getloadavg()[0]
        return figures
    finally:
        torch.set_num_threads(before)
