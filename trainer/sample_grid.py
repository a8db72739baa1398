"""Sample grids (the fixed-latent faces written every few hundred steps) and their diversity.

Both work on generator output in [-1, 1]. The diversity measure is the mean pairwise
distance between 16x16 thumbnails: crude next to a learnt feature space, but free to
compute every time a grid is drawn, and a collapse onto a few faces shows in it at once.
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from facestudio.pixels import tensor_to_uint8

THUMBNAIL = 16


def make_grid(images: torch.Tensor, columns: int | None = None, gap: int = 2) -> np.ndarray:
    """Tile images (N, 3, H, W) in [-1, 1] into one (rows*H', cols*W', 3) uint8 picture."""
    tiles = tensor_to_uint8(images)
    n, h, w, _ = tiles.shape
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap, 3), 24, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[gap + r * (h + gap) : gap + r * (h + gap) + h, gap + c * (w + gap) : gap + c * (w + gap) + w] = tiles[i]
    return grid


def png_bytes(picture: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def pixel_diversity(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance of 16x16 thumbnails of images in [-1, 1] (N >= 2)."""
    x = images.detach().float().cpu()
    if x.shape[-1] > THUMBNAIL:
        x = F.adaptive_avg_pool2d(x, THUMBNAIL)
    flat = x.flatten(1).double()
    n = flat.shape[0]
    return float(torch.cdist(flat, flat).sum() / (n * (n - 1)))
