"""Training data for FaceStudio: the built-in synthetic faces and folders of images.

The trainer sees one small interface:

    ds = load_dataset("synthetic", size=64)          # or a folder path
    ds.images      # torch.uint8 (N, 3, H, W)
    ds.labels      # float32 (N, F) or None; ds.label_names names the columns
    x = to_float(ds.images[idx])                     # float in [-1, 1]

This package is Qt-free; torch is imported when a data set is built, not on import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from facestudio.data.image_folder import ImageFolderData, ScanResult, Skipped, find_celeba, read_celeba_attributes, scan_folder
from facestudio.data.image_loader import center_crop_resize, load_image
# The function synthetic_faces() is reached as facestudio.data.synthetic_faces.synthetic_faces:
# re-exporting it here would hide the module of the same name.
from facestudio.data import synthetic_faces as _synthetic
from facestudio.data.synthetic_faces import FACTOR_NAMES, FACTORS, factor_vector, render_face, render_from_factors, sample_factors
from facestudio.errors import DataSetError
from facestudio.pixels import to_float

if TYPE_CHECKING:
    import torch

SYNTHETIC = "synthetic"
DEFAULT_SYNTHETIC_COUNT = 10_000


@dataclass
class FaceDataSet:
    """A prepared training set: uint8 images (N, 3, H, W) and optional numeric labels."""

    images: "torch.Tensor"
    labels: np.ndarray | None
    label_names: list[str]
    name: str
    skipped: list[Skipped] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])


def _flip_synthetic_labels(labels: np.ndarray) -> np.ndarray:
    """Labels of mirrored synthetic faces: yaw and light change sign."""
    out = labels.copy()
    for name in ("yaw", "light"):
        out[:, FACTOR_NAMES.index(name)] *= -1
    return out


def load_dataset(spec: str, size: int, n: int | None = None, seed: int = 0, flip: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> FaceDataSet:
    """The data set named by `spec`: "synthetic" (n faces, default 10,000) or a folder path.

    flip=True adds a mirrored copy of every image (so N doubles). For folders, n keeps the
    first n usable images in sorted order; seed only affects the synthetic set.
    `progress(done, total)` reports faces rendered or files decoded, as they come.
    """
    import torch

    if size < 8:
        raise DataSetError(f"An image size of {size} pixels is too small; use 32, 64 or 128.")
    if spec is None or str(spec).strip().lower() == SYNTHETIC:
        count = DEFAULT_SYNTHETIC_COUNT if n is None else int(n)
        if count < 1:
            raise DataSetError("The synthetic data set needs at least one face; ask for n >= 1.")
        images, labels = _synthetic.synthetic_faces(count, size=size, seed=seed, progress=progress)
        if flip:
            images = torch.cat([images, images.flip(-1)])
            labels = np.concatenate([labels, _flip_synthetic_labels(labels)])
        return FaceDataSet(images, labels, list(FACTOR_NAMES), SYNTHETIC, [])
    root = Path(os.path.expanduser(str(spec)))
    if not root.exists():
        raise DataSetError(
            f"There is no folder {root}; give a folder of images or \"{SYNTHETIC}\" for the built-in faces."
        )
    data = ImageFolderData(root, size, flip=flip, n=n, progress=progress)
    return FaceDataSet(data.images, data.labels, data.label_names, root.name or str(root), data.skipped)


def check_folder(root: str | os.PathLike) -> dict:
    """For `facestudio data check DIR --json`: usable image count and every skipped file.

    Raises DataSetError when the folder is missing or holds no usable image.
    """
    result = scan_folder(root)
    celeba = find_celeba(root)
    return {
        "images": len(result.usable),
        "skipped": [{"path": str(s.path), "reason": s.reason, "kind": s.kind} for s in result.skipped],
        "celeba": celeba is not None,
    }


__all__ = [
    "FaceDataSet", "load_dataset", "to_float", "check_folder", "SYNTHETIC",
    "render_face", "render_from_factors", "sample_factors", "factor_vector", "FACTORS", "FACTOR_NAMES",
    "load_image", "center_crop_resize", "scan_folder", "ScanResult", "Skipped", "ImageFolderData",
    "find_celeba", "read_celeba_attributes",
]
