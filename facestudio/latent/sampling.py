"""Latents from seeds, truncation, and random latents.

A seed names a face: `latent_for_seed(seed, nz)` must give the same vector on every
machine and in every release, because seeds are typed into the app, printed on grids and
shared between people. It therefore draws from its own CPU `torch.Generator` (mt19937,
seeded with `manual_seed`), never from global state or a device generator, and draws in
float64 before rounding to float32: torch's float32 fast path is vectorised differently
on AVX2 and other CPUs, while the float64 path is the same scalar code everywhere.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import torch

MAX_SEED = 2**63 - 1
# Truncation above 1 pushes a face away from the average face (caricature); the app's
# slider goes to 1.5, so accept a little more than that and nothing absurd.
MAX_PSI = 2.0


def check_seed(seed: int) -> int:
    """`seed` as a plain int, or ValueError with a sentence when it cannot name a face."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"A seed must be a whole number, not {seed!r}.")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"Seed {seed} is out of range; use a whole number from 0 to {MAX_SEED}.")
    return int(seed)


def _check_nz(nz: int) -> int:
    if isinstance(nz, bool) or not isinstance(nz, (int, np.integer)) or int(nz) < 1:
        raise ValueError(f"The latent size must be a positive whole number, not {nz!r}.")
    return int(nz)


def latent_for_seed(seed: int, nz: int) -> np.ndarray:
    """The latent (nz,) float32 named by `seed`: N(0, 1) draws, identical on every platform."""
    gen = torch.Generator(device="cpu")
    gen.manual_seed(check_seed(seed))
    return torch.randn(_check_nz(nz), generator=gen, dtype=torch.float64).to(torch.float32).numpy()


def start_seed(info: dict[str, str] | None) -> int:
    """The seed a model opens on: its `start_seed` (chosen when it was shipped), else 0.

    Stored in the model's info so start-up needs no scoring; a malformed value is ignored.
    """
    try:
        return check_seed(int(str((info or {}).get("start_seed", "0")).strip()))
    except ValueError:
        return 0


def latents_for_seeds(seeds: Iterable[int], nz: int) -> np.ndarray:
    """Latents (N, nz) float32 for several seeds; row i is `latent_for_seed(seeds[i], nz)`."""
    rows = [latent_for_seed(s, nz) for s in seeds]
    if not rows:
        return np.zeros((0, _check_nz(nz)), dtype=np.float32)
    return np.stack(rows)


def truncate(z: np.ndarray, psi: float, mean: np.ndarray | None = None) -> np.ndarray:
    """Truncation trick: pull `z` towards the average latent, `mean + psi * (z - mean)`.

    psi = 1 changes nothing, psi = 0 gives the average face; lower values trade variety
    for cleaner faces. For the Gaussian prior the average latent is 0 (`mean=None`); a
    model with another prior can pass its mean. psi above 1 (up to `MAX_PSI`) exaggerates
    what makes a face differ from the average. Works on (nz,) and (N, nz).
    """
    if isinstance(psi, bool) or not isinstance(psi, (int, float, np.floating, np.integer)) or not np.isfinite(psi):
        raise ValueError(f"Truncation must be a number, not {psi!r}.")
    if not 0.0 <= float(psi) <= MAX_PSI:
        raise ValueError(f"Truncation {psi} is out of range; use a value from 0 to {MAX_PSI:g} (1 = no truncation).")
    z = np.asarray(z, dtype=np.float32)
    if float(psi) == 1.0:
        return z.copy()
    if mean is None:
        return (z * np.float32(psi)).astype(np.float32)
    mean = np.asarray(mean, dtype=np.float32)
    if mean.shape != z.shape[-1:]:
        raise ValueError(f"The mean latent has shape {mean.shape}; the latents have size {z.shape[-1]}.")
    return (mean + np.float32(psi) * (z - mean)).astype(np.float32)


def random_seed(rng: np.random.Generator, high: int = 2**31 - 1) -> int:
    """A random seed in 0..high: a random face that can still be named and shared."""
    return int(rng.integers(0, high, endpoint=True))


def random_latent(rng: np.random.Generator, nz: int) -> np.ndarray:
    """A fresh N(0, 1) latent (nz,) float32 from `rng` (reproducible given the rng's seed)."""
    return rng.standard_normal(_check_nz(nz)).astype(np.float32)
