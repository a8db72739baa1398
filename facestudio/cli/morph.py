"""`facestudio morph`: an interpolation between faces, as GIF, MP4, PNG frames or a sheet.

    facestudio morph --from 3 --to 18 --frames 60 -o morph.gif
    facestudio morph --from a.png --via 7 --to b.png --frames 90 --easing ease-in-out -o morph.mp4
    facestudio morph --from 3 --to 18 --frames 48 --loop -o frames/

Faces are seeds (whole numbers) or face PNGs saved by FaceStudio (z, w or w+ faces). A
face PNG comes back exactly as it was saved, with its own truncation, unless --truncation
sets one for all. Between z faces the path is spherical in Z (--lerp for straight);
with any w or w+ face it runs straight in W / W+ (facestudio.render.style_morph).
`--frames` is the total number of frames; the first and last frames are the first and
last faces (with --loop the path returns towards the first face without repeating it,
so the animation cycles seamlessly).
"""

from __future__ import annotations

import argparse
import os
import sys

from facestudio.render.output_files import DEFAULT_FACE_SIZE
from facestudio.cli.sample import int_argument, truncation_argument

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
    p.add_argument("--size", type=int_argument(8, 4096), metavar="PX", default=DEFAULT_FACE_SIZE,
                   help=f"frame size in pixels (default {DEFAULT_FACE_SIZE}, as the app saves faces)")
    p.add_argument("--crisp", action="store_true", help="enlarge with sharp square pixels instead of smooth Lanczos")
    p.add_argument("--batch", type=int_argument(1, 256), default=8, help="frames rendered together (default 8)")
    p.add_argument("--cols", type=int_argument(1, MAX_FRAMES), default=10, help="frames per row of a .png contact sheet (default 10)")
    p.add_argument("-o", "--output", required=True,
                   help="out.gif, out.mp4, a folder for PNG frames (made if needed), or a contact sheet sheet.png / "
                        "sheet.jpg; the folder it goes in must exist")


def run(args: argparse.Namespace) -> int:
    from facestudio.render.face_files import face_from_text
    from facestudio.render.style_morph import MorphKey, morph_path, render_morph
    from facestudio.models import load_model
    from facestudio.render.export import check_fps, export_frames, export_kind
    from facestudio.render.grid import resize_all
    from facestudio.render.output_files import check_parent
    from facestudio.render.renderer import Renderer

    kind = export_kind(args.output)  # fail on a bad output name, folder or speed before any work
    check_parent(args.output.rstrip("/" + os.sep) if kind == "frames" else args.output)
    if kind in ("gif", "mp4"):
        check_fps(args.fps, kind)
    bundle = load_model(args.model)
    faces = [args.start, *args.via, args.end]
    labels = ["--from", *["--via"] * len(args.via), "--to"]
    keys = []
    for face, label in zip(faces, labels):
        opened = face_from_text(face, bundle, label)
        if opened.note:
            print(f"facestudio: note: {opened.note}", file=sys.stderr)
        keys.append(MorphKey(opened.latent, opened.truncation if args.truncation is None else args.truncation))
    renderer = Renderer(bundle)
    path = morph_path(renderer, keys, args.frames, easing=args.easing, loop=args.loop, z_mode=args.mode)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            print(f"\rrendering frame {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    frames = resize_all(render_morph(renderer, path, batch=args.batch, progress=progress), args.size, smooth=not args.crisp)
    written = export_frames(frames, args.output, fps=args.fps, loop=True, cols=args.cols)
    side = frames.shape[1]
    what = {"gif": "GIF", "mp4": "MP4", "sheet": "contact sheet", "frames": "PNG frames"}[kind]
    print(f"wrote {written}: {what}, {len(frames)} frames of {side} x {side} px ({path.note}, {args.easing})")
    return 0
