"""face_realism: distance to real faces ranked against real faces (the meter validate_realism compares with)."""

import numpy as np
import pytest
import torch

from facestudio.metrics.face_realism import RealismScale


def test_real_points_read_about_half_and_far_points_read_zero():
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(400, 8, generator=gen)
    scale = RealismScale.from_features(real[:300])
    typical = scale.percentiles(scale.distances(real[300:]))
    assert 0.3 < float(np.median(typical)) < 0.7  # unseen real points are typical
    far = scale.percentiles(scale.distances(real[300:] * 4 + 6))
    assert far.max() == 0.0
    centre = scale.percentiles(scale.distances(torch.zeros(1, 8)))
    assert centre[0] > 0.9  # the densest spot reads more real than most real points


def test_a_larger_distance_never_reads_more_real():
    gen = torch.Generator().manual_seed(1)
    scale = RealismScale.from_features(torch.randn(200, 4, generator=gen))
    distances = np.linspace(0, scale.real_distances.max() * 1.5, 50)
    readings = scale.percentiles(distances)
    assert readings[0] == 1.0 and readings[-1] == 0.0 and np.all(np.diff(readings) <= 0)
    median = np.median(scale.real_distances)
    assert scale.percentiles(np.array([median]))[0] == pytest.approx(0.5, abs=0.01)


def test_bad_input_is_refused():
    scale = RealismScale.from_features(torch.randn(10, 4))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        scale.distances(torch.randn(3, 5))
    with pytest.raises(ValueError, match="k=3"):
        RealismScale.from_features(torch.randn(3, 4))
