"""Validate FaceStudio's quality metric: does it rank known-quality sets correctly?

    python tests/bench/validate_metric.py                         # n=5000, 64 px proxies
    python tests/bench/validate_metric.py --models well-trained=trained.safetensors early=early.safetensors

Real faces (a second held-out set) must score best; blurred (radius 0.5/1/2) and noised
(sigma 0.05/0.1/0.2) copies worse as damage grows; a collapsed set (one face repeated)
and pure noise worst. Models given with --models are added best first and must fall in
that order between real data and collapse/noise (LABEL=PATH names a row); the best
model, with every latent replaced by one, also gives the collapsed generator's row and
its architecture, untrained, an untrained generator's row. Prints a markdown table and
the checks, writes both as JSON (--out) and the table beside it (.md); exit status 1 if
a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def model_entry(item: str) -> tuple[str, str] | str:
    """"LABEL=PATH" -> (label, path); a plain path (even one holding "=") stays a path."""
    label, sep, path = item.partition("=")
    if sep and label and path and not Path(item).exists():
        return label, path
    return item


def main(argv: list[str] | None = None) -> int:
    from facestudio.atomic_file import atomic_write_text
    from facestudio.metrics.evaluation import FULL_N
    from facestudio.metrics.factor_encoder import load_encoder, shared_encoder
    from facestudio.metrics.metric_validation import validate_metric, validation_table

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=FULL_N, help=f"faces per set (default {FULL_N})")
    p.add_argument("--size", type=int, default=64, choices=(32, 64, 128), help="image size of the sets (default 64)")
    p.add_argument("--models", nargs="*", default=[], metavar="[LABEL=]PATH",
                   help="models to add, best first (e.g. well-trained=M.safetensors early=E.safetensors)")
    p.add_argument("--encoder", type=Path, help="factor encoder file (default: the shipped one)")
    p.add_argument("--out", type=Path, default=Path("metric_validation.json"), help="JSON output (default metric_validation.json)")
    args = p.parse_args(argv)

    encoder = load_encoder(args.encoder) if args.encoder else shared_encoder()
    result = validate_metric(args.n, args.size, [model_entry(m) for m in args.models], encoder=encoder)
    table = validation_table(result)
    result["table"] = table
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    atomic_write_text(args.out.with_suffix(".md"), table + "\n")
    print(table)
    print(f"\n{result['seconds']:.0f} s; wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0 if all(c["ok"] for c in result["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
