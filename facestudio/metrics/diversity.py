"""Diversity: how spread out generated faces are, relative to the data.

The score is mean pairwise feature distance among generated faces divided by the same
among real faces: about 1 for a model as varied as its data, towards 0 for mode collapse
(every seed gives nearly the same face), above 1 for faces scattered wider than real ones
(noise, artefacts). It is the LPIPS-free equivalent of the "intra-set distance" checks
used in GAN papers, measured in the factor encoder's feature space.
"""

from __future__ import annotations

import torch

_BLOCK = 1024


def mean_pairwise_distance(features: torch.Tensor) -> float:
    """Exact mean Euclidean distance over all pairs i != j of (N, D) features."""
    if features.dim() != 2 or features.shape[0] < 2:
        raise ValueError(f"need at least 2 feature vectors of shape (N, D), got {tuple(features.shape)}")
    x = features.detach().to("cpu", torch.float32)
    n = x.shape[0]
    total = 0.0
    for start in range(0, n, _BLOCK):
        # float64 accumulation: 25M distances summed in float32 would lose digits.
        total += float(torch.cdist(x[start : start + _BLOCK], x).to(torch.float64).sum())
    return total / (n * (n - 1))


def diversity_ratio(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Mean pairwise distance of generated features over that of real features (~1 is right)."""
    real_spread = mean_pairwise_distance(real)
    if real_spread <= 0:
        raise ValueError("the real features are all identical; a diversity ratio is meaningless")
    return mean_pairwise_distance(fake) / real_spread
