"""GANSpace in W: principal components of mapped samples, and sliders along them.

Haerkoenen et al. (2020) found that the principal axes of w = mapping(z), over many
random z, are the main ways faces vary (pose, age, lighting... though which is which is
not known until someone checks). `w_pca` samples `n` z, maps them, and keeps the top
`k` components with their standard deviations and share of the total variance; a W
slider at value c moves w by c standard deviations along its component
(`w_slider_offset`), on the layers the caller chooses.

Mapping 10,000 samples costs seconds on a big model, so results are cached, in memory
and on disk under $FACESTUDIO_CACHE/w_pca, keyed by the model's sha256 and the settings;
a cache file that does not match exactly is ignored and rewritten.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from facestudio.atomic_file import atomic_write_bytes
from facestudio.data.synthetic_faces import cache_dir
from facestudio.latent.spaces import map_z
from facestudio.models.two_stage import TwoStageGenerator

CACHE_VERSION = 1
_MEMORY: dict[tuple, "WPca"] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class WPca:
    """Top principal components of W: unit rows `components` (k, w_dim), in variance order."""

    mean: np.ndarray  # (w_dim,)
    components: np.ndarray  # (k, w_dim), orthonormal rows
    stdev: np.ndarray  # (k,), standard deviation of w along each component
    variance_share: np.ndarray  # (k,), share of the total variance of w (sums to <= 1)
    samples: int

    @property
    def names(self) -> list[str]:
        return [f"PCA {i + 1}" for i in range(len(self.stdev))]


def _check_counts(k: int, n: int, w_dim: int) -> tuple[int, int]:
    for name, value in (("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"PCA setting {name} must be a whole number, not {value!r}.")
    if not 1 <= k <= w_dim:
        raise ValueError(f"The number of W components must be from 1 to w_dim = {w_dim}, not {k}.")
    if not max(2 * k, 16) <= n <= 1_000_000:
        raise ValueError(f"W PCA needs from {max(2 * k, 16)} to 1,000,000 samples for {k} components, not {n}.")
    return int(k), int(n)


def compute_w_pca(generator: TwoStageGenerator, k: int = 20, n: int = 10_000, seed: int = 0) -> WPca:
    """PCA of `n` mapped samples (fixed `seed`); deterministic, signs fixed (largest entry positive)."""
    k, n = _check_counts(k, n, generator.w_dim)
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, generator.z_dim, generator=gen, dtype=torch.float64).to(torch.float32).numpy()
    w = np.concatenate([map_z(generator, part) for part in np.array_split(z, max(1, n // 1000))]).astype(np.float64)
    mean = w.mean(axis=0)
    centred = w - mean
    cov = centred.T @ centred / (n - 1)
    eigvals, eigvecs = np.linalg.eigh(cov)
    order = np.argsort(eigvals)[::-1][:k]
    comps = eigvecs[:, order].T
    idx = np.argmax(np.abs(comps), axis=1)
    comps *= np.where(comps[np.arange(k), idx] < 0, -1.0, 1.0)[:, None]
    variances = np.clip(eigvals[order], 0, None)
    total = float(np.clip(eigvals, 0, None).sum()) or 1.0
    return WPca(mean.astype(np.float32), comps.astype(np.float32), np.sqrt(variances).astype(np.float32),
                (variances / total).astype(np.float32), n)


def _cache_file(sha: str, k: int, n: int, seed: int) -> Path:
    return cache_dir() / "w_pca" / f"v{CACHE_VERSION}-{sha}-k{k}-n{n}-seed{seed}.npz"


def _read_cache(path: Path, k: int, n: int, w_dim: int) -> WPca | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: np.asarray(data[key]) for key in ("mean", "components", "stdev", "variance_share")}
    except (OSError, ValueError, KeyError, EOFError):
        return None
    ok = (arrays["mean"].shape == (w_dim,) and arrays["components"].shape == (k, w_dim)
          and arrays["stdev"].shape == (k,) and arrays["variance_share"].shape == (k,)
          and all(np.all(np.isfinite(a)) for a in arrays.values()))
    return WPca(**{key: a.astype(np.float32) for key, a in arrays.items()}, samples=n) if ok else None


def w_pca(generator: TwoStageGenerator, model_sha256: str, k: int = 20, n: int = 10_000, seed: int = 0) -> WPca:
    """`compute_w_pca`, cached per model sha (memory and disk); an empty sha disables the disk cache."""
    k, n = _check_counts(k, n, generator.w_dim)
    sha = model_sha256.lower() if isinstance(model_sha256, str) and len(model_sha256) == 64 else ""
    key = (sha, k, n, int(seed))
    with _LOCK:
        if sha and key in _MEMORY:
            return _MEMORY[key]
    path = _cache_file(sha, k, n, int(seed)) if sha else None
    result = _read_cache(path, k, n, generator.w_dim) if path is not None and path.is_file() else None
    if result is None:
        result = compute_w_pca(generator, k, n, seed)
        if path is not None:
            buffer = io.BytesIO()
            np.savez(buffer, mean=result.mean, components=result.components, stdev=result.stdev,
                     variance_share=result.variance_share)
            atomic_write_bytes(path, buffer.getvalue())
    if sha:
        with _LOCK:
            _MEMORY[key] = result
    return result


def w_slider_offset(pca: WPca, coefficients: np.ndarray) -> np.ndarray:
    """sum_k c_k * stdev_k * component_k (w_dim,): sliders in standard deviations of W."""
    c = np.asarray(coefficients, dtype=np.float64)
    if c.shape != pca.stdev.shape or not np.all(np.isfinite(c)):
        raise ValueError(f"Expected {len(pca.stdev)} finite W slider values, got shape {c.shape}.")
    return ((c * pca.stdev) @ pca.components.astype(np.float64)).astype(np.float32)


def apply_w_sliders(generator: TwoStageGenerator, latent: "StyleLatent", pca: WPca, coefficients: np.ndarray) -> "StyleLatent":
    """The face moved by W sliders on every layer; a z face becomes a w face (edits live in W)."""
    from facestudio.latent.spaces import StyleLatent, to_space

    base = to_space(generator, latent, "w" if latent.space == "z" else latent.space)
    return StyleLatent(base.space, base.values + w_slider_offset(pca, coefficients))
