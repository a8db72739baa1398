"""Small StyleGAN networks for tests: the official-format fixtures and random native ones."""

from __future__ import annotations

from pathlib import Path

import torch

from facestudio.models import ModelBundle, StyleModelConfig
from facestudio.models.stylegan.discriminator import StyleGAN2Discriminator
from facestudio.models.stylegan.stylegan2 import StyleGAN2Generator

FIXTURES = Path("/work/shared/fixtures/stylegan")
FIXTURE_NAMES = ("sg2_skip_32", "sg3_t_32", "sg3_r_32")


def fixture_path(name: str) -> Path:
    return FIXTURES / f"{name}.pkl"


def random_sg2_bundle(seed: int = 0, resolution: int = 32, z_dim: int = 24, w_dim: int = 24,
                      with_discriminator: bool = False) -> ModelBundle:
    """A randomly initialised native StyleGAN2 (skip) with a non-zero w_avg, eval mode."""
    g_kwargs = dict(z_dim=z_dim, c_dim=0, w_dim=w_dim, img_resolution=resolution, img_channels=3,
                    mapping_kwargs={"num_layers": 2}, synthesis_kwargs={"channel_base": 256, "channel_max": 16})
    d_kwargs = dict(c_dim=0, img_resolution=resolution, img_channels=3, channel_base=256, channel_max=16)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        g = StyleGAN2Generator(**g_kwargs)
        g.mapping.w_avg.copy_(torch.randn(w_dim) * 0.3)
        d = StyleGAN2Discriminator(**d_kwargs) if with_discriminator else None
    config = StyleModelConfig(family="stylegan2", z_dim=z_dim, img_resolution=resolution, generator_kwargs=g_kwargs,
                              discriminator_kwargs=d_kwargs if with_discriminator else None, name=f"random-sg2-{seed}")
    return ModelBundle(config=config, generator=g, discriminator=d, sha256=f"{seed:064x}")
