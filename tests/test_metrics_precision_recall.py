"""Improved precision/recall and diversity on toy point clouds."""

import pytest
import torch

from facestudio.metrics.diversity import diversity_ratio, mean_pairwise_distance
from facestudio.metrics.knn_precision_recall import inside_manifold, knn_radii, precision_recall


def _cloud(n, d, seed, scale=1.0, shift=0.0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) * scale + shift


def test_knn_radii_on_a_line():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    # k=1: nearest other point; k=2: second nearest.
    assert knn_radii(x, k=1).tolist() == [1.0, 1.0, 2.0, 4.0]
    assert knn_radii(x, k=2).tolist() == [3.0, 2.0, 3.0, 6.0]


def test_knn_radii_counts_duplicates_as_neighbours():
    x = torch.tensor([[0.0], [0.0], [0.0], [5.0]])
    assert knn_radii(x, k=2)[:3].tolist() == [0.0, 0.0, 0.0]


def test_knn_radii_blocks_match_unblocked(monkeypatch):
    import facestudio.metrics.knn_precision_recall as pr

    x = _cloud(300, 5, 0)
    whole = knn_radii(x, 3)
    monkeypatch.setattr(pr, "_BLOCK", 64)
    assert torch.allclose(knn_radii(x, 3), whole)


def test_same_distribution_has_high_precision_and_recall():
    p, r = precision_recall(_cloud(1500, 8, 1), _cloud(1500, 8, 2), k=3)
    assert p > 0.85 and r > 0.85


def test_disjoint_clouds_have_zero_precision_and_recall():
    p, r = precision_recall(_cloud(500, 8, 1), _cloud(500, 8, 2, shift=50.0), k=3)
    assert p == 0.0 and r == 0.0


def test_collapsed_generator_keeps_precision_but_loses_recall():
    real = _cloud(1500, 8, 3)
    # Every "generated" point near the real mode: realistic, not varied.
    collapsed = _cloud(1500, 8, 4, scale=0.05)
    p, r = precision_recall(real, collapsed, k=3)
    assert p > 0.95
    assert r < 0.1


def test_overspread_generator_keeps_recall_but_loses_precision():
    real = _cloud(1500, 8, 5)
    wide = _cloud(1500, 8, 6, scale=3.0)
    p, r = precision_recall(real, wide, k=3)
    assert p < 0.3
    assert r > 0.9


def test_inside_manifold_ball_edges():
    support = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    radii = torch.tensor([1.0, 2.0])
    q = torch.tensor([[0.5, 0.0], [1.5, 0.0], [8.0, 0.0], [5.0, 5.0]])
    assert inside_manifold(q, support, radii).tolist() == [True, False, True, False]


def test_mean_pairwise_distance_exact():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    # pairs: 5, 4, 3 -> mean 4
    assert mean_pairwise_distance(x) == pytest.approx(4.0)


def test_diversity_ratio():
    real = _cloud(800, 16, 7)
    assert diversity_ratio(_cloud(800, 16, 8), real) == pytest.approx(1.0, abs=0.03)
    assert diversity_ratio(_cloud(800, 16, 9, scale=0.01), real) < 0.02
    assert diversity_ratio(_cloud(800, 16, 10, scale=2.0), real) == pytest.approx(2.0, rel=0.05)
    with pytest.raises(ValueError):
        diversity_ratio(real, torch.zeros(10, 16))
