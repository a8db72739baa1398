"""Layer resolutions, coarse/middle/fine groups, layer masks and style mixing."""

import numpy as np
import pytest
import torch
from style_nets import FIXTURE_NAMES, fixture_path, random_sg2_bundle

from facestudio.latent.layers import group_layers, layer_mask, layer_resolutions, mix_faces, mix_styles, parse_layers
from facestudio.latent.spaces import StyleLatent, seed_latent, to_wplus
from facestudio.models import ModelConfig, load_model, new_bundle
from facestudio.models.stylegan.stylegan2 import StyleGAN2Generator
from facestudio.models.stylegan.stylegan3 import StyleGAN3Generator


def test_stylegan2_1024_groups_follow_layer_resolution():
    g = StyleGAN2Generator(z_dim=8, c_dim=0, w_dim=8, img_resolution=1024, channel_base=2048, channel_max=4,
                           mapping_kwargs={"num_layers": 1})
    assert g.num_ws == 18
    assert layer_resolutions(g) == (4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 512, 1024, 1024, 1024)
    assert group_layers(g, "coarse") == (0, 1, 2)
    assert group_layers(g, "middle") == (3, 4, 5, 6)
    assert group_layers(g, "fine") == tuple(range(7, 18))


def test_stylegan3_1024_groups_follow_band_limits():
    g = StyleGAN3Generator(z_dim=8, c_dim=0, w_dim=8, img_resolution=1024, channel_base=64, channel_max=4)
    res = layer_resolutions(g)
    assert len(res) == g.num_ws == 16 and res[0] == 4 and res[-1] == 1024
    assert list(res) == sorted(res)
    groups = [group_layers(g, name) for name in ("coarse", "middle", "fine")]
    assert sorted(sum(groups, ())) == list(range(16)) and all(groups)


def test_dcgan_has_one_coarse_layer():
    g = new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32)).viewing_generator
    assert layer_resolutions(g) == (4,)
    assert group_layers(g, "coarse") == (0,) and group_layers(g, "fine") == ()


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_mixing_reproduces_the_official_style_mix(name):
    """The fixtures' ws_mixed are the official code's mix: layers 0..k-1 of sample 2 (or 3), the rest of sample 0."""
    bundle = load_model(fixture_path(name))
    g = bundle.viewing_generator
    expected = np.load(str(fixture_path(name)).replace(".pkl", "_expected.npz"))
    ws, mixed = expected["ws"], expected["ws_mixed"]
    half = g.num_ws // 2
    donor = 3 if name == "sg3_r_32" else 2
    ours = mix_styles(ws[0], ws[donor], layer_mask(g, f"0-{half - 1}"))
    np.testing.assert_array_equal(ours, mixed[0])
    with torch.inference_mode():
        img = g.synthesis(torch.from_numpy(ours[None]))
    np.testing.assert_allclose(img.numpy()[0], expected["img_mixed"][0], atol=2e-4)


def test_mix_faces_takes_only_the_chosen_layers():
    bundle = random_sg2_bundle(seed=4)
    g = bundle.viewing_generator
    a, b = seed_latent(g, 1), seed_latent(g, 2)
    mixed = mix_faces(g, a, b, "coarse", psi=0.8)
    wa, wb = to_wplus(g, a, psi=0.8), to_wplus(g, b, psi=0.8)
    coarse = layer_mask(g, "coarse")
    assert mixed.space == "w+" and coarse.sum() == 3
    np.testing.assert_allclose(mixed.values[coarse], wb[coarse], atol=1e-6)
    np.testing.assert_allclose(mixed.values[~coarse], wa[~coarse], atol=1e-6)
    other = StyleLatent("w+", wb)  # a w+ face (e.g. from a face PNG) works the same
    np.testing.assert_allclose(mix_faces(g, a, other, [0, 5]).values[[0, 5]], wb[[0, 5]], atol=1e-6)


def test_mix_styles_is_pure_and_checks_shapes():
    base, other = np.zeros((4, 3), np.float32), np.ones((4, 3), np.float32)
    mask = np.array([True, False, False, True])
    out = mix_styles(base, other, mask)
    assert out[:, 0].tolist() == [1, 0, 0, 1] and base.sum() == 0
    batch = mix_styles(np.zeros((2, 4, 3)), other, mask)
    assert batch.shape == (2, 4, 3) and batch[1, 3, 0] == 1
    with pytest.raises(ValueError, match="same shape"):
        mix_styles(base, np.ones((5, 3)), mask)
    with pytest.raises(ValueError, match="true/false"):
        mix_styles(base, other, np.array([1, 0, 0, 1]))


def test_layer_specs():
    assert parse_layers("0,2,5-7", 8) == (0, 2, 5, 6, 7)
    assert parse_layers([3, 1, 3], 8) == (1, 3)
    for bad, msg in (("9", "does not exist"), ("4-2", "backwards"), ("a-b", "must read"), ([True], "does not exist")):
        with pytest.raises(ValueError, match=msg):
            parse_layers(bad, 8)
