"""Native StyleGAN2/3 networks reproduce the official code's outputs on the fixture pickles."""

import warnings

import numpy as np
import pytest
import torch

from facestudio.models import load_model, save_model
from tests.stylegan_fixtures import fixture

NAMES = ["sg2_skip_32", "sg3_t_32", "sg3_r_32"]
TOL = 1e-4

warnings.filterwarnings("ignore", message="TypedStorage is deprecated")


@pytest.fixture(scope="module", params=NAMES)
def case(request):
    name = request.param
    bundle = load_model(fixture(f"{name}.pkl"))
    expected = dict(np.load(fixture(f"{name}_expected.npz")))
    return name, bundle, expected


def _mapping(g, e):
    cutoff = int(e["cutoff"])
    c = torch.from_numpy(e["c"]) if e["c"].size else None
    return g.mapping(torch.from_numpy(e["z"]), c, truncation_psi=float(e["psi"]), truncation_cutoff=None if cutoff < 0 else cutoff)


def test_fixture_ws_and_images_match(case):
    name, bundle, e = case
    g = bundle.generator
    assert bundle.family == ("stylegan3" if name.startswith("sg3") else "stylegan2")
    assert (g.z_dim, g.c_dim, g.w_dim, g.img_resolution) == (e["z"].shape[1], e["c"].shape[1], e["ws"].shape[2], e["img"].shape[2])
    assert g.num_ws == e["ws"].shape[1]
    with torch.inference_mode():
        ws = _mapping(g, e)
        assert np.abs(ws.numpy() - e["ws"]).max() < TOL
        img = g.synthesis(torch.from_numpy(e["ws"]), noise_mode="const")
        assert img.shape == e["img"].shape
        assert np.abs(img.numpy() - e["img"]).max() < TOL
        mixed = g.synthesis(torch.from_numpy(e["ws_mixed"]), noise_mode="const")
        assert np.abs(mixed.numpy() - e["img_mixed"]).max() < TOL
        # forward is synthesis(mapping(...)), and truncation really changes the result
        full = g(torch.from_numpy(e["z"]), None, truncation_psi=float(e["psi"]))
        assert np.abs(full.numpy() - e["img"]).max() < TOL
        assert np.abs(g(torch.from_numpy(e["z"])).numpy() - e["img"]).max() > 1e-3


def test_fixture_has_w_avg_and_truncation_to_average(case):
    _, bundle, e = case
    g = bundle.generator
    with torch.inference_mode():
        ws = g.mapping(torch.from_numpy(e["z"]), truncation_psi=0.0)
    assert torch.allclose(ws, g.w_avg.expand_as(ws))
    with torch.inference_mode():
        cut = g.mapping(torch.from_numpy(e["z"]), truncation_psi=0.0, truncation_cutoff=2)
        free = g.mapping(torch.from_numpy(e["z"]))
    assert torch.allclose(cut[:, :2], g.w_avg.expand(4, 2, -1)) and torch.equal(cut[:, 2:], free[:, 2:])


def test_noise_modes_differ_only_for_stylegan2(case):
    name, bundle, e = case
    g = bundle.generator
    ws = torch.from_numpy(e["ws"][:1])
    with torch.inference_mode():
        const = g.synthesis(ws, noise_mode="const")
        none = g.synthesis(ws, noise_mode="none")
        rand = g.synthesis(ws, noise_mode="random")
    if name.startswith("sg2"):
        assert (const - none).abs().max() > 1e-3 and (const - rand).abs().max() > 1e-3
    else:
        assert torch.equal(const, none) and torch.equal(const, rand)
    with pytest.raises(ValueError, match="noise_mode"):
        g.synthesis(ws, noise_mode="loud")


def test_facestudio_file_round_trip(case, tmp_path):
    name, bundle, e = case
    out = tmp_path / f"{name}.safetensors"
    save_model(bundle, out)
    again = load_model(out)
    assert again.family == bundle.family and again.config == bundle.config
    assert (again.discriminator is None) == (bundle.discriminator is None)
    with torch.inference_mode():
        img = again.generator.synthesis(torch.from_numpy(e["ws"]))
    assert np.abs(img.numpy() - e["img"]).max() < TOL


def test_discriminator_scores_faces():
    bundle = load_model(fixture("sg2_skip_32.pkl"))
    d = bundle.discriminator
    assert d is not None
    with torch.inference_mode():
        imgs = bundle.generator(torch.randn(5, 64, generator=torch.Generator().manual_seed(0)))
        logits = d(imgs)  # 5 is not a multiple of the minibatch-std group of 4
        one = d(imgs[:1])
    assert logits.shape == (5,) and torch.isfinite(logits).all() and one.shape == (1,)
    with pytest.raises(ValueError, match="shape"):
        d(imgs[:, :, :16, :16])


def test_discriminator_features_for_projection():
    bundle = load_model(fixture("sg2_skip_32.pkl"))
    img = torch.zeros(2, 3, 32, 32, requires_grad=True)
    feats = bundle.discriminator.features(img)
    assert [f.shape[-1] for f in feats] == [16, 8, 4]
    sum(f.square().mean() for f in feats).backward()  # gradients reach the image
    assert img.grad is not None and torch.isfinite(img.grad).all()
