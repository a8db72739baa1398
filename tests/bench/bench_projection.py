"""Benchmark: how well photo -> latent projection reconstructs held-out faces.

Run:  python tests/bench/bench_projection.py [--model M] [--n 16] [--steps 200] [--restarts 4]
                                              [--out resources/projection_examples.png] [--json]

Targets are built-in synthetic faces the model never trained on (seeds from 900000 up,
the training set draws far lower seeds), rendered at the model's size. Each is
projected with `facestudio.latent.projection.project`, and compared with the trivial
baseline: the nearest (by pixel MSE) of 1,000 random faces of the same model. Reported,
for both, per target and averaged:

- pixel MSE on [0, 1] pixels (and PSNR), the quantity the baseline optimises;
- when the factor encoder ships (resources/factor_encoder.safetensors): the distance
  between target and reconstruction in its standardised feature space, and how often
  they agree on the face's discrete factors (hair style, glasses, beard, ...), i.e.
  whether the reconstruction is the same *kind* of face, not only similar pixels.

Prints a markdown table and writes a picture: targets, baseline, projections (rows).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

# On a CPU shared with other busy processes, libgomp's spinning barriers make small
# convolutions on the main thread up to 100x slower (measured: 200 16-channel convs 4-16 s
# active vs 0.09 s passive). The app projects on a worker thread, which is not affected;
# passive waiting makes this script measure what the app does. Set it before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

HELD_OUT_SEED = 900_000


def _encoder():
    """The shipped factor encoder, or None when it is not (yet) part of the installation."""
    try:
        from facestudio.metrics.factor_encoder import default_encoder_path, shared_encoder
    except ImportError:
        return None
    if not default_encoder_path().is_file():
        return None
    return shared_encoder().encoder


def _encoder_figures(encoder, targets: np.ndarray, recon: np.ndarray) -> dict[str, np.ndarray]:
    """Per target: feature distance, and agreement on discrete factors (fraction)."""
    def enc(images: np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()
        return encoder.encode(x)

    ft, _, rt = enc(targets)
    fr, _, rr = enc(recon)
    dist = ((ft - fr).norm(dim=1) / math.sqrt(ft.shape[1])).numpy()
    names = [s.name for s in encoder.specs]
    agree = np.zeros(len(targets))
    counted = np.zeros(len(targets))
    for j, spec in enumerate(encoder.specs):
        if spec.kind == "continuous":
            continue
        if spec.kind == "binary":
            same = (rt[:, j] > 0.5) == (rr[:, j] > 0.5)
        else:
            same = rt[:, j] == rr[:, j]
        visible = torch.ones(len(targets), dtype=torch.bool)
        if spec.given:  # e.g. glasses style only counts where the target wears glasses
            visible = rt[:, names.index(spec.given)] > 0.5
        agree += (same & visible).numpy()
        counted += visible.numpy()
    return {"feature_distance": dist, "factor_agreement": agree / np.maximum(counted, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model file or run folder (default: the built-in model)")
    ap.add_argument("--n", type=int, default=16, help="held-out faces to project")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--restarts", type=int, default=None)
    ap.add_argument("--candidates", type=int, default=None)
    ap.add_argument("--baseline", type=int, default=1000, help="random faces the baseline picks the nearest from")
    ap.add_argument("--show", type=int, default=8, help="columns in the picture")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "resources" / "projection_examples.png")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from facestudio.data.synthetic_faces import render_face
    from facestudio.latent.projection import ProjectionSettings, project
    from facestudio.models import load_model
    from facestudio.render.export import save_png
    from facestudio.render.grid import image_grid, resize_all
    from facestudio.render.renderer import Renderer

    bundle = load_model(args.model)
    size = bundle.config.image_size
    given = {"steps": args.steps, "restarts": args.restarts, "candidates": args.candidates}
    settings = ProjectionSettings(**{k: v for k, v in given.items() if v is not None})
    targets = np.stack([render_face(HELD_OUT_SEED + i, size)[0] for i in range(args.n)])

    # Baseline: nearest of `--baseline` random faces by pixel MSE.
    t0 = time.perf_counter()
    rng = np.random.default_rng(12345)
    pool = Renderer(bundle).render_batch(rng.standard_normal((args.baseline, bundle.config.nz)).astype(np.float32))
    tf = targets.astype(np.float32) / 255.0
    pool_f = pool.astype(np.float32).reshape(len(pool), -1) / 255.0
    d = (tf.reshape(len(tf), -1) ** 2).sum(1)[:, None] - 2 * tf.reshape(len(tf), -1) @ pool_f.T + (pool_f ** 2).sum(1)[None]
    nearest = d.argmin(1)
    baseline = pool[nearest]
    baseline_s = (time.perf_counter() - t0) / args.n

    recon = np.empty_like(targets)
    start_mse = np.empty(args.n)
    t0 = time.perf_counter()
    for i, target in enumerate(targets):
        result = project(bundle, target, settings)
        recon[i] = result.image
        start_mse[i] = result.start_pixel_mse
        print(f"face {i + 1}/{args.n}: pixel MSE {result.pixel_mse:.5f} (start {result.start_pixel_mse:.5f})",
              file=sys.stderr, flush=True)
    project_s = (time.perf_counter() - t0) / args.n

    def mse(images: np.ndarray) -> np.ndarray:
        return (((images.astype(np.float64) - targets.astype(np.float64)) / 255.0) ** 2).reshape(args.n, -1).mean(1)

    rows = {"nearest of %d random faces" % args.baseline: (baseline, baseline_s), "projection": (recon, project_s)}
    encoder = _encoder()
    figures: dict[str, dict[str, float]] = {}
    for name, (images, seconds) in rows.items():
        m = mse(images)
        fig = {"pixel_mse": float(m.mean()), "psnr_db": float(np.mean(10 * np.log10(1.0 / np.maximum(m, 1e-10)))),
               "seconds_per_face": seconds}
        if encoder is not None:
            enc = _encoder_figures(encoder, targets, images)
            fig["encoder_feature_distance"] = float(enc["feature_distance"].mean())
            fig["discrete_factor_agreement"] = float(enc["factor_agreement"].mean())
        figures[name] = fig
    wins = float(np.mean(mse(recon) < mse(baseline)))
    out = {
        "model": str(bundle.source or "built-in"), "model_sha256": bundle.sha256[:12], "image_size": size,
        "held_out_faces": args.n, "settings": {k: getattr(settings, k) for k in ("steps", "restarts", "candidates", "pixel_loss")},
        "perceptual_loss": bundle.discriminator is not None, "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "figures": figures, "projection_beats_baseline_on": wins,
        "mse_ratio_projection_vs_baseline": figures["projection"]["pixel_mse"] / figures[next(iter(rows))]["pixel_mse"],
    }

    show = min(args.show, args.n)
    scale = max(1, 128 // size)
    picture = image_grid(resize_all(np.concatenate([targets[:show], baseline[:show], recon[:show]]), size * scale, smooth=False),
                         cols=show, pad=4, pad_value=32)
    save_png(args.out, picture)
    out["picture"] = str(args.out)

    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"\nProjection of {args.n} held-out synthetic faces (seeds {HELD_OUT_SEED}+) with {out['model']} "
          f"({size} px, {'pixel + discriminator-feature' if out['perceptual_loss'] else 'pixel-only'} loss, "
          f"{settings.steps} steps x {settings.restarts} starts of {settings.candidates}, {out['torch_threads']} threads)\n")
    cols = ["pixel MSE", "PSNR (dB)"] + (["encoder feature dist.", "discrete factors agree"] if encoder is not None else []) + ["s / face"]
    print("| method | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, fig in figures.items():
        cells = [f"{fig['pixel_mse']:.5f}", f"{fig['psnr_db']:.2f}"]
        if encoder is not None:
            cells += [f"{fig['encoder_feature_distance']:.3f}", f"{fig['discrete_factor_agreement']:.1%}"]
        cells.append(f"{fig['seconds_per_face']:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nProjection beats the baseline on {wins:.0%} of the faces; its pixel MSE is "
          f"{out['mse_ratio_projection_vs_baseline']:.2f}x the baseline's. Picture (targets / baseline / projection): {args.out}")


if __name__ == "__main__":
    main()
