"""Drawing primitives of the synthetic faces: colours, a supersampled canvas, the head's
geometry (yaw, outline, surface points), the background and the side-light shading.

Drawing happens with Pillow's ImageDraw on a canvas SUPERSAMPLE times the target size;
the figure is then shaded by a light from the side (a head-shaped normal field),
composited on the background and reduced with LANCZOS, which gives smooth edges.
The features drawn with these are in facestudio/data/face_features.py.
"""

from __future__ import annotations

import colorsys
import math
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from facestudio.data.face_factors import BACKGROUNDS, FACE_SHAPES

#: Supersampling factor: faces are drawn at SUPERSAMPLE x size and reduced with LANCZOS.
SUPERSAMPLE = 4


SKIN = np.array(
    [(255, 226, 204), (244, 203, 172), (228, 178, 140), (204, 145, 104), (168, 110, 74), (124, 80, 52), (86, 55, 38)],
    dtype=np.float64,
)
EYE_RGB = {
    "brown": (112, 68, 34), "dark_brown": (62, 38, 22), "blue": (62, 118, 178),
    "green": (66, 128, 78), "grey": (118, 128, 138), "hazel": (142, 112, 52),
}


def lerp_palette(palette: np.ndarray, t: float) -> np.ndarray:
    x = float(np.clip(t, 0.0, 1.0)) * (len(palette) - 1)
    i = min(int(x), len(palette) - 2)
    w = x - i
    return palette[i] * (1 - w) + palette[i + 1] * w


def to_rgb(c) -> tuple[int, int, int]:
    return tuple(min(255, max(0, int(float(v) + 0.5))) for v in c[:3])  # type: ignore[return-value]


def to_rgba(c, a: float) -> tuple[int, int, int, int]:
    return (*to_rgb(c), min(255, max(0, int(a * 255 + 0.5))))


def mix(c1, c2, t: float) -> np.ndarray:
    return np.asarray(c1, dtype=np.float64) * (1 - t) + np.asarray(c2, dtype=np.float64) * t


def hair_colour(hue_kind: str, darkness: float, rng: np.random.Generator) -> np.ndarray:
    d = float(np.clip(darkness, 0, 1))
    if hue_kind == "grey":
        v = 235 - 150 * d
        return np.array([v, v, v * 1.02])
    if hue_kind == "red":
        base = mix((232, 128, 62), (120, 42, 20), d)
        return base
    if hue_kind == "dyed":
        h = rng.choice([0.58, 0.83, 0.93, 0.45, 0.75])
        r, g, b = colorsys.hsv_to_rgb(h, 0.6, 0.95 - 0.55 * d)
        return np.array([r, g, b]) * 255
    # natural: platinum -> golden blond -> brown -> black
    pal = np.array([(246, 226, 168), (214, 170, 96), (140, 92, 52), (82, 54, 34), (30, 24, 22)], dtype=np.float64)
    return lerp_palette(pal, d)


class Canvas:
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


def bezier(p0, p1, p2, n: int = 16) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2 = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


class Head:
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


def draw_background(f: dict[str, Any], size: int) -> Image.Image:
    """The background, computed at the target size and enlarged to the drawing canvas."""
    h = f["background_hue"]
    rng = np.random.default_rng(f["detail_seed"] + 1)
    sat = 0.18 + 0.35 * rng.random()
    val = 0.55 + 0.38 * rng.random()
    c1 = np.array(colorsys.hsv_to_rgb(h, sat, val), dtype=np.float32) * 255
    style = BACKGROUNDS[f["background"]]
    px = size * SUPERSAMPLE
    if style == "flat":
        return Image.new("RGB", (px, px), to_rgb(c1))
    yy, xx = pixel_grid(size)
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


def shade_figure(img: np.ndarray, mask: np.ndarray, head: Head, light: float) -> np.ndarray:
    """Lambert shading of the figure (where mask=1) from a side light, on head-shaped normals."""
    size = img.shape[0]
    yy, xx = pixel_grid(size)
    z, ox, oy = Canvas.ZOOM, Canvas.OX, Canvas.OY
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


def pixel_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    g = _GRIDS.get(n)
    if g is None:
        yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
        g = (yy + 0.5) / n, (xx + 0.5) / n
        _GRIDS[n] = g
    return g
