"""Train the face check behind the explorer's realism meter and ship it.

    python -m trainer.recipes.train_face_check        # -> resources/face_check.safetensors + .json

A small CNN learns to tell whole built-in synthetic faces (data seed 9001) from the same
faces with one of the defects people point at in GAN faces (`facestudio.metrics.face_defects`:
a missing eye, hair over an eye, a smudge for glasses, smears, ghosted hair, blocks,
seams), every face given GAN-like degradation. The card records the held-out AUC per
defect on faces of seed 9002. Whether it tracks what people call broken in *generated*
faces is a separate check (`tests/bench/validate_realism.py`, README "Realism meter").
Deterministic for a given seed and thread count (it reproduces the shipped weights byte for
byte); about 12 minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from facestudio.atomic_file import atomic_write_bytes, atomic_write_text
from facestudio.metrics.face_defects import DEFECTS, EPOCHS, FACES, HELDOUT_SEED, TRAIN_SEED, default_path, train_face_check


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.recipes.train_face_check", description=__doc__.split("\n\n")[0])
    p.add_argument("--faces", type=int, default=FACES, help=f"training faces (default {FACES})")
    p.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs (default {EPOCHS})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--heldout", type=int, default=1000, help="held-out faces per defect for the card's AUC (default 1000)")
    p.add_argument("-o", "--out", type=Path, default=default_path(), help="weights file (card written beside it, .json)")
    args = p.parse_args(argv)
    from safetensors.torch import save

    start = time.perf_counter()
    net, report = train_face_check(args.faces, args.epochs, args.seed, heldout_n=args.heldout)
    seconds = time.perf_counter() - start
    atomic_write_bytes(args.out, save({k: v.contiguous() for k, v in net.state_dict().items()}))
    card = {
        "format": "facestudio-face-check",
        "recipe": "trainer/recipes/train_face_check.py",
        "command": f"python -m trainer.recipes.train_face_check --faces {args.faces} --epochs {args.epochs} --seed {args.seed}",
        "machine": f"{torch.get_num_threads()} CPU threads, torch {torch.__version__}",
        "train_seed": TRAIN_SEED, "heldout_seed": HELDOUT_SEED, "defects": list(DEFECTS),
        "losses": [round(x, 4) for x in report.losses],
        "heldout_auc": {k: round(v, 4) for k, v in report.heldout_auc.items()},
        "seconds": round(seconds, 1),
    }
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(card, indent=1) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {seconds:.0f} s; held-out AUC {card['heldout_auc']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
