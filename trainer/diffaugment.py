"""DiffAugment (Zhao et al. 2020): differentiable colour, translation and cutout.

The same kind of random augmentation is applied to real and generated images before
the discriminator sees them, in both the D and the G step; because every operation is
differentiable, G still gets gradients through it. D then cannot memorise a small data
set, which is what lets GANs train on a few thousand images.

Random parameters are drawn on the CPU from an explicit `torch.Generator` (small
per-image tensors) and moved to the images' device, so a run is reproducible and
resumable whatever the device.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _uniform(n: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, generator=gen).to(device=like.device, dtype=like.dtype)


def augment_color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5) per image."""
    n = x.shape[0]
    x = x + (_uniform(n, gen, x) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_uniform(n, gen, x) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(n, gen, x) + 0.5) + mean


def augment_translation(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to `ratio` of its size, filling with zeros (mid grey)."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (n, 1, 1), generator=gen).to(x.device)
    tx = torch.randint(-sw, sw + 1, (n, 1, 1), generator=gen).to(x.device)
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + ty + 1).clamp(0, h + 1)  # (n, h, 1) into the padded image
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + tx + 1).clamp(0, w + 1)  # (n, 1, w)
    padded = F.pad(x, (1, 1, 1, 1))  # (n, c, h+2, w+2)
    index = (rows * (w + 2) + cols).view(n, 1, h * w).expand(-1, x.shape[1], -1)
    return padded.flatten(2).gather(2, index).view_as(x)


def augment_cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Zero a random square of `ratio` of the image size in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=gen).to(x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=gen).to(x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (ys >= oy - ch // 2) & (ys < oy - ch // 2 + ch) & (xs >= ox - cw // 2) & (xs < ox - cw // 2 + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


OPERATIONS = {"color": augment_color, "translation": augment_translation, "cutout": augment_cutout}


def diff_augment(x: torch.Tensor, ops: tuple[str, ...], gen: torch.Generator) -> torch.Tensor:
    """Apply the named operations in order (no-op for an empty tuple)."""
    for op in ops:
        x = OPERATIONS[op](x, gen)
    return x
