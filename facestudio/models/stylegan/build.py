"""Build native StyleGAN networks from settings and load tensors into them, checked.

Settings come from untrusted files, so they are bounded before anything is allocated:
an upper bound on their weights is checked before they are built; the tensors must then match the built network exactly (names, shapes, float dtypes,
finite values), which is what catches a shape-lying file.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from facestudio.errors import ConfigError, ModelFileError
from facestudio.models.style_config import StyleModelConfig
from facestudio.models.stylegan.discriminator import StyleGAN2Discriminator
from facestudio.models.stylegan.stylegan2 import StyleGAN2Generator
from facestudio.models.stylegan.stylegan3 import StyleGAN3Generator
from facestudio.models.two_stage import TwoStageGenerator

# ffhq 1024 config-f has ~30 M generator weights; StyleGAN3-R at 1024 ~ 30 M; stay far above.
MAX_WEIGHTS = 400_000_000
GENERATORS = {"stylegan2": StyleGAN2Generator, "stylegan3": StyleGAN3Generator}


def family_of(tensor_names: set[str]) -> str | None:
    """'stylegan3' (Fourier input), 'stylegan2' (constant input) or None, from the tensor names."""
    if "synthesis.input.freqs" in tensor_names:
        return "stylegan3"
    if "synthesis.b4.const" in tensor_names:
        return "stylegan2"
    return None


def _construct(cls: type, kwargs: dict[str, Any], what: str, label: str, device: str | torch.device) -> nn.Module:
    try:
        with torch.device(device):
            return cls(**kwargs)
    except (TypeError, ValueError, KeyError, ZeroDivisionError, OverflowError, RuntimeError, AttributeError, IndexError) as exc:
        raise ModelFileError(f"{label}: the {what} settings cannot build a network ({type(exc).__name__}: {exc}).") from None


def _number(kwargs: dict[str, Any], key: str, default: float, hi: float, what: str, label: str) -> float:
    v = kwargs.get(key, default)
    if v is None:
        return default
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= hi:
        raise ModelFileError(f"{label}: {what} setting {key}={v!r} is out of range.")
    return float(v)


def _check_sizes(config: StyleModelConfig, label: str) -> None:
    """A generous upper bound on the weights the settings ask for, checked before building.

    (Building on the meta device would be exact but imports torch's compiler, seconds
    of start-up.) Layers x widest layer squared x 3x3 kernels bounds every network here.
    """
    res = config.img_resolution
    for what, kwargs in (("generator", config.generator_kwargs), ("discriminator", config.discriminator_kwargs)):
        if kwargs is None:
            continue
        flat = dict(kwargs)
        flat.update(kwargs.get("synthesis_kwargs") or {})
        mapping = kwargs.get("mapping_kwargs") or {}
        if not isinstance(mapping, dict):
            raise ModelFileError(f"{label}: the {what}'s mapping settings are malformed.")
        width = min(_number(flat, "channel_base", 32768, 2**24, what, label), _number(flat, "channel_max", 512, 2**16, what, label))
        layers = _number(flat, "num_layers", 14, 256, what, label) + 4 * math.log2(res) + 4
        mlp = _number(mapping, "num_layers", 8, 256, what, label)
        wide = max(config.z_dim, int(_number(kwargs, "w_dim", 512, 2**16, what, label)))
        for key in ("layer_features", "embed_features"):
            wide = max(wide, int(_number(mapping, key, 0, 2**16, what, label)))
        bound = layers * width * width * 9 + (mlp + 2) * (2 * wide) ** 2 + width * 16 * 16
        if bound > MAX_WEIGHTS:
            raise ModelFileError(f"{label}: the {what} settings ask for a network of up to {bound / 1e6:.0f} million weights, "
                                 "more than FaceStudio opens.")


def build_networks(config: StyleModelConfig, label: str, device: str | torch.device = "cpu"
                   ) -> tuple[TwoStageGenerator, StyleGAN2Discriminator | None]:
    """Fresh (randomly initialised) generator and discriminator for `config`, size-checked first."""
    if config.family == "mobilestylegan":  # its own bounded settings; generator only
        from facestudio.models.mobilestylegan.convert import build_generator

        try:
            return build_generator(config), None
        except ConfigError as exc:
            raise ModelFileError(f"{label}: {exc}") from None
    if config.family not in GENERATORS:
        raise ModelFileError(f"{label}: FaceStudio cannot build {config.family} networks here.")
    _check_sizes(config, label)
    gen = _construct(GENERATORS[config.family], config.generator_kwargs, "generator", label, device)
    if (gen.z_dim, gen.c_dim, gen.img_resolution, gen.img_channels) != (config.z_dim, config.c_dim, config.img_resolution, config.img_channels):
        raise ModelFileError(f"{label}: the generator settings disagree with the model's stated sizes.")
    disc = None
    if config.discriminator_kwargs is not None:
        disc = _construct(StyleGAN2Discriminator, config.discriminator_kwargs, "discriminator", label, device)
    return gen, disc


def load_tensors(net: nn.Module, tensors: dict[str, torch.Tensor], what: str, label: str) -> None:
    """Copy `tensors` into `net`, which must have exactly these names and shapes (as float32)."""
    want = net.state_dict()
    missing = sorted(set(want) - set(tensors))
    extra = sorted(set(tensors) - set(want))
    if missing or extra:
        raise ModelFileError(f"{label}: the {what} tensors do not match its settings (missing {missing[:3]}, unexpected {extra[:3]}).")
    for name, value in tensors.items():
        if tuple(value.shape) != tuple(want[name].shape):
            raise ModelFileError(f"{label}: {what} tensor {name} has shape {tuple(value.shape)}, but its settings need "
                                 f"{tuple(want[name].shape)}; the file is damaged or forged.")
        if not value.is_floating_point():
            raise ModelFileError(f"{label}: {what} tensor {name} is stored as {value.dtype}, which cannot hold weights.")
        if not torch.isfinite(value).all():
            raise ModelFileError(f"{label}: {what} tensor {name} contains NaN or infinite values; the model is broken.")
    net.load_state_dict({k: v.to(torch.float32) for k, v in tensors.items()})


def weight_count(net: nn.Module) -> int:
    return sum(math.prod(v.shape) for v in net.state_dict().values())
