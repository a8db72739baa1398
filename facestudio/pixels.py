"""Pixel values in one place: uint8 0..255 images and network images in [-1, 1].

-1 maps to 0 and 1 to 255, rounding to nearest; a uint8 value v becomes v / 127.5 - 1.
Used by data sets, the renderer, training sample grids, quality metrics and projection.
torch is imported when a function runs, so importing this module stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch


def to_float(images: Any) -> "torch.Tensor":
    """uint8 images (tensor or array, any shape) -> float32 tensor in [-1, 1]."""
    import torch

    t = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.asarray(images))
    if t.dtype != torch.uint8:
        raise TypeError(f"to_float expects uint8 images, got {t.dtype}")
    return t.to(torch.float32).div_(127.5).sub_(1.0)


def to_uint8(images: "torch.Tensor") -> "torch.Tensor":
    """Float images in [-1, 1] (any shape, any device) -> uint8 0..255, as a PNG would store them."""
    import torch

    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def tensor_to_uint8(x: Any) -> np.ndarray:
    """Images in [-1, 1], (N, C, H, W) or (C, H, W) -> RGB uint8 array (N, H, W, 3) or (H, W, 3).

    One channel is grey and repeated to RGB; a second or fourth (alpha) channel is
    dropped: faces are shown and saved as RGB.
    """
    import torch

    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x))
    single = x.dim() == 3
    if single:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] not in (1, 2, 3, 4):
        raise ValueError(f"expected images (N, C, H, W) with 1 to 4 channels, got shape {tuple(x.shape)}")
    x = x.detach().to("cpu", torch.float32)
    x = x[:, :3] if x.shape[1] >= 3 else x[:, :1].expand(-1, 3, -1, -1)
    out = to_uint8(x).permute(0, 2, 3, 1).contiguous().numpy()
    return out[0] if single else out
