"""Morphs through keyframes of any space (z, w, w+), rendered in batches.

The path rule (as in the StyleGAN papers' interpolations):

- every key a z face, one truncation for all: spherical in Z (z is Gaussian, and the
  straight line between two z dips towards the origin, where faces go bland), truncated
  in W when drawn. DCGAN's W = Z, so its z keys may carry their own truncations (applied
  to the keys first, exactly as the DCGAN morph always did).
- otherwise: straight lines in W (W is where the mapping network made faces roughly
  linear), z keys mapped to w and each key truncated by its own psi first; if any key is
  a w+ face the path runs in W+ (every layer its own line).

Frames are drawn `batch` at a time with progress(i, n) after each batch and `cancel()`
polled between batches (a cancelled render returns None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from facestudio.latent.interpolation import keyframe_path
from facestudio.latent.spaces import StyleLatent, check_latent, truncate_w, wplus_batch
from facestudio.render.renderer import Renderer

DEFAULT_BATCH = 8


@dataclass(frozen=True)
class MorphKey:
    """A keyframe: a face and the truncation it is shown with."""

    latent: StyleLatent
    truncation: float = 1.0


@dataclass(frozen=True)
class MorphPath:
    """Frames of a morph: `values` (F, ...) in `space`, drawn with `truncation` (z paths only)."""

    space: str
    values: np.ndarray
    truncation: float = 1.0
    note: str = ""

    def __len__(self) -> int:
        return int(self.values.shape[0])


def morph_path(renderer: Renderer, keys: Sequence[MorphKey], total_frames: int, *, easing: str = "linear",
               loop: bool = False, z_mode: str = "slerp") -> MorphPath:
    """The frames through `keys` (see the module docstring for which space the path runs in)."""
    g = renderer.bundle.viewing_generator
    if len(keys) < 2:
        raise ValueError("A morph needs at least two keyframes.")
    for key in keys:
        check_latent(g, key.latent)
    psis = {float(k.truncation) for k in keys}
    all_z = all(k.latent.space == "z" for k in keys)
    dcgan = renderer.bundle.family == "dcgan"
    if all_z and dcgan:
        zs = [truncate_w(g, k.latent.values[None, None], k.truncation)[0, 0] for k in keys]
        values = keyframe_path(zs, total_frames=total_frames, mode=z_mode, easing=easing, loop=loop)
        return MorphPath("z", values, 1.0, f"{z_mode} in Z")
    if all_z and len(psis) == 1:
        values = keyframe_path([k.latent.values for k in keys], total_frames=total_frames, mode=z_mode, easing=easing, loop=loop)
        return MorphPath("z", values, psis.pop(), f"{z_mode} in Z")
    ws = np.stack([wplus_batch(g, [k.latent], k.truncation)[0] for k in keys])
    if any(k.latent.space == "w+" for k in keys):
        flat = keyframe_path(list(ws.reshape(len(keys), -1)), total_frames=total_frames, mode="lerp", easing=easing, loop=loop)
        return MorphPath("w+", flat.reshape(-1, *ws.shape[1:]), 1.0, "linear in W+")
    values = keyframe_path(list(ws[:, 0]), total_frames=total_frames, mode="lerp", easing=easing, loop=loop)
    return MorphPath("w", values, 1.0, "linear in W")


def render_morph(renderer: Renderer, path: MorphPath, *, batch: int = DEFAULT_BATCH, resolution: int | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> np.ndarray | None:
    """uint8 frames (F, H, W, 3) of `path`, `batch` at a time; None when cancelled."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"The batch size must be a whole number of at least 1, not {batch!r}.")
    g = renderer.bundle.viewing_generator
    n = len(path)
    out: np.ndarray | None = None
    for start in range(0, n, batch):
        if cancel is not None and cancel():
            return None
        part = path.values[start:start + batch]
        faces = [StyleLatent(path.space, v) for v in part]
        images = renderer.render_ws(wplus_batch(g, faces, path.truncation), resolution)
        if out is None:
            out = np.empty((n, *images.shape[1:]), dtype=np.uint8)
        out[start:start + len(images)] = images
        if progress is not None:
            progress(min(start + batch, n), n)
    return out
