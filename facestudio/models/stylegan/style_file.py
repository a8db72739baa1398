"""FaceStudio's own file for StyleGAN-family models: safetensors + architecture metadata.

Same container as DCGAN model files (`format` = "facestudio-model"), at format
version 2: the metadata `config` is a `StyleModelConfig` (family + the published
constructor settings), tensors are `generator.*` / `discriminator.*` under the
published names and `directions.<kind>`. It opens without the original pickle, and
like every FaceStudio file the header is checked against the settings (names,
shapes, dtypes) before safetensors allocates anything.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from facestudio.atomic_file import atomic_write_bytes
from facestudio.errors import ConfigError, ModelFileError
from facestudio.models.bundle import DirectionSet, ModelBundle
from facestudio.models.checkpoint import FORMAT, _canonical_header, _json
from facestudio.models.style_config import StyleModelConfig
from facestudio.models.stylegan.build import build_networks, load_tensors

STYLE_FORMAT_VERSION = 2
_FLOATS = ("F64", "F32", "F16", "BF16")


def is_style_metadata(metadata: dict[str, str]) -> bool:
    """True when a FaceStudio file's metadata describes a StyleGAN-family model."""
    return metadata.get("format") == FORMAT and metadata.get("format_version") == str(STYLE_FORMAT_VERSION)


def save_style_model(bundle: ModelBundle, path: str | os.PathLike) -> str:
    """Write a StyleGAN-family bundle atomically; returns the file's sha256."""
    if not isinstance(bundle.config, StyleModelConfig):
        raise ValueError("save_style_model takes StyleGAN-family bundles; DCGAN models use save_model")
    tensors: dict[str, torch.Tensor] = {}
    for prefix, net in (("generator", bundle.viewing_generator), ("discriminator", bundle.discriminator)):
        if net is not None:
            for key, value in net.state_dict().items():
                tensors[f"{prefix}.{key}"] = value.detach().to("cpu", torch.float32).contiguous().clone()
    for kind, dset in bundle.directions.items():
        tensors[f"directions.{kind}"] = torch.from_numpy(dset.vectors.copy())
    for name, value in tensors.items():
        if not torch.isfinite(value).all():
            raise ModelFileError(f"Not saving {path}: {name} contains NaN or infinite values.")
    config = bundle.config
    if bundle.discriminator is None and config.discriminator_kwargs is not None:
        config = config.replace(discriminator_kwargs=None)
    metadata = {
        "format": FORMAT,
        "format_version": str(STYLE_FORMAT_VERSION),
        "config": json.dumps(config.to_dict()),
        "directions": json.dumps({k: v.names for k, v in bundle.directions.items()}),
        "card": json.dumps(bundle.card),
    }
    data = _canonical_header(st_save(tensors, metadata=metadata))
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def _parse(metadata: dict[str, str], label: str) -> tuple[StyleModelConfig, dict[str, list[str]], dict[str, str]]:
    try:
        config = StyleModelConfig.from_dict(_json(metadata.get("config", ""), label, "model configuration"))
    except ConfigError as exc:
        raise ModelFileError(f"{label}: {exc}") from None
    names = _json(metadata.get("directions", "{}"), label, "list of direction names")
    card = _json(metadata.get("card", "{}"), label, "model card")
    if not isinstance(names, dict) or not all(isinstance(v, list) and all(isinstance(n, str) for n in v) for v in names.values()):
        raise ModelFileError(f"{label} has malformed direction names.")
    if not isinstance(card, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in card.items()):
        raise ModelFileError(f"{label} has a malformed model card.")
    return config, names, card


def load_style_model(data: bytes, header: dict[str, dict[str, Any]], metadata: dict[str, str], path: Path,
                     digest: str) -> ModelBundle:
    """Bundle of a checked FaceStudio style file (`header` from `read_safetensors_header`)."""
    label = str(path)
    config, direction_names, card = _parse(metadata, label)
    gen, disc = build_networks(config, label)
    expected = {f"generator.{k}": tuple(v.shape) for k, v in gen.state_dict().items()}
    if disc is not None:
        expected.update({f"discriminator.{k}": tuple(v.shape) for k, v in disc.state_dict().items()})
    expected.update({f"directions.{k}": (len(v), config.z_dim) for k, v in direction_names.items()})
    missing = sorted(set(expected) - set(header))
    extra = sorted(set(header) - set(expected))
    if missing or extra:
        raise ModelFileError(f"{label}: its tensors do not match its settings (missing {missing[:3]}, unexpected {extra[:3]}).")
    for name, shape in expected.items():
        entry = header[name]
        if tuple(entry["shape"]) != shape or entry["dtype"] not in _FLOATS:
            raise ModelFileError(f"{label}: tensor {name} is {entry['dtype']} {tuple(entry['shape'])}, expected float {shape}; the file is damaged.")
    try:
        tensors = st_load(data)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(f"{label} could not be read as safetensors: {exc}.") from None
    load_tensors(gen, {k[len("generator."):]: v for k, v in tensors.items() if k.startswith("generator.")}, "generator", label)
    if disc is not None:
        load_tensors(disc, {k[len("discriminator."):]: v for k, v in tensors.items() if k.startswith("discriminator.")},
                     "discriminator", label)
    directions = {}
    for kind, names in direction_names.items():
        vectors = tensors[f"directions.{kind}"].to(torch.float32)
        if not torch.isfinite(vectors).all():
            raise ModelFileError(f"{label}: the {kind!r} directions contain NaN or infinite values; the file is damaged.")
        directions[kind] = DirectionSet(kind, names, vectors.numpy())
    return ModelBundle(config=config, generator=gen, discriminator=disc, directions=directions, source=path,
                       sha256=digest, card=card)
