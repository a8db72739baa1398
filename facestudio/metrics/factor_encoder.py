"""The factor encoder: a small CNN that reads a face's factors, and the feature space of
FaceStudio's quality metrics.

FID measures photos in the feature space of an ImageNet Inception network; there are no
such weights offline, and ImageNet features are a poor judge of 64 px synthetic faces
anyway. So, in the same spirit, we train a small in-domain network to predict the
synthetic faces' factor labels (smile, glasses, beard, yaw, ...) and use its inner
layers (`features`) for the Frechet distance, precision/recall and diversity, and its
heads (`readings`) for per-factor statistics and attribute directions.

Encoder files are safetensors whose metadata carries the factor specs and architecture;
they are validated like model files (header, shapes, finiteness) before loading.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from facestudio.atomic_file import atomic_write_bytes
from facestudio.errors import ModelFileError
from facestudio.models.checkpoint import read_safetensors_header
from facestudio.models.model_file import read_model_file
from facestudio.pixels import to_float

FORMAT = "facestudio-factor-encoder"
FORMAT_VERSION = 1
INPUT_SIZE = 64
KINDS = ("binary", "continuous", "categorical")
DEFAULT_ENCODER_RESOURCE = "factor_encoder.safetensors"
MAX_FACTORS = 64
MAX_CLASSES = 64


@dataclass(frozen=True)
class FactorHead:
    """One factor the encoder reads, in the units of the data set's label column.

    binary: label 0/1, reading = probability. continuous: label a number, reading = the
    predicted number (the head regresses (label - mean) / std). categorical: label a
    class index 0..classes-1, reading = the most likely class. A factor with `given`
    (glasses_style given glasses) is only learnt and compared where that binary factor
    is present: the style of absent glasses is not in the picture.
    """

    name: str
    kind: str
    classes: int = 0
    mean: float = 0.0
    std: float = 1.0
    class_names: tuple[str, ...] = ()
    given: str = ""  # a binary factor that must be present for this one to be visible

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_names", tuple(self.class_names))
        if self.class_names and (len(self.class_names) != self.classes or not all(isinstance(c, str) for c in self.class_names)):
            raise ValueError(f"factor {self.name!r}: {len(self.class_names)} class names for {self.classes} classes")
        if not isinstance(self.given, str):
            raise ValueError(f"factor {self.name!r}: 'given' must be a factor name")
        if not isinstance(self.name, str) or not 0 < len(self.name) <= 64:
            raise ValueError(f"factor name {self.name!r} must be text of 1-64 characters")
        if self.kind not in KINDS:
            raise ValueError(f"factor {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.kind == "categorical" and not (isinstance(self.classes, int) and 2 <= self.classes <= MAX_CLASSES):
            raise ValueError(f"categorical factor {self.name!r} needs 2-{MAX_CLASSES} classes, got {self.classes!r}")
        if self.kind != "categorical" and self.classes != 0:
            raise ValueError(f"factor {self.name!r} of kind {self.kind} has no classes")
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (self.mean, self.std))
        if not numbers or self.std <= 0:
            raise ValueError(f"factor {self.name!r} needs a finite mean and a positive std")

    @property
    def width(self) -> int:
        """Number of head outputs for this factor."""
        return self.classes if self.kind == "categorical" else 1

    @classmethod
    def from_dict(cls, data: Any) -> "FactorHead":
        if not isinstance(data, dict) or set(data) - {"name", "kind", "classes", "mean", "std", "class_names", "given"}:
            raise ValueError(f"malformed factor spec {data!r}")
        return cls(**data)


@dataclass(frozen=True)
class EncoderArch:
    """Widths of the encoder network (stored in its file)."""

    width: int = 32
    feature_dim: int = 192

    def __post_init__(self) -> None:
        for name in ("width", "feature_dim"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1024:
                raise ValueError(f"encoder {name}={value!r} must be a whole number from 1 to 1024")


def prepare_images(images: torch.Tensor) -> torch.Tensor:
    """Images as the encoder wants them: float32 (N, 3, 64, 64) in [-1, 1].

    Accepts uint8 (N, 3, H, W) in 0..255 (the data sets) or float (N, 3, H, W) in
    [-1, 1] (generator output), any square H; 128 px is area-downsampled and 32 px
    bilinearly upsampled so every model is judged through the same 64 px eyes.
    """
    if images.dim() != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
        raise ValueError(f"expected square RGB images of shape (N, 3, H, H), got {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        x = to_float(images)
    elif images.is_floating_point():
        x = images.to(torch.float32)
    else:
        raise ValueError(f"images must be uint8 or float, got {images.dtype}")
    size = x.shape[-1]
    if size > INPUT_SIZE:
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="area")
    elif size < INPUT_SIZE:
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return x


class FactorEncoder(nn.Module):
    """64 px face -> metric features, and -> factor heads.

    A trunk of four stride-2 convolutions (64 -> 4 px), a fully connected layer
    (`arch.feature_dim` wide) and linear heads; small enough to train in minutes on two
    CPU cores and to score 5,000 faces in seconds.

    The metric features (`features`, `metric_dim` wide) are the fully connected layer
    (what the face *is*: its factors) next to the trunk's channel means (how its pixels
    *look*: edges, texture, noise), every dimension standardised with statistics of the
    training faces (`calibrate_features`). The fully connected part alone barely moves
    for pixel noise (it was trained to ignore nuisances), and Inception-style pooled
    conv features alone miss where things are; together, every dimension counting alike,
    they rank blur, noise, collapse and wrong factor mixes (tests/bench/validate_metric.py).
    """

    def __init__(self, specs: list[FactorHead], arch: EncoderArch = EncoderArch()) -> None:
        super().__init__()
        if not specs or len(specs) > MAX_FACTORS:
            raise ValueError(f"an encoder reads 1-{MAX_FACTORS} factors, got {len(specs)}")
        if len({s.name for s in specs}) != len(specs):
            raise ValueError("factor names must be unique")
        kinds = {s.name: s.kind for s in specs}
        for s in specs:
            if s.given and kinds.get(s.given) != "binary":
                raise ValueError(f"factor {s.name!r} is given {s.given!r}, which is not a binary factor of this encoder")
        self.specs = list(specs)
        self.arch = arch
        w = arch.width
        self.trunk = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(4 * w),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(4 * w, 4 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(4 * w),
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(4 * w * 16, arch.feature_dim), nn.ReLU(inplace=True))
        self.heads = nn.Linear(arch.feature_dim, sum(s.width for s in self.specs))
        self.register_buffer("feature_mean", torch.zeros(self.metric_dim))
        self.register_buffer("feature_scale", torch.ones(self.metric_dim))

    @property
    def metric_dim(self) -> int:
        """Width of `features`: the fully connected layer plus the trunk's channels."""
        return self.arch.feature_dim + 4 * self.arch.width

    def _parts(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(fully connected activations, unstandardised metric features)."""
        t = self.trunk(prepare_images(images))
        fc = self.fc(t)
        return fc, torch.cat([fc, t.mean((2, 3))], 1)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Standardised metric features (N, metric_dim) of images (see `prepare_images`)."""
        return (self._parts(images)[1] - self.feature_mean) / self.feature_scale

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Raw head outputs (N, sum of factor widths): logits / normalised values."""
        return self.heads(self.fc(self.trunk(prepare_images(images))))

    @torch.inference_mode()
    def calibrate_features(self, images: torch.Tensor, batch_size: int = 500) -> None:
        """Set the feature standardisation from (training) faces: mean 0, std 1 per dimension.

        Units that hardly vary on real faces get a floor of a tenth of the median scale,
        so a unit that is silent on faces but fires on artefacts counts strongly, yet
        cannot divide by ~0.
        """
        was_training = self.training
        self.eval()
        try:
            raw = torch.cat([self._parts(images[s : s + batch_size])[1] for s in range(0, images.shape[0], batch_size)])
        finally:
            self.train(was_training)
        std = raw.double().std(0)
        self.feature_mean.copy_(raw.double().mean(0).float())
        self.feature_scale.copy_(std.clamp_min(0.1 * float(std.median())).clamp_min(1e-6).float())

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    def split_heads(self, raw: torch.Tensor) -> list[torch.Tensor]:
        """Raw outputs cut into one (N, width) block per factor."""
        return list(torch.split(raw, [s.width for s in self.specs], dim=1))

    def readings_from_raw(self, raw: torch.Tensor) -> torch.Tensor:
        """(N, F) readings in label units: probability / value / most likely class."""
        cols = []
        for spec, block in zip(self.specs, self.split_heads(raw)):
            if spec.kind == "binary":
                cols.append(torch.sigmoid(block[:, 0]))
            elif spec.kind == "continuous":
                cols.append(block[:, 0] * spec.std + spec.mean)
            else:
                cols.append(block.argmax(1).to(raw.dtype))
        return torch.stack(cols, 1)

    def loss(self, raw: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Sum over factors of BCE / MSE (normalised) / CE; also each factor's loss."""
        total = raw.new_zeros(())
        parts: dict[str, float] = {}
        index = {s.name: i for i, s in enumerate(self.specs)}
        for i, (spec, block) in enumerate(zip(self.specs, self.split_heads(raw))):
            target = labels[:, i]
            if spec.given:
                visible = labels[:, index[spec.given]] > 0.5
                if not visible.any():
                    continue
                block, target = block[visible], target[visible]
            if spec.kind == "binary":
                part = F.binary_cross_entropy_with_logits(block[:, 0], target)
            elif spec.kind == "continuous":
                part = F.mse_loss(block[:, 0], (target - spec.mean) / spec.std)
            else:
                part = F.cross_entropy(block, target.long())
            total = total + part
            parts[spec.name] = float(part.detach())
        return total, parts

    @torch.inference_mode()
    def encode(self, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(metric features (N, metric_dim), raw heads (N, H), readings (N, F)) of many images."""
        was_training = self.training
        self.eval()
        try:
            feats, raws = [], []
            for start in range(0, images.shape[0], batch_size):
                fc, raw_features = self._parts(images[start : start + batch_size].to("cpu"))
                feats.append((raw_features - self.feature_mean) / self.feature_scale)
                raws.append(self.heads(fc))
            features = torch.cat(feats)
            raw = torch.cat(raws)
            return features, raw, self.readings_from_raw(raw)
        finally:
            self.train(was_training)


# ---------------------------------------------------------------- files
@dataclass
class LoadedEncoder:
    """An encoder ready to use plus what identifies it (sha256 of its file)."""

    encoder: FactorEncoder
    sha256: str
    source: Path | None
    card: dict[str, Any]


def encoder_metadata(encoder: FactorEncoder, card: dict[str, Any] | None = None) -> dict[str, str]:
    return {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "factors": json.dumps([asdict(s) for s in encoder.specs]),
        "arch": json.dumps(asdict(encoder.arch)),
        "card": json.dumps(card or {}),
    }


def save_encoder(encoder: FactorEncoder, path: str | os.PathLike, card: dict[str, Any] | None = None) -> str:
    """Write the encoder atomically as safetensors; returns the file's sha256."""
    tensors = {f"encoder.{k}": v.detach().to("cpu").contiguous().clone() for k, v in encoder.state_dict().items()}
    data = st_save(tensors, metadata=encoder_metadata(encoder, card))
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def _parse_metadata(metadata: dict[str, str], label: str) -> tuple[list[FactorHead], EncoderArch, dict[str, Any]]:
    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"{label} is a safetensors file but not a FaceStudio factor encoder.")
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        raise ModelFileError(f"{label} has an unreadable format version.") from None
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{label} was written by a newer FaceStudio (encoder format {version}); update FaceStudio to use it.")
    try:
        factors = json.loads(metadata.get("factors", ""))
        arch_data = json.loads(metadata.get("arch", ""))
        card = json.loads(metadata.get("card", "{}"))
        if not isinstance(factors, list) or not isinstance(arch_data, dict) or not isinstance(card, dict):
            raise ValueError("wrong JSON types")
        specs = [FactorHead.from_dict(f) for f in factors]
        arch = EncoderArch(**arch_data)
        if not specs or len(specs) > MAX_FACTORS:
            raise ValueError("wrong number of factors")
    except (json.JSONDecodeError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{label} has a malformed factor encoder description ({exc}); the file is damaged.") from None
    return specs, arch, card


def load_encoder(path: str | os.PathLike | None = None) -> LoadedEncoder:
    """Open a factor encoder file (None -> the one shipped with FaceStudio), validated."""
    if path is None:
        p = default_encoder_path()
        if not p.is_file():
            raise ModelFileError(
                "The factor encoder used by the quality metrics is missing from this installation; "
                "reinstall FaceStudio or train it with `python -m trainer.recipes.train_factor_encoder`."
            )
    else:
        p = Path(path).expanduser()
    label = str(p)
    data, digest = read_model_file(p)
    header, metadata = read_safetensors_header(data, label)
    specs, arch, card = _parse_metadata(metadata, label)
    try:
        with torch.device("meta"):
            expected = {f"encoder.{k}": (tuple(v.shape), v.dtype) for k, v in FactorEncoder(specs, arch).state_dict().items()}
    except ValueError as exc:
        raise ModelFileError(f"{label} describes an encoder FaceStudio cannot build ({exc}).") from None
    have = {k: tuple(v["shape"]) for k, v in header.items()}
    if set(have) != set(expected):
        missing = sorted(set(expected) - set(have))[:3]
        extra = sorted(set(have) - set(expected))[:3]
        raise ModelFileError(f"{label}: the encoder weights do not match its description (missing {missing}, unexpected {extra}).")
    for key, (shape, dtype) in expected.items():
        want_dtype = "I64" if dtype == torch.int64 else "F32"
        if have[key] != shape or header[key]["dtype"] != want_dtype:
            raise ModelFileError(f"{label}: encoder tensor {key} has shape {have[key]} ({header[key]['dtype']}), expected {shape}; the file is damaged.")
    try:
        tensors = st_load(data)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(f"{label} could not be read as safetensors: {exc}.") from None
    if not all(torch.isfinite(v).all() for v in tensors.values() if v.is_floating_point()):
        raise ModelFileError(f"{label}: the encoder weights contain NaN or infinite values; retrain or reinstall it.")
    if not bool((tensors["encoder.feature_scale"] > 0).all()):
        raise ModelFileError(f"{label}: the encoder's feature scales are not all positive; the file is damaged.")
    encoder = FactorEncoder(specs, arch)
    encoder.load_state_dict({k.split(".", 1)[1]: v for k, v in tensors.items()})
    encoder.eval()
    encoder.requires_grad_(False)
    return LoadedEncoder(encoder=encoder, sha256=digest, source=p, card=card)


def default_encoder_path() -> Path:
    """Path of the shipped factor encoder (inside the installed package)."""
    return Path(str(resources.files("facestudio.resources").joinpath(DEFAULT_ENCODER_RESOURCE)))


@lru_cache(maxsize=2)
def _cached_encoder(path: str, mtime_ns: int) -> LoadedEncoder:
    return load_encoder(path)


def shared_encoder(path: str | os.PathLike | None = None) -> LoadedEncoder:
    """The encoder at `path` (default: shipped), loaded once per process and file version.

    Metrics called every N training steps should not re-read and re-validate the file
    each time. Treat the returned network as read-only.
    """
    p = default_encoder_path() if path is None else Path(path).expanduser()
    if not p.is_file():
        return load_encoder(path)  # raises the right sentence
    return _cached_encoder(str(p.resolve()), p.stat().st_mtime_ns)


# Factors only drawn when another one is present (see the notes in FACTORS).
VISIBLE_WHEN = {"glasses_style": "glasses", "beard_style": "beard"}


def heads_for_synthetic_faces(labels: torch.Tensor) -> list[FactorHead]:
    """One head per factor of the built-in synthetic faces, normalised by `labels` (N, F).

    Continuous heads regress standardised targets, with mean/std from the training
    labels, so every factor weighs about the same in the loss.
    """
    from facestudio.data.synthetic_faces import FACTORS

    if labels.dim() != 2 or labels.shape[1] != len(FACTORS):
        raise ValueError(f"labels must be (N, {len(FACTORS)}), got {tuple(labels.shape)}")
    heads = []
    for i, spec in enumerate(FACTORS):
        col = labels[:, i].to(torch.float64)
        if spec.kind == "continuous":
            heads.append(FactorHead(spec.name, "continuous", mean=float(col.mean()), std=max(float(col.std()), 1e-6)))
        elif spec.kind == "binary":
            heads.append(FactorHead(spec.name, "binary"))
        else:
            heads.append(FactorHead(spec.name, "categorical", classes=spec.classes, class_names=tuple(spec.class_names),
                                    given=VISIBLE_WHEN.get(spec.name, "")))
    return heads
