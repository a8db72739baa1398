"""`facestudio bench KIND [--json]`: latency and throughput figures.

Each kind lives beside the code it measures (module exposing `add_arguments(p)` and
`run(args) -> dict`); this command prints the dict as text or JSON. Timings belong
here and in tests/bench/, never in asserts of the test suite.
"""

from __future__ import annotations

import argparse
import importlib
import json

# kind -> (module, help)
BENCHES: dict[str, tuple[str, str]] = {
    "train": ("facestudio.cli.benches.train_bench", "training images/s: FaceStudio vs the plain DCGAN-tutorial loop"),
    "latency": ("facestudio.ui.benches.latency_bench", "slider -> pixmap latency, Renderer.render, startup, memory"),
    "ui": ("facestudio.ui.benches.training_bench", "event-loop lag while training in the app, app vs headless speed"),
    "morph": ("facestudio.cli.benches.morph_bench", "interpolation strip rendering time"),
    "soak": ("facestudio.ui.benches.soak_bench", "the app offscreen for N seconds of slider drags, morph playback and live "
             "training: survived, None refcount drift, memory growth"),
    "progressive": ("facestudio.cli.benches.progressive_bench", "style models: bare synthesis vs full render vs preview, move/rest latency"),
    "style": ("facestudio.cli.benches.stylegan_bench", "StyleGAN synthesis time per image at 256 and 1024 px vs the reference CPU path; "
              "--model mobilestylegan-ffhq: native PyTorch vs OpenVINO, previews, start-up"),
    "quality": ("facestudio.cli.benches.quality_bench", "Frechet distance at equal CPU time: FaceStudio's trainer vs the DCGAN-tutorial loop"),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="bench", metavar="KIND", required=True)
    for name, (module_name, help_text) in BENCHES.items():
        if importlib.util.find_spec(module_name) is None:
            continue
        q = sub.add_parser(name, help=help_text, description=help_text)
        q.add_argument("--json", action="store_true", help="print the figures as JSON")
        q.set_defaults(_bench_module=module_name)
        importlib.import_module(module_name).add_arguments(q)


def _print_text(figures: dict, indent: str = "") -> None:
    for key, value in figures.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print_text(value, indent + "  ")
        else:
            print(f"{indent}{key}: {value:.4g}" if isinstance(value, float) else f"{indent}{key}: {value}")


def run(args: argparse.Namespace) -> int:
    figures = importlib.import_module(args._bench_module).run(args)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        _print_text(figures)
    return 0
