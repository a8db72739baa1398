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

import functools
import hashlib
import json
import math
import os
import re
import stat
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
from facestudio.models.model_file import read_model_file
from facestudio.models.run_folder import model_file_of_run

FORMAT = "facestudio-model"
FORMAT_VERSION = 1
DEFAULT_MODEL_RESOURCE = "default_model.safetensors"
NETWORK_PREFIXES = ("generator", "discriminator", "ema_generator")
RESERVED_METADATA = ("format", "format_version", "config", "directions")
FOREIGN_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")
MAX_HEADER_BYTES = 16 * 1024 * 1024
_DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
_FLOAT_DTYPES = ("F64", "F32", "F16", "BF16")
_INT_DTYPES = ("I64", "I32", "I16", "I8", "U8")
_TORCH_DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}


def default_model_path() -> Path:
    """Path of the shipped default model (inside the installed package)."""
    return Path(str(resources.files("facestudio.resources").joinpath(DEFAULT_MODEL_RESOURCE)))


def _json(text: str | bytes, label: str, what: str) -> Any:
    """Parse untrusted JSON; every way it can fail becomes one ModelFileError.

    Besides JSONDecodeError, hostile JSON can raise ValueError (an integer of more
    than 4300 digits) or RecursionError (deeply nested arrays).
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise ModelFileError(f"{label} has an unreadable {what}; the file is damaged or not a FaceStudio model.") from None


# ---------------------------------------------------------------- header checks
def read_safetensors_header(data: bytes, label: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Parse and check a safetensors header: returns (tensor entries, metadata).

    Checks everything safetensors would otherwise trust or reject with a cryptic
    message: header length, JSON shape, dtypes, that every shape matches its byte range
    and that the ranges tile the data section exactly (no overlap, no gap, nothing
    outside the file). Works on the bytes only: nothing is allocated from the claims.
    """
    if len(data) < 8:
        raise ModelFileError(f"{label} is too short to be a model file (it may be truncated or empty).")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > MAX_HEADER_BYTES or header_len > len(data) - 8:
        raise ModelFileError(f"{label} is not a valid safetensors model file (its header is damaged or the file is truncated).")
    header = _json(data[8 : 8 + header_len], label, "safetensors header")
    if not isinstance(header, dict):
        raise ModelFileError(f"{label} is not a valid safetensors model file (header is not an object).")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ModelFileError(f"{label} has malformed metadata; it is not a FaceStudio model file.")
    body = len(data) - 8 - header_len
    ranges = []
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
        ranges.append((start, end))
    cursor = 0
    for start, end in sorted(ranges):
        if start != cursor:
            raise ModelFileError(f"{label} is damaged: its tensors overlap or leave gaps in the data (forged or corrupted file).")
        cursor = end
    if cursor != body:
        raise ModelFileError(f"{label} is damaged: it holds {body - cursor} bytes that belong to no tensor (corrupted file).")
    return header, metadata


@functools.lru_cache(maxsize=16)
def _expected_tensors(config: ModelConfig) -> dict[str, dict[str, tuple[tuple[int, ...], bool]]]:
    """(shape, is floating point) of every tensor each network of `config` has.

    Built on the meta device, so even a config for a huge network costs no memory.
    A spectral-norm D is derived from the plain one instead of built: wrapping layers
    on the meta device imports torch's reference ops, seconds of start-up for nothing.
    """
    spectral = config.d_norm == "spectral"
    with torch.device("meta"):
        nets = {"generator": Generator(config), "discriminator": Discriminator(config.replace(d_norm="none") if spectral else config)}
    expected = {
        name: {k: (tuple(v.shape), v.is_floating_point()) for k, v in net.state_dict().items()} for name, net in nets.items()
    }
    if spectral:
        expected["discriminator"] = _spectral_keys(expected["discriminator"])
    expected["ema_generator"] = expected["generator"]
    return expected


def _spectral_keys(plain: dict[str, tuple[tuple[int, ...], bool]]) -> dict[str, tuple[tuple[int, ...], bool]]:
    """State-dict entries after `parametrizations.spectral_norm` wraps each conv weight.

    (A test checks this against a real spectral-norm discriminator for every size.)
    """
    out = {}
    for key, (shape, is_float) in plain.items():
        if key.endswith(".weight") and len(shape) == 4:
            stem = key[: -len("weight")] + "parametrizations.weight."
            out[stem + "original"] = (shape, is_float)
            out[stem + "0._u"] = ((shape[0],), True)
            out[stem + "0._v"] = ((math.prod(shape[1:]),), True)
        else:
            out[key] = (shape, is_float)
    return out


def _parse_config(metadata: dict[str, str], label: str) -> ModelConfig:
    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"{label} is a safetensors file but not a FaceStudio model (no FaceStudio metadata).")
    raw_version = metadata.get("format_version", "")
    if not re.fullmatch(r"[0-9]{1,6}", raw_version) or int(raw_version) < 1:
        raise ModelFileError(f"{label} has an unreadable format version.")
    version = int(raw_version)
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{label} was written by a newer FaceStudio (format {version}); update FaceStudio to open it.")
    try:
        return ModelConfig.from_dict(_json(metadata.get("config", ""), label, "model configuration"))
    except ConfigError as exc:
        raise ModelFileError(f"{label}: {exc}") from None


def _check_tensors(entries: dict[str, tuple[tuple[int, ...], str]], config: ModelConfig, label: str) -> set[str]:
    """Check every network tensor (name -> (shape, dtype tag)) against the config.

    Returns the networks present. Weights must be floating point: an integer or bool
    tensor would be silently cast by `load_state_dict` into a network of garbage.
    """
    expected = _expected_tensors(config)
    present = {name.split(".", 1)[0] for name in entries if name.split(".", 1)[0] in NETWORK_PREFIXES}
    if "generator" not in present:
        raise ModelFileError(f"{label} holds no generator weights; it cannot be explored.")
    for net in sorted(present):
        want = expected[net]
        have = {k.split(".", 1)[1]: v for k, v in entries.items() if k.startswith(net + ".")}
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        if missing or extra:
            raise ModelFileError(f"{label}: the {net} weights do not match its configuration (missing {missing[:3]}, unexpected {extra[:3]}).")
        for key, (shape, is_float) in want.items():
            have_shape, dtype = have[key]
            if have_shape != shape:
                raise ModelFileError(f"{label}: {net} tensor {key} has shape {have_shape}, expected {shape}; the file does not fit its configuration.")
            if dtype not in (_FLOAT_DTYPES if is_float else _INT_DTYPES):
                raise ModelFileError(f"{label}: {net} tensor {key} is stored as {dtype}, which cannot hold network weights; the file is damaged.")
    return present


def _parse_directions(header: dict[str, dict[str, Any]], metadata: dict[str, str], config: ModelConfig, label: str) -> dict[str, list[str]]:
    names = _json(metadata.get("directions", "{}"), label, "list of direction names")
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


def _check_before_save(
    bundle: ModelBundle, tensors: dict[str, torch.Tensor], extra_tensors: dict[str, torch.Tensor], extra_metadata: dict[str, str], path: Path
) -> None:
    """Refuse to write a file that `load_model` would refuse, before touching the disk.

    Atomic writes keep a good file when the disk fails; this keeps it when the caller
    fails (diverged weights, networks that do not match the config, clashing names).
    """
    for name in extra_tensors:
        if not isinstance(name, str) or name.split(".", 1)[0] in NETWORK_PREFIXES or name.startswith("directions."):
            raise ValueError(f"extra tensor name {name!r} clashes with the model's own tensors; use a prefix such as 'train.'")
    for key, value in extra_metadata.items():
        if key in RESERVED_METADATA or not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"extra metadata {key!r} must map text to text and not replace {', '.join(RESERVED_METADATA)}")
    bundle.check_directions()
    entries = {k: (tuple(v.shape), _TORCH_DTYPES.get(v.dtype, str(v.dtype))) for k, v in tensors.items()}
    try:
        _check_tensors(entries, bundle.config, "the model being saved")
    except ModelFileError as exc:
        raise ValueError(str(exc)) from None
    for name, value in tensors.items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise ModelFileError(
                f"Not saving {path}: {name} contains NaN or infinite values (training diverged); the previous file, if any, is untouched."
            )


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
    Raises ModelFileError for non-finite weights, DiskWriteError when the disk fails
    (the previous file survives either way) and ValueError for a malformed bundle.
    """
    if bundle.family != "dcgan":
        from facestudio.models.stylegan.style_file import save_style_model

        if extra_tensors or extra_metadata:
            raise ValueError("StyleGAN-family models are saved without training state")
        return save_style_model(bundle, path)
    tensors = bundle_tensors(bundle)
    if not include_training:
        viewing = "ema_generator" if bundle.ema_generator is not None else "generator"
        tensors = {
            ("generator." + k.split(".", 1)[1]) if k.startswith(viewing + ".") else k: v
            for k, v in tensors.items()
            if k.startswith(viewing + ".") or k.startswith("directions.")
        }
    _check_before_save(bundle, tensors, extra_tensors or {}, extra_metadata or {}, Path(path))
    tensors.update({k: v.detach().to("cpu").contiguous() for k, v in (extra_tensors or {}).items()})
    metadata = bundle_metadata(bundle)
    metadata.update(extra_metadata or {})
    data = _canonical_header(st_save(tensors, metadata=metadata))
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def _canonical_header(data: bytes) -> bytes:
    """Rewrite a safetensors header with sorted keys, so one model is always one file.

    safetensors writes its metadata in Rust hash-map order, which changes from call to
    call; the same model would get a new sha256 (the id faces are matched against)
    every time it is saved. The data section and its offsets are left as they are.
    """
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # safetensors keeps the data section 8-byte aligned
    return struct.pack("<Q", len(raw)) + raw + data[8 + n :]


def _load_safetensors_model(path: Path) -> tuple[ModelBundle, dict[str, torch.Tensor], dict[str, str]]:
    data, digest = read_model_file(path)
    label = str(path)
    header, metadata = read_safetensors_header(data, label)
    from facestudio.models.stylegan.style_file import is_style_metadata, load_style_model

    if is_style_metadata(metadata):
        return load_style_model(data, header, metadata, path, digest), {}, metadata
    config = _parse_config(metadata, label)
    present = _check_tensors({k: (tuple(v["shape"]), v["dtype"]) for k, v in header.items()}, config, label)
    direction_names = _parse_directions(header, metadata, config, label)
    try:
        tensors = st_load(data)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(f"{label} could not be read as safetensors: {exc}.") from None
    del data
    nets: dict[str, Any] = {}
    for name in sorted(present):
        net = Generator(config) if name != "discriminator" else Discriminator(config)
        state = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith(name + ".")}
        if not all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()):
            raise ModelFileError(f"{label}: the {name} weights contain NaN or infinite values; the model is broken (use an earlier checkpoint).")
        net.load_state_dict(state)
        nets[name] = net
    directions = {}
    for kind, names in direction_names.items():
        vectors = tensors[f"directions.{kind}"]
        if not torch.isfinite(vectors).all():
            raise ModelFileError(f"{label}: the {kind!r} directions contain NaN or infinite values; the file is damaged.")
        directions[kind] = DirectionSet(kind, names, vectors.numpy())
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


def load_safetensors_model(path: str | os.PathLike) -> tuple[ModelBundle, dict[str, torch.Tensor], dict[str, str]]:
    """Load a FaceStudio safetensors file: (bundle, the other tensors, metadata).

    Only FaceStudioError subclasses escape: whatever a damaged file makes a library
    raise becomes a ModelFileError with the file's name.
    """
    path = Path(path)
    return _typed_errors(_load_safetensors_model, path, "a model")


def _typed_errors(load, path: Path, what: str):
    """`load(path)`, with anything but a FaceStudioError turned into a ModelFileError naming the file:
    a damaged or hostile file must never let an untyped library error escape."""
    try:
        return load(path)
    except FaceStudioError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{path} could not be opened as {what}: {exc}.") from exc


def _sniff(path: Path) -> str | None:
    """'safetensors' or 'torch' when the first bytes say so, else None (decide by suffix).

    A .pth that really is safetensors (or the reverse) then opens all the same.
    """
    try:
        # stat before open: opening a FIFO blocks until someone writes to it.
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        with open(path, "rb") as fh:
            head = fh.read(9)
    except OSError:
        return None
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":  # torch zip archive / legacy pickle
        return "torch"
    return None


def load_model(path: str | os.PathLike | None = None) -> ModelBundle:
    """Open a model: None -> shipped default; .safetensors; a run folder; a foreign .pt/.pth;
    a StyleGAN2-ADA / StyleGAN3 network .pkl (read without running any of it).

    Also a model id: "mobilestylegan-ffhq" (photographic faces from the random-face package).
    Raises ModelFileError (a FaceStudioError) for anything that is not a usable model.
    """
    from facestudio.models.mobilestylegan.convert import is_model_id, load_mobilestylegan

    if is_model_id(path):
        return load_mobilestylegan()
    if path is None:
        p = default_model_path()
        if not p.is_file():
            raise ModelFileError("The default model is missing from this installation; reinstall FaceStudio or open a model file.")
    else:
        p = Path(path).expanduser()
    if p.is_dir():
        p = model_file_of_run(p)
    if p.suffix.lower() in (".pkl", ".pickle"):
        from facestudio.models.stylegan.pickle_import import load_stylegan_pickle

        return _typed_errors(load_stylegan_pickle, p, "a StyleGAN network pickle")
    kind = _sniff(p) or ("torch" if p.suffix.lower() in FOREIGN_SUFFIXES else "safetensors")
    if kind == "torch":
        from facestudio.models.dcgan_import import load_foreign_checkpoint

        return _typed_errors(load_foreign_checkpoint, p, "a model")
    bundle, _, _ = load_safetensors_model(p)
    return bundle


def _typed_errors(load: Any, p: Path, what: str) -> Any:
    """`load(p)`, letting only FaceStudioError escape: never an untyped error from a file."""
    try:
        return load(p)
    except FaceStudioError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{p} could not be opened as {what}: {exc}.") from exc
