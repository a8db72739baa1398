"""SeFa and GANSpace PCA directions, and applying direction amounts."""

import numpy as np
import pytest
import torch

from facestudio.latent.directions import (
    apply_directions,
    block_activations,
    direction_offset,
    pca_directions,
    sefa_directions,
)
from facestudio.models import new_bundle
from facestudio.models.bundle import DirectionSet


@pytest.fixture
def generator(tiny_config):
    g = new_bundle(tiny_config, seed=0).generator
    with torch.no_grad():  # trained-looking batch-norm statistics, so folding them matters
        gen = torch.Generator().manual_seed(1)
        bn = g.main[1]
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen) * 0.1)
        bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) * 3 + 0.2)
    return g


def _unit_rows(n, nz, seed=0):
    r = np.random.default_rng(seed).standard_normal((n, nz))
    return (r / np.linalg.norm(r, axis=1, keepdims=True)).astype(np.float32)


def _orthonormal(vectors):
    np.testing.assert_allclose(vectors @ vectors.T, np.eye(len(vectors)), atol=1e-5)


def test_sefa_shapes_orthonormal_and_deterministic(generator, tiny_config):
    d = sefa_directions(generator, k=5)
    assert d.kind == "sefa" and d.names == [f"SeFa {i}" for i in range(1, 6)]
    assert d.vectors.shape == (5, tiny_config.nz) and d.vectors.dtype == np.float32
    _orthonormal(d.vectors)
    assert np.array_equal(d.vectors, sefa_directions(generator, k=5).vectors)
    assert sefa_directions(generator, k=tiny_config.nz).vectors.shape == (tiny_config.nz, tiny_config.nz)


def test_sefa_finds_the_first_layers_most_sensitive_latent_directions(generator, tiny_config):
    """Checked against the network itself: first conv + batch norm, applied to unit steps."""
    first = torch.nn.Sequential(generator.main[0], generator.main[1]).eval()

    def responses(v):
        v = torch.as_tensor(v, dtype=torch.float32)[:, :, None, None]
        with torch.no_grad():
            return (first(v) - first(torch.zeros_like(v[:1]))).flatten(1).norm(dim=1).numpy()

    gains = responses(sefa_directions(generator, k=3).vectors)
    assert gains[0] >= gains[1] >= gains[2]
    assert gains[0] >= responses(_unit_rows(500, tiny_config.nz)).max() * (1 - 1e-5)  # no unit step moves it further


def test_moving_along_sefa_changes_the_image_more_than_a_random_direction(generator, tiny_config):
    nz = tiny_config.nz
    z = torch.from_numpy(np.random.default_rng(1).standard_normal((16, nz)).astype(np.float32))
    steps = torch.from_numpy(np.concatenate([sefa_directions(generator, k=1).vectors, _unit_rows(20, nz, seed=2)]))
    with torch.no_grad():
        base = generator(z)
        moved = generator((z[None] + 2.0 * steps[:, None]).reshape(-1, nz)).reshape(len(steps), *base.shape)
    change = (moved - base[None]).flatten(2).norm(dim=2).mean(dim=1).numpy()  # per direction
    assert change[0] > 1.03 * change[1:].mean()


def _planted(tiny_config, seed):
    """A generator whose first layer reacts strongly to one known latent direction u."""
    g = new_bundle(tiny_config, seed=seed).generator
    u = np.random.default_rng(seed + 10).standard_normal(tiny_config.nz)
    u /= np.linalg.norm(u)
    with torch.no_grad():
        w = g.main[0].weight  # (nz, C, 4, 4): the latent is the first axis
        v = torch.randn(w.shape[1] * 16, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        w += (1.5 * torch.from_numpy(np.outer(u, (v / v.norm()).numpy()))).float().view_as(w)
    return g, u


@pytest.mark.parametrize("seed", [0, 1])
def test_both_recipes_recover_a_planted_direction(tiny_config, seed):
    g, u = _planted(tiny_config, seed)
    sefa = sefa_directions(g, k=3).vectors
    assert abs(float(sefa[0] @ u)) > 0.99
    pca = pca_directions(g, k=3, n=400).vectors
    assert abs(float(pca[0] @ u)) > 0.95
    assert np.all(np.abs(pca[1:] @ u) < 0.2)


def test_pca_directions_map_back_to_the_latent_side(tiny_config):
    """The top PCA direction moves the block's activations much more than random steps do."""
    g, _ = _planted(tiny_config, 3)
    d = pca_directions(g, k=1, n=400).vectors
    z = torch.from_numpy(np.random.default_rng(4).standard_normal((32, tiny_config.nz)).astype(np.float32))
    steps = torch.from_numpy(np.concatenate([d, _unit_rows(20, tiny_config.nz, seed=5)]))
    with torch.no_grad():
        base = block_activations(g, z)
        moved = block_activations(g, (z[None] + steps[:, None]).reshape(-1, tiny_config.nz)).reshape(len(steps), *base.shape)
    change = (moved - base[None]).norm(dim=2).mean(dim=1).numpy()
    assert change[0] > 2.0 * change[1:].mean()


def test_direction_requests_are_checked(generator, tiny_config):
    for bad in (0, tiny_config.nz + 1, 2.0, True):
        with pytest.raises(ValueError):
            sefa_directions(generator, k=bad)
    with pytest.raises(ValueError):
        pca_directions(generator, k=3, n=5)
    with pytest.raises(ValueError):
        pca_directions(generator, k=3, n=100, layer=tiny_config.n_blocks + 1)


def test_apply_directions_by_name_and_by_row(tiny_config):
    nz = tiny_config.nz
    dset = DirectionSet("sefa", ["a", "b"], np.eye(nz, dtype=np.float32)[:2])
    z = np.arange(nz, dtype=np.float32)
    out = apply_directions(z, dset, {"b": 2.5})
    expected = z.copy()
    expected[1] += 2.5
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(apply_directions(z, dset, [1.0, -1.0])[:2], [1.0, 0.0])
    np.testing.assert_array_equal(apply_directions(z, dset, {}), z)
    batch = np.stack([z, z * 2])
    assert apply_directions(batch, dset, {"a": 1.0}).shape == (2, nz)
    np.testing.assert_array_equal(direction_offset(dset, {"a": 3.0})[:2], [3.0, 0.0])


def test_apply_directions_refuses_what_does_not_fit(tiny_config):
    nz = tiny_config.nz
    dset = DirectionSet("pca", ["a"], np.eye(nz, dtype=np.float32)[:1])
    z = np.zeros(nz, np.float32)
    with pytest.raises(ValueError, match="no 'smile'"):
        apply_directions(z, dset, {"smile": 1.0})
    with pytest.raises(ValueError):
        apply_directions(z, dset, [1.0, 2.0])
    with pytest.raises(ValueError):
        apply_directions(z, dset, {"a": float("nan")})
    with pytest.raises(ValueError):
        apply_directions(np.zeros(nz + 1, np.float32), dset, {"a": 1.0})
