"""Paths through latent space: lerp, slerp, easing and keyframed morphs.

Why slerp: latents are N(0, I) draws, which in 100 dimensions sit on a thin shell of
radius about sqrt(nz). A straight line between two of them cuts through the inside of
that shell, where the generator saw no training latents and faces go bland and washed
out mid-morph. `slerp` turns the direction along the great circle and moves the length
linearly, so every frame is a latent the generator knows.

All functions compute in float64 and return float32; endpoints are returned exactly
(t = 0 gives `a` bit for bit), so a morph starts and ends on the very faces it was given.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

# Below this angle (radians) the great circle and the chord coincide to float64 precision.
_PARALLEL_ANGLE = 1e-7
# Within this of pi the plane of rotation is undefined (a ~= -b) and one is chosen.
_ANTIPARALLEL_GAP = 1e-6
_ZERO_NORM = 1e-12

Easing = Callable[[np.ndarray], np.ndarray]


# ---------------------------------------------------------------- easing
def ease_linear(t: np.ndarray) -> np.ndarray:
    return np.asarray(t, dtype=np.float64)


def ease_in_out(t: np.ndarray) -> np.ndarray:
    """Smoothstep 3t^2 - 2t^3: starts and stops at rest, so keyframes read as holds."""
    t = np.asarray(t, dtype=np.float64)
    return t * t * (3.0 - 2.0 * t)


def ease_cosine(t: np.ndarray) -> np.ndarray:
    """(1 - cos(pi t)) / 2: an ease-in-out with a gentler start than smoothstep."""
    t = np.asarray(t, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(np.pi * t)


def ease_in(t: np.ndarray) -> np.ndarray:
    """t^2: leaves each keyframe slowly and arrives at speed."""
    t = np.asarray(t, dtype=np.float64)
    return t * t


def ease_out(t: np.ndarray) -> np.ndarray:
    """1 - (1 - t)^2: leaves at speed and settles onto each keyframe."""
    t = np.asarray(t, dtype=np.float64)
    return 1.0 - (1.0 - t) * (1.0 - t)


EASINGS: dict[str, Easing] = {
    "linear": ease_linear,
    "ease-in-out": ease_in_out,
    "cosine": ease_cosine,
    "ease-in": ease_in,
    "ease-out": ease_out,
}


def get_easing(easing: str | Easing) -> Easing:
    """An easing by name (see `EASINGS`) or a callable mapping [0, 1] onto [0, 1]."""
    if callable(easing):
        return easing
    try:
        return EASINGS[easing]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown easing {easing!r}; use one of {', '.join(EASINGS)}.") from None


# ---------------------------------------------------------------- two-point paths
def _vector(v: np.ndarray, name: str) -> np.ndarray:
    v = np.asarray(v)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name} must be a latent vector (nz,), got shape {v.shape}.")
    v = v.astype(np.float64)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return v


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = _vector(a, "a"), _vector(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"Cannot interpolate between latents of shapes {a.shape} and {b.shape}.")
    return a, b


def _times(t: float | np.ndarray) -> tuple[np.ndarray, bool]:
    arr = np.asarray(t, dtype=np.float64)
    if arr.ndim > 1:
        raise ValueError(f"t must be a number or a 1-D array of numbers, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError("t contains NaN or infinite values.")
    return np.atleast_1d(arr), arr.ndim == 0


def _exact_ends(out: np.ndarray, t: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out[t == 0.0] = a
    out[t == 1.0] = b
    return out


def lerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """(1 - t) a + t b; `t` a number -> (nz,), a 1-D array -> (len(t), nz)."""
    a64, b64 = _pair(a, b)
    ts, scalar = _times(t)
    out = (1.0 - ts)[:, None] * a64 + ts[:, None] * b64
    out = _exact_ends(out.astype(np.float32), ts, a64.astype(np.float32), b64.astype(np.float32))
    return out[0] if scalar else out


def _orthogonal_unit(u: np.ndarray) -> np.ndarray:
    """A unit vector orthogonal to unit `u`, chosen deterministically (for a ~= -b)."""
    e = np.zeros_like(u)
    e[int(np.argmin(np.abs(u)))] = 1.0  # the axis least aligned with u: best conditioned
    w = e - np.dot(e, u) * u
    return w / np.linalg.norm(w)


def slerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Spherical interpolation: direction along the great circle, length linearly.

    Safe for every pair: (near-)parallel latents reduce to the chord (identical to float
    precision), exactly opposite ones turn through a fixed, deterministic plane, and a
    zero-length endpoint falls back to `lerp`. `t` outside [0, 1] extrapolates.
    """
    a64, b64 = _pair(a, b)
    ts, scalar = _times(t)
    na, nb = float(np.linalg.norm(a64)), float(np.linalg.norm(b64))
    if na < _ZERO_NORM or nb < _ZERO_NORM:
        return lerp(a, b, t)
    ua, ub = a64 / na, b64 / nb
    # 2 atan2(|ua - ub|, |ua + ub|) is accurate at every angle, unlike arccos(dot) near 0 and pi.
    angle = 2.0 * math.atan2(float(np.linalg.norm(ua - ub)), float(np.linalg.norm(ua + ub)))
    radius = (1.0 - ts) * na + ts * nb
    if angle < _PARALLEL_ANGLE:
        dirs = (1.0 - ts)[:, None] * ua + ts[:, None] * ub
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    else:
        if math.pi - angle < _ANTIPARALLEL_GAP:
            w = _orthogonal_unit(ua)
        else:
            w = ub - np.dot(ua, ub) * ua
            w /= np.linalg.norm(w)
        theta = ts * angle
        dirs = np.cos(theta)[:, None] * ua + np.sin(theta)[:, None] * w
    out = (radius[:, None] * dirs).astype(np.float32)
    out = _exact_ends(out, ts, a64.astype(np.float32), b64.astype(np.float32))
    return out[0] if scalar else out


INTERPOLATIONS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {"slerp": slerp, "lerp": lerp}


# ---------------------------------------------------------------- keyframed paths
def keyframe_times(n_segments: int, total_frames: int, *, loop: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For each frame, (segment index, position 0..1 inside it), before easing.

    Frames are spread evenly over the whole path. Without `loop` the first frame is the
    first key and the last frame the last key; with `loop` the path returns towards the
    first key and stops one step short of it, so a looping GIF has no doubled frame.
    """
    if n_segments < 1:
        raise ValueError("A path needs at least two keyframes.")
    if isinstance(total_frames, bool) or not isinstance(total_frames, (int, np.integer)) or total_frames < 2:
        raise ValueError(f"A morph needs at least 2 frames, not {total_frames!r}.")
    steps = total_frames if loop else total_frames - 1
    s = np.arange(total_frames, dtype=np.float64) * (n_segments / steps)
    segment = np.minimum(np.floor(s).astype(np.int64), n_segments - 1)
    local = s - segment
    if not loop:
        local[-1] = 1.0  # exact, whatever the rounding of s
    return segment, np.clip(local, 0.0, 1.0)


def keyframe_path(
    keys: Sequence[np.ndarray],
    frames_per_segment: int | None = None,
    total_frames: int | None = None,
    *,
    mode: str = "slerp",
    easing: str | Easing = "linear",
    loop: bool = False,
) -> np.ndarray:
    """Latents (F, nz) float32 through `keys`, one row per frame.

    Give exactly one of `frames_per_segment` (steps from one key to the next: F is
    segments * frames_per_segment, plus 1 without `loop`, and key i lands exactly on frame
    i * frames_per_segment) or `total_frames` (F exactly; keys land on the nearest
    frames). Easing applies within each segment, so an ease-in-out lingers on every key.
    Without `loop` the first and last frames are the first and last keys exactly.
    """
    if (frames_per_segment is None) == (total_frames is None):
        raise ValueError("Give either frames_per_segment or total_frames, not both or neither.")
    if mode not in INTERPOLATIONS:
        raise ValueError(f"Unknown interpolation {mode!r}; use one of {', '.join(INTERPOLATIONS)}.")
    interpolate = INTERPOLATIONS[mode]
    ease = get_easing(easing)
    if len(keys) < 2:
        raise ValueError("A path needs at least two keyframes.")
    vectors = [_vector(k, f"keyframe {i}") for i, k in enumerate(keys)]
    if len({v.shape for v in vectors}) != 1:
        raise ValueError(f"All keyframes must have the same size, got {sorted({v.shape[0] for v in vectors})}.")
    if loop:
        vectors.append(vectors[0])
    n_segments = len(vectors) - 1
    if frames_per_segment is not None:
        if isinstance(frames_per_segment, bool) or not isinstance(frames_per_segment, (int, np.integer)) or frames_per_segment < 1:
            raise ValueError(f"frames_per_segment must be a whole number of at least 1, not {frames_per_segment!r}.")
        total_frames = n_segments * int(frames_per_segment) + (0 if loop else 1)
    segment, local = keyframe_times(n_segments, int(total_frames), loop=loop)
    eased = np.asarray(ease(local), dtype=np.float64)
    if eased.shape != local.shape or not np.all(np.isfinite(eased)):
        raise ValueError("The easing function must map each time in [0, 1] to a finite number.")
    eased[local == 0.0] = 0.0  # keys stay exact whatever the easing does near its ends
    eased[local == 1.0] = 1.0
    out = np.empty((len(segment), vectors[0].shape[0]), dtype=np.float32)
    for k in range(n_segments):
        rows = np.nonzero(segment == k)[0]
        if rows.size:
            out[rows] = interpolate(vectors[k], vectors[k + 1], eased[rows])
    # Keys as given (float32 rounding of the caller's arrays), not via float64 and back.
    keys32 = [np.asarray(k, dtype=np.float32) for k in keys]
    out[0] = keys32[0]
    if not loop:
        out[-1] = keys32[-1]
    return out
