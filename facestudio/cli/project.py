"""`facestudio project PHOTO -o face.png`: find the latent of a photo, save it as a face PNG.

The face PNG carries the latent, so it opens in the explorer (or morphs) like any face
made there; other picture suffixes (.jpg, .webp...) write a plain picture. Progress goes to stderr; a summary line says how close the match is.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from facestudio.errors import ConfigError
from facestudio.render.output_files import DEFAULT_FACE_SIZE, PICTURE_SUFFIXES


def add_arguments(p: argparse.ArgumentParser) -> None:
    # Defaults live in ProjectionSettings; importing it here would load torch for --help.
    p.add_argument("photo", type=Path, help="the picture to match (JPEG, PNG, WebP, BMP or TIFF); it is centre-cropped to a square")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help=f"the face to write, in the format its suffix names: {PICTURE_SUFFIXES}; the folder must exist")
    p.add_argument("--model", default=None, help="model file, run folder, StyleGAN .pkl or a model id such as mobilestylegan-ffhq (default: the built-in model)")
    p.add_argument("--steps", type=int, default=None, help="optimisation steps (default 200; more is slower and closer)")
    p.add_argument("--restarts", type=int, default=None, help="random starts refined together (default 4)")
    p.add_argument("--candidates", type=int, default=None, help="random latents screened to pick the starts (default 256)")
    p.add_argument("--pixel-loss", choices=["l1", "l2"], default=None, help="pixel loss (default l1)")
    p.add_argument("--seed", type=int, default=None, help="seed of the random starts (default 0)")
    p.add_argument("--size", type=int, default=DEFAULT_FACE_SIZE,
                   help=f"side of the saved picture in pixels (default {DEFAULT_FACE_SIZE}, as the app saves faces)")
    p.add_argument("--crop", default=None, metavar="LEFT,TOP,SIDE",
                   help="the square around the face, in pixels of the photo (default: the largest centred square)")
    p.add_argument("--resolution", type=int, default=None,
                   help="style models: largest side the match looks at (default 256; a cheap preview output when there is one)")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def _crop(text: str | None) -> tuple[int, int, int] | None:
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ConfigError(f"--crop {text!r} must be three whole numbers LEFT,TOP,SIDE (for example 120,80,400).")
    left, top, side = (int(p) for p in parts)
    return left, top, side


def run(args: argparse.Namespace) -> int:
    from facestudio.latent.projection import ProjectionSettings, load_photo, project
    from facestudio.models import load_model
    from facestudio.render.output_files import check_picture_output, save_face_picture

    if args.size is not None and not 8 <= args.size <= 4096:
        raise ConfigError(f"--size {args.size} is out of range; use a side from 8 to 4096 pixels.")
    output = check_picture_output(args.output)  # before the photo, the model and the minute of optimising
    given = {"steps": args.steps, "restarts": args.restarts, "candidates": args.candidates,
             "pixel_loss": args.pixel_loss, "seed": args.seed}
    given["resolution"] = args.resolution
    settings = ProjectionSettings(**{k: v for k, v in given.items() if v is not None})
    crop = _crop(args.crop)
    bundle = load_model(args.model)
    target = load_photo(args.photo, bundle.config.image_size, crop=crop)
    if bundle.discriminator is None and not args.quiet:
        what = "pixel and image-gradient features" if bundle.family != "dcgan" else "pixel loss only"
        print(f"facestudio: this model file has no discriminator, so the match uses {what}.", file=sys.stderr)

    started = time.perf_counter()
    tty = sys.stderr.isatty()

    def progress(report) -> None:
        if args.quiet or (not tty and report.step < report.steps):
            return
        line = f"step {report.step}/{report.steps}  loss {report.loss:.4f}  pixel MSE {report.pixel_mse:.5f}"
        print(("\r" + line) if tty else line, end="" if tty and report.step < report.steps else "\n", file=sys.stderr, flush=True)

    result = project(bundle, target, settings, progress=progress)
    seconds = time.perf_counter() - started
    embedded = save_face_picture(output, result.image, result.latent, model_name=bundle.name, model_sha256=bundle.sha256,
                                 truncation=1.0, size=args.size, space=result.space)
    loss_kind = {"discriminator": "pixel + discriminator-feature", "gradients": "pixel + image-gradient"}.get(result.features, "pixel")
    latent = "" if embedded else " (a plain picture: only .png keeps the latent)"
    print(f"Saved {output}{latent}: pixel MSE {result.pixel_mse:.5f} (best random start {result.start_pixel_mse:.5f}), "
          f"{loss_kind} loss, {result.space} latent, {result.steps_done} steps x {settings.restarts} starts in {seconds:.1f} s.")
    return 0
