"""Frechet distance between Gaussian fits of feature sets (the "F" of FID).

The usual implementation calls `scipy.linalg.sqrtm` on the non-symmetric product
S1 S2, which is slow and can return complex noise. We only need its trace, and

    tr sqrtm(S1 S2) = tr sqrtm(sqrt(S1) S2 sqrt(S1)) = sum sqrt(eigvals(sqrt(S1) S2 sqrt(S1)))

where the inner matrix is symmetric positive semi-definite, so `eigh` (stable, real)
does the work in float64 with no SciPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FeatureStats:
    """Mean and covariance (float64) of `n` feature vectors."""

    mean: torch.Tensor  # (D,)
    cov: torch.Tensor  # (D, D)
    n: int

    def __post_init__(self) -> None:
        d = self.mean.shape[0]
        if self.mean.dim() != 1 or tuple(self.cov.shape) != (d, d):
            raise ValueError(f"feature stats need a (D,) mean and a (D, D) covariance, got {tuple(self.mean.shape)} and {tuple(self.cov.shape)}")


def feature_stats(features: torch.Tensor) -> FeatureStats:
    """Gaussian fit (unbiased covariance, like FID) of (N, D) features."""
    if features.dim() != 2 or features.shape[0] < 2:
        raise ValueError(f"need at least 2 feature vectors of shape (N, D), got {tuple(features.shape)}")
    x = features.detach().to("cpu", torch.float64)
    mean = x.mean(0)
    xc = x - mean
    cov = xc.T @ xc / (x.shape[0] - 1)
    return FeatureStats(mean=mean, cov=cov, n=int(x.shape[0]))


def _psd_sqrt(cov: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a PSD matrix (tiny negative eigenvalues from rounding -> 0)."""
    cov = (cov + cov.T) / 2
    vals, vecs = torch.linalg.eigh(cov)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def trace_sqrt_product(cov1: torch.Tensor, cov2: torch.Tensor) -> float:
    """tr sqrtm(cov1 @ cov2) for PSD matrices, through the symmetric form."""
    c1 = cov1.to(torch.float64)
    c2 = cov2.to(torch.float64)
    root = _psd_sqrt(c1)
    inner = root @ c2 @ root
    vals = torch.linalg.eigvalsh((inner + inner.T) / 2)
    return float(vals.clamp_min(0).sqrt().sum())


def frechet_distance(a: FeatureStats, b: FeatureStats) -> float:
    """||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr sqrtm(S_a S_b); >= 0."""
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"feature stats of different widths: {a.mean.shape[0]} vs {b.mean.shape[0]}")
    mean_a, mean_b = a.mean.to(torch.float64), b.mean.to(torch.float64)
    diff = float(((mean_a - mean_b) ** 2).sum())
    tr = float(torch.trace(a.cov.to(torch.float64)) + torch.trace(b.cov.to(torch.float64)))
    value = diff + tr - 2.0 * trace_sqrt_product(a.cov, b.cov)
    # Rounding can leave a tiny negative for identical inputs; a distance is never < 0.
    return max(value, 0.0)
