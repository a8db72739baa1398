"""Faces as points in Z, W or W+ of a two-stage generator, and the moves between them.

A style-based generator maps z (Gaussian) to w (where edits are roughly linear and
disentangled) and feeds one w per synthesis layer; giving each layer its own w is W+,
shape (num_ws, w_dim), which is what style mixing and per-layer edits produce. A face in
the app is a `StyleLatent`: the space it lives in plus its numbers, so a face found by
projection in W+ never has to pretend to be a z.

Conversions only go "down" the pipeline (z -> w -> w+): a w cannot be turned back into a
z (the mapping network is not invertible in closed form), so asking for it is an error.
DCGAN fits as W = Z with one layer (mapping is the identity, w_avg is the origin).

Truncation happens in W: `w_avg + psi * (w - w_avg)` on layers [0, cutoff), the same
rule the networks use (`truncate_ws`), so a z face truncated here and a z face truncated
by the network are identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from facestudio.latent.sampling import MAX_PSI, latent_for_seed
from facestudio.models.two_stage import TwoStageGenerator, truncate_ws

SPACES = ("z", "w", "w+")
LATENT_ABS_MAX = 1e4  # w of trained models stays within a few tens; anything beyond is damage


@dataclass(frozen=True)
class StyleLatent:
    """One face: `space` in SPACES and `values` (z_dim,) for z, (w_dim,) for w, (num_ws, w_dim) for w+."""

    space: str
    values: np.ndarray

    def __post_init__(self) -> None:
        if self.space not in SPACES:
            raise ValueError(f"A face's space must be one of {', '.join(SPACES)}, not {self.space!r}.")
        values = np.array(self.values, dtype=np.float32)
        want = 2 if self.space == "w+" else 1
        if values.ndim != want or values.size == 0:
            shape = "(num_ws, w_dim)" if want == 2 else "a flat vector"
            raise ValueError(f"A {self.space} face must be {shape}; got shape {values.shape}.")
        if not np.all(np.isfinite(values)) or float(np.abs(values).max()) > LATENT_ABS_MAX:
            raise ValueError(f"This {self.space} face holds NaN, infinite or absurdly large numbers.")
        values.setflags(write=False)
        object.__setattr__(self, "values", values)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)


def expected_shape(generator: TwoStageGenerator, space: str) -> tuple[int, ...]:
    """The shape a face in `space` must have for `generator`."""
    return {"z": (generator.z_dim,), "w": (generator.w_dim,), "w+": (generator.num_ws, generator.w_dim)}[space]


def check_latent(generator: TwoStageGenerator, latent: StyleLatent) -> StyleLatent:
    """`latent` if its shape fits `generator`, else ValueError saying both shapes."""
    want = expected_shape(generator, latent.space)
    if latent.shape != want:
        raise ValueError(f"This {latent.space} face has shape {latent.shape}; this model's {latent.space} faces have shape {want}.")
    return latent


def seed_latent(generator: TwoStageGenerator, seed: int) -> StyleLatent:
    """The z face named by `seed` (same numbers as the DCGAN explorer's seeds)."""
    return StyleLatent("z", latent_for_seed(seed, generator.z_dim))


def _psi(psi: float) -> float:
    if isinstance(psi, bool) or not isinstance(psi, (int, float, np.number)) or not math.isfinite(psi) or not 0 <= psi <= MAX_PSI:
        raise ValueError(f"Truncation {psi!r} is out of range; use a value from 0 to {MAX_PSI:g} (1 = none).")
    return float(psi)


def _cutoff(generator: TwoStageGenerator, cutoff: int | None) -> int | None:
    if cutoff is None:
        return None
    if isinstance(cutoff, bool) or not isinstance(cutoff, (int, np.integer)) or not 0 <= cutoff <= generator.num_ws:
        raise ValueError(f"Truncation cutoff {cutoff!r} must be a layer count from 0 to {generator.num_ws} (or none for all layers).")
    return int(cutoff)


def truncate_w(generator: TwoStageGenerator, ws: np.ndarray, psi: float = 1.0, cutoff: int | None = None) -> np.ndarray:
    """W+ faces (num_ws, w_dim) or (N, num_ws, w_dim) pulled towards w_avg on layers [0, cutoff)."""
    arr = np.asarray(ws, dtype=np.float32)
    single = arr.ndim == 2
    t = torch.from_numpy(np.array(arr[None] if single else arr))
    out = truncate_ws(t, generator.w_avg, _psi(psi), _cutoff(generator, cutoff)).numpy().astype(np.float32, copy=True)
    return out[0] if single else out


@torch.inference_mode()
def map_z(generator: TwoStageGenerator, z: np.ndarray) -> np.ndarray:
    """w (N, w_dim) for z (N, z_dim): the mapping network, untruncated (all layers get the same w)."""
    zt = torch.from_numpy(np.array(z, dtype=np.float32))
    return generator.mapping(zt)[:, 0].detach().to("cpu", torch.float32).numpy().copy()


def to_space(generator: TwoStageGenerator, latent: StyleLatent, space: str) -> StyleLatent:
    """`latent` moved down the pipeline to `space` (z -> w -> w+); upward moves are refused."""
    check_latent(generator, latent)
    order = SPACES.index
    if space not in SPACES:
        raise ValueError(f"Unknown space {space!r}; use one of {', '.join(SPACES)}.")
    if order(space) < order(latent.space):
        raise ValueError(f"A {latent.space} face cannot be turned into a {space} face (the mapping network only runs forwards).")
    values = latent.values
    if latent.space == "z" and space != "z":
        values = map_z(generator, values[None])[0]
    if space == "w+" and latent.space != "w+":
        values = np.repeat(values[None], generator.num_ws, axis=0)
    return StyleLatent(space, values)


def to_wplus(generator: TwoStageGenerator, latent: StyleLatent, psi: float = 1.0, cutoff: int | None = None) -> np.ndarray:
    """The (num_ws, w_dim) styles that draw `latent`, truncated in W (psi, cutoff)."""
    return truncate_w(generator, to_space(generator, latent, "w+").values, psi, cutoff)


def wplus_batch(generator: TwoStageGenerator, latents: Sequence[StyleLatent], psi: float = 1.0,
                cutoff: int | None = None) -> np.ndarray:
    """(N, num_ws, w_dim) for faces of any spaces; z faces are mapped in one batch."""
    out = np.empty((len(latents), generator.num_ws, generator.w_dim), dtype=np.float32)
    z_rows = [i for i, lat in enumerate(latents) if check_latent(generator, lat).space == "z"]
    if z_rows:
        w = map_z(generator, np.stack([latents[i].values for i in z_rows]))
        out[z_rows] = w[:, None, :]
    for i, lat in enumerate(latents):
        if lat.space == "w":
            out[i] = lat.values[None]
        elif lat.space == "w+":
            out[i] = lat.values
    return truncate_w(generator, out, psi, cutoff) if len(latents) else out
