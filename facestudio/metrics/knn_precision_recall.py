"""Improved precision and recall (Kynkäänniemi et al. 2019) in feature space.

Each set's manifold is the union of balls around its points whose radius is the distance
to the point's k-th nearest neighbour (k=3 as in the paper). Precision = share of
generated points inside the real manifold (are faces realistic?); recall = share of real
points inside the generated manifold (does the model cover the data's variety?). Unlike
the Frechet distance, this separates "bad faces" from "too few kinds of faces".

Distances are computed in row blocks with `torch.cdist`, so 5,000 x 5,000 never needs
more than a block's worth of memory.
"""

from __future__ import annotations

import torch

DEFAULT_K = 3
_BLOCK = 1024


def _as_features(x: torch.Tensor, name: str) -> torch.Tensor:
    if x.dim() != 2:
        raise ValueError(f"{name} must be (N, D) features, got shape {tuple(x.shape)}")
    return x.detach().to("cpu", torch.float32)


def knn_radii(features: torch.Tensor, k: int = DEFAULT_K) -> torch.Tensor:
    """Distance from each point to its k-th nearest *other* point, shape (N,)."""
    x = _as_features(features, "features")
    if not 1 <= k < x.shape[0]:
        raise ValueError(f"k={k} needs more than k points, got {x.shape[0]}")
    radii = torch.empty(x.shape[0])
    for start in range(0, x.shape[0], _BLOCK):
        block = x[start : start + _BLOCK]
        d = torch.cdist(block, x)
        # Exclude the point itself explicitly (not by "smallest distance is 0"): with
        # duplicates, another copy at distance 0 is a genuine neighbour.
        rows = torch.arange(block.shape[0])
        d[rows, rows + start] = float("inf")
        radii[start : start + block.shape[0]] = d.kthvalue(k, dim=1).values
    return radii


def inside_manifold(query: torch.Tensor, support: torch.Tensor, support_radii: torch.Tensor) -> torch.Tensor:
    """Bool (Nq,): is each query point within some support point's k-NN ball?"""
    q = _as_features(query, "query")
    s = _as_features(support, "support")
    inside = torch.zeros(q.shape[0], dtype=torch.bool)
    for start in range(0, q.shape[0], _BLOCK):
        d = torch.cdist(q[start : start + _BLOCK], s)
        inside[start : start + d.shape[0]] = (d <= support_radii[None, :]).any(dim=1)
    return inside


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = DEFAULT_K) -> tuple[float, float]:
    """(precision, recall) of generated `fake` features against `real` features."""
    real_radii = knn_radii(real, k)
    fake_radii = knn_radii(fake, k)
    precision = inside_manifold(fake, real, real_radii).float().mean().item()
    recall = inside_manifold(real, fake, fake_radii).float().mean().item()
    return precision, recall
