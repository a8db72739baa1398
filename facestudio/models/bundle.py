"""`ModelBundle`: a loaded model ready to use (networks in eval mode, plus its facts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from facestudio.models.config import ModelConfig
from facestudio.models.style_config import StyleModelConfig
from facestudio.models.two_stage import TwoStageGenerator

FAMILIES = ("dcgan", "stylegan2", "stylegan3", "mobilestylegan")


@dataclass
class DirectionSet:
    """Named latent directions of one kind ("sefa", "pca", "attribute"), rows of (K, nz).

    Lives beside the networks because directions are shipped inside model files; how
    they are computed is `facestudio.latent`'s business.
    """

    kind: str
    names: list[str]
    vectors: np.ndarray  # float32 (K, nz)

    def __post_init__(self) -> None:
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.names):
            raise ValueError(f"direction set {self.kind!r}: {len(self.names)} names for vectors of shape {self.vectors.shape}")


@dataclass
class ModelBundle:
    """Generator (always), discriminator and EMA generator (when the file has them).

    `generator` is what the file calls the generator; `viewing_generator` is what the
    explorer and exports should show: the EMA weights when there are any, since they
    give smoother, better faces than the raw training weights.

    Every generator is two-stage (`facestudio.models.two_stage`). `family` says which
    kind of network it is; `config` is that family's config (`ModelConfig` for DCGAN,
    `StyleModelConfig` otherwise); `card` holds provenance/licence text for About.

    Building a bundle puts its networks in eval mode and freezes their parameters
    (they are for viewing); to checkpoint networks that are still training, pass
    copies, or restore `.train()` / `requires_grad_(True)` afterwards.
    """

    config: ModelConfig | StyleModelConfig
    generator: TwoStageGenerator
    discriminator: torch.nn.Module | None = None
    ema_generator: TwoStageGenerator | None = None
    directions: dict[str, DirectionSet] = field(default_factory=dict)
    source: Path | None = None
    sha256: str = ""
    card: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.check_directions()
        for net in (self.generator, self.discriminator, self.ema_generator):
            if net is not None:
                net.eval()
                net.requires_grad_(False)

    def check_directions(self) -> None:
        """Directions must be vectors in this model's latent space (they are saved with it)."""
        for kind, dset in self.directions.items():
            if dset.vectors.shape[1] != self.z_dim:
                raise ValueError(f"direction set {kind!r} has vectors of shape {dset.vectors.shape}; this model has nz={self.z_dim}")

    @property
    def family(self) -> str:
        return "dcgan" if isinstance(self.config, ModelConfig) else self.config.family

    @property
    def z_dim(self) -> int:
        return self.config.nz

    @property
    def img_resolution(self) -> int:
        return self.config.image_size

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def viewing_generator(self) -> TwoStageGenerator:
        return self.ema_generator if self.ema_generator is not None else self.generator

    @torch.inference_mode()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] from the viewing generator."""
        return self.viewing_generator(z)
