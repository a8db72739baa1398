"""GAN-like degradation of clean drawings: what separates a generator's faces from the data.

The direction judge (`latent.direction_validation`) and the face check
(`metrics.face_defects`) learn from crisp synthetic faces but must read generated ones,
which are softer, shifted, off in colour and noisy; training both on faces degraded this
way keeps those differences from being a cue.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def degrade(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """GAN-like degradation of [-1, 1] images (N, 3, H, W): blur, shift, colour, contrast, noise."""
    n = x.shape[0]
    sigma = torch.rand(n, generator=gen) * 1.0
    k = torch.arange(-2, 3, dtype=torch.float32)
    kern = torch.exp(-(k[None, :] ** 2) / (2 * sigma[:, None].clamp_min(1e-3) ** 2))
    kern = kern / kern.sum(1, keepdim=True)  # (N, 5)
    pad = F.pad(x, (2, 2, 2, 2), mode="replicate")
    rows = sum(kern[:, i, None, None, None] * pad[:, :, :, i : i + x.shape[-1]] for i in range(5))
    x = sum(kern[:, i, None, None, None] * rows[:, :, i : i + x.shape[-2], :] for i in range(5))
    shift = torch.randint(-3, 4, (2,), generator=gen).tolist()
    x = torch.roll(x, shifts=shift, dims=(2, 3))
    gain = 1 + (torch.rand(n, 3, 1, 1, generator=gen) - 0.5) * 0.3
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.5
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean
    x = x * gain + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.2
    x = x + torch.randn(x.shape, generator=gen) * torch.rand(n, 1, 1, 1, generator=gen) * 0.06
    return x.clamp(-1, 1)
