"""Benchmark: preparing the built-in synthetic data set (10,000 faces at 64 px), cold and warm.

Run:  python tests/bench/bench_data.py [--n 10000] [--size 64] [--workers 2]
Cold renders into an empty temporary cache (pool of worker processes, then an atomic
cache write); warm reads that cache back. Prints one line per figure and, with --json,
a JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="facestudio-bench-") as cache:
        os.environ["FACESTUDIO_CACHE"] = cache
        from facestudio.data.synthetic_faces import render_face, synthetic_faces

        t = time.perf_counter()
        for s in range(50):
            render_face(s, args.size)
        per_face_ms = (time.perf_counter() - t) / 50 * 1000

        t = time.perf_counter()
        images, labels = synthetic_faces(args.n, args.size, args.seed, workers=args.workers)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        images2, _ = synthetic_faces(args.n, args.size, args.seed, workers=args.workers)
        warm = time.perf_counter() - t
        assert images.shape == images2.shape == (args.n, 3, args.size, args.size)
        cache_mb = sum(f.stat().st_size for f in __import__("pathlib").Path(cache).rglob("*.npz")) / 2**20

    out = {
        "n": args.n, "size": args.size, "workers": args.workers or min(2, os.cpu_count() or 1),
        "render_ms_per_face_one_process": round(per_face_ms, 2),
        "cold_s": round(cold, 2), "warm_s": round(warm, 3), "cache_mb": round(cache_mb, 1),
        "faces_per_s_cold": round(args.n / cold, 1),
    }
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:32s} {v}")


if __name__ == "__main__":
    main()
