"""Grids of faces and resizing; network output to uint8 images comes from facestudio.pixels.

Faces are RGB uint8 arrays (H, W, 3) everywhere outside the networks, the form Pillow,
numpy and QImage all take without guessing.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image

from facestudio.pixels import tensor_to_uint8, to_float

__all__ = ["tensor_to_uint8", "uint8_to_tensor", "check_images", "image_grid", "resize", "resize_all", "upscale"]


def uint8_to_tensor(images: np.ndarray) -> torch.Tensor:
    """RGB uint8 (N, H, W, 3) or (H, W, 3) -> float32 (N, 3, H, W) in [-1, 1] (inverse of the above)."""
    images = check_images(images, "images")
    return to_float(torch.from_numpy(images).permute(0, 3, 1, 2))


def check_images(images: np.ndarray, what: str = "frames") -> np.ndarray:
    """`images` as a C-contiguous uint8 (N, H, W, 3) array (a single (H, W, 3) becomes N=1)."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError(f"There are no {what}.")
        shapes = {np.shape(im) for im in images}
        if len(shapes) != 1:
            raise ValueError(f"All {what} must have the same size, got {sorted(shapes)}.")
        images = np.stack([np.asarray(im) for im in images])
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"Expected RGB uint8 {what} of shape (N, H, W, 3), got {images.dtype} {images.shape}.")
    if images.shape[0] == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(f"There are no {what} (shape {images.shape}).")
    return np.ascontiguousarray(images)


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 2, pad_value: int = 0) -> np.ndarray:
    """Tile (N, H, W, 3) uint8 images row by row into one (rows*(H+pad)+pad, ...) image.

    `cols` defaults to a near-square layout; a padding of `pad` pixels of grey level
    `pad_value` surrounds every tile, and empty cells of the last row stay that colour.
    """
    images = check_images(images, "images")
    n, h, w, c = images.shape
    cols = math.ceil(math.sqrt(n)) if cols is None else cols
    if isinstance(cols, bool) or not isinstance(cols, (int, np.integer)) or cols < 1:
        raise ValueError(f"The number of columns must be a whole number of at least 1, not {cols!r}.")
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or not 0 <= pad <= 256:
        raise ValueError(f"The padding must be a whole number of pixels from 0 to 256, not {pad!r}.")
    if not 0 <= int(pad_value) <= 255:
        raise ValueError(f"The padding grey level must be from 0 to 255, not {pad_value!r}.")
    cols = min(int(cols), n)
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), int(pad_value), dtype=np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[y : y + h, x : x + w] = images[i]
    return grid


def resize(image: np.ndarray, size: int | tuple[int, int], smooth: bool = True) -> np.ndarray:
    """(H, W, 3) uint8 resized to `size` (square side, or (width, height)).

    `smooth` uses Lanczos (soft, photographic); otherwise nearest neighbour keeps every
    generated pixel a crisp square, which artists often prefer for small GAN output.
    """
    image = check_images(image, "image")[0]
    width, height = (size, size) if isinstance(size, (int, np.integer)) else size
    for side in (width, height):
        if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or not 1 <= side <= 16384:
            raise ValueError(f"The image size must be a whole number of pixels from 1 to 16384, not {side!r}.")
    if (int(height), int(width)) == image.shape[:2]:
        return image.copy()
    if not smooth and width % image.shape[1] == 0 and height % image.shape[0] == 0:
        # Whole-number nearest-neighbour upscaling is pure pixel repetition: exact and fast.
        return np.repeat(np.repeat(image, height // image.shape[0], axis=0), width // image.shape[1], axis=1)
    resample = Image.Resampling.LANCZOS if smooth else Image.Resampling.NEAREST
    return np.asarray(Image.fromarray(image).resize((int(width), int(height)), resample), dtype=np.uint8)


def upscale(image: np.ndarray, factor: float, smooth: bool = True) -> np.ndarray:
    """(H, W, 3) uint8 enlarged `factor` times (nearest for crisp pixels, Lanczos for smooth)."""
    if isinstance(factor, bool) or not isinstance(factor, (int, float, np.integer, np.floating)) or not 0 < factor <= 64:
        raise ValueError(f"The upscaling factor must be a number above 0 and at most 64, not {factor!r}.")
    image = check_images(image, "image")[0]
    h, w = image.shape[:2]
    return resize(image, (max(1, round(w * factor)), max(1, round(h * factor))), smooth=smooth)


def resize_all(images: np.ndarray, size: int | None, smooth: bool = True) -> np.ndarray:
    """Every image of (N, H, W, 3) resized to size x size (None keeps them as they are)."""
    images = check_images(images, "images")
    if size is None or (images.shape[1] == size and images.shape[2] == size):
        return images
    return np.stack([resize(im, size, smooth) for im in images])
