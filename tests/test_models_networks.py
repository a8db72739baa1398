"""Generator / Discriminator shapes, ranges and input checks; ModelConfig validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facestudio.errors import ConfigError
from facestudio.models import (
    DirectionSet,
    Discriminator,
    Generator,
    ModelBundle,
    ModelConfig,
    build_discriminator,
    build_generator,
    new_bundle,
)


def _config(size: int, **kw) -> ModelConfig:
    return ModelConfig(nz=kw.pop("nz", 12), ngf=kw.pop("ngf", 4), ndf=kw.pop("ndf", 4), image_size=size, **kw)


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("latent_rank", [2, 4])
def test_generator_makes_images_in_range(size, latent_rank):
    config = _config(size)
    torch.manual_seed(0)
    g = build_generator(config).eval()
    z = torch.randn(3, config.nz) * 3  # wide latents push tanh towards its limits
    if latent_rank == 4:
        z = z[:, :, None, None]
    with torch.no_grad():
        x = g(z)
    assert x.shape == (3, 3, size, size)
    assert x.dtype == torch.float32
    assert torch.isfinite(x).all()
    assert x.min() >= -1 and x.max() <= 1
    assert x.std() > 0  # not a constant image


def test_both_latent_layouts_give_the_same_images():
    config = _config(32)
    g = build_generator(config).eval()
    z = torch.randn(2, config.nz)
    with torch.no_grad():
        assert torch.equal(g(z), g(z[:, :, None, None]))


def test_generator_accepts_float64_latents():
    config = _config(32)
    g = build_generator(config).eval()
    z = torch.randn(2, config.nz, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(g(z), g(z.float()))


@pytest.mark.parametrize(
    "shape",
    [(12,), (2, 11), (2, 13), (2, 12, 2, 2), (2, 12, 1), (2, 1, 12), (2, 12, 1, 1, 1), (0,)],
)
def test_generator_rejects_wrong_latent_shapes(shape):
    g = build_generator(_config(32))
    with pytest.raises(ValueError, match="expected latents of shape"):
        g(torch.zeros(shape))


def test_generator_rejects_integer_latents():
    g = build_generator(_config(32))
    with pytest.raises(ValueError, match="floating-point"):
        g(torch.zeros(2, 12, dtype=torch.int64))


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("d_norm", ["batch", "spectral", "none"])
def test_discriminator_gives_one_logit_per_image(size, d_norm):
    config = _config(size, d_norm=d_norm)
    d = build_discriminator(config).eval()
    with torch.no_grad():
        out = d(torch.rand(5, 3, size, size) * 2 - 1)
    assert out.shape == (5,)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("shape", [(2, 3, 64, 64), (2, 3, 16, 16), (2, 1, 32, 32), (3, 32, 32), (2, 3, 32, 31)])
def test_discriminator_rejects_wrong_image_shapes(shape):
    # A 64 px image into a 32 px D used to return 25 logits per image without complaint.
    d = build_discriminator(_config(32))
    with pytest.raises(ValueError, match="expected images of shape"):
        d(torch.zeros(shape))
    with pytest.raises(ValueError, match="expected images of shape"):
        d.features(torch.zeros(shape))


def test_spectral_norm_discriminator_is_normalised_from_the_start():
    """After DCGAN init each spectral-normed conv must have spectral norm ~1 in eval mode.

    The power iteration is re-run for the freshly drawn weights; a stale estimate (from
    PyTorch's default init) would divide by the wrong sigma.
    """
    torch.manual_seed(1)
    d = build_discriminator(_config(32, d_norm="spectral")).eval()
    convs = [m for m in d.modules() if hasattr(m, "parametrizations")]
    assert len(convs) == 4  # every convolution, including the final one
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), 2)
        assert abs(float(sigma) - 1.0) < 0.1


def test_spectral_norm_discriminator_trains():
    config = _config(32, d_norm="spectral")
    d = build_discriminator(config).train()
    loss = d(torch.randn(4, 3, 32, 32)).mean()
    loss.backward()
    assert all(p.grad is not None for p in d.parameters())


def test_discriminator_features_follow_each_leaky_relu():
    config = _config(64)
    d = build_discriminator(config).eval()
    feats = d.features(torch.zeros(2, 3, 64, 64))
    assert [f.shape[1:] for f in feats] == [(4, 32, 32), (8, 16, 16), (16, 8, 8), (32, 4, 4)]


def test_generator_without_batch_norm_has_biases_and_works():
    config = _config(32, g_norm="none")
    g = build_generator(config).eval()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in g.modules())
    with torch.no_grad():
        assert g(torch.randn(2, 12)).shape == (2, 3, 32, 32)


def test_tutorial_module_indices_are_kept():
    """Key names are the tutorial's: BN layers sit at conv index + 1."""
    g = Generator(ModelConfig())
    d = Discriminator(ModelConfig())
    g_convs = sorted(int(k.split(".")[1]) for k, v in g.state_dict().items() if k.endswith("weight") and v.dim() == 4)
    d_convs = sorted(int(k.split(".")[1]) for k, v in d.state_dict().items() if k.endswith("weight") and v.dim() == 4)
    assert g_convs == [0, 3, 6, 9, 12]
    assert d_convs == [0, 2, 5, 8, 11]


def test_new_bundle_is_reproducible_and_leaves_global_rng_alone():
    config = _config(32)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = new_bundle(config, seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    b = new_bundle(config, seed=7)
    c = new_bundle(config, seed=8, with_discriminator=False)
    assert c.discriminator is None
    for (k, va), vb in zip(a.generator.state_dict().items(), b.generator.state_dict().values()):
        assert torch.equal(va, vb), k
    assert not torch.equal(a.generator.main[0].weight, c.generator.main[0].weight)
    assert not a.generator.training and not any(p.requires_grad for p in a.generator.parameters())


def test_bundle_refuses_directions_of_another_latent_size():
    config = _config(32)
    g = build_generator(config)
    wrong = DirectionSet("pca", ["a"], np.zeros((1, config.nz + 1), np.float32))
    with pytest.raises(ValueError, match="nz=12"):
        ModelBundle(config=config, generator=g, directions={"pca": wrong})


def test_direction_set_checks_names_against_rows():
    with pytest.raises(ValueError):
        DirectionSet("pca", ["a", "b"], np.zeros((3, 4)))
    dset = DirectionSet("pca", ["a"], np.zeros((1, 4), np.float64))
    assert dset.vectors.dtype == np.float32 and dset.vectors.flags.c_contiguous


# ---------------------------------------------------------------- ModelConfig
def test_default_config_is_the_tutorial_network():
    c = ModelConfig()
    assert (c.nz, c.ngf, c.ndf, c.image_size, c.nc, c.n_blocks) == (100, 64, 64, 64, 3, 4)


def test_config_is_hashable_and_round_trips():
    c = ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="x", info={"steps": "10"})
    assert hash(c) == hash(c.replace(info={"other": "y"}))  # info is left out of the hash
    assert ModelConfig.from_dict(c.to_dict()) == c
    assert {c: 1}[ModelConfig.from_dict(c.to_dict())] == 1


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"nz": 10**9}, "nz=1000000000"),
        ({"nz": 0}, "nz=0"),
        ({"nz": -5}, "nz=-5"),
        ({"nz": 100.0}, "nz=100.0"),
        ({"nz": True}, "nz=True"),
        ({"ngf": 2000}, "ngf=2000"),
        ({"ndf": "64"}, "ndf='64'"),
        ({"nc": 7}, "nc=7"),
        ({"image_size": 48}, "Image size 48"),
        ({"image_size": 64.0}, "Image size 64.0"),
        ({"image_size": True}, "Image size True"),
        ({"g_norm": "layer"}, "normalisation 'layer'"),
        ({"d_norm": ["batch"]}, "normalisation"),
        ({"name": "x" * 201}, "at most 200"),
        ({"name": 5}, "name"),
        ({"info": {"a": 1}}, "info"),
        ({"info": ["a"]}, "info"),
        ({"nz": 4096, "ngf": 1024, "image_size": 128}, "million weights"),
    ],
)
def test_config_rejects_absurd_values_with_a_sentence(changes, words):
    data = ModelConfig().to_dict() | changes
    with pytest.raises(ConfigError, match=None) as info:
        ModelConfig.from_dict(data)
    message = str(info.value)
    assert words in message
    assert message.endswith(".") and message[0].isupper()


def test_weight_counts_match_the_networks():
    for config in (ModelConfig(), _config(32), _config(128, nz=20, ngf=5, ndf=7)):
        g, d = Generator(config), Discriminator(config)
        count = lambda net: sum(p.numel() for p in net.parameters() if p.dim() == 4)  # noqa: E731
        assert config.weight_counts() == (count(g), count(d))


@pytest.mark.parametrize("data", [None, [], "nz=3", {"nz": 10, "colour": "red"}, {"nz": {"a": 1}}])
def test_config_from_untrusted_data(data):
    with pytest.raises(ConfigError) as info:
        ModelConfig.from_dict(data)
    assert str(info.value).endswith(".")
