"""`facestudio project PHOTO -o face.png`: find the latent of a photo, save it as a face PNG.

The face PNG carries the latent, so it opens in the explorer (or morphs) like any face
made there. Progress goes to stderr; a summary line says how close the match is.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from facestudio.errors import ConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    # Defaults live in ProjectionSettings; importing it here would load torch for --help.
    p.add_argument("photo", type=Path, help="the picture to match (JPEG, PNG, WebP, BMP or TIFF); it is centre-cropped to a square")
    p.add_argument("-o", "--output", type=Path, required=True, help="the face PNG to write (with its latent embedded)")
    p.add_argument("--model", type=Path, default=None, help="model file, run folder or mobilestylegan-ffhq (default: the built-in model)")
    p.add_argument("--steps", type=int, default=None, help="optimisation steps (default 200; more is slower and closer)")
    p.add_argument("--restarts", type=int, default=None, help="random starts refined together (default 4)")
    p.add_argument("--candidates", type=int, default=None, help="random latents screened to pick the starts (default 256)")
    p.add_argument("--pixel-loss", choices=["l1", "l2"], default=None, help="pixel loss (default l1)")
    p.add_argument("--seed", type=int, default=None, help="seed of the random starts (default 0)")
    p.add_argument("--size", type=int, default=None, help="side of the saved picture in pixels (default: the model's size)")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def run(args: argparse.Namespace) -> int:
    from facestudio.latent.projection import ProjectionSettings, load_photo, project
    from facestudio.models import load_model
    from facestudio.render.face_png import save_face_png

    if args.size is not None and not 8 <= args.size <= 4096:
        raise ConfigError(f"--size {args.size} is out of range; use a side from 8 to 4096 pixels.")
    given = {"steps": args.steps, "restarts": args.restarts, "candidates": args.candidates,
             "pixel_loss": args.pixel_loss, "seed": args.seed}
    settings = ProjectionSettings(**{k: v for k, v in given.items() if v is not None})
    bundle = load_model(args.model)
    target = load_photo(args.photo, bundle.config.image_size)
    if bundle.discriminator is None and not args.quiet:
        print("facestudio: this model file has no discriminator, so the match uses pixel loss only.", file=sys.stderr)

    started = time.perf_counter()
    tty = sys.stderr.isatty()

    def progress(report) -> None:
        if args.quiet or (not tty and report.step < report.steps):
            return
        line = f"step {report.step}/{report.steps}  loss {report.loss:.4f}  pixel MSE {report.pixel_mse:.5f}"
        print(("\r" + line) if tty else line, end="" if tty and report.step < report.steps else "\n", file=sys.stderr, flush=True)

    result = project(bundle, target, settings, progress=progress)
    seconds = time.perf_counter() - started
    save_face_png(args.output, result.image, result.latent, model_name=bundle.name, model_sha256=bundle.sha256,
                  truncation=1.0, size=args.size)
    loss_kind = "pixel + discriminator-feature" if result.perceptual else "pixel"
    print(f"Saved {args.output}: pixel MSE {result.pixel_mse:.5f} (best random start {result.start_pixel_mse:.5f}), "
          f"{loss_kind} loss, {result.steps_done} steps x {settings.restarts} starts in {seconds:.1f} s.")
    return 0
