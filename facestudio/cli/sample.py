"""`facestudio sample`: a grid of faces from consecutive seeds, or one face PNG.

    facestudio sample --seed 7 -n 64 --truncation 0.7 --size 64 -o grid.png
    facestudio sample --seed 7 -n 1 -o face.png   # 512 px, carries its latent

Seeds S, S+1, ... S+n-1 fill the grid row by row, so any face in it can be found again
with `--seed S+i -n 1`. Heavy imports happen in `run`, keeping `facestudio --help` fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from facestudio.render.output_files import DEFAULT_FACE_SIZE, PICTURE_SUFFIXES

MAX_COUNT = 1024


def seed_argument(text: str) -> int:
    """argparse type for seeds: a whole number in the range every seed tool accepts."""
    from facestudio.latent.sampling import MAX_SEED

    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed; use a whole number such as 42") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"seed {value} is out of range; use 0 to {MAX_SEED}")
    return value


def truncation_argument(text: str) -> float:
    from facestudio.latent.sampling import MAX_PSI

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= MAX_PSI:  # also rejects nan
        raise argparse.ArgumentTypeError(f"truncation {text} is out of range; use 0 to {MAX_PSI:g} (1 = none, 0.7 is a common choice)")
    return value


def int_argument(low: int, high: int) -> Callable[[str], int]:
    """argparse type for a whole number in low..high, with a readable complaint otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range; use {low} to {high}")
        return value

    return parse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--model", help="model file, run folder, DCGAN .pth, StyleGAN .pkl or mobilestylegan-ffhq (default: the built-in model)")
    p.add_argument("--seed", type=seed_argument, default=0, help="seed of the first face (default 0)")
    p.add_argument("-n", "--count", type=int_argument(1, MAX_COUNT), default=64, help="number of faces (default 64); 1 writes a face PNG with its latent")
    p.add_argument("--truncation", type=truncation_argument, default=1.0, metavar="PSI", help="pull faces towards the average face: 1 = none (default), 0.7 = cleaner, less varied")
    p.add_argument("--cols", type=int_argument(1, MAX_COUNT), help="faces per row (default: a near-square grid)")
    p.add_argument("--size", type=int_argument(8, 4096), metavar="PX", default=DEFAULT_FACE_SIZE,
                   help=f"size of each face in pixels (default {DEFAULT_FACE_SIZE}, as the app saves; a grid of 64 faces at "
                        f"{DEFAULT_FACE_SIZE} px is {8 * DEFAULT_FACE_SIZE + 14} px wide, use --size 64 for a small one)")
    p.add_argument("--crisp", action="store_true", help="enlarge with sharp square pixels instead of smooth Lanczos")
    p.add_argument("--pad", type=int_argument(0, 64), default=2, help="pixels between faces in the grid (default 2)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help=f"picture to write, in the format its suffix names: {PICTURE_SUFFIXES}; the folder must exist")


def run(args: argparse.Namespace) -> int:
    from facestudio.errors import ConfigError
    from facestudio.latent.sampling import MAX_SEED, latents_for_seeds
    from facestudio.models import load_model
    from facestudio.render.grid import image_grid, resize_all
    from facestudio.render.output_files import check_picture_output, save_face_picture, save_picture
    from facestudio.render.renderer import Renderer

    output = check_picture_output(args.output)
    if args.seed + args.count - 1 > MAX_SEED:
        raise ConfigError(f"Seeds {args.seed} to {args.seed + args.count - 1} go past the largest seed {MAX_SEED}; start lower.")
    bundle = load_model(args.model)
    renderer = Renderer(bundle)
    latents = latents_for_seeds(range(args.seed, args.seed + args.count), bundle.config.nz)
    faces = renderer.render_batch(latents, psi=args.truncation)
    if args.count == 1:
        embedded = save_face_picture(output, faces[0], latents[0], model_name=bundle.name, model_sha256=bundle.sha256,
                                     truncation=args.truncation, size=args.size, smooth=not args.crisp)
        side = args.size or bundle.config.image_size
        latent = "latent embedded" if embedded else "a plain picture (only .png keeps the latent)"
        print(f"wrote {output}: face of seed {args.seed} ({side} x {side} px, truncation {args.truncation:g}), {latent}")
        return 0
    grid = image_grid(resize_all(faces, args.size, smooth=not args.crisp), cols=args.cols, pad=args.pad)
    save_picture(output, grid)
    print(f"wrote {output}: {args.count} faces, seeds {args.seed}-{args.seed + args.count - 1} "
          f"({grid.shape[1]} x {grid.shape[0]} px, truncation {args.truncation:g})")
    return 0
