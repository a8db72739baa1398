"""Benchmark: Frechet distance at equal CPU time, FaceStudio's Trainer vs the PyTorch DCGAN tutorial loop.

Run:  nice -n 5 python tests/bench/bench_quality.py [--cpu-minutes 10] [--n 5000] [--save-dir DIR] [--json]
(the same as `facestudio bench quality`). Writes 10,000 synthetic faces as PNG files to a
temporary folder, trains the tutorial loop (facestudio/cli/benches/reference_dcgan.py, unmodified)
for as many iterations as fill the CPU budget, gives FaceStudio's Trainer exactly the
CPU time the tutorial used, and scores both generators with `facestudio.metrics.evaluate`
(n faces each). Prints both Frechet distances and their ratio (target <= 0.5). Settings,
budget and step counts are part of the output; see facestudio/cli/benches/quality_bench.py for the
fairness rules. Long: about 2 x the budget in CPU time plus ~5 CPU-minutes of scoring.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from facestudio.atomic_file import atomic_write_text
    from facestudio.cli.benches import quality_bench

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quality_bench.add_arguments(ap)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    figures = quality_bench.run(args)
    text = json.dumps(figures, indent=2)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    if args.json:
        print(text)
    else:
        ref, ours = figures["reference"], figures["facestudio"]
        print(f"budget: {figures['equal_cpu_seconds'] / 60:.1f} CPU-minutes each (asked {figures['requested_cpu_minutes']:g}), "
              f"{figures['threads']} threads, "
              f"{figures['data']['images']} training images; FD over {figures['fd_n']} faces")
        print(f"reference loop : {ref['steps']} steps, {ref['cpu_seconds']:.0f} CPU-s -> FD {ref['fd']:.2f} "
              f"(precision {ref['precision']:.3f}, recall {ref['recall']:.3f})")
        print(f"FaceStudio     : {ours['steps']} steps, {ours['cpu_seconds']:.0f} CPU-s -> FD {ours['fd']:.2f} "
              f"(precision {ours['precision']:.3f}, recall {ours['recall']:.3f})")
        print(f"ratio {figures['fd_ratio']:.3f} (target <= {figures['target_ratio']}): "
              f"{'met' if figures['meets_target'] else 'NOT met'}")
    return 0 if figures["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
