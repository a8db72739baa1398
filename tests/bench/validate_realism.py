"""Does the explorer's realism meter track quality? Checks three meters against independent judges.

    python tests/bench/validate_realism.py [--model M] [--n 1000] [--json out.json] [--sheet out.png]

Meters compared:
- "discriminator": the first meter, the model's discriminator logit (its rank against the
  model's own faces is a monotonic function of it, so rank correlations are the same);
- "manifold": the second, `facestudio.metrics.face_realism` (mean distance to the 3
  nearest real faces in the quality metric's feature space, ranked against real faces);
- "face_check": today's, `facestudio.metrics.face_defects` (a CNN's probability that the
  face has none of the defects people point at).

Judges:
1. people: generated faces labelled broken / not broken by eye (criteria in the README,
   "Broken faces"), per model (PERSON_LABELS, keyed by a fingerprint of the model's
   generator weights); AUC of each meter (1 = ranks every good face above every broken
   one, 0.5 = chance). The face check never saw a generated face;
2. per-face distance to the nearest real face in the metric's feature space, on n faces
   of seeds 0..n-1 (Spearman with each meter; the manifold meter is nearly this judge,
   so for it this is a consistency check, not an independent one);
3. damaged real faces: real synthetic faces (seed 7004) vs copies with a GAN-like defect
   (a dark blob over one eye's height, a smeared band across the face, blur); AUC clean
   vs damaged. The face check was trained on similar defects, so for it this is a sanity
   check, not an independent one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

from facestudio.metrics.rank_stats import auc, spearman

#: People's labels: generator fingerprint -> {label set: (first seed, last seed, broken seeds)}.
#: Broken = one eye or none readable; glasses as a blob/smudge; hair/face smeared or blocky.
PERSON_LABELS: dict[str, dict[str, tuple[int, int, tuple[int, ...]]]] = {
    "3c87a97fd1ed": {  # the third default model (2026-12-06, 14,000 steps, FD 29.5)
        "seeds 0-63, person 1": (0, 63, (2, 14, 18, 25, 29, 32, 34, 35, 36, 48, 59, 60, 61, 63)),
        "seeds 0-63, person 2 (blind)": (0, 63, (2, 10, 18, 23, 48, 63)),
        "seeds 64-191, person 3": (64, 191, (65, 76, 86, 92, 121, 128, 135, 137, 138, 141, 167, 181, 183, 189)),
        "seeds 64-191, person 4": (64, 191, (65, 71, 76, 86, 100, 121, 128, 135, 136, 137, 138, 139, 141, 167, 181,
                                             183, 186, 189)),
    },
    "1f39b0eb7114": {  # the second default model (DiffAugment, 10,480 steps, FD 119.3)
        "seeds 0-63, person 1": (0, 63, (0, 1, 2, 6, 7, 8, 13, 14, 15, 16, 17, 19, 20, 21, 24, 30, 32, 33, 34, 36, 41,
                                         45, 47, 48, 50, 53, 54, 58, 59, 60, 61, 62)),
        "seeds 0-63, person 2 (blind)": (0, 63, (0, 6, 7, 14, 15, 19, 20, 24, 33, 34, 36, 44, 47, 48, 50, 53, 58, 59,
                                                 60, 61)),
    },
}


def fingerprint(generator: torch.nn.Module) -> str:
    """First 12 hex digits of the sha256 of a generator's weights (names and bytes, sorted)."""
    h = hashlib.sha256()
    for name, value in sorted(generator.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:12]


def damage(faces: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """GAN-like defects on uint8 (N, S, S, 3) faces."""
    out = faces.copy()
    n, s = faces.shape[:2]
    if kind == "blob":  # a dark smudge at eye height, left or right: "one eye", "sunglasses blob"
        for i in range(n):
            cy = int(s * rng.uniform(0.40, 0.50))
            cx = int(s * (0.38 if rng.random() < 0.5 else 0.62))
            r = max(2, s // 12)
            yy, xx = np.ogrid[:s, :s]
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            out[i][mask] = (out[i][mask] * 0.25).astype(np.uint8)
    elif kind == "smear":  # a band of rows copied down over the face: the seams of broken faces
        for i in range(n):
            y0 = int(s * rng.uniform(0.3, 0.5))
            h = max(2, s // 10)
            out[i, y0 + h : y0 + 2 * h] = np.roll(out[i, y0 : y0 + h], shift=s // 16, axis=1)
    elif kind == "blur":
        t = torch.from_numpy(faces).permute(0, 3, 1, 2).float()
        k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
        k = (k[:, None] * k[None, :]) / 256.0
        w = k.expand(3, 1, 5, 5)
        t = torch.nn.functional.conv2d(torch.nn.functional.pad(t, (2, 2, 2, 2), mode="replicate"), w, groups=3)
        out = t.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    else:
        raise ValueError(kind)
    return out


def main(argv: list[str] | None = None) -> int:
    from facestudio.data.synthetic_faces import synthetic_faces
    from facestudio.latent.sampling import latents_for_seeds
    from facestudio.metrics.face_defects import shared_face_check
    from facestudio.metrics.face_realism import FaceRealism
    from facestudio.metrics.reference_stats import VALIDATION_SEED
    from facestudio.models import load_model
    from facestudio.render.renderer import Renderer

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", help="model file (default: the built-in model)")
    p.add_argument("--n", type=int, default=1000, help="generated faces (seeds 0..n-1) and real faces per damage (default 1000)")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--sheet", type=Path, help="write a PNG: 10 lowest and 10 highest faces by each meter")
    args = p.parse_args(argv)
    torch.manual_seed(0)
    bundle = load_model(args.model)
    renderer = Renderer(bundle)
    size = bundle.config.image_size
    model_print = fingerprint(bundle.viewing_generator)
    labels = PERSON_LABELS.get(model_print, {})
    n = max([args.n] + [last + 1 for _, last, _ in labels.values()])
    faces = renderer.render_batch(latents_for_seeds(range(n), bundle.config.nz))

    def disc(x: np.ndarray) -> np.ndarray:
        return np.concatenate([renderer.realism_scores(x[i : i + 256]) for i in range(0, len(x), 256)])

    manifold, check = FaceRealism(size), shared_face_check()
    meters = {"discriminator": disc, "manifold": lambda x: -manifold.distances(x), "face_check": check.readings}
    scores = {name: meter(faces) for name, meter in meters.items()}  # higher = more real, for each
    out: dict = {"model": bundle.name, "fingerprint": model_print, "n": args.n, "image_size": size}
    out["person_labels"] = {}
    for label, (first, last, broken_seeds) in labels.items():
        broken = np.zeros(last - first + 1, bool)
        broken[[s - first for s in broken_seeds]] = True
        out["person_labels"][label] = {"faces": int(broken.size), "broken": int(broken.sum())} | {
            f"auc_{name}": auc(v[first : last + 1][~broken], v[first : last + 1][broken]) for name, v in scores.items()}
    feats = manifold.features(faces[: args.n])
    nearest = torch.cdist(feats, manifold.scale.features).min(dim=1).values.numpy()
    out["spearman_vs_nearest_real_distance"] = {name: spearman(v[: args.n], -nearest) for name, v in scores.items()}
    out["spearman_face_check_vs_manifold"] = spearman(scores["face_check"][: args.n], scores["manifold"][: args.n])
    out["face_check_median_generated"] = float(np.median(scores["face_check"][: args.n]))
    real, _ = synthetic_faces(args.n, size, VALIDATION_SEED)
    real = real.permute(0, 2, 3, 1).contiguous().numpy()
    rng = np.random.default_rng(0)
    real_scores = {name: meter(real) for name, meter in meters.items()}
    out["face_check_median_real"] = float(np.median(real_scores["face_check"]))
    out["damaged_real_auc"] = {}
    for kind in ("blob", "smear", "blur"):
        bad = damage(real, kind, rng)
        out["damaged_real_auc"][kind] = {name: auc(real_scores[name], meter(bad)) for name, meter in meters.items()}
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    if args.sheet:
        from PIL import Image

        rows = []
        for name in meters:
            order = np.argsort(scores[name][: args.n])
            rows.append(np.concatenate(list(faces[order[:10]]), axis=1))
            rows.append(np.concatenate(list(faces[order[-10:]]), axis=1))
        Image.fromarray(np.concatenate(rows, axis=0)).save(args.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
