"""Frechet distance: closed forms, symmetry, and agreement with a direct sqrtm."""

import math

import pytest
import torch

from facestudio.metrics.frechet import FeatureStats, feature_stats, frechet_distance, trace_sqrt_product


def _stats(mean, cov):
    return FeatureStats(torch.as_tensor(mean, dtype=torch.float64), torch.as_tensor(cov, dtype=torch.float64), n=1000)


def _random_spd(d, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


def test_one_dimensional_closed_form():
    # FD of N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2.
    a = _stats([1.0], [[4.0]])
    b = _stats([-2.0], [[0.25]])
    assert frechet_distance(a, b) == pytest.approx(9.0 + (2.0 - 0.5) ** 2, rel=1e-12)


def test_diagonal_closed_form():
    va = torch.tensor([1.0, 2.0, 3.0, 0.5], dtype=torch.float64)
    vb = torch.tensor([2.0, 0.5, 3.0, 4.0], dtype=torch.float64)
    ma, mb = torch.tensor([0.0, 1.0, 2.0, 3.0]), torch.tensor([1.0, 1.0, 0.0, 3.0])
    expected = float(((ma - mb) ** 2).sum() + ((va.sqrt() - vb.sqrt()) ** 2).sum())
    assert frechet_distance(_stats(ma, torch.diag(va)), _stats(mb, torch.diag(vb))) == pytest.approx(expected, rel=1e-10)


def test_trace_sqrt_matches_eigenvalues_of_the_nonsymmetric_product():
    # tr sqrtm(S1 S2) = sum of sqrt of the (real, positive) eigenvalues of S1 S2.
    s1, s2 = _random_spd(12, 1), _random_spd(12, 2)
    eig = torch.linalg.eigvals(s1 @ s2)
    assert eig.imag.abs().max() < 1e-8
    direct = float(eig.real.clamp_min(0).sqrt().sum())
    assert trace_sqrt_product(s1, s2) == pytest.approx(direct, rel=1e-9)


def test_commuting_covariances_scalar_multiple():
    # S2 = c S1 -> tr sqrt(S1 S2) = sqrt(c) tr S1, so FD = (1 - sqrt c)^2 tr S1 (equal means).
    s1 = _random_spd(8, 3)
    fd = frechet_distance(_stats(torch.zeros(8), s1), _stats(torch.zeros(8), 4.0 * s1))
    assert fd == pytest.approx((1 - 2.0) ** 2 * float(torch.trace(s1)), rel=1e-9)


def test_identical_sets_score_zero_and_distance_is_symmetric():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 32, generator=g)
    y = torch.randn(500, 32, generator=g) * 1.5 + 0.3
    sx, sy = feature_stats(x), feature_stats(y)
    assert frechet_distance(sx, sx) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(sx, sy) == pytest.approx(frechet_distance(sy, sx), rel=1e-9)
    assert frechet_distance(sx, sy) > 1.0


def test_singular_covariances_are_handled():
    # Fewer samples than dimensions (rank-deficient covariance), dead ReLU units: no NaN.
    g = torch.Generator().manual_seed(1)
    x = torch.randn(10, 40, generator=g)
    x[:, :5] = 0.0
    y = torch.randn(10, 40, generator=g)
    fd = frechet_distance(feature_stats(x), feature_stats(y))
    assert math.isfinite(fd) and fd > 0
    assert frechet_distance(feature_stats(x), feature_stats(x.clone())) == pytest.approx(0.0, abs=1e-8)


def test_sample_estimate_approaches_population_value():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(20000, 3, generator=g, dtype=torch.float64)
    y = torch.randn(20000, 3, generator=g, dtype=torch.float64) * 2 + 1
    # Population: 3 * 1^2 (means) + 3 * (1 - 2)^2 (stds) = 6.
    assert frechet_distance(feature_stats(x), feature_stats(y)) == pytest.approx(6.0, rel=0.05)


def test_feature_stats_rejects_bad_input():
    with pytest.raises(ValueError):
        feature_stats(torch.zeros(1, 4))
    with pytest.raises(ValueError):
        frechet_distance(feature_stats(torch.randn(5, 3)), feature_stats(torch.randn(5, 4)))
