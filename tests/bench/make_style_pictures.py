"""README pictures of the style core on mobilestylegan-ffhq: style mixing and direction strips.

Run:  python tests/bench/make_style_pictures.py [--model mobilestylegan-ffhq] [--tile 192]

- docs/images/style_mixing.jpg: rows are base faces (seeds 3, 11, 27); columns: base, donor
  (seed 42), base with the donor's coarse, middle, fine layers.
- docs/images/direction_strips.jpg: SeFa 1 and PCA 1 on the coarse layers, and SeFa 1 on the
  fine layers, at -3, -1.5, 0, 1.5, 3 steps, on seed 7 (unnamed: nothing checked what they do).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mobilestylegan-ffhq")
    p.add_argument("--tile", type=int, default=192)
    p.add_argument("--out", type=Path, default=Path("docs/images"))
    args = p.parse_args(argv)

    from facestudio.latent.layers import mix_faces
    from facestudio.latent.spaces import seed_latent, to_wplus
    from facestudio.latent.style_directions import apply_style_directions, pca_style_directions, sefa_style_directions
    from facestudio.latent.w_pca import w_pca
    from facestudio.models import load_model
    from facestudio.render.grid import resize_all
    from facestudio.render.renderer import Renderer

    bundle = load_model(args.model)
    g = bundle.viewing_generator
    renderer = Renderer(bundle)
    psi = 0.7

    def draw(faces) -> np.ndarray:
        ws = np.stack([to_wplus(g, f, psi=psi) for f in faces])
        return resize_all(renderer.render_ws(ws), args.tile, smooth=True)

    donor = seed_latent(g, 42)
    rows = []
    for seed in (3, 11, 27):
        base = seed_latent(g, seed)
        faces = [base, donor] + [mix_faces(g, base, donor, group) for group in ("coarse", "middle", "fine")]
        rows.append(np.concatenate(list(draw(faces)), axis=1))
    args.out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out / "style_mixing.jpg")

    base = seed_latent(g, 7)
    amounts = (-3.0, -1.5, 0.0, 1.5, 3.0)
    sefa_coarse = sefa_style_directions(g, "coarse", k=1)[0]
    pca_coarse = pca_style_directions(g, w_pca(g, bundle.sha256, k=5), "coarse")[0]
    sefa_fine = sefa_style_directions(g, "fine", k=1)[0]
    strips = []
    for d in (sefa_coarse, pca_coarse, sefa_fine):
        faces = [apply_style_directions(g, base, [d], [a]) for a in amounts]
        strips.append(np.concatenate(list(draw(faces)), axis=1))
    Image.fromarray(np.concatenate(strips, axis=0)).save(args.out / "direction_strips.jpg")
    print("wrote", args.out / "style_mixing.jpg", args.out / "direction_strips.jpg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
