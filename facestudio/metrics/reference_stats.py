"""What real faces look like to the factor encoder: features, readings and their Gaussian.

Every quality figure compares generated faces with a fixed set of real synthetic faces.
Those faces come from data-set seeds of their own, disjoint from the encoder's training
and held-out sets and from the default GAN training set (seed 0), so no metric rewards
memorising the faces it is measured against. Encoding 5,000 of them costs tens of
seconds, so the result is cached on disk under $FACESTUDIO_CACHE, keyed by encoder
sha256, image size, seed and count, and validated on load (a bad cache is rebuilt).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from facestudio.atomic_file import atomic_write_bytes
from facestudio.errors import FaceStudioError
from facestudio.metrics.factor_encoder import LoadedEncoder
from facestudio.metrics.frechet import FeatureStats, feature_stats
from facestudio.models.checkpoint import read_safetensors_header

log = logging.getLogger(__name__)

# Synthetic data-set seeds (`synthetic_faces(n, size, seed)`; face i has seed
# face_seed(seed, i), so sets with different seeds are disjoint).
ENCODER_TRAIN_SEED = 7001  # factor encoder training faces
ENCODER_HELDOUT_SEED = 7002  # factor encoder held-out accuracy
REFERENCE_SEED = 7003  # the real side of every quality figure
VALIDATION_SEED = 7004  # a second real set, to check that real data scores best

CACHE_FORMAT = "facestudio-reference-stats"
CACHE_VERSION = 2


@dataclass(frozen=True)
class Reference:
    """Encoded real faces: the fixed real side of the quality figures."""

    features: torch.Tensor  # float32 (N, D)
    readings: torch.Tensor  # float32 (N, F)
    stats: FeatureStats
    image_size: int
    seed: int
    encoder_sha256: str

    @property
    def n(self) -> int:
        return int(self.features.shape[0])

    def describe(self) -> dict[str, object]:
        """How the reference was made, for the JSON output of a metric."""
        return {
            "data": "synthetic",
            "seed": self.seed,
            "n": self.n,
            "faces": f"synthetic_faces(n={self.n}, size={self.image_size}, seed={self.seed})",
        }


def encode_images(encoder: LoadedEncoder, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """(features, readings) of uint8 or [-1, 1] images (N, 3, H, H)."""
    features, _, readings = encoder.encoder.encode(images, batch_size)
    return features, readings


def reference_from_images(encoder: LoadedEncoder, images: torch.Tensor, image_size: int, seed: int) -> Reference:
    features, readings = encode_images(encoder, images)
    return Reference(features, readings, feature_stats(features), image_size, seed, encoder.sha256)


def _cache_path(encoder_sha: str, image_size: int, n: int, seed: int) -> Path:
    from facestudio.cache_dir import cache_dir
    from facestudio.data.synthetic_faces import RENDERER_VERSION

    name = f"reference-e{encoder_sha[:16]}-r{RENDERER_VERSION}-s{image_size}-seed{seed}-n{n}.safetensors"
    return cache_dir() / "metrics" / name


def _read_cache(path: Path, encoder: LoadedEncoder, image_size: int, n: int, seed: int) -> Reference | None:
    """The cached reference, or None when missing, damaged or not for these settings."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cannot read reference cache %s (%s); encoding again", path, exc)
        return None
    enc = encoder.encoder
    d, f = enc.metric_dim, len(enc.specs)
    want = {"features": [n, d], "readings": [n, f], "mean": [d], "cov": [d, d]}
    try:
        header, meta = read_safetensors_header(data, str(path))
        ok = (
            meta.get("format") == CACHE_FORMAT
            and meta.get("version") == str(CACHE_VERSION)
            and meta.get("encoder_sha256") == encoder.sha256
            and {k: v["shape"] for k, v in header.items()} == want
        )
        if not ok:
            raise ValueError("contents do not match")
        t = st_load(data)
        if not all(torch.isfinite(v).all() for v in t.values()):
            raise ValueError("non-finite values")
    except Exception as exc:  # a damaged cache is never worth failing over: rebuild it
        log.warning("ignoring reference cache %s (%s); encoding again", path, exc)
        return None
    stats = FeatureStats(mean=t["mean"], cov=t["cov"], n=n)
    return Reference(t["features"], t["readings"], stats, image_size, seed, encoder.sha256)


def _write_cache(path: Path, ref: Reference) -> None:
    tensors = {
        "features": ref.features.contiguous(),
        "readings": ref.readings.contiguous(),
        "mean": ref.stats.mean.contiguous(),
        "cov": ref.stats.cov.contiguous(),
    }
    meta = {"format": CACHE_FORMAT, "version": str(CACHE_VERSION), "encoder_sha256": ref.encoder_sha256}
    try:
        atomic_write_bytes(path, st_save(tensors, metadata=meta))
    except FaceStudioError as exc:  # a cache that cannot be written only costs time
        log.warning("could not write the reference cache: %s", exc)


_MEMORY: dict[tuple[str, int, int, int], Reference] = {}


def reference_for(encoder: LoadedEncoder, image_size: int, n: int, seed: int = REFERENCE_SEED) -> Reference:
    """The encoded real reference set for `image_size` px (memory, disk cache, or rendered)."""
    key = (encoder.sha256, image_size, n, seed)
    if key in _MEMORY:
        return _MEMORY[key]
    path = _cache_path(encoder.sha256, image_size, n, seed)
    ref = _read_cache(path, encoder, image_size, n, seed)
    if ref is None:
        from facestudio.data.synthetic_faces import synthetic_faces

        images, _ = synthetic_faces(n, image_size, seed)
        ref = reference_from_images(encoder, images, image_size, seed)
        _write_cache(path, ref)
    _MEMORY.clear()  # keep one reference in memory: the trainer asks for the same one each time
    _MEMORY[key] = ref
    return ref
