"""`StyleModelConfig`: what rebuilds a StyleGAN-family network (not DCGAN's `ModelConfig`).

Foreign models (StyleGAN2/3 pickles, MobileStyleGAN) describe their networks by keyword
arguments of their constructors; the config keeps those as JSON-able dicts beside the
facts every part of the app asks for (latent size, resolution), so a FaceStudio file
of such a model opens without the original file. `nz`, `image_size` and `nc` mirror
`ModelConfig`'s names so code written for DCGAN bundles reads either.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from facestudio.errors import ConfigError
from facestudio.models.config import config_from_json

STYLE_FAMILIES = ("stylegan2", "stylegan3", "mobilestylegan")
MAX_Z_DIM = 4096
MAX_RESOLUTION = 4096


def _is_int(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


@dataclass(frozen=True)
class StyleModelConfig:
    """Family + constructor keyword arguments of a two-stage network (JSON-serialisable)."""

    family: str
    z_dim: int
    img_resolution: int
    c_dim: int = 0
    img_channels: int = 3
    generator_kwargs: dict[str, Any] = field(default_factory=dict, hash=False)
    discriminator_kwargs: dict[str, Any] | None = field(default=None, hash=False)
    name: str = "untitled"
    info: dict[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def nz(self) -> int:
        return self.z_dim

    @property
    def image_size(self) -> int:
        return self.img_resolution

    @property
    def nc(self) -> int:
        return self.img_channels

    def validate(self) -> None:
        if self.family not in STYLE_FAMILIES:
            raise ConfigError(f"Model family {self.family!r} is unknown; FaceStudio opens {', '.join(STYLE_FAMILIES)}.")
        if not _is_int(self.z_dim, 1, MAX_Z_DIM):
            raise ConfigError(f"Latent size z_dim={self.z_dim!r} is out of range (1 to {MAX_Z_DIM}).")
        if not _is_int(self.c_dim, 0, 100_000):
            raise ConfigError(f"Class count c_dim={self.c_dim!r} is out of range (0 to 100000).")
        if not _is_int(self.img_resolution, 4, MAX_RESOLUTION) or self.img_resolution & (self.img_resolution - 1):
            raise ConfigError(f"Image resolution {self.img_resolution!r} is not a power of two from 4 to {MAX_RESOLUTION}.")
        if not _is_int(self.img_channels, 1, 4):
            raise ConfigError(f"Image channels {self.img_channels!r} must be 1 to 4.")
        for label, kwargs in (("generator", self.generator_kwargs), ("discriminator", self.discriminator_kwargs)):
            if kwargs is None and label == "discriminator":
                continue
            if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
                raise ConfigError(f"The {label} settings must be an object of named values.")
            try:
                json.dumps(kwargs, allow_nan=False)
            except (TypeError, ValueError):
                raise ConfigError(f"The {label} settings hold values that are not plain numbers, text or lists.") from None
        if not isinstance(self.name, str) or len(self.name) > 200:
            raise ConfigError("The model name must be text of at most 200 characters.")
        if not isinstance(self.info, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in self.info.items()):
            raise ConfigError("The model's info must map text to text.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "StyleModelConfig":
        """From untrusted JSON data; unknown keys are an error."""
        return config_from_json(cls, data, "model configuration", "the file is damaged or not a FaceStudio model")

    def replace(self, **changes: Any) -> "StyleModelConfig":
        return dataclasses.replace(self, **changes)
