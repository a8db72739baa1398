"""`facestudio eval [--model M] [--n 5000] [--json]`: quality figures of a model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facestudio.metrics.evaluation import FULL_N


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, help="model file, run folder, DCGAN .pth, StyleGAN .pkl or mobilestylegan-ffhq (default: the built-in model)")
    p.add_argument("--n", type=int, default=FULL_N,
                   help=f"generated and real faces compared (default {FULL_N}; figures are comparable only at equal n)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated faces' latents (default 0)")
    p.add_argument("--encoder", type=Path, help="factor encoder file (default: the one shipped with FaceStudio)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")


def format_report(result: dict, model_label: str) -> str:
    """The figures as text for people."""
    from facestudio.metrics.factor_match import FactorMatch, factor_table

    ref = result["reference"]
    lines = [
        f"model: {model_label}",
        f"{result['n']} generated faces (latent seed {result['seed']}) vs {ref['n']} real synthetic faces "
        f"(data seed {ref['seed']}), {result['image_size']} px, factor encoder {result['encoder']}"
        + ("" if result["mode"] == "full" else f"  [fast mode: n={result['n']}, compare only with runs at the same n]"),
        "",
        f"  Frechet distance  {result['fd']:9.3f}   lower is better (0 = same feature distribution as the data)",
        f"  precision         {result['precision']:9.3f}   share of generated faces that look like real ones",
        f"  recall            {result['recall']:9.3f}   share of real faces the model can produce",
        f"  diversity         {result['diversity']:9.3f}   spread relative to the data (~1 is right, near 0 = collapse)",
        f"  factor mismatch   {result['factor_tv']:9.3f}   mean total variation over factors (0 = same mix of traits)",
        "",
        factor_table([FactorMatch(name, row["kind"], row["generated"], row["data"], row["tv"]) for name, row in result["factors"].items()]),
        "",
        f"({result['seconds']:.1f} s; binary rows: share present, continuous: mean, categorical: share of the data's commonest class)",
    ]
    if result.get("warning"):
        lines.append(f"warning: {result['warning']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from facestudio.errors import ConfigError
    from facestudio.metrics.evaluation import evaluate
    from facestudio.metrics.factor_encoder import load_encoder, shared_encoder
    from facestudio.models import load_model

    if args.n < 10:
        raise ConfigError(f"--n {args.n} is too small for meaningful figures; use at least 10 (5000 for figures to quote).")
    bundle = load_model(args.model)
    encoder = load_encoder(args.encoder) if args.encoder else shared_encoder()
    result = evaluate(bundle, n=args.n, seed=args.seed, encoder=encoder)
    result["model"] = {"name": bundle.name, "sha256": bundle.sha256, "source": str(bundle.source) if bundle.source else None}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        label = f"{bundle.name} ({bundle.source or 'built-in'}, sha256 {bundle.sha256[:12] or '-'})"
        print(format_report(result, label))
    return 0
