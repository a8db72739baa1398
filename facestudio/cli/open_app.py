"""`facestudio [open PATH]`: start the app; `--screenshot OUT.png` grabs the window and exits.

Qt is imported only when the app starts (facestudio/ui/app_launch.py), so this parser loads
with the rest of the command line without it.
"""

from __future__ import annotations

import argparse
import importlib


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", default=None,
                   help="a model (.safetensors), a training run folder, a PyTorch DCGAN .pth, a face PNG, or mobilestylegan-ffhq")


def run(args: argparse.Namespace) -> int:
    # by name: the headless commands' import contract (no Qt) does not cover starting the app
    launch = importlib.import_module("facestudio.ui.app_launch").launch
    return launch(getattr(args, "path", None), getattr(args, "screenshot", None))
