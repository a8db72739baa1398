"""The `facestudio` command (also `python -m facestudio`).

With no subcommand (or `open PATH`) it starts the app. Each subcommand is a module of this
package (`COMMANDS` maps name -> module exposing `add_arguments(parser)` and
`run(args) -> int`; the benchmarks behind `bench` are in `benches/`), imported only when
used, so `facestudio --help` stays fast and headless commands never import Qt.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from facestudio.errors import FaceStudioError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "open": ("facestudio.cli.open_app", "open the app on a model, run folder or face PNG"),
    "train": ("facestudio.cli.train", "train a model headless into a run folder (resumable)"),
    "sample": ("facestudio.cli.sample", "write a grid of faces, or one face PNG with its latent"),
    "morph": ("facestudio.cli.morph", "write an interpolation between seeds or face PNGs (GIF/MP4/PNG frames)"),
    "project": ("facestudio.cli.project", "find the latent of a photo and save it as a face PNG"),
    "import": ("facestudio.cli.import_model", "convert a DCGAN-tutorial .pth or a StyleGAN2-ADA/StyleGAN3 .pkl into a FaceStudio model"),
    "data": ("facestudio.cli.data", "check a folder of training images (data check DIR)"),
    "eval": ("facestudio.cli.eval", "quality figures of a model (Frechet distance, precision/recall, diversity)"),
    "bench": ("facestudio.cli.bench", "latency and throughput figures"),
}


def _available() -> dict[str, tuple[str, str]]:
    """Subcommands whose module exists in this installation."""
    return {name: spec for name, spec in COMMANDS.items() if importlib.util.find_spec(spec[0]) is not None}


def _chosen_command(argv: list[str]) -> str | None:
    """The subcommand named in argv (first token that is not an option or its value)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--screenshot":
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the chosen subcommand's module is imported (None: all of them).

    Importing one module keeps `facestudio sample` fast and means a broken optional
    module cannot break the other commands.
    """
    everything = argv is None
    chosen = None if everything else _chosen_command(argv)
    parser = argparse.ArgumentParser(
        prog="facestudio",
        description="Explore, morph and train face-generating GANs. With no command, opens the app on photographic faces "
                    "(mobilestylegan-ffhq) when random-face is installed, else on the built-in model.",
    )
    parser.add_argument("--screenshot", metavar="OUT.png", help="open the window, wait for the first face, save a screenshot and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _available().items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        if everything or chosen == name:
            importlib.import_module(module_name).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    module_name = getattr(args, "_module", None) or COMMANDS["open"][0]
    if args.command is None:
        args.path = None
    try:
        return int(importlib.import_module(module_name).run(args) or 0)
    except FaceStudioError as exc:
        print(f"facestudio: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("facestudio: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
