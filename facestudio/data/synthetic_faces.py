"""The built-in synthetic face data set: a procedural renderer of varied cartoon people.

Every face is drawn from a small set of labelled factors (face shape, skin tone, hair style
and colour, eyes, brows, nose, mouth and smile, glasses, beard, head yaw, lighting,
background...). The same seed always gives the same face, and `render_from_factors`
redraws a face with one factor changed and every other one kept, which is how attribute
directions found in a GAN's latent space can be checked against ground truth.

Drawing happens with Pillow's ImageDraw on a canvas four times the target size; the
figure is then shaded by a light from the side (a head-shaped normal field), composited
on the background and reduced with LANCZOS, which gives smooth anti-aliased edges.

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
import io
import logging
import math
import multiprocessing
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from facestudio.atomic_file import atomic_open

log = logging.getLogger(__name__)

#: Bump whenever a change to the drawing changes pixels: it keys the on-disk cache.
RENDERER_VERSION = 1

#: Supersampling factor: faces are drawn at SUPERSAMPLE x size and reduced with LANCZOS.
SUPERSAMPLE = 4

SIZES = (32, 64, 128)


# --------------------------------------------------------------------------- factors


@dataclass(frozen=True)
class FactorSpec:
    """One labelled factor of variation.

    kind is 'binary' (0 or 1), 'continuous' (a float in [low, high]) or 'categorical'
    (a class index 0..classes-1; `class_names` says what each index means).
    """

    name: str
    kind: str
    classes: int = 0
    low: float = 0.0
    high: float = 1.0
    class_names: tuple[str, ...] = ()
    note: str = ""


FACE_SHAPES = ("oval", "round", "square", "heart", "long")
HAIR_STYLES = ("bald", "buzz", "short", "side_part", "bangs", "bob", "long", "curly", "bun", "spiky")
HAIR_HUES = ("natural", "red", "grey", "dyed")
EYE_SHAPES = ("round", "almond", "narrow", "hooded")
EYE_COLOURS = ("brown", "dark_brown", "blue", "green", "grey", "hazel")
BROW_STYLES = ("thin", "thick", "arched", "angled")
NOSE_STYLES = ("button", "long", "wide", "pointed")
GLASSES_STYLES = ("round", "rectangular", "sunglasses")
BEARD_STYLES = ("full", "goatee", "moustache", "stubble")
BACKGROUNDS = ("flat", "gradient", "spotlight")


def _cat(name: str, names: tuple[str, ...], note: str = "") -> FactorSpec:
    return FactorSpec(name, "categorical", classes=len(names), low=0.0, high=float(len(names) - 1), class_names=names, note=note)


FACTORS: tuple[FactorSpec, ...] = (
    _cat("face_shape", FACE_SHAPES),
    FactorSpec("face_width", "continuous", note="0 narrow .. 1 wide"),
    FactorSpec("skin_tone", "continuous", note="0 pale .. 1 deep brown"),
    _cat("hair_style", HAIR_STYLES),
    _cat("hair_hue", HAIR_HUES),
    FactorSpec("hair_darkness", "continuous", note="0 light (blond, white) .. 1 black"),
    _cat("eye_shape", EYE_SHAPES),
    _cat("eye_colour", EYE_COLOURS),
    FactorSpec("eye_size", "continuous"),
    _cat("brow_style", BROW_STYLES),
    _cat("nose_style", NOSE_STYLES),
    FactorSpec("nose_size", "continuous"),
    FactorSpec("mouth_width", "continuous"),
    FactorSpec("smile", "continuous", note="0 neutral/slight frown .. 1 open grin"),
    FactorSpec("glasses", "binary"),
    _cat("glasses_style", GLASSES_STYLES, note="only visible when glasses = 1"),
    FactorSpec("beard", "binary", note="any facial hair, see beard_style"),
    _cat("beard_style", BEARD_STYLES, note="only visible when beard = 1"),
    FactorSpec("yaw", "continuous", low=-1.0, high=1.0, note="-1 turned to the viewer's left .. 1 to the right"),
    FactorSpec("light", "continuous", low=-1.0, high=1.0, note="-1 lit from the viewer's left .. 1 from the right"),
    _cat("background", BACKGROUNDS),
    FactorSpec("background_hue", "continuous"),
)

FACTOR_NAMES: tuple[str, ...] = tuple(f.name for f in FACTORS)
FACTOR_INDEX: dict[str, int] = {name: i for i, name in enumerate(FACTOR_NAMES)}

#: Keys of a factors dict that are not labels but still needed to redraw a face exactly.
EXTRA_KEYS = ("shirt_hue", "detail_seed")


def factor_vector(factors: dict[str, Any]) -> np.ndarray:
    """The numeric label of a face: one float32 per entry of FACTORS, in that order.

    Binary factors are 0/1, continuous ones their value, categorical ones the class index.
    """
    out = np.empty(len(FACTORS), dtype=np.float32)
    for i, spec in enumerate(FACTORS):
        out[i] = float(factors[spec.name])
    return out


def sample_factors(rng: np.random.Generator) -> dict[str, Any]:
    """Draw one face's factors (all FACTORS plus EXTRA_KEYS) from `rng`."""
    f: dict[str, Any] = {}
    f["face_shape"] = int(rng.integers(len(FACE_SHAPES)))
    f["face_width"] = float(rng.random())
    f["skin_tone"] = float(rng.beta(1.3, 1.3))
    f["hair_style"] = int(rng.choice(len(HAIR_STYLES), p=[0.07, 0.09, 0.14, 0.12, 0.12, 0.1, 0.13, 0.1, 0.07, 0.06]))
    f["hair_hue"] = int(rng.choice(len(HAIR_HUES), p=[0.72, 0.1, 0.1, 0.08]))
    if HAIR_HUES[f["hair_hue"]] == "grey":
        f["hair_darkness"] = float(rng.uniform(0.0, 0.45))
    elif HAIR_HUES[f["hair_hue"]] == "red":
        f["hair_darkness"] = float(rng.uniform(0.2, 0.65))
    else:
        f["hair_darkness"] = float(rng.random() ** 0.7)
    f["eye_shape"] = int(rng.integers(len(EYE_SHAPES)))
    f["eye_colour"] = int(rng.choice(len(EYE_COLOURS), p=[0.3, 0.25, 0.15, 0.1, 0.08, 0.12]))
    f["eye_size"] = float(rng.random())
    f["brow_style"] = int(rng.integers(len(BROW_STYLES)))
    f["nose_style"] = int(rng.integers(len(NOSE_STYLES)))
    f["nose_size"] = float(rng.random())
    f["mouth_width"] = float(rng.random())
    f["smile"] = float(rng.random())
    f["glasses"] = int(rng.random() < 0.3)
    f["glasses_style"] = int(rng.integers(len(GLASSES_STYLES)))
    f["beard"] = int(rng.random() < 0.3)
    f["beard_style"] = int(rng.integers(len(BEARD_STYLES)))
    f["yaw"] = float(np.clip(rng.normal(0.0, 0.45), -1.0, 1.0))
    f["light"] = float(rng.uniform(-1.0, 1.0))
    f["background"] = int(rng.integers(len(BACKGROUNDS)))
    f["background_hue"] = float(rng.random())
    f["shirt_hue"] = float(rng.random())
    f["detail_seed"] = int(rng.integers(2**31 - 1))
    return f


def face_seed(seed: int, index: int) -> int:
    """The seed of face `index` in the data set with seed `seed`."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index)]).generate_state(1)[0])


# --------------------------------------------------------------------------- colours

_SKIN = np.array(
    [(255, 226, 204), (244, 203, 172), (228, 178, 140), (204, 145, 104), (168, 110, 74), (124, 80, 52), (86, 55, 38)],
    dtype=np.float64,
)
_EYE_RGB = {
    "brown": (112, 68, 34), "dark_brown": (62, 38, 22), "blue": (62, 118, 178),
    "green": (66, 128, 78), "grey": (118, 128, 138), "hazel": (142, 112, 52),
}


def _lerp_palette(palette: np.ndarray, t: float) -> np.ndarray:
    x = float(np.clip(t, 0.0, 1.0)) * (len(palette) - 1)
    i = min(int(x), len(palette) - 2)
    w = x - i
    return palette[i] * (1 - w) + palette[i + 1] * w


def _rgb(c) -> tuple[int, int, int]:
    return tuple(min(255, max(0, int(float(v) + 0.5))) for v in c[:3])  # type: ignore[return-value]


def _rgba(c, a: float) -> tuple[int, int, int, int]:
    return (*_rgb(c), min(255, max(0, int(a * 255 + 0.5))))


def _mix(c1, c2, t: float) -> np.ndarray:
    return np.asarray(c1, dtype=np.float64) * (1 - t) + np.asarray(c2, dtype=np.float64) * t


def _hair_colour(hue_kind: str, darkness: float, rng: np.random.Generator) -> np.ndarray:
    d = float(np.clip(darkness, 0, 1))
    if hue_kind == "grey":
        v = 235 - 150 * d
        return np.array([v, v, v * 1.02])
    if hue_kind == "red":
        base = _mix((232, 128, 62), (120, 42, 20), d)
        return base
    if hue_kind == "dyed":
        h = rng.choice([0.58, 0.83, 0.93, 0.45, 0.75])
        r, g, b = colorsys.hsv_to_rgb(h, 0.6, 0.95 - 0.55 * d)
        return np.array([r, g, b]) * 255
    # natural: platinum -> golden blond -> brown -> black
    pal = np.array([(246, 226, 168), (214, 170, 96), (140, 92, 52), (82, 54, 34), (30, 24, 22)], dtype=np.float64)
    return _lerp_palette(pal, d)


# --------------------------------------------------------------------------- drawing


class _Canvas:
    """Drawing in normalised units (0..1 across the canvas) on a supersampled RGB image.

    Semi-transparent fills blend with what is already drawn. Opaque fills also mark the
    figure mask (person vs background), which later receives the side light. A zoom
    about the head centre scales every coordinate and width.
    """

    ZOOM = 1.12
    OX, OY = 0.5, 0.47

    def __init__(self, size: int, background: Image.Image):
        self.px = size * SUPERSAMPLE
        self.img = background
        self.draw = ImageDraw.Draw(self.img, "RGBA")
        self.mask = Image.new("L", (self.px, self.px), 0)
        self.mdraw = ImageDraw.Draw(self.mask)
        self.k = self.px * self.ZOOM

    def _xy(self, pts) -> list[tuple[float, float]]:
        pts = np.asarray(pts, dtype=np.float64)
        x = (pts[:, 0] - self.OX) * self.k + self.OX * self.px
        y = (pts[:, 1] - self.OY) * self.k + self.OY * self.px
        return list(zip(x.tolist(), y.tolist()))

    def _box(self, cx, cy, rx, ry) -> list[float]:
        x = (cx - self.OX) * self.k + self.OX * self.px
        y = (cy - self.OY) * self.k + self.OY * self.px
        return [x - rx * self.k, y - ry * self.k, x + rx * self.k, y + ry * self.k]

    def poly(self, pts, fill) -> None:
        xy = self._xy(pts)
        self.draw.polygon(xy, fill=fill)
        if len(fill) < 4 or fill[3] >= 230:
            self.mdraw.polygon(xy, fill=255)

    def ellipse(self, cx, cy, rx, ry, fill, outline=None, width=0.0) -> None:
        box = self._box(cx, cy, rx, ry)
        w = max(1, int(round(width * self.k))) if outline else 0
        self.draw.ellipse(box, fill=fill, outline=outline, width=w)
        if fill is not None and (len(fill) < 4 or fill[3] >= 230):
            self.mdraw.ellipse(box, fill=255)

    def rounded_rect(self, cx, cy, rx, ry, radius, fill, outline, width) -> None:
        self.draw.rounded_rectangle(self._box(cx, cy, rx, ry), radius=radius * self.k, fill=fill, outline=outline,
                                    width=max(1, int(round(width * self.k))))

    def line(self, pts, fill, width: float) -> None:
        xy = self._xy(pts)
        w = max(1, int(round(width * self.k)))
        self.draw.line(xy, fill=fill, width=w, joint="curve")
        r = w / 2.0
        for q in (xy[0], xy[-1]):  # round caps
            self.draw.ellipse([q[0] - r, q[1] - r, q[0] + r, q[1] + r], fill=fill)

    def ribbon(self, pts, widths, fill) -> None:
        """A stroke with varying width along a polyline (tapered brows, lids, locks)."""
        pts = np.asarray(pts, dtype=np.float64)
        widths = np.broadcast_to(np.asarray(widths, dtype=np.float64), (len(pts),))
        d = np.gradient(pts, axis=0)
        n = np.stack([-d[:, 1], d[:, 0]], axis=1)
        n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-9
        a = pts + n * widths[:, None] / 2
        b = pts - n * widths[:, None] / 2
        self.poly(np.concatenate([a, b[::-1]]), fill)


def _bezier(p0, p1, p2, n: int = 16) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2 = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


class _Head:
    """Geometry of one head: outline, and a yaw projection for features on the face."""

    def __init__(self, f: dict[str, Any], rng: np.random.Generator):
        shape = FACE_SHAPES[f["face_shape"]]
        w = 0.8 + 0.4 * f["face_width"]
        a, b = 0.205 * w, 0.265
        self.jaw_p, self.top_p, self.chin_w = 2.0, 2.1, 1.0
        if shape == "round":
            a *= 1.08; b *= 0.94; self.jaw_p = 2.1
        elif shape == "square":
            a *= 1.04; self.jaw_p = 3.4
        elif shape == "heart":
            a *= 1.04; self.jaw_p = 1.55; self.chin_w = 0.86
        elif shape == "long":
            a *= 0.9; b *= 1.09; self.jaw_p = 2.2
        self.a, self.b = a, b
        self.theta = 0.62 * f["yaw"]
        self.sin, self.cos = math.sin(self.theta), math.cos(self.theta)
        self.cx = 0.5 + 0.03 * self.sin + rng.normal(0, 0.006)
        self.cy = 0.47 + rng.normal(0, 0.006)
        self.eye_y = self.cy + 0.0 * b

    def outline(self, scale: float = 1.0, n: int = 72, t0: float = 0.0, t1: float = 2 * math.pi) -> np.ndarray:
        """Points of the face outline; t=0 is the right side, t=pi/2 the chin, -pi/2 the top."""
        t = np.linspace(t0, t1, n)
        c, s = np.cos(t), np.sin(t)
        lower = s > 0
        p = np.where(lower, self.jaw_p, self.top_p)
        u = np.sign(c) * np.abs(c) ** (2 / p)
        v = np.sign(s) * np.abs(s) ** (2 / p)
        # jaw narrowing towards the chin
        u = u * np.where(lower, 1 - (1 - self.chin_w) * v**2, 1.0)
        x = self.project(u, 0.45 * np.sqrt(np.clip(1 - u**2, 0, 1)), side=True)
        # the back of the skull shows on the side the face turns away from
        back = (u * self.sin < 0) & (v < 0.35)
        x = x + np.where(back, np.sign(u) * 0.16 * abs(self.sin) * (1 - np.clip(v, -1, 1) ** 2) * 0.8, 0.0)
        return np.stack([self.cx + self.a * scale * x, self.cy + self.b * scale * v], axis=1)

    def project(self, u, z, side: bool = False):
        """Screen x (in units of a) of a face point at across-position u and depth z."""
        return u * self.cos + z * self.sin

    def fx(self, u: float, z: float | None = None) -> float:
        """Screen x of a feature at across-position u (-1..1) on the face surface."""
        if z is None:
            z = math.sqrt(max(0.0, 1 - u * u))
        return self.cx + self.a * self.project(u, z)

    def squash(self, u: float) -> float:
        """Horizontal foreshortening of a feature at u: 1 facing us, smaller turned away."""
        z = math.sqrt(max(0.05, 1 - u * u))
        return float(np.clip(self.cos - u * self.sin / z, 0.3, 1.15))

    def visible(self, u: float, z: float) -> bool:
        return (z * self.cos - u * self.sin) > -0.05


def _background(f: dict[str, Any], size: int) -> Image.Image:
    """The background, computed at the target size and enlarged to the drawing canvas."""
    h = f["background_hue"]
    rng = np.random.default_rng(f["detail_seed"] + 1)
    sat = 0.18 + 0.35 * rng.random()
    val = 0.55 + 0.38 * rng.random()
    c1 = np.array(colorsys.hsv_to_rgb(h, sat, val), dtype=np.float32) * 255
    style = BACKGROUNDS[f["background"]]
    px = size * SUPERSAMPLE
    if style == "flat":
        return Image.new("RGB", (px, px), _rgb(c1))
    yy, xx = _grid(size)
    if style == "gradient":
        c2 = np.array(colorsys.hsv_to_rgb((h + 0.08) % 1.0, min(1, sat + 0.1), val * 0.6), dtype=np.float32) * 255
        t = yy[..., None]
        arr = c1 * (1 - t) + c2 * t
    else:  # spotlight: bright behind the head, darker corners, brighter on the lit side
        lx = 0.5 + 0.22 * f["light"]
        t = np.clip(((xx - lx) ** 2 + (yy - 0.42) ** 2) / 0.5, 0, 1)[..., None]
        arr = c1 * (1 - 0.55 * t)
    img = Image.fromarray((arr + 0.5).astype(np.uint8), "RGB")
    return img.resize((px, px), Image.BILINEAR)


def _draw_back_hair(cv: _Canvas, head: _Head, style: str, col, rng) -> None:
    a, b, cx, cy = head.a, head.b, head.cx, head.cy
    fill = _rgba(col * 0.82, 1)
    if style in ("long", "bob"):
        bottom = cy + (b * 1.55 if style == "long" else b * 0.85)
        width = a * (1.28 if style == "long" else 1.22)
        top = head.outline(1.12, 40, math.pi, 2 * math.pi)
        pts = np.concatenate([
            [[cx - width, bottom]],
            top,
            [[cx + width, bottom]],
        ])
        if style == "long":  # a slightly ragged lower edge
            xs = np.linspace(cx + width, cx - width, 9)
            ys = bottom + rng.uniform(-0.015, 0.02, 9)
            pts = np.concatenate([pts, np.stack([xs, ys], 1)])
        cv.poly(pts, fill)
    elif style == "curly":
        for _ in range(34):
            t = rng.uniform(math.pi * 0.92, math.pi * 2.08)
            r = rng.uniform(1.08, 1.32)
            x = cx + a * 1.15 * r * math.cos(t)
            y = cy - 0.02 + b * 1.0 * r * math.sin(t)
            rr = rng.uniform(0.045, 0.07)
            shade = rng.uniform(0.72, 0.95)
            cv.ellipse(x, y, rr, rr, _rgba(col * shade, 1))
    elif style == "bun":
        bx = cx + 0.02 * head.sin
        cv.ellipse(bx, cy - b * 1.18, a * 0.42, a * 0.36, fill)


def _draw_front_hair(cv: _Canvas, head: _Head, style: str, col, rng) -> None:
    a, b, cx, cy = head.a, head.b, head.cx, head.cy
    fill = _rgba(col, 1)
    mid = head.fx(0.0)  # forehead centre follows the yaw
    hairline = cy - b * rng.uniform(0.5, 0.62)
    if style == "bald":
        if rng.random() < 0.5:  # a horseshoe of hair on the sides
            for sgn in (-1, 1):
                side = head.outline(1.03, 14, math.pi - 0.15 if sgn < 0 else -0.35, math.pi + 0.5 if sgn < 0 else 0.15)
                inner = side[::-1].copy()
                inner[:, 0] -= sgn * 0.03
                cv.poly(np.concatenate([side, inner]), _rgba(col, 0.95))
        # a little shine on the scalp
        cv.ellipse(cx - 0.25 * a, cy - b * 0.82, a * 0.25, b * 0.08, (255, 255, 255, 38))
        return
    vol = {"buzz": 1.02, "short": 1.08, "side_part": 1.1, "bangs": 1.1, "bob": 1.1, "long": 1.09,
           "curly": 1.12, "bun": 1.04, "spiky": 1.06}[style]
    t_l, t_r = math.pi + 0.08, 2 * math.pi - 0.08
    if style in ("bob", "long", "bangs"):
        t_l, t_r = math.pi - 0.25, 2 * math.pi + 0.25
    cap = head.outline(vol, 48, t_l, t_r)
    # hairline across the forehead (right temple -> centre -> left temple)
    r_temple = np.array([head.cx + a * 0.92 * head.cos, cy - b * 0.18])
    l_temple = np.array([head.cx - a * 0.92 * head.cos, cy - b * 0.18])
    if style == "bangs":
        fringe = cy - b * rng.uniform(0.3, 0.4)
        xs = np.linspace(cap[-1][0] - 0.01, cap[0][0] + 0.01, 12)
        ys = fringe + 0.008 * np.sin(np.linspace(0, 9, 12)) + rng.uniform(-0.004, 0.004, 12)
        inner = np.stack([xs, ys], 1)
    elif style == "side_part":
        part_left = rng.random() < 0.5
        sweep_y = hairline + b * 0.15
        if part_left:
            inner = np.concatenate([_bezier(r_temple, (r_temple[0] - 0.02, sweep_y + 0.02), (mid, sweep_y), 8),
                                    _bezier((mid, sweep_y), (mid - a * 0.6, hairline - 0.05), l_temple + (0, -0.05), 8)])
        else:
            inner = np.concatenate([_bezier(r_temple + (0, -0.05), (mid + a * 0.6, hairline - 0.05), (mid, sweep_y), 8),
                                    _bezier((mid, sweep_y), (l_temple[0] + 0.02, sweep_y + 0.02), l_temple, 8)])
    else:
        dip = 0.0 if style in ("buzz", "bun", "spiky") else rng.uniform(0.0, 0.03)
        inner = np.concatenate([
            _bezier(r_temple, (r_temple[0], hairline), (mid, hairline + dip), 10),
            _bezier((mid, hairline + dip), (l_temple[0], hairline), l_temple, 10),
        ])
    if style in ("bob", "long"):
        # locks framing the face down to the jaw (bob) or below the chin (long)
        low = cy + b * (0.55 if style == "bob" else 0.95)
        r_out = cap[-1]
        l_out = cap[0]
        right = np.array([[r_out[0], low], [r_out[0] - a * 0.28 * head.cos, low - 0.02],
                          [cx + a * 0.8 * head.cos + a * 0.15 * head.sin, cy - b * 0.1]])
        left = np.array([[l_out[0] + a * 0.28 * head.cos, low - 0.02], [l_out[0], low]])
        if style == "long":
            inner = np.array([[cx + a * 0.82 * head.cos + a * 0.15 * head.sin, cy - b * 0.2],
                              [mid + a * 0.25, hairline + 0.01], [mid, hairline - 0.01],
                              [mid - a * 0.25, hairline + 0.01],
                              [cx - a * 0.82 * head.cos + a * 0.15 * head.sin, cy - b * 0.2]])
        pts = np.concatenate([cap, right, inner[::1] if style == "long" else inner, [[cx - a * 0.8 * head.cos + a * 0.15 * head.sin, cy - b * 0.1]], left])
        cv.poly(pts, fill)
    elif style == "buzz":
        cv.poly(np.concatenate([cap, inner]), _rgba(col, 0.78))
    else:
        cv.poly(np.concatenate([cap, inner]), fill)
    if style == "spiky":
        for i in range(9):
            t = math.pi * (1.12 + 0.76 * i / 8)
            base = np.array([cx + a * 1.0 * math.cos(t), cy + b * 1.0 * math.sin(t)])
            out = np.array([cx + a * 1.35 * math.cos(t), cy + b * 1.25 * math.sin(t)]) + rng.normal(0, 0.008, 2)
            perp = np.array([-math.sin(t), math.cos(t)]) * 0.035
            cv.poly([base - perp, out, base + perp], fill)
    if style == "curly":
        for _ in range(16):
            x = mid + rng.uniform(-a * 0.95, a * 0.95)
            y = hairline + rng.uniform(-0.03, 0.015)
            rr = rng.uniform(0.03, 0.045)
            cv.ellipse(x, y, rr, rr, _rgba(col * rng.uniform(0.85, 1.05), 1))
    # a soft highlight on the crown
    if style not in ("buzz",):
        cv.ellipse(cx - 0.15 * a, cy - b * 0.93, a * 0.4, b * 0.06, _rgba(_mix(col, (255, 255, 255), 0.35), 0.35))


def _draw_eye(cv: _Canvas, head: _Head, u: float, f, skin, rng) -> None:
    shape = EYE_SHAPES[f["eye_shape"]]
    ex = head.fx(u)
    ey = head.eye_y
    sq = head.squash(u)
    rx = (0.036 + 0.014 * f["eye_size"]) * sq
    base_ry = 0.036 + 0.014 * f["eye_size"]
    up, lo, p = {"round": (0.8, 0.72, 0.5), "almond": (0.62, 0.42, 0.75), "narrow": (0.36, 0.28, 0.8),
                 "hooded": (0.5, 0.45, 0.6)}[shape]
    up *= base_ry; lo *= base_ry
    tilt = 0.006 if shape == "almond" else 0.0
    side = 1 if u > 0 else -1
    xs = np.linspace(-1, 1, 21)
    prof = np.clip(1 - xs**2, 0, 1) ** p
    upper = np.stack([ex + rx * xs, ey - up * prof - tilt * xs * side], 1)
    lower = np.stack([ex + rx * xs, ey + lo * prof - tilt * xs * side], 1)
    cv.poly(np.concatenate([upper, lower[::-1]]), (250, 248, 244, 255))
    # iris and pupil, clipped to the lids
    gaze = 0.35 * head.sin * rx
    ir = min(base_ry * 0.62, (up + lo) * 0.75) * (1.0 if shape != "narrow" else 1.25)
    t = np.linspace(0, 2 * math.pi, 28)
    ix, iy = ex + gaze, ey + 0.0
    iris = np.stack([ix + ir * sq * np.cos(t), iy + ir * np.sin(t)], 1)

    def clip(pts):
        rel = np.clip((pts[:, 0] - ex) / rx, -1, 1)
        pr = np.clip(1 - rel**2, 0, 1) ** p
        y_top = ey - up * pr - tilt * rel * side
        y_bot = ey + lo * pr - tilt * rel * side
        inside = np.abs(pts[:, 0] - ex) <= rx
        out = pts.copy()
        out[:, 1] = np.clip(pts[:, 1], y_top, y_bot)
        out[~inside, 1] = ey
        return out

    ecol = np.array(_EYE_RGB[EYE_COLOURS[f["eye_colour"]]], dtype=np.float64)
    cv.poly(clip(iris), _rgba(ecol, 1))
    pr_ = ir * 0.48
    pupil = np.stack([ix + pr_ * sq * np.cos(t), iy + pr_ * np.sin(t)], 1)
    cv.poly(clip(pupil), (18, 14, 14, 255))
    hl = 0.35 * ir
    cv.ellipse(ix + (0.25 * f["light"] + 0.2) * ir * sq, iy - 0.35 * ir, hl * 0.6, hl * 0.6, (255, 255, 255, 220))
    # lids: a dark upper lash line, thicker for hooded eyes, a faint lower one
    lid_w = 0.0075 if shape != "hooded" else 0.006
    widths = np.concatenate([np.linspace(0.3, 1.0, 11), np.linspace(1.0, 0.5, 10)]) * lid_w
    if side < 0:
        widths = widths[::-1]
    cv.ribbon(upper, widths, (38, 26, 24, 255))
    if shape == "hooded":
        fold = upper.copy()
        fold[:, 1] -= 0.012
        cv.ribbon(fold[3:-2], 0.009, _rgba(skin * 0.78, 0.85))
    cv.ribbon(lower[4:-4], 0.0025, _rgba(skin * 0.6, 0.7))


def _draw_brow(cv: _Canvas, head: _Head, u: float, f, col, rng) -> None:
    style = BROW_STYLES[f["brow_style"]]
    side = 1 if u > 0 else -1
    sq = head.squash(u)
    ex = head.fx(u)
    by = head.eye_y - 0.055 - 0.01 * f["eye_size"]
    w = 0.052 * sq
    xs = np.linspace(-1, 1, 13)
    if style == "arched":
        ys = by - 0.016 * (1 - (xs * 0.9 + 0.25 * side) ** 2)
    elif style == "angled":
        ys = by + 0.01 * xs * side - 0.006 * (1 - xs**2)
    else:
        ys = by - 0.008 * (1 - xs**2)
    pts = np.stack([ex + w * xs, ys], 1)
    thick = {"thin": 0.008, "thick": 0.017, "arched": 0.011, "angled": 0.014}[style]
    inner_to_outer = np.linspace(1.0, 0.45, 13)
    widths = thick * (inner_to_outer if side > 0 else inner_to_outer[::-1])
    cv.ribbon(pts, widths, _rgba(col, 0.95))


def _draw_nose(cv: _Canvas, head: _Head, f, skin, light: float) -> None:
    style = NOSE_STYLES[f["nose_style"]]
    s = 0.8 + 0.45 * f["nose_size"]
    tip_x = head.fx(0.0, 1.18)
    ny = head.eye_y + 0.085 + 0.012 * s
    shade = _rgba(skin * 0.7, 0.75)
    dark = _rgba(skin * 0.45, 0.85)
    shadow_side = -1 if light > 0 else 1
    if style == "button":
        cv.ellipse(tip_x, ny - 0.004, 0.022 * s, 0.017 * s, _rgba(skin * 0.88, 0.9))
        cv.ellipse(tip_x - 0.008 * light, ny - 0.009, 0.007 * s, 0.005 * s, (255, 255, 255, 70))
        for sg in (-1, 1):
            cv.ellipse(tip_x + sg * 0.012 * s * head.cos, ny + 0.008, 0.005 * s, 0.0035 * s, dark)
    elif style == "long":
        top = (head.fx(0.05 * shadow_side, 1.05), head.eye_y - 0.02)
        pts = np.concatenate([
            _bezier(top, (tip_x + shadow_side * 0.012, ny - 0.04), (tip_x + shadow_side * 0.01, ny + 0.002), 10),
            _bezier((tip_x + shadow_side * 0.01, ny + 0.002), (tip_x, ny + 0.016 * s), (tip_x - shadow_side * 0.02 * s, ny + 0.006), 8),
        ])
        cv.line(pts, shade, 0.006)
    elif style == "wide":
        cv.ellipse(tip_x, ny, 0.016 * s, 0.013 * s, _rgba(skin * 0.9, 0.9))
        for sg in (-1, 1):
            cx = tip_x + sg * 0.022 * s * head.squash(0.2 * sg)
            arc = _bezier((cx - sg * 0.004, ny - 0.014), (cx + sg * 0.014, ny - 0.002), (cx - sg * 0.006, ny + 0.012), 8)
            cv.line(arc, shade, 0.005)
            cv.ellipse(tip_x + sg * 0.011 * s, ny + 0.008, 0.0065 * s, 0.004 * s, dark)
    else:  # pointed: a shaded triangle on the side away from the light
        top = (head.fx(0.0, 1.05), head.eye_y + 0.0)
        tri = [top, (tip_x + shadow_side * 0.004, ny + 0.012 * s), (tip_x + shadow_side * 0.024 * s, ny + 0.01 * s)]
        cv.poly(tri, _rgba(skin * 0.7, 0.5))
        cv.line([(tip_x - 0.016 * s, ny + 0.012 * s), (tip_x, ny + 0.017 * s), (tip_x + 0.016 * s, ny + 0.012 * s)], shade, 0.005)


def _draw_mouth(cv: _Canvas, head: _Head, f, skin, rng) -> None:
    smile = f["smile"]
    mx = head.fx(0.0, 1.0)
    my = head.eye_y + 0.145 + 0.01 * (head.b - 0.265) / 0.03
    sq = head.squash(0.0)
    w = (0.05 + 0.028 * f["mouth_width"] + 0.01 * smile) * sq
    lip = _mix(skin, (176, 62, 72), 0.42) * 0.92
    curve = (smile - 0.3) * 0.05
    xs = np.linspace(-1, 1, 21)
    # put the far corner a little closer (foreshortening) and shift with yaw
    xs_s = mx + w * xs
    if smile > 0.62:
        open_h = 0.012 + 0.05 * (smile - 0.62)
        upper = np.stack([xs_s, my - curve * 0.35 * (1 - xs**2) * 0 - curve * xs**2 * 0.5], 1)
        lower = np.stack([xs_s, my - curve * xs**2 * 0.5 + open_h * (1 - xs**2) ** 0.8 + 0.004 * (1 - xs**2)], 1)
        mouth = np.concatenate([upper, lower[::-1]])
        cv.poly(mouth, (92, 28, 34, 255))
        # teeth: an upper band clipped to the mouth
        teeth_low = np.stack([xs_s[2:-2], upper[2:-2, 1] + np.minimum(open_h * 0.45, (lower[2:-2, 1] - upper[2:-2, 1]) * 0.6)], 1)
        cv.poly(np.concatenate([upper[2:-2], teeth_low[::-1]]), (246, 243, 236, 255))
        cv.ribbon(lower, 0.007 * np.clip(1 - xs**2, 0.2, 1), _rgba(lip, 0.9))
        cv.ribbon(upper, 0.004, _rgba(lip * 0.85, 0.9))
    else:
        line = np.stack([xs_s, my - curve * (xs**2 - 0.3)], 1)
        lip_h = 0.009 + 0.006 * rng.random()
        lower = np.stack([xs_s[3:-3], line[3:-3, 1] + lip_h * (1 - xs[3:-3] ** 2) ** 0.7 + 0.002], 1)
        cv.poly(np.concatenate([line[3:-3], lower[::-1]]), _rgba(lip, 0.85))
        upper_lip = np.stack([xs_s[3:-3], line[3:-3, 1] - 0.006 * (1 - xs[3:-3] ** 2) ** 0.5], 1)
        cv.poly(np.concatenate([upper_lip, line[3:-3][::-1]]), _rgba(lip * 0.88, 0.8))
        cv.line(line, _rgba(lip * 0.45, 0.95), 0.0045)
    if smile > 0.45:  # smile lines lift the cheeks
        for sg in (-1, 1):
            cxk = mx + sg * (w + 0.012)
            arc = _bezier((cxk - sg * 0.004, my - 0.03), (cxk + sg * 0.008, my - 0.008), (cxk, my + 0.01), 8)
            cv.line(arc, _rgba(skin * 0.72, 0.35 + 0.5 * (smile - 0.45)), 0.004)


def _draw_beard(cv: _Canvas, head: _Head, f, col, skin, rng) -> None:
    style = BEARD_STYLES[f["beard_style"]]
    mx = head.fx(0.0, 1.0)
    my = head.eye_y + 0.145
    a, b = head.a, head.b
    mous = np.concatenate([
        _bezier((mx - 0.058 * head.squash(-0.3), my + 0.008), (mx - 0.03, my - 0.03), (mx, my - 0.018), 8),
        _bezier((mx, my - 0.018), (mx + 0.03, my - 0.03), (mx + 0.058 * head.squash(0.3), my + 0.008), 8),
        _bezier((mx + 0.058 * head.squash(0.3), my + 0.008), (mx + 0.03, my - 0.006), (mx, my - 0.006), 6),
        _bezier((mx, my - 0.006), (mx - 0.03, my - 0.006), (mx - 0.058 * head.squash(-0.3), my + 0.008), 6),
    ])
    if style == "full":
        jaw = head.outline(1.03, 40, -0.05, math.pi + 0.05)
        mouth_y = my - 0.012
        top = np.array([
            (head.fx(-0.97, 0.2), head.eye_y + 0.01), (head.fx(-0.7), head.eye_y + 0.1),
            (head.fx(-0.42), mouth_y + 0.004), (mx, mouth_y - 0.008), (head.fx(0.42), mouth_y + 0.004),
            (head.fx(0.7), head.eye_y + 0.1), (head.fx(0.97, 0.2), head.eye_y + 0.01),
        ])
        cv.poly(np.concatenate([jaw, top]), _rgba(col, 1.0))
        cv.poly(mous, _rgba(col * 0.9, 1))
    elif style == "stubble":
        jaw = head.outline(1.0, 40, 0.05, math.pi - 0.05)
        upper = np.stack([jaw[::-1, 0], np.maximum(head.eye_y + 0.08, jaw[::-1, 1] - 0.13)], 1)
        cv.poly(np.concatenate([jaw, upper]), _rgba(col * 0.7, 0.33))
    elif style == "goatee":
        chin_y = head.cy + b * 0.98
        g = np.concatenate([
            _bezier((mx - 0.035, my + 0.012), (mx - 0.04, chin_y - 0.01), (mx, chin_y + 0.008), 10),
            _bezier((mx, chin_y + 0.008), (mx + 0.04, chin_y - 0.01), (mx + 0.035, my + 0.012), 10),
        ])
        cv.poly(g, _rgba(col, 1))
        cv.poly(mous, _rgba(col * 0.9, 1))
        cv.ellipse(mx, my + 0.012, 0.036, 0.012, _rgba(skin, 1))
    else:  # moustache
        cv.poly(mous, _rgba(col, 1))


def _draw_glasses(cv: _Canvas, head: _Head, f, eye_u: float, rng) -> None:
    style = GLASSES_STYLES[f["glasses_style"]]
    frame_cols = [(24, 22, 22), (92, 52, 28), (186, 160, 90), (150, 150, 158), (150, 30, 40), (30, 50, 110)]
    frame = frame_cols[int(rng.integers(len(frame_cols)))]
    if style == "sunglasses":
        frame = frame_cols[int(rng.integers(2))]
    fw = 0.006 if style != "sunglasses" else 0.007
    ey = head.eye_y + 0.002
    centres = []
    for u in (-eye_u, eye_u):
        sq = head.squash(u)
        x = head.fx(u, math.sqrt(1 - u * u) + 0.12)
        if style == "round":
            rx, ry = 0.058 * sq, 0.054
        elif style == "rectangular":
            rx, ry = 0.064 * sq, 0.043
        else:
            rx, ry = 0.066 * sq, 0.05
        centres.append((x, rx, ry, u))
        if style == "round":
            cv.ellipse(x, ey, rx, ry, (230, 240, 250, 40), outline=frame + (255,), width=fw)
        elif style == "rectangular":
            cv.rounded_rect(x, ey, rx, ry, 0.014, (230, 240, 250, 40), frame + (255,), fw)
        else:
            t = np.linspace(0, 2 * math.pi, 32)
            pts = np.stack([x + rx * np.cos(t), ey + ry * np.sin(t) * np.where(np.sin(t) > 0, 1.1, 0.75)], 1)
            cv.poly(pts, (20, 22, 30, 238))
            cv.line(np.concatenate([pts, pts[:1]]), frame + (255,), fw)
            cv.ellipse(x - rx * 0.35, ey - ry * 0.3, rx * 0.25, ry * 0.15, (255, 255, 255, 60))
    (x0, rx0, _, _), (x1, rx1, _, _) = centres
    bridge = _bezier((x0 + rx0, ey - 0.008), ((x0 + x1) / 2, ey - 0.02), (x1 - rx1, ey - 0.008), 8)
    cv.line(bridge, frame + (255,), fw * 0.9)
    for x, rx, _, u in centres:
        if head.visible(u * 2, 0.2):
            sgn = 1 if u > 0 else -1
            edge = head.fx(sgn * 0.98, 0.1)
            cv.line([(x + sgn * rx, ey - 0.01), (edge, ey - 0.016)], frame + (255,), fw * 0.9)


def _shade(img: np.ndarray, mask: np.ndarray, head: _Head, light: float) -> np.ndarray:
    """Lambert shading of the figure (where mask=1) from a side light, on head-shaped normals."""
    size = img.shape[0]
    yy, xx = _grid(size)
    z, ox, oy = _Canvas.ZOOM, _Canvas.OX, _Canvas.OY
    hx = (head.cx - ox) * z + ox
    hy = (head.cy + 0.05 - oy) * z + oy
    nx = (xx - hx) / (head.a * 1.5 * z)
    ny = (yy - hy) / (head.b * 1.9 * z)
    nz = np.sqrt(1 - np.clip(nx * nx + ny * ny, 0, 0.97))
    lv = np.array([1.1 * light, -0.35, 0.7])
    lv /= np.linalg.norm(lv)
    lam = np.clip(nx * lv[0] + ny * lv[1] + nz * lv[2], 0, 1)
    shade = 0.42 + 0.72 * lam
    factor = 1 + mask * (shade - 1)
    return img * factor[..., None]


_GRIDS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    g = _GRIDS.get(n)
    if g is None:
        yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
        g = (yy + 0.5) / n, (xx + 0.5) / n
        _GRIDS[n] = g
    return g


def render_from_factors(factors: dict[str, Any], size: int = 64) -> np.ndarray:
    """Draw the face described by `factors` (as from `sample_factors`): uint8 (size, size, 3).

    Change one entry and keep the rest to vary one factor with all others fixed.
    """
    if size not in SIZES and not (16 <= size <= 512):
        raise ValueError(f"size must be one of {SIZES} (or 16..512), not {size}")
    f = dict(factors)
    f.setdefault("shirt_hue", 0.6)
    f.setdefault("detail_seed", 0)
    for spec in FACTORS:
        if spec.kind == "continuous":
            f[spec.name] = float(np.clip(f[spec.name], spec.low, spec.high))
        else:
            f[spec.name] = int(np.clip(int(f[spec.name]), 0, max(1, spec.classes) - 1 if spec.kind == "categorical" else 1))
    rng = np.random.default_rng(int(f.get("detail_seed", 0)))
    cv = _Canvas(size, _background(f, size))
    head = _Head(f, rng)
    skin = _lerp_palette(_SKIN, f["skin_tone"])
    hair = _hair_colour(HAIR_HUES[f["hair_hue"]], f["hair_darkness"], rng)
    style = HAIR_STYLES[f["hair_style"]]
    a, b, cx, cy = head.a, head.b, head.cx, head.cy

    _draw_back_hair(cv, head, style, hair, rng)
    # shoulders and neck
    shirt = np.array(colorsys.hsv_to_rgb(f["shirt_hue"], 0.25 + 0.5 * rng.random(), 0.35 + 0.55 * rng.random())) * 255
    sh_y = cy + b * 1.45
    cv.ellipse(0.5 + 0.02 * head.sin, sh_y + 0.2, 0.42, 0.24, _rgba(shirt, 1))
    nw = a * 0.46
    ncx = cx - 0.01 * head.sin
    cv.poly([(ncx - nw, cy + b * 0.5), (ncx + nw, cy + b * 0.5), (ncx + nw * 1.1, sh_y + 0.01),
             (ncx, sh_y + 0.06 + 0.03 * rng.random()), (ncx - nw * 1.1, sh_y + 0.01)], _rgba(skin * 0.86, 1))
    cv.ellipse(ncx, cy + b * 0.95, nw * 1.1, 0.03, _rgba(skin * 0.62, 0.55))  # shadow under the chin
    # ears (hidden when turned away)
    for sgn in (-1, 1):
        if head.visible(sgn * 1.0, 0.0):
            ex = head.fx(sgn * 1.0, 0.0) + sgn * 0.004
            cv.ellipse(ex, head.eye_y + 0.03, 0.026 * max(0.5, head.squash(-sgn * 0.9) * 0.8), 0.045, _rgba(skin * 0.92, 1))
            cv.ellipse(ex + sgn * 0.004, head.eye_y + 0.03, 0.012 * max(0.5, head.squash(-sgn * 0.9) * 0.8), 0.026, _rgba(skin * 0.72, 0.8))
    cv.poly(head.outline(1.0, 80), _rgba(skin, 1))
    # cheeks
    blush = 0.12 + 0.25 * f["smile"]
    for sgn in (-1, 1):
        u = sgn * 0.55
        cv.ellipse(head.fx(u), head.eye_y + 0.075, 0.03 * head.squash(u), 0.02, _rgba(_mix(skin, (230, 90, 100), 0.5), blush))
    if f["beard"]:
        beard_col = hair if HAIR_HUES[f["hair_hue"]] != "dyed" else _hair_colour("natural", f["hair_darkness"], rng)
        _draw_beard(cv, head, f, beard_col * 0.85, skin, rng)
    _draw_nose(cv, head, f, skin, f["light"])
    _draw_mouth(cv, head, f, skin, rng)
    if f["beard"] and BEARD_STYLES[f["beard_style"]] in ("full", "goatee", "moustache"):
        # the moustache sits over the upper lip
        mx = head.fx(0.0, 1.0); my = head.eye_y + 0.145
        mo = np.concatenate([
            _bezier((mx - 0.056 * head.squash(-0.3), my + 0.006), (mx - 0.03, my - 0.032), (mx, my - 0.018), 8),
            _bezier((mx, my - 0.018), (mx + 0.03, my - 0.032), (mx + 0.056 * head.squash(0.3), my + 0.006), 8),
            _bezier((mx + 0.056 * head.squash(0.3), my + 0.006), (mx + 0.03, my - 0.01), (mx, my - 0.009), 6),
            _bezier((mx, my - 0.009), (mx - 0.03, my - 0.01), (mx - 0.056 * head.squash(-0.3), my + 0.006), 6),
        ])
        cv.poly(mo, _rgba(beard_col * 0.75, 1))
    eye_u = 0.36 + 0.06 * rng.random()
    for u in (-eye_u, eye_u):
        _draw_eye(cv, head, u, f, skin, rng)
    brow_col = hair * 0.75 if HAIR_HUES[f["hair_hue"]] != "dyed" else _hair_colour("natural", 0.7, rng)
    if style == "bald" and f["hair_darkness"] < 0.3:
        brow_col = _mix(hair, (90, 70, 60), 0.5)
    _draw_front_hair(cv, head, style, hair, rng)
    for u in (-eye_u, eye_u):
        _draw_brow(cv, head, u, f, brow_col, rng)
    if f["glasses"]:
        _draw_glasses(cv, head, f, eye_u, rng)

    img = np.asarray(cv.img.resize((size, size), Image.LANCZOS), dtype=np.float32)
    mask = np.asarray(cv.mask.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0
    out = _shade(img, mask, head, f["light"])
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


def cache_dir() -> Path:
    """Where FaceStudio keeps caches: $FACESTUDIO_CACHE, else ~/.cache/facestudio."""
    env = os.environ.get("FACESTUDIO_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "facestudio"


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


def render_faces(n: int, size: int = 64, seed: int = 0, workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Render faces 0..n-1 of the set `seed` without any cache: (uint8 NHWC, float32 labels)."""
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    chunk = 250
    jobs = [(seed, s, min(n, s + chunk), size) for s in range(0, n, chunk)]
    imgs = np.empty((n, size, size, 3), dtype=np.uint8)
    labels = np.empty((n, len(FACTORS)), dtype=np.float32)
    if workers <= 1 or n < 200:
        parts = map(_render_range, jobs)
        for start, im, lb in parts:
            imgs[start:start + len(im)] = im
            labels[start:start + len(lb)] = lb
        return imgs, labels
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes=workers) as pool:
        for start, im, lb in pool.imap_unordered(_render_range, jobs):
            imgs[start:start + len(im)] = im
            labels[start:start + len(lb)] = lb
        pool.close()
        pool.join()
    return imgs, labels


def synthetic_faces(n: int, size: int = 64, seed: int = 0, workers: int | None = None, cache: bool = True):
    """The synthetic data set: (torch uint8 tensor (n, 3, size, size), float32 labels (n, F)).

    Face i is `render_face(face_seed(seed, i), size)`. The set is read from the on-disk
    cache when present and valid, else rendered (in `workers` processes; default: up to
    2) and cached atomically.
    """
    import torch

    if n < 1:
        raise ValueError("n must be at least 1")
    got = _find_cache(n, size, seed) if cache else None
    if got is None:
        imgs, labels = render_faces(n, size, seed, workers)
        if cache:
            try:
                _write_cache(_cache_path(n, size, seed), imgs, labels)
            except Exception as exc:  # a cache that cannot be written only costs time
                log.warning("could not write the synthetic face cache: %s", exc)
    else:
        imgs, labels = got
    tensor = torch.from_numpy(np.ascontiguousarray(imgs.transpose(0, 3, 1, 2)))
    return tensor, np.ascontiguousarray(labels)


def face_grid(images: np.ndarray, cols: int) -> np.ndarray:
    """Tile uint8 (N, H, W, 3) images into one (rows*H, cols*W, 3) picture."""
    n, h, w, c = images.shape
    rows = math.ceil(n / cols)
    out = np.zeros((rows * h, cols * w, c), dtype=np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        out[r * h:(r + 1) * h, q * w:(q + 1) * w] = images[i]
    return out


__all__ = [
    "FACTORS", "FACTOR_NAMES", "FACTOR_INDEX", "FactorSpec", "RENDERER_VERSION", "factor_vector", "sample_factors",
    "render_face", "render_from_factors", "synthetic_faces", "render_faces", "face_seed", "face_grid", "cache_dir",
]
