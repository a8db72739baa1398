"""Per-face realism: how close a face lies to real faces, ranked against real faces themselves.

The explorer's second realism meter, kept as a comparison in `tests/bench/validate_realism.py`.
It replaced the first (the discriminator's logit ranked against the model's own faces,
AUC 0.58 against a person's broken/fine labels of the second shipped model; a dark blob
over real faces' eyes made them *more* real to it). On that model it reached AUC 0.73;
on the third it stopped tracking people (0.45-0.58: its faces are close to the data and
what is left wrong is local), and `face_defects` (the face check) replaced it (README,
"Realism meter"). It measures what the quality metric measures, face by face:

- features: the factor encoder's standardised metric features (`facestudio eval`'s space);
- a face's distance: the mean distance to its K nearest of REFERENCE_N real synthetic
  faces (the metric's reference seed); K = 3 as in precision;
- the reading: the share of real faces lying at least as far from the other real faces
  (leave-one-out), so 50% reads "as close to the real faces as a typical real face"
  and 5% "farther than 95% of real faces".

It only means something for models of the synthetic-face domain (the encoder knows
those faces). Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from facestudio.metrics.factor_encoder import LoadedEncoder, shared_encoder
from facestudio.metrics.knn_precision_recall import DEFAULT_K
from facestudio.metrics.reference_stats import REFERENCE_SEED, reference_for

#: Real faces the distances are measured to: encoded once (seconds), then cached on disk
#: by `reference_for`; 2,000 x 320 features keep a reading at ~1 ms.
REFERENCE_N = 2000
_BLOCK = 512


def _knn_distance(query: torch.Tensor, real: torch.Tensor, k: int, exclude_self: bool) -> torch.Tensor:
    """Mean distance of each query row to its k nearest real rows (itself excluded when asked)."""
    out = torch.empty(query.shape[0])
    for start in range(0, query.shape[0], _BLOCK):
        d = torch.cdist(query[start : start + _BLOCK], real)
        if exclude_self:
            rows = torch.arange(d.shape[0])
            d[rows, rows + start] = float("inf")
        out[start : start + d.shape[0]] = d.topk(k, dim=1, largest=False).values.mean(dim=1)
    return out


@dataclass(frozen=True)
class RealismScale:
    """Real faces' features and their own sorted leave-one-out distances (the calibration)."""

    features: torch.Tensor  # (N, D) float32
    real_distances: np.ndarray  # (N,) sorted ascending
    k: int = DEFAULT_K

    @classmethod
    def from_features(cls, real: torch.Tensor, k: int = DEFAULT_K) -> "RealismScale":
        real = real.detach().to("cpu", torch.float32)
        if not 1 <= k < real.shape[0]:
            raise ValueError(f"k={k} needs more than k real faces, got {real.shape[0]}")
        own = _knn_distance(real, real, k, exclude_self=True)
        return cls(real, np.sort(own.numpy()), k)

    def distances(self, features: torch.Tensor) -> np.ndarray:
        """Mean distance of each face to its k nearest real faces (lower is more real)."""
        f = features.detach().to("cpu", torch.float32)
        if f.dim() != 2 or f.shape[1] != self.features.shape[1]:
            raise ValueError(f"expected (N, {self.features.shape[1]}) features, got {tuple(f.shape)}")
        return _knn_distance(f, self.features, self.k, exclude_self=False).numpy()

    def percentiles(self, distances: np.ndarray) -> np.ndarray:
        """Share (0..1) of real faces at least as far from real faces as `distances`."""
        d = np.asarray(distances)
        n = self.real_distances.size
        return (n - np.searchsorted(self.real_distances, d, side="left")) / n


class FaceRealism:
    """Realism readings of faces (uint8 (N, H, W, 3) or (H, W, 3)) for one image size."""

    def __init__(self, image_size: int, encoder: LoadedEncoder | None = None, n: int | None = None) -> None:
        self.encoder = encoder if encoder is not None else shared_encoder()
        reference = reference_for(self.encoder, image_size, n or REFERENCE_N, REFERENCE_SEED)
        self.scale = RealismScale.from_features(reference.features)
        self.image_size = image_size

    def features(self, faces: np.ndarray) -> torch.Tensor:
        arr = np.asarray(faces)
        if arr.dtype != np.uint8 or arr.ndim not in (3, 4) or arr.shape[-1] != 3:
            raise ValueError(f"expected uint8 RGB faces (N, H, W, 3), got {arr.dtype} {arr.shape}")
        images = torch.from_numpy(np.ascontiguousarray(arr.reshape(-1, *arr.shape[-3:]))).permute(0, 3, 1, 2)
        features, _, _ = self.encoder.encoder.encode(images)
        return features

    def distances(self, faces: np.ndarray) -> np.ndarray:
        return self.scale.distances(self.features(faces))

    def percentiles(self, faces: np.ndarray) -> np.ndarray:
        """The meter's reading per face, 0..1 (see the module docstring)."""
        return self.scale.percentiles(self.distances(faces))
