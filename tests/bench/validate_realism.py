"""Does the explorer's realism meter track quality? Checks both meters against independent judges.

    python tests/bench/validate_realism.py [--model M] [--n 1000] [--json out.json] [--sheet out.png]

Meters compared:
- "discriminator": the old meter, the model's discriminator logit (its rank against the
  model's own faces is a monotonic function of it, so rank correlations are the same);
- "manifold": `facestudio.metrics.face_realism` (mean distance to the 3 nearest real faces
  in the quality metric's feature space, ranked against real faces).

Judges, each independent of the discriminator:
1. per-face distance to the nearest real face in the metric's feature space, on n faces
   of seeds 0..n-1 (Spearman with each meter; the manifold meter is nearly this judge,
   so for it this is a consistency check, not an independent one);
2. a person: the faces of seeds 0-63 (the README grid) labelled broken / not broken by
   eye (BROKEN_SEEDS, criteria in the README); AUC of each meter (1 = ranks every good
   face above every broken one, 0.5 = chance);
3. damaged real faces: real synthetic faces (seed 7004, never used by the metric's
   reference) vs copies with a GAN-like defect (a dark blob over one eye's height, a
   smeared band across the face, blur); AUC clean vs damaged for each meter.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

#: Seeds 0-63 of the default model (README grid) that a person judged visibly broken
#: (one eye or none readable; glasses as a blob/smudge; hair/face smeared or blocky).
BROKEN_SEEDS = (0, 1, 2, 6, 7, 8, 13, 14, 15, 16, 17, 19, 20, 21, 24, 30, 32, 33, 34, 36, 41, 45, 47, 48, 50, 53,
                54, 58, 59, 60, 61, 62)


def ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(x.size)
    r[order] = np.arange(x.size, dtype=np.float64)
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=r)
    return sums[inv] / counts[inv]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = ranks(a), ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    return float((ra @ rb) / np.sqrt((ra @ ra) * (rb @ rb)))


def auc(good: np.ndarray, bad: np.ndarray) -> float:
    """P(score of a good face > score of a bad face), ties counted half."""
    r = ranks(np.concatenate([good, bad]))
    n1, n2 = len(good), len(bad)
    return float((r[:n1].sum() + n1 - n1 * (n1 + 1) / 2) / (n1 * n2))


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
    faces = renderer.render_batch(latents_for_seeds(range(args.n), bundle.config.nz))

    def disc(x: np.ndarray) -> np.ndarray:
        return np.concatenate([renderer.realism_scores(x[i : i + 256]) for i in range(0, len(x), 256)])

    meter = FaceRealism(size)
    d_gen = disc(faces)
    m_gen = -meter.distances(faces)  # higher = more real, like the discriminator
    feats = meter.features(faces)
    nearest = torch.cdist(feats, meter.scale.features).min(dim=1).values.numpy()
    out: dict = {"model": bundle.name, "n": args.n, "image_size": size,
                 "spearman_vs_nearest_real_distance": {  # closer is better, so correlate with -distance
                     "discriminator": spearman(d_gen, -nearest), "manifold": spearman(m_gen, -nearest)},
                 "spearman_discriminator_vs_manifold": spearman(d_gen, m_gen),
                 "manifold_percentile_of_generated": {
                     "median": float(np.median(meter.scale.percentiles(-m_gen)))}}
    if bundle.name == "default" and args.n >= 64:
        broken = np.zeros(64, bool)
        broken[list(BROKEN_SEEDS)] = True
        out["person_labels_seeds_0_63"] = {
            "broken": int(broken.sum()),
            "auc_discriminator": auc(d_gen[:64][~broken], d_gen[:64][broken]),
            "auc_manifold": auc(m_gen[:64][~broken], m_gen[:64][broken]),
        }
    real, _ = synthetic_faces(args.n, size, VALIDATION_SEED)
    real = real.permute(0, 2, 3, 1).contiguous().numpy()
    rng = np.random.default_rng(0)
    d_real, m_real = disc(real), -meter.distances(real)
    out["real_percentile_median"] = float(np.median(meter.scale.percentiles(-m_real)))
    out["damaged_real_auc"] = {}
    for kind in ("blob", "smear", "blur"):
        bad = damage(real, kind, rng)
        out["damaged_real_auc"][kind] = {"discriminator": auc(d_real, disc(bad)), "manifold": auc(m_real, -meter.distances(bad))}
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    if args.sheet:
        from PIL import Image

        rows = []
        for name, s in (("discriminator", d_gen), ("manifold", m_gen)):
            order = np.argsort(s)
            rows.append(np.concatenate(list(faces[order[:10]]), axis=1))
            rows.append(np.concatenate(list(faces[order[-10:]]), axis=1))
        Image.fromarray(np.concatenate(rows, axis=0)).save(args.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
