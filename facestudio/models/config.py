"""`ModelConfig`: everything needed to rebuild a generator/discriminator pair.

The config travels inside every model file (as JSON in the safetensors metadata), so a
file always says what network it holds; `from_dict` validates untrusted values before
any tensor is allocated.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from facestudio.errors import ConfigError

IMAGE_SIZES = (32, 64, 128)
G_NORMS = ("batch", "none")
D_NORMS = ("batch", "spectral", "none")
# Bounds that keep a hostile config from asking for absurd allocations.
MAX_NZ = 4096
MAX_WIDTH = 1024
# Per network: 200 M weights is 800 MB of float32, far beyond any DCGAN worth training on
# a laptop, yet each width bound alone would allow billions (ngf=1024 at 128 px).
MAX_WEIGHTS_PER_NETWORK = 200_000_000


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a DCGAN-family generator/discriminator pair.

    Defaults are the classic DCGAN-tutorial network (nz=100, ngf=ndf=64, 64x64 RGB).
    """

    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    image_size: int = 64
    nc: int = 3
    g_norm: str = "batch"
    d_norm: str = "batch"
    name: str = "untitled"
    # Free-form facts about provenance (data set, steps, recipe); kept as strings.
    # Left out of the hash (a dict is unhashable) so configs can key caches.
    info: dict[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def n_blocks(self) -> int:
        """Number of 2x resolution steps after the 4x4 start (4 for 64 px)."""
        return int(math.log2(self.image_size)) - 2

    def weight_counts(self) -> tuple[int, int]:
        """Convolution weights of (generator, discriminator), computed without building them.

        Lets a config be refused before anything is allocated; norms and biases are a
        rounding error next to the 4x4 kernels and are left out.
        """
        blocks, k = self.n_blocks, 16
        g_widths = [self.ngf * 2**i for i in reversed(range(blocks))]  # 4x4 stage first
        g = self.nz * g_widths[0] * k + sum(a * b * k for a, b in zip(g_widths, g_widths[1:])) + g_widths[-1] * self.nc * k
        d_widths = [self.ndf * 2**i for i in range(blocks)]
        d = self.nc * d_widths[0] * k + sum(a * b * k for a, b in zip(d_widths, d_widths[1:])) + d_widths[-1] * k
        return g, d

    def validate(self) -> None:
        def _int(name: str, lo: int, hi: int) -> None:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise ConfigError(f"Model setting {name}={value!r} is out of range; it must be a whole number from {lo} to {hi}.")

        _int("nz", 1, MAX_NZ)
        _int("ngf", 1, MAX_WIDTH)
        _int("ndf", 1, MAX_WIDTH)
        _int("nc", 1, 4)
        if not isinstance(self.image_size, int) or isinstance(self.image_size, bool) or self.image_size not in IMAGE_SIZES:
            raise ConfigError(f"Image size {self.image_size!r} is not supported; use one of {', '.join(map(str, IMAGE_SIZES))}.")
        if self.g_norm not in G_NORMS:
            raise ConfigError(f"Generator normalisation {self.g_norm!r} is unknown; use one of {', '.join(G_NORMS)}.")
        if self.d_norm not in D_NORMS:
            raise ConfigError(f"Discriminator normalisation {self.d_norm!r} is unknown; use one of {', '.join(D_NORMS)}.")
        if not isinstance(self.name, str) or len(self.name) > 200:
            raise ConfigError("The model name must be text of at most 200 characters.")
        if not isinstance(self.info, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in self.info.items()):
            raise ConfigError("The model's info must map text to text.")
        g, d = self.weight_counts()
        if max(g, d) > MAX_WEIGHTS_PER_NETWORK:
            raise ConfigError(
                f"A {self.image_size} px model with nz={self.nz}, ngf={self.ngf}, ndf={self.ndf} would need "
                f"{max(g, d) / 1e6:.0f} million weights per network, more than the {MAX_WEIGHTS_PER_NETWORK // 1_000_000} "
                "million FaceStudio allows; use smaller widths."
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "ModelConfig":
        """Build a config from untrusted JSON data; unknown keys are an error, not ignored."""
        return config_from_json(cls, data, "model configuration", "the file is damaged or not a FaceStudio model")

    def replace(self, **changes: Any) -> "ModelConfig":
        return dataclasses.replace(self, **changes)


def config_from_json(cls: type, data: Any, what: str, damaged: str) -> Any:
    """A config dataclass `cls` from untrusted JSON `data`, or a ConfigError a person can act on.

    Shared by the model and training configs: unknown keys are an error (a newer
    FaceStudio wrote them, and ignoring them would silently change the meaning), and
    whatever the dataclass's own validation raises stays a ConfigError.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"The {what} is not a JSON object; {damaged}.")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"The {what} has unknown settings {unknown}; it may come from a newer FaceStudio.")
    try:
        return cls(**data)
    except TypeError as exc:  # e.g. unhashable junk in a field
        raise ConfigError(f"The {what} is malformed: {exc}.") from None
