"""Does the metric rank what we can rank ourselves? (run by tests/bench/validate_metric.py)

Scores sets whose order of quality is known against the reference set: a second real
set (must score best), blurred and noised copies of it (worse as damage grows), one face
repeated (mode collapse) and pure noise (worst), plus any models given, best first
(e.g. a well-trained model, then an early checkpoint). With models, two generators of
known failure join them: the best model with every latent replaced by one (a collapsed
generator: its output ignores z) and an untrained generator of the same architecture
(random weights: noise-like output). Returns the figures and a list of named checks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import torch

from facestudio.metrics.evaluation import encode_generator, score_features
from facestudio.metrics.factor_encoder import LoadedEncoder, shared_encoder
from facestudio.metrics.evaluation import sample_latents
from facestudio.metrics.proxy_sets import FixedLatentGenerator, add_noise, collapsed_set, gaussian_blur, noise_set
from facestudio.metrics.reference_stats import VALIDATION_SEED, reference_for

BLUR_RADII = (0.5, 1.0, 2.0)
NOISE_SIGMAS = (0.05, 0.1, 0.2)
FIGURES = ("fd", "precision", "recall", "diversity", "factor_tv")
REAL = "real (second held-out set)"
COLLAPSED_SET = "collapsed (one face, tiny noise)"
PURE_NOISE = "pure noise"
COLLAPSED_GENERATOR = "collapsed generator (best model, one latent for all)"
UNTRAINED_GENERATOR = "untrained generator (random weights)"


def proxy_sets(real: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
    """Named image sets of known relative quality, built from real uint8 faces."""
    n, size = real.shape[0], real.shape[-1]
    sets = {REAL: real}
    for r in BLUR_RADII:
        sets[f"blur radius {r:g}"] = gaussian_blur(real, r)
    for s in NOISE_SIGMAS:
        sets[f"noise sigma {s:g}"] = add_noise(real, s, seed)
    sets[COLLAPSED_SET] = collapsed_set(real, n, seed=seed)
    sets[PURE_NOISE] = noise_set(n, size, seed)
    return sets


def _row(name: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, **{k: figures[k] for k in FIGURES}}


def _checks(rows: list[dict[str, Any]], model_names: Sequence[str]) -> list[dict[str, Any]]:
    fd = {r["name"]: r["fd"] for r in rows}
    by_name = {r["name"]: r for r in rows}
    blur = [f"blur radius {r:g}" for r in BLUR_RADII]
    noise = [f"noise sigma {s:g}" for s in NOISE_SIGMAS]
    worst = [COLLAPSED_SET, PURE_NOISE]

    def caught(name: str) -> bool:
        return by_name[name]["diversity"] < 0.2 and by_name[name]["recall"] < 0.05

    checks = [
        ("real data has the lowest FD", all(fd[REAL] < v for k, v in fd.items() if k != REAL)),
        ("FD grows with blur radius 0.5 < 1 < 2", fd[REAL] < fd[blur[0]] < fd[blur[1]] < fd[blur[2]]),
        ("FD grows with noise sigma 0.05 < 0.1 < 0.2", fd[REAL] < fd[noise[0]] < fd[noise[1]] < fd[noise[2]]),
        ("collapse and noise are worse than every damaged copy", min(fd[w] for w in worst) > max(fd[k] for k in blur + noise)),
        ("collapse is caught: diversity < 0.2 and recall < 0.05", caught(COLLAPSED_SET)),
    ]
    if model_names:
        chain = [REAL, *model_names, COLLAPSED_GENERATOR, PURE_NOISE]
        checks.append(("real < models in the given order (best first) < collapsed generator < pure noise",
                       all(fd[a] < fd[b] for a, b in zip(chain, chain[1:]))))
        checks.append(("every model beats the collapsed and untrained generators",
                       max(fd[m] for m in model_names) < min(fd[COLLAPSED_GENERATOR], fd[UNTRAINED_GENERATOR])))
        checks.append(("the collapsed generator is caught: diversity < 0.2 and recall < 0.05", caught(COLLAPSED_GENERATOR)))
    return [{"check": name, "ok": bool(ok)} for name, ok in checks]


def _model_entry(entry: str | Path | tuple[str, str | Path]) -> tuple[str | None, Path]:
    if isinstance(entry, tuple):
        return entry[0], Path(entry[1])
    return None, Path(entry)


def validate_metric(
    n: int,
    size: int = 64,
    models: Sequence[str | Path | tuple[str, str | Path]] = (),
    *,
    encoder: LoadedEncoder | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Score proxies (and models, best first: paths or (label, path)) against the reference set.

    Returns the figures (`rows`), the `checks` and how the sets were made.
    """
    from facestudio.data.synthetic_faces import synthetic_faces
    from facestudio.models import load_model, new_bundle

    t0 = time.perf_counter()
    enc = encoder if encoder is not None else shared_encoder()
    reference = reference_for(enc, size, n)
    real, _ = synthetic_faces(n, size, VALIDATION_SEED)
    rows = []
    for name, images in proxy_sets(real, seed).items():
        features, _, readings = enc.encoder.encode(images)
        rows.append(_row(name, score_features(enc, reference, features, readings)))
    del real

    def add_generator(name: str, generator: Any) -> None:
        features, readings, model_size = encode_generator(enc, generator, n, seed)
        if model_size != size:
            raise ValueError(f"{name} makes {model_size} px faces; run the validation with --size {model_size}")
        rows.append(_row(name, score_features(enc, reference, features, readings)))

    model_names, best = [], None
    for entry in models:
        label, path = _model_entry(entry)
        bundle = load_model(path)
        name = f"{label or 'model'}: {path.name}"
        model_names.append(name)
        add_generator(name, bundle.viewing_generator)
        best = best or bundle
    if best is not None:
        z0 = sample_latents(best.config.nz, 1, seed + 1)[0]
        add_generator(COLLAPSED_GENERATOR, FixedLatentGenerator(best.viewing_generator, z0))
        add_generator(UNTRAINED_GENERATOR, new_bundle(best.config, seed=seed, with_discriminator=False).generator)
    return {
        "n": n,
        "image_size": size,
        "encoder": enc.sha256[:12],
        "reference": reference.describe(),
        "second_real_set": f"synthetic_faces(n={n}, size={size}, seed={VALIDATION_SEED})",
        "models": [str(_model_entry(m)[1]) for m in models],
        "latent_seed": seed,
        "rows": rows,
        "checks": _checks(rows, model_names),
        "seconds": time.perf_counter() - t0,
    }


def validation_table(result: dict[str, Any]) -> str:
    """Markdown table of the rows, then the checks."""
    lines = [
        f"n = {result['n']} faces per set, {result['image_size']} px, encoder {result['encoder']}, "
        f"reference {result['reference']['faces']}",
        "",
        "| set | FD ↓ | precision ↑ | recall ↑ | diversity (~1) | factor TV ↓ |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(f"| {r['name']} | {r['fd']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['diversity']:.3f} | {r['factor_tv']:.3f} |")
    lines.append("")
    lines += [f"- [{'x' if c['ok'] else ' '}] {c['check']}" for c in result["checks"]]
    return "\n".join(lines)
