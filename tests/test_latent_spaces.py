"""Faces in Z, W and W+: conversions, truncation in W, GANSpace PCA of W and W sliders."""

import numpy as np
import pytest
import torch
from style_nets import fixture_path, random_sg2_bundle

from facestudio.latent import w_pca as w_pca_module
from facestudio.latent.spaces import StyleLatent, seed_latent, to_space, to_wplus, truncate_w, wplus_batch
from facestudio.latent.w_pca import apply_w_sliders, compute_w_pca, w_pca, w_slider_offset
from facestudio.models import ModelConfig, load_model, new_bundle


@pytest.fixture(scope="module")
def sg2():
    return random_sg2_bundle(seed=1)


@pytest.fixture(scope="module")
def fixture_sg2():
    return load_model(fixture_path("sg2_skip_32"))


def test_z_to_w_to_wplus_matches_the_network(fixture_sg2):
    g = fixture_sg2.viewing_generator
    expected = np.load(str(fixture_path("sg2_skip_32")).replace(".pkl", "_expected.npz"))
    z, psi, cutoff = expected["z"], float(expected["psi"]), int(expected["cutoff"])
    for i in range(len(z)):
        ws = to_wplus(g, StyleLatent("z", z[i]), psi=psi, cutoff=None if cutoff < 0 else cutoff)
        np.testing.assert_allclose(ws, expected["ws"][i], atol=1e-5)
    w = to_space(g, StyleLatent("z", z[0]), "w")
    assert w.space == "w" and w.shape == (64,)
    wp = to_space(g, w, "w+")
    assert wp.shape == (g.num_ws, 64) and np.allclose(wp.values, w.values[None])


def test_truncation_in_w_with_cutoff_pulls_towards_w_avg(sg2):
    g = sg2.viewing_generator
    ws = to_wplus(g, seed_latent(g, 5))
    avg = g.w_avg.numpy()
    out = truncate_w(g, ws, psi=0.25, cutoff=3)
    np.testing.assert_allclose(out[:3], avg + 0.25 * (ws[:3] - avg), atol=1e-6)
    np.testing.assert_array_equal(out[3:], ws[3:])
    np.testing.assert_allclose(truncate_w(g, ws, 0.0), np.broadcast_to(avg, ws.shape), atol=1e-6)
    with torch.inference_mode():
        net = g.mapping(torch.from_numpy(seed_latent(g, 5).values[None]), truncation_psi=0.5, truncation_cutoff=2)[0].numpy()
    np.testing.assert_allclose(to_wplus(g, seed_latent(g, 5), psi=0.5, cutoff=2), net, atol=1e-6)
    with pytest.raises(ValueError, match="cutoff"):
        truncate_w(g, ws, 0.5, cutoff=g.num_ws + 1)
    with pytest.raises(ValueError, match="Truncation"):
        truncate_w(g, ws, float("nan"))


def test_upward_conversion_and_bad_shapes_are_refused(sg2):
    g = sg2.viewing_generator
    w = to_space(g, seed_latent(g, 1), "w")
    with pytest.raises(ValueError, match="cannot be turned into a z"):
        to_space(g, w, "z")
    with pytest.raises(ValueError, match="shape"):
        to_wplus(g, StyleLatent("w+", np.zeros((3, 24))))
    with pytest.raises(ValueError, match="NaN"):
        StyleLatent("w", np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="space"):
        StyleLatent("y", np.zeros(3))


def test_wplus_batch_mixes_spaces(sg2):
    g = sg2.viewing_generator
    faces = [seed_latent(g, 1), to_space(g, seed_latent(g, 2), "w"), to_space(g, seed_latent(g, 3), "w+")]
    batch = wplus_batch(g, faces, psi=0.7)
    for i, face in enumerate(faces):
        np.testing.assert_allclose(batch[i], to_wplus(g, face, psi=0.7), atol=1e-6)


def test_dcgan_is_w_equals_z_with_one_layer():
    bundle = new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32), seed=2)
    g = bundle.viewing_generator
    z = seed_latent(g, 4)
    ws = to_wplus(g, z, psi=0.5)
    assert ws.shape == (1, 16)
    np.testing.assert_allclose(ws[0], 0.5 * z.values, atol=1e-6)
    pca = compute_w_pca(g, k=4, n=400)
    assert pca.components.shape == (4, 16)


def test_w_pca_finds_the_planted_axis():
    """A mapping that stretches one known direction: PCA must find it first, with its variance share."""
    bundle = random_sg2_bundle(seed=2)
    g = bundle.viewing_generator
    axis = torch.zeros(24)
    axis[7] = 1.0
    last = g.mapping.fc1
    with torch.no_grad():
        w_before = compute_w_pca(g, k=3, n=2000)
        last.weight[7] *= 20.0
        last.bias[7] = 0.0
    pca = compute_w_pca(g, k=3, n=2000)
    assert abs(float(pca.components[0] @ axis.numpy())) > 0.99
    assert pca.variance_share[0] > 0.5 > w_before.variance_share[0]
    assert np.all(np.diff(pca.stdev) <= 0) and np.allclose(pca.components @ pca.components.T, np.eye(3), atol=1e-5)


def test_w_pca_cache_per_model_sha(sg2, monkeypatch):
    g = sg2.viewing_generator
    first = w_pca(g, sg2.sha256, k=5, n=500)
    calls = []
    monkeypatch.setattr(w_pca_module, "compute_w_pca", lambda *a, **k: calls.append(a) or first)
    assert w_pca(g, sg2.sha256, k=5, n=500) is first
    w_pca_module._MEMORY.clear()
    again = w_pca(g, sg2.sha256, k=5, n=500)  # from the disk cache
    assert not calls and np.array_equal(again.components, first.components)
    w_pca(g, "f" * 64, k=5, n=500)  # another model computes its own
    assert len(calls) == 1


def test_w_sliders_move_along_components(sg2):
    g = sg2.viewing_generator
    pca = compute_w_pca(g, k=4, n=1000)
    offset = w_slider_offset(pca, np.array([0.0, 2.0, 0.0, 0.0]))
    np.testing.assert_allclose(offset, 2.0 * pca.stdev[1] * pca.components[1], atol=1e-6)
    face = seed_latent(g, 9)
    moved = apply_w_sliders(g, face, pca, np.array([0.0, 2.0, 0.0, 0.0]))
    assert moved.space == "w"
    np.testing.assert_allclose(moved.values - to_space(g, face, "w").values, offset, atol=1e-5)
    with pytest.raises(ValueError, match="4 finite"):
        w_slider_offset(pca, np.zeros(3))
