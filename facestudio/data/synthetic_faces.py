"""The built-in synthetic face data set: a procedural renderer of varied cartoon people.

Every face is drawn from a small set of labelled factors (face shape, skin tone, hair style
and colour, eyes, brows, nose, mouth and smile, glasses, beard, head yaw, lighting,
background...). The same seed always gives the same face, and `render_from_factors`
redraws a face with one factor changed and every other one kept, which is how attribute
directions found in a GAN's latent space can be checked against ground truth.

The factors are in face_factors.py, the drawing primitives (canvas, head, shading) in
face_drawing.py and the features (hair, eyes, nose, ...) in face_features.py; this module
composes a face from them and prepares and caches whole data sets.

`synthetic_faces(n, size, seed)` prepares a whole data set: face i is drawn from a seed
derived from (seed, i), so the first k faces of a large set equal a small set. Rendering
runs in a spawn-safe process pool and the result is cached on disk (atomic write,
validated on load, re-rendered if damaged), so preparing 10,000 faces costs seconds once
and a fraction of a second afterwards.

This module imports numpy and Pillow only at import time; torch is imported inside
`synthetic_faces`, which keeps pool workers light.
"""

from __future__ import annotations

import colorsys
import logging
import multiprocessing
import os
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from facestudio.atomic_file import atomic_open
from facestudio.cache_dir import cache_dir
from facestudio.data.face_drawing import (
    SKIN, SUPERSAMPLE, Canvas, Head, bezier, draw_background, hair_colour, lerp_palette, mix, shade_figure, to_rgba,
)
from facestudio.data.face_factors import (
    BEARD_STYLES, FACTOR_INDEX, FACTOR_NAMES, FACTORS, HAIR_HUES, HAIR_STYLES, FactorSpec, face_seed, factor_vector, sample_factors,
)
from facestudio.data.face_features import (
    draw_back_hair, draw_beard, draw_brow, draw_eye, draw_front_hair, draw_glasses, draw_mouth, draw_nose,
)

log = logging.getLogger(__name__)

#: Bump whenever a change to the drawing changes pixels: it keys the on-disk cache.
RENDERER_VERSION = 1

SIZES = (32, 64, 128)


def render_from_factors(factors: dict[str, Any], size: int = 64, omit: frozenset[str] = frozenset()) -> np.ndarray:
    """Draw the face described by `factors` (as from `sample_factors`): uint8 (size, size, 3).

    Change one entry and keep the rest to vary one factor with all others fixed. `omit`
    leaves parts out (only "eyes" so far): the face-defect detector composites such
    renders into whole ones to make realistic broken faces (`metrics.face_defects`).
    """
    if size not in SIZES and not (16 <= size <= 512):
        raise ValueError(f"size must be one of {SIZES} (or 16..512), not {size}")
    if not set(omit) <= {"eyes"}:
        raise ValueError(f"only the eyes can be left out, not {sorted(set(omit) - {'eyes'})}")
    f = dict(factors)
    f.setdefault("shirt_hue", 0.6)
    f.setdefault("detail_seed", 0)
    for spec in FACTORS:
        if spec.kind == "continuous":
            f[spec.name] = float(np.clip(f[spec.name], spec.low, spec.high))
        else:
            f[spec.name] = int(np.clip(int(f[spec.name]), 0, max(1, spec.classes) - 1 if spec.kind == "categorical" else 1))
    rng = np.random.default_rng(int(f.get("detail_seed", 0)))
    cv = Canvas(size, draw_background(f, size))
    head = Head(f, rng)
    skin = lerp_palette(SKIN, f["skin_tone"])
    hair = hair_colour(HAIR_HUES[f["hair_hue"]], f["hair_darkness"], rng)
    style = HAIR_STYLES[f["hair_style"]]
    a, b, cx, cy = head.a, head.b, head.cx, head.cy

    draw_back_hair(cv, head, style, hair, rng)
    # shoulders and neck
    shirt = np.array(colorsys.hsv_to_rgb(f["shirt_hue"], 0.25 + 0.5 * rng.random(), 0.35 + 0.55 * rng.random())) * 255
    sh_y = cy + b * 1.45
    cv.ellipse(0.5 + 0.02 * head.sin, sh_y + 0.2, 0.42, 0.24, to_rgba(shirt, 1))
    nw = a * 0.46
    ncx = cx - 0.01 * head.sin
    cv.poly([(ncx - nw, cy + b * 0.5), (ncx + nw, cy + b * 0.5), (ncx + nw * 1.1, sh_y + 0.01),
             (ncx, sh_y + 0.06 + 0.03 * rng.random()), (ncx - nw * 1.1, sh_y + 0.01)], to_rgba(skin * 0.86, 1))
    cv.ellipse(ncx, cy + b * 0.95, nw * 1.1, 0.03, to_rgba(skin * 0.62, 0.55))  # shadow under the chin
    # ears (hidden when turned away)
    for sgn in (-1, 1):
        if head.visible(sgn * 1.0, 0.0):
            ex = head.fx(sgn * 1.0, 0.0) + sgn * 0.004
            cv.ellipse(ex, head.eye_y + 0.03, 0.026 * max(0.5, head.squash(-sgn * 0.9) * 0.8), 0.045, to_rgba(skin * 0.92, 1))
            cv.ellipse(ex + sgn * 0.004, head.eye_y + 0.03, 0.012 * max(0.5, head.squash(-sgn * 0.9) * 0.8), 0.026, to_rgba(skin * 0.72, 0.8))
    cv.poly(head.outline(1.0, 80), to_rgba(skin, 1))
    # cheeks
    blush = 0.12 + 0.25 * f["smile"]
    for sgn in (-1, 1):
        u = sgn * 0.55
        cv.ellipse(head.fx(u), head.eye_y + 0.075, 0.03 * head.squash(u), 0.02, to_rgba(mix(skin, (230, 90, 100), 0.5), blush))
    if f["beard"]:
        beard_col = hair if HAIR_HUES[f["hair_hue"]] != "dyed" else hair_colour("natural", f["hair_darkness"], rng)
        draw_beard(cv, head, f, beard_col * 0.85, skin, rng)
    draw_nose(cv, head, f, skin, f["light"])
    draw_mouth(cv, head, f, skin, rng)
    if f["beard"] and BEARD_STYLES[f["beard_style"]] in ("full", "goatee", "moustache"):
        # the moustache sits over the upper lip
        mx = head.fx(0.0, 1.0); my = head.eye_y + 0.145
        mo = np.concatenate([
            bezier((mx - 0.056 * head.squash(-0.3), my + 0.006), (mx - 0.03, my - 0.032), (mx, my - 0.018), 8),
            bezier((mx, my - 0.018), (mx + 0.03, my - 0.032), (mx + 0.056 * head.squash(0.3), my + 0.006), 8),
            bezier((mx + 0.056 * head.squash(0.3), my + 0.006), (mx + 0.03, my - 0.01), (mx, my - 0.009), 6),
            bezier((mx, my - 0.009), (mx - 0.03, my - 0.01), (mx - 0.056 * head.squash(-0.3), my + 0.006), 6),
        ])
        cv.poly(mo, to_rgba(beard_col * 0.75, 1))
    eye_u = 0.36 + 0.06 * rng.random()
    for u in (-eye_u, eye_u):
        if "eyes" not in omit:  # draw_eye takes nothing from rng: the rest stays as in the whole face
            draw_eye(cv, head, u, f, skin, rng)
    brow_col = hair * 0.75 if HAIR_HUES[f["hair_hue"]] != "dyed" else hair_colour("natural", 0.7, rng)
    if style == "bald" and f["hair_darkness"] < 0.3:
        brow_col = mix(hair, (90, 70, 60), 0.5)
    draw_front_hair(cv, head, style, hair, rng)
    for u in (-eye_u, eye_u):
        draw_brow(cv, head, u, f, brow_col, rng)
    if f["glasses"]:
        draw_glasses(cv, head, f, eye_u, rng)

    img = np.asarray(cv.img.resize((size, size), Image.LANCZOS), dtype=np.float32)
    mask = np.asarray(cv.mask.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0
    out = shade_figure(img, mask, head, f["light"])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def render_face(seed: int, size: int = 64) -> tuple[np.ndarray, dict[str, Any]]:
    """The face of `seed`: (uint8 array (size, size, 3), its factors dict)."""
    rng = np.random.default_rng(int(seed))
    factors = sample_factors(rng)
    return render_from_factors(factors, size), factors


# --------------------------------------------------------------------------- data set


def _render_range(args: tuple[int, int, int, int]) -> tuple[int, np.ndarray, np.ndarray]:
    """Pool worker: faces start..stop of the set with `seed`, as (start, images NHWC, labels)."""
    seed, start, stop, size = args
    imgs = np.empty((stop - start, size, size, 3), dtype=np.uint8)
    labels = np.empty((stop - start, len(FACTORS)), dtype=np.float32)
    for k, i in enumerate(range(start, stop)):
        img, fac = render_face(face_seed(seed, i), size)
        imgs[k] = img
        labels[k] = factor_vector(fac)
    return start, imgs, labels


def _cache_path(n: int, size: int, seed: int) -> Path:
    return cache_dir() / "synthetic" / f"faces-r{RENDERER_VERSION}-s{size}-seed{seed}-n{n}.npz"


def _read_cache(path: Path, n: int, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The first n faces of a cache file, or None if it is missing, damaged or does not fit."""
    try:
        with np.load(path, allow_pickle=False) as z:
            imgs, labels, version = z["images"], z["labels"], z["version"]
            names = [str(s) for s in z["factor_names"]]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("ignoring damaged synthetic face cache %s (%s); rendering again", path, exc)
        return None
    ok = (
        imgs.dtype == np.uint8 and imgs.ndim == 4 and imgs.shape[0] >= n and imgs.shape[1:] == (size, size, 3)
        and labels.dtype == np.float32 and labels.shape == (imgs.shape[0], len(FACTORS))
        and int(version) == RENDERER_VERSION and tuple(names) == FACTOR_NAMES
        and bool(np.isfinite(labels[:n]).all())
    )
    if not ok:
        log.warning("ignoring synthetic face cache %s: contents do not match; rendering again", path)
        return None
    return imgs[:n], labels[:n]


def _write_cache(path: Path, imgs: np.ndarray, labels: np.ndarray) -> None:
    with atomic_open(path, "wb") as fh:
        np.savez(fh, images=imgs, labels=labels, version=np.int64(RENDERER_VERSION),
                 factor_names=np.array(FACTOR_NAMES))


def _find_cache(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    exact = _cache_path(n, size, seed)
    if exact.exists():
        got = _read_cache(exact, n, size)
        if got is not None:
            return got
    # a larger set with the same seed starts with the same faces
    folder = exact.parent
    if folder.is_dir():
        prefix = f"faces-r{RENDERER_VERSION}-s{size}-seed{seed}-n"
        bigger = []
        for p in folder.glob(prefix + "*.npz"):
            try:
                m = int(p.name[len(prefix):-4])
            except ValueError:
                continue
            if m > n:
                bigger.append((m, p))
        for _, p in sorted(bigger):
            got = _read_cache(p, n, size)
            if got is not None:
                return got
    return None


def render_faces(n: int, size: int = 64, seed: int = 0, workers: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Render faces 0..n-1 of the set `seed` without any cache: (uint8 NHWC, float32 labels).

    `progress(done, n)` is called after each chunk of faces (on this thread).
    """
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    chunk = 250
    jobs = [(seed, s, min(n, s + chunk), size) for s in range(0, n, chunk)]
    imgs = np.empty((n, size, size, 3), dtype=np.uint8)
    labels = np.empty((n, len(FACTORS)), dtype=np.float32)
    if workers <= 1 or n < 200:
        parts = map(_render_range, jobs)
        done = 0
        for start, im, lb in parts:
            imgs[start:start + len(im)] = im
            labels[start:start + len(lb)] = lb
            done += len(im)
            if progress is not None:
                progress(done, n)
        return imgs, labels
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes=workers) as pool:
        done = 0
        for start, im, lb in pool.imap_unordered(_render_range, jobs):
            imgs[start:start + len(im)] = im
            labels[start:start + len(lb)] = lb
            done += len(im)
            if progress is not None:
                progress(done, n)
        pool.close()
        pool.join()
    return imgs, labels


def synthetic_faces(n: int, size: int = 64, seed: int = 0, workers: int | None = None, cache: bool = True,
                    progress: Callable[[int, int], None] | None = None):
    """The synthetic data set: (torch uint8 tensor (n, 3, size, size), float32 labels (n, F)).

    Face i is `render_face(face_seed(seed, i), size)`. The set is read from the on-disk
    cache when present and valid, else rendered (in `workers` processes; default: up to
    2) and cached atomically. `progress(done, n)` reports faces ready (a cache hit: once, n of n).
    """
    import torch

    if n < 1:
        raise ValueError("n must be at least 1")
    got = _find_cache(n, size, seed) if cache else None
    if got is None:
        imgs, labels = render_faces(n, size, seed, workers, progress)
        if cache:
            try:
                _write_cache(_cache_path(n, size, seed), imgs, labels)
            except Exception as exc:  # a cache that cannot be written only costs time
                log.warning("could not write the synthetic face cache: %s", exc)
    else:
        imgs, labels = got
        if progress is not None:
            progress(n, n)
    tensor = torch.from_numpy(np.ascontiguousarray(imgs.transpose(0, 3, 1, 2)))
    return tensor, np.ascontiguousarray(labels)


__all__ = [
    "FACTORS", "FACTOR_NAMES", "FACTOR_INDEX", "FactorSpec", "RENDERER_VERSION", "factor_vector", "sample_factors",
    "render_face", "render_from_factors", "synthetic_faces", "render_faces", "face_seed", "cache_dir",
]
