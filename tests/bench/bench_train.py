"""Benchmark: training images/s, FaceStudio's Trainer vs the PyTorch DCGAN tutorial loop.

Run:  python tests/bench/bench_train.py [--steps 10] [--rounds 2] [--threads N] [--json]
(the same as `facestudio bench train`). Writes 2,000 synthetic faces as PNG files to a
temporary folder, then trains the tutorial network (64 px, batch 64) with both loops in
alternating rounds at equal thread counts; prints images/s of both, the ratio and each
as a share of the measured float32 matmul peak. Takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import json

from facestudio.cli.benches import train_bench


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    train_bench.add_arguments(ap)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    figures = train_bench.run(args)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
