"""Safe model files: safetensors with a validated JSON config, written atomically.

A FaceStudio model file is a safetensors file whose tensors are named
`generator.*`, `discriminator.*`, `ema_generator.*` and `directions.<kind>`, and whose
metadata holds `format` = "facestudio-model", `format_version`, the `ModelConfig` as
JSON and the names of the directions. Training checkpoints use the same layout plus
`train.*` tensors and metadata, so any checkpoint opens as a model too.

Nothing in a file is trusted: the header is parsed and checked by us (sizes, dtypes,
offsets, expected shapes for the config) before safetensors allocates anything, so a
header that lies fails fast with a sentence instead of a huge allocation.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from facestudio.atomic_file import atomic_write_bytes
from facestudio.errors import ConfigError, FaceStudioError, ModelFileError
from facestudio.models.bundle import DirectionSet, ModelBundle
from facestudio.models.config import ModelConfig
from facestudio.models.networks import Discriminator, Generator

FORMAT = "facestudio-model"
FORMAT_VERSION = 1
DEFAULT_MODEL_RESOURCE = "default_model.safetensors"
NETWORK_PREFIXES = ("generator", "discriminator", "ema_generator")
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_FILE_BYTES = 4 * 1024**3
_DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def default_model_path() -> Path:
    """Path of the shipped default model (inside the installed package)."""
    return Path(str(resources.files("facestudio.resources").joinpath(DEFAULT_MODEL_RESOURCE)))


# ---------------------------------------------------------------- header checks
def read_safetensors_header(data: bytes, label: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Parse and check a safetensors header: returns (tensor entries, metadata).

    Checks what safetensors would trust: header length, JSON shape, dtypes, that every
    shape matches its byte range and that ranges stay inside the file.
    """
    if len(data) < 8:
        raise ModelFileError(f"{label} is too short to be a model file (it may be truncated or empty).")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > MAX_HEADER_BYTES or header_len > len(data) - 8:
        raise ModelFileError(f"{label} is not a valid safetensors model file (its header is damaged or the file is truncated).")
    try:
        header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{label} is not a valid safetensors model file (unreadable header).") from exc
    if not isinstance(header, dict):
        raise ModelFileError(f"{label} is not a valid safetensors model file (header is not an object).")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ModelFileError(f"{label} has malformed metadata; it is not a FaceStudio model file.")
    body = len(data) - 8 - header_len
    for name, entry in header.items():
        ok = (
            isinstance(entry, dict)
            and entry.get("dtype") in _DTYPE_SIZES
            and isinstance(entry.get("shape"), list)
            and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**40 for s in entry["shape"])
            and isinstance(entry.get("data_offsets"), list)
            and len(entry["data_offsets"]) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) for o in entry["data_offsets"])
        )
        if not ok:
            raise ModelFileError(f"{label} has a malformed entry for tensor {name!r}; the file is damaged.")
        start, end = entry["data_offsets"]
        nbytes = math.prod(entry["shape"]) * _DTYPE_SIZES[entry["dtype"]]
        if not (0 <= start <= end <= body) or end - start != nbytes:
            raise ModelFileError(
                f"{label} is damaged: tensor {name!r} claims {nbytes} bytes but the file does not hold them (truncated or forged)."
            )
    return header, metadata


def _expected_shapes(config: ModelConfig) -> dict[str, dict[str, tuple[int, ...]]]:
    """Tensor shapes each network of `config` has, built on the meta device (no memory)."""
    with torch.device("meta"):
        nets = {"generator": Generator(config), "discriminator": Discriminator(config)}
    shapes = {name: {k: tuple(v.shape) for k, v in net.state_dict().items()} for name, net in nets.items()}
    shapes["ema_generator"] = shapes["generator"]
    return shapes


def _parse_config(metadata: dict[str, str], label: str) -> ModelConfig:
    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"{label} is a safetensors file but not a FaceStudio model (no FaceStudio metadata).")
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        raise ModelFileError(f"{label} has an unreadable format version.") from None
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{label} was written by a newer FaceStudio (format {version}); update FaceStudio to open it.")
    try:
        return ModelConfig.from_dict(json.loads(metadata.get("config", "")))
    except json.JSONDecodeError:
        raise ModelFileError(f"{label} has an unreadable model configuration.") from None
    except ConfigError as exc:
        raise ModelFileError(f"{label}: {exc}") from None


def _check_tensors(header: dict[str, dict[str, Any]], config: ModelConfig, label: str) -> set[str]:
    """Check every network tensor against the config; returns the networks present."""
    expected = _expected_shapes(config)
    present = {name.split(".", 1)[0] for name in header if name.split(".", 1)[0] in NETWORK_PREFIXES}
    if "generator" not in present:
        raise ModelFileError(f"{label} holds no generator weights; it cannot be explored.")
    for net in present:
        want = expected[net]
        have = {k.split(".", 1)[1]: tuple(v["shape"]) for k, v in header.items() if k.startswith(net + ".")}
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        if missing or extra:
            raise ModelFileError(f"{label}: the {net} weights do not match its configuration (missing {missing[:3]}, unexpected {extra[:3]}).")
        for key, shape in want.items():
            if have[key] != shape:
                raise ModelFileError(f"{label}: {net} tensor {key} has shape {have[key]}, expected {shape}; the file does not fit its configuration.")
    return present


def _parse_directions(header: dict[str, dict[str, Any]], metadata: dict[str, str], config: ModelConfig, label: str) -> dict[str, list[str]]:
    try:
        names = json.loads(metadata.get("directions", "{}"))
    except json.JSONDecodeError:
        raise ModelFileError(f"{label} has unreadable direction names.") from None
    if not isinstance(names, dict):
        raise ModelFileError(f"{label} has malformed direction names.")
    for kind, kind_names in names.items():
        entry = header.get(f"directions.{kind}")
        if (
            entry is None
            or not isinstance(kind_names, list)
            or not all(isinstance(n, str) for n in kind_names)
            or entry["shape"] != [len(kind_names), config.nz]
            or entry["dtype"] != "F32"
        ):
            raise ModelFileError(f"{label}: the {kind!r} directions do not match the model; the file is damaged.")
    return names


# ---------------------------------------------------------------- save / load
def bundle_tensors(bundle: ModelBundle) -> dict[str, torch.Tensor]:
    """All tensors of a bundle under their file names (contiguous CPU copies)."""
    tensors: dict[str, torch.Tensor] = {}
    for prefix in NETWORK_PREFIXES:
        net = getattr(bundle, prefix)
        if net is not None:
            for key, value in net.state_dict().items():
                tensors[f"{prefix}.{key}"] = value.detach().to("cpu").contiguous().clone()
    for kind, dset in bundle.directions.items():
        tensors[f"directions.{kind}"] = torch.from_numpy(dset.vectors.copy())
    return tensors


def bundle_metadata(bundle: ModelBundle) -> dict[str, str]:
    return {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "config": json.dumps(bundle.config.to_dict()),
        "directions": json.dumps({k: v.names for k, v in bundle.directions.items()}),
    }


def save_model(
    bundle: ModelBundle,
    path: str | os.PathLike,
    *,
    include_training: bool = True,
    extra_tensors: dict[str, torch.Tensor] | None = None,
    extra_metadata: dict[str, str] | None = None,
) -> str:
    """Write `bundle` atomically as safetensors; returns the file's sha256.

    `include_training=False` writes the generator alone (EMA weights if present), the
    smallest file that can be explored. `extra_*` carry trainer state (`train.*`).
    """
    tensors = bundle_tensors(bundle)
    if not include_training:
        viewing = "ema_generator" if bundle.ema_generator is not None else "generator"
        tensors = {
            ("generator." + k.split(".", 1)[1]) if k.startswith(viewing + ".") else k: v
            for k, v in tensors.items()
            if k.startswith(viewing + ".") or k.startswith("directions.")
        }
    tensors.update(extra_tensors or {})
    metadata = bundle_metadata(bundle)
    metadata.update(extra_metadata or {})
    data = st_save(tensors, metadata=metadata)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def read_model_file(path: Path) -> tuple[bytes, str]:
    """Read a file fully (model files are small) and its sha256, with clear errors."""
    label = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ModelFileError(f"{label} does not exist.") from None
    except OSError as exc:
        raise ModelFileError(f"{label} cannot be read: {exc.strerror}.") from None
    if size > MAX_FILE_BYTES:
        raise ModelFileError(f"{label} is {size / 1e9:.1f} GB, far larger than any DCGAN model; it is not a model file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{label} cannot be read: {exc.strerror}.") from None
    return data, hashlib.sha256(data).hexdigest()


def load_safetensors_model(path: Path) -> tuple[ModelBundle, dict[str, torch.Tensor], dict[str, str]]:
    """Load a FaceStudio safetensors file: (bundle, the other tensors, metadata)."""
    data, digest = read_model_file(path)
    label = str(path)
    header, metadata = read_safetensors_header(data, label)
    config = _parse_config(metadata, label)
    present = _check_tensors(header, config, label)
    direction_names = _parse_directions(header, metadata, config, label)
    try:
        tensors = st_load(data)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(f"{label} could not be read as safetensors: {exc}.") from None
    nets: dict[str, Any] = {}
    for name in present:
        net = Generator(config) if name != "discriminator" else Discriminator(config)
        state = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith(name + ".")}
        if not all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()):
            raise ModelFileError(f"{label}: the {name} weights contain NaN or infinite values; the model is broken (use an earlier checkpoint).")
        net.load_state_dict(state)
        nets[name] = net
    directions = {
        kind: DirectionSet(kind, names, tensors[f"directions.{kind}"].numpy()) for kind, names in direction_names.items()
    }
    others = {k: v for k, v in tensors.items() if k.split(".", 1)[0] not in NETWORK_PREFIXES and not k.startswith("directions.")}
    bundle = ModelBundle(
        config=config,
        generator=nets["generator"],
        discriminator=nets.get("discriminator"),
        ema_generator=nets.get("ema_generator"),
        directions=directions,
        source=path,
        sha256=digest,
    )
    return bundle, others, metadata


def resolve_run_dir(run_dir: Path) -> Path:
    """The model file to open for a training run folder: its export, else newest checkpoint."""
    exported = run_dir / "model.safetensors"
    if exported.is_file():
        return exported
    checkpoints = sorted((run_dir / "checkpoints").glob("*.safetensors"))
    if not checkpoints:
        raise ModelFileError(f"{run_dir} is a folder but holds no model.safetensors and no checkpoints; is it a FaceStudio run folder?")
    return checkpoints[-1]


def load_model(path: str | os.PathLike | None = None) -> ModelBundle:
    """Open a model: None -> shipped default; .safetensors; a run folder; a foreign .pt/.pth."""
    if path is None:
        p = default_model_path()
        if not p.is_file():
            raise ModelFileError("The default model is missing from this installation; reinstall FaceStudio or open a model file.")
    else:
        p = Path(path).expanduser()
    if p.is_dir():
        p = resolve_run_dir(p)
    suffix = p.suffix.lower()
    if suffix in (".pt", ".pth", ".ckpt", ".bin"):
        from facestudio.models.dcgan_import import load_foreign_checkpoint

        return load_foreign_checkpoint(p)
    try:
        bundle, _, _ = load_safetensors_model(p)
    except FaceStudioError:
        raise
    except Exception as exc:  # never let an unexpected error from a file escape untyped
        raise ModelFileError(f"{p} could not be opened as a model: {exc}.") from None
    return bundle

