"""Damaged copies of real faces with a known order of badness, to validate the metrics.

A quality metric is only trustworthy if it ranks things we can rank ourselves: real
faces beat slightly blurred ones, which beat strongly blurred ones; a "model" that
repeats one face (mode collapse) or outputs noise is worst. These functions build such
sets from real uint8 faces (N, 3, H, W), deterministically from a seed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def gaussian_blur(images: torch.Tensor, radius: float) -> torch.Tensor:
    """Gaussian blur with standard deviation `radius` pixels (like Pillow's GaussianBlur)."""
    if radius <= 0:
        return images.clone()
    half = max(1, math.ceil(3 * radius))
    t = torch.arange(-half, half + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / radius) ** 2)
    k = k / k.sum()
    x = images.to(torch.float32)
    c = x.shape[1]
    pad = min(half, x.shape[-1] - 1)  # reflect padding needs pad < size
    kx = k.view(1, 1, 1, -1).expand(c, 1, 1, -1)
    ky = k.view(1, 1, -1, 1).expand(c, 1, -1, 1)
    x = F.conv2d(F.pad(x, (half, half, 0, 0), mode="replicate" if pad < half else "reflect"), kx, groups=c)
    x = F.conv2d(F.pad(x, (0, 0, half, half), mode="replicate" if pad < half else "reflect"), ky, groups=c)
    return x.round().clamp(0, 255).to(torch.uint8)


def add_noise(images: torch.Tensor, sigma: float, seed: int = 0) -> torch.Tensor:
    """Additive Gaussian pixel noise; `sigma` in units of the full 0..1 intensity range."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(images.shape, generator=g) * (sigma * 255.0)
    return (images.to(torch.float32) + noise).round().clamp(0, 255).to(torch.uint8)


def collapsed_set(images: torch.Tensor, n: int, sigma: float = 0.01, seed: int = 0) -> torch.Tensor:
    """One real face repeated n times with tiny noise: a perfectly mode-collapsed "model"."""
    return add_noise(images[:1].expand(n, *images.shape[1:]).contiguous(), sigma, seed)


def noise_set(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """Uniform random pixels: a generator that learnt nothing."""
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


class FixedLatentGenerator(nn.Module):
    """A mode-collapsed generator made honestly: `generator` with every latent replaced by one.

    Its faces are as good as the generator's face for `z0`, but the output ignores z, the
    textbook collapse of a GAN. It keeps the wrapped generator's `config` so it is
    evaluated like any model.
    """

    def __init__(self, generator: nn.Module, z0: torch.Tensor) -> None:
        super().__init__()
        if z0.dim() != 1:
            raise ValueError(f"z0 must be one latent (nz,), got shape {tuple(z0.shape)}")
        self.generator = generator
        self.config = generator.config
        self.register_buffer("z0", z0.detach().clone())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(self.z0.to(z.device).expand(z.shape[0], -1).contiguous())
