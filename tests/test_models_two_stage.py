"""The two-stage interface on DCGAN generators and the shared truncation rule."""

import pytest
import torch

from facestudio.models import ModelConfig, TwoStage, new_bundle, truncate_ws


@pytest.fixture(scope="module")
def bundle():
    return new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32), seed=3)


def test_dcgan_generator_is_two_stage(bundle):
    g = bundle.viewing_generator
    assert isinstance(g, TwoStage)
    assert (g.z_dim, g.c_dim, g.w_dim, g.num_ws, g.img_resolution, g.img_channels) == (16, 0, 16, 1, 32, 3)
    assert g.w_avg is None and g.preview_resolutions == ()
    assert bundle.family == "dcgan" and bundle.z_dim == 16 and bundle.img_resolution == 32 and bundle.card == {}


def test_dcgan_forward_is_synthesis_of_mapping(bundle):
    g = bundle.viewing_generator
    z = torch.randn(3, 16, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ws = g.mapping(z, truncation_psi=0.5)
        assert ws.shape == (3, 1, 16) and torch.allclose(ws[:, 0], 0.5 * z)
        assert torch.allclose(g.synthesis(ws), g(z, truncation_psi=0.5), atol=1e-6)
        assert torch.allclose(g(z), g.synthesis(g.mapping(z)), atol=1e-6)
    with pytest.raises(ValueError, match=r"\(N, 1, 16\)"):
        g.synthesis(torch.zeros(1, 2, 16))
    with pytest.raises(ValueError, match="noise_mode"):
        g.synthesis(ws, noise_mode="loud")


def test_truncate_ws_with_cutoff():
    ws = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
    avg = torch.tensor([1.0, 2.0, 3.0])
    assert truncate_ws(ws, avg, 1.0) is ws
    out = truncate_ws(ws, avg, 0.25, 2)
    assert torch.allclose(out[:, :2], avg + 0.25 * (ws[:, :2] - avg))
    assert torch.equal(out[:, 2:], ws[:, 2:])
    assert torch.allclose(truncate_ws(ws, avg, 0.0), avg.expand_as(ws))
    assert torch.allclose(truncate_ws(ws, None, 0.5), ws * 0.5)
