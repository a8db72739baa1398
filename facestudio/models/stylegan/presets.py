"""Published StyleGAN network shapes, built natively with random weights.

For benchmarks and tests: the same constructor settings the official training
configurations write into their pickles (StyleGAN2-ADA `paper256`, StyleGAN2 config-f
at 1024, StyleGAN3-T/R at 1024).
"""

from __future__ import annotations

from typing import Any

import torch

from facestudio.models.bundle import ModelBundle
from facestudio.models.style_config import StyleModelConfig
from facestudio.models.stylegan.build import build_networks

PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    # fmaps 0.5 -> channel_base 16384; 8-layer mapping; 4 fp16 resolutions, conv clamp 256.
    "paper256": ("stylegan2", dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=256, img_channels=3,
                                   mapping_kwargs=dict(num_layers=8),
                                   synthesis_kwargs=dict(channel_base=16384, channel_max=512, num_fp16_res=4, conv_clamp=256))),
    "config-f": ("stylegan2", dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=1024, img_channels=3,
                                   mapping_kwargs=dict(num_layers=8),
                                   synthesis_kwargs=dict(channel_base=32768, channel_max=512, num_fp16_res=4, conv_clamp=256))),
    "stylegan3-t": ("stylegan3", dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=1024, img_channels=3,
                                      channel_base=32768, channel_max=512, mapping_kwargs=dict(num_layers=2))),
    "stylegan3-r": ("stylegan3", dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=1024, img_channels=3,
                                      channel_base=65536, channel_max=1024, conv_kernel=1, use_radial_filters=True,
                                      mapping_kwargs=dict(num_layers=2))),
}


def preset_bundle(name: str, *, seed: int = 0, resolution: int | None = None, with_discriminator: bool = False) -> ModelBundle:
    """A randomly initialised bundle of a published shape (`resolution` overrides its size)."""
    family, kwargs = PRESETS[name]
    kwargs = dict(kwargs)
    if resolution is not None:
        kwargs["img_resolution"] = resolution
    disc = dict(c_dim=0, img_resolution=kwargs["img_resolution"], img_channels=3) if with_discriminator else None
    config = StyleModelConfig(family=family, z_dim=kwargs["z_dim"], img_resolution=kwargs["img_resolution"],
                              generator_kwargs=kwargs, discriminator_kwargs=disc, name=f"random {name}")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        gen, d = build_networks(config, name)
    return ModelBundle(config=config, generator=gen, discriminator=d)
