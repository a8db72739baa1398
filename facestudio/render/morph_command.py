"""`facestudio morph`: an interpolation between faces, as GIF, MP4, PNG frames or a sheet.

    facestudio morph --from 3 --to 18 --frames 60 -o morph.gif
    facestudio morph --from a.png --via 7 --to b.png --frames 90 --easing ease-in-out -o morph.mp4
    facestudio morph --from 3 --to 18 --frames 48 --loop -o frames/

Faces are seeds (whole numbers) or face PNGs saved by FaceStudio. A face PNG comes back
exactly as it was saved, with its own truncation, unless --truncation sets one for all.
`--frames` is the total number of frames; the first and last frames are the first and
last faces (with --loop the path returns towards the first face without repeating it,
so the animation cycles seamlessly).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from facestudio.render.sample_command import int_argument, truncation_argument

if TYPE_CHECKING:  # numpy is imported lazily: `facestudio --help` must stay fast
    import numpy as np

EASING_NAMES = ("linear", "ease-in-out", "cosine", "ease-in", "ease-out")  # = interpolation.EASINGS
MAX_FRAMES = 10_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--model", help="model file, run folder, DCGAN .pth, StyleGAN .pkl or mobilestylegan-ffhq (default: the built-in model)")
    p.add_argument("--from", dest="start", required=True, metavar="FACE", help="first face: a seed or a face PNG")
    p.add_argument("--to", dest="end", required=True, metavar="FACE", help="last face: a seed or a face PNG")
    p.add_argument("--via", action="append", default=[], metavar="FACE", help="a face to pass through (repeat for more, in order)")
    p.add_argument("--frames", type=int_argument(2, MAX_FRAMES), default=60, help="total number of frames (default 60)")
    path = p.add_mutually_exclusive_group()
    path.add_argument("--slerp", dest="mode", action="store_const", const="slerp", help="spherical path, keeps faces crisp mid-way (default)")
    path.add_argument("--lerp", dest="mode", action="store_const", const="lerp", help="straight-line path")
    p.set_defaults(mode="slerp")
    p.add_argument("--easing", choices=EASING_NAMES, default="linear", help="speed along each stretch (default linear; ease-in-out lingers on each face)")
    p.add_argument("--loop", action="store_true", help="return to the first face, for an endlessly cycling animation")
    p.add_argument("--truncation", type=truncation_argument, metavar="PSI", help="truncation for every face (default: 1 for seeds, a face PNG's own)")
    p.add_argument("--fps", type=float, default=24.0, help="frames per second of a GIF or MP4 (default 24)")
    p.add_argument("--size", type=int_argument(8, 4096), metavar="PX", help="frame size in pixels (default: the model's own)")
    p.add_argument("--crisp", action="store_true", help="enlarge with sharp square pixels instead of smooth Lanczos")
    p.add_argument("--cols", type=int_argument(1, MAX_FRAMES), default=10, help="frames per row of a .png contact sheet (default 10)")
    p.add_argument("-o", "--output", required=True, help="out.gif, out.mp4, a folder for PNG frames, or sheet.png")


def keyframe_latent(face: str, nz: int, psi: float | None, model_sha256: str, label: str) -> np.ndarray:
    """The latent to pass through for FACE (seed or face PNG), truncation already applied."""
    import numpy as np

    from facestudio.errors import FaceMetadataError
    from facestudio.latent.sampling import MAX_SEED, latent_for_seed, truncate
    from facestudio.render.face_png import read_face_png

    text = face.strip()
    if text.isdigit() or (text.startswith("+") and text[1:].isdigit()):
        seed = int(text)
        if seed > MAX_SEED:
            raise FaceMetadataError(f"{label}: seed {seed} is out of range; use 0 to {MAX_SEED}.")
        return truncate(latent_for_seed(seed, nz), 1.0 if psi is None else psi)
    path = Path(text)
    if not path.exists() and text.lstrip("-").isdigit():
        raise FaceMetadataError(f"{label}: seeds are whole numbers from 0 to {MAX_SEED}, not {text}.")
    record = read_face_png(path)
    if record.nz != nz:
        raise FaceMetadataError(
            f"{path.name} holds a face for a model with a latent size of {record.nz}; this model uses {nz}. "
            f"Use the model it was made with ({record.model_name or 'unknown'})."
        )
    if record.model_sha256 and model_sha256 and record.model_sha256 != model_sha256:
        print(f"facestudio: note: {path.name} was made with another model ({record.model_name or 'unknown'}); "
              "it is drawn with this one, so it may look different.", file=sys.stderr)
    return truncate(np.array(record.latent), record.truncation if psi is None else psi)


def run(args: argparse.Namespace) -> int:
    from facestudio.latent.interpolation import keyframe_path
    from facestudio.models import load_model
    from facestudio.render.export import check_fps, export_frames, export_kind
    from facestudio.render.grid import resize_all
    from facestudio.render.renderer import Renderer

    kind = export_kind(args.output)  # fail on a bad output name or speed before any work
    if kind in ("gif", "mp4"):
        check_fps(args.fps, kind)
    bundle = load_model(args.model)
    nz = bundle.config.nz
    faces = [args.start, *args.via, args.end]
    labels = ["--from", *["--via"] * len(args.via), "--to"]
    keys = [keyframe_latent(f, nz, args.truncation, bundle.sha256, lab) for f, lab in zip(faces, labels)]
    latents = keyframe_path(keys, total_frames=args.frames, mode=args.mode, easing=args.easing, loop=args.loop)
    renderer = Renderer(bundle)
    frames = resize_all(renderer.render_batch(latents, psi=1.0), args.size, smooth=not args.crisp)
    written = export_frames(frames, args.output, fps=args.fps, loop=True, cols=args.cols)
    side = frames.shape[1]
    what = {"gif": "GIF", "mp4": "MP4", "sheet": "contact sheet", "frames": "PNG frames"}[kind]
    print(f"wrote {written}: {what}, {len(frames)} frames of {side} x {side} px ({args.mode}, {args.easing})")
    return 0
