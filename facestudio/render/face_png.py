"""Face PNGs: an ordinary PNG picture that also carries the latent it was drawn from.

The format is public (docs/architecture.md, README), so other tools can read and write it: one iTXt chunk
with keyword `facestudio` holding UTF-8 JSON

    {"format": "facestudio-face", "version": 2, "space": "w+", "shape": [16, 512],
     "nz": 8192, "latent": "<base64 of prod(shape) little-endian float32, row-major>",
     "model": {"name": "...", "sha256": "<64 hex digits, or empty when unknown>"},
     "truncation": 0.7,
     "directions": {"sefa": {"SeFa 1": 1.5}, ...}}

`space` is where the face lives (`z`, `w` or `w+`, see facestudio.latent.spaces) and
`shape` the latent's shape: (z_dim,), (w_dim,) or (num_ws, w_dim); `nz` is the count of
numbers. Version 1 files (no space/shape) are z faces of shape (nz,) and still open.
`latent` is the face's latent with any direction offsets already added; the face is
`G(truncate(latent, truncation))`, reproducible from the file alone (a w or w+ face is
truncated in W towards the model's w_avg). `directions`
records the slider amounts that produced it, so the app can restore its sliders.
Keys other tools add are ignored; known keys are checked.

Nothing read from a file (or pasted) is trusted: size caps come before parsing, every
field is type- and range-checked, the latent must decode to exactly 4 * nz bytes of
finite, plausibly sized floats. Bad metadata raises `FaceMetadataError`, an unreadable
or oversized picture `ImageFileError`, each with a sentence a person can act on.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from facestudio.atomic_file import atomic_write_bytes
from facestudio.errors import FaceMetadataError, ImageFileError
from facestudio.latent.sampling import MAX_PSI
from facestudio.models.config import MAX_NZ
from facestudio.render.grid import check_images, resize

KEYWORD = "facestudio"
FORMAT = "facestudio-face"
VERSION = 2
SPACES = ("z", "w", "w+")
MAX_VALUES = 64 * MAX_NZ  # a w+ face of up to 64 layers of 4096
TEXT_PREFIX = "fslatent1:"  # compact copy/paste form: prefix + base64 latent
MAX_METADATA_CHARS = 1_000_000  # checked before any JSON parsing
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_PIXELS = 8192 * 8192
LATENT_ABS_MAX = 1000.0  # N(0,1) latents plus slider offsets stay far below this
DIRECTION_ABS_MAX = 1000.0
MAX_NAME_CHARS = 200
MAX_DIRECTIONS = 4096


@dataclass(frozen=True)
class FaceRecord:
    """A face read back from a face PNG or pasted text, validated."""

    latent: np.ndarray  # float32, read-only: (nz,) for z, (w_dim,) for w, (num_ws, w_dim) for w+
    model_name: str = ""
    model_sha256: str = ""
    truncation: float = 1.0
    directions: dict[str, dict[str, float]] = field(default_factory=dict)
    version: int = VERSION
    space: str = "z"

    @property
    def nz(self) -> int:
        """The z size of a z face; other faces have no z, and code that wants one must not get a w."""
        if self.space != "z":
            raise FaceMetadataError(f"This is a {self.space} face of shape {self.latent.shape}, not a z face; "
                                    "open it with the style model it was made with.")
        return int(self.latent.shape[0])

    def direction_amounts(self) -> dict[tuple[str, str], float]:
        """Amounts keyed by (kind, name)."""
        return {(kind, name): a for kind, names in self.directions.items() for name, a in names.items()}


# ---------------------------------------------------------------- encoding
def encode_latent(latent: np.ndarray) -> str:
    """Base64 of the latent as little-endian float32 (the format's `latent` field)."""
    return base64.b64encode(np.ascontiguousarray(latent, dtype="<f4").tobytes()).decode("ascii")


def _check_latent_values(z: np.ndarray, label: str) -> np.ndarray:
    if not np.all(np.isfinite(z)):
        raise FaceMetadataError(f"{label} holds a latent with NaN or infinite numbers; it is damaged.")
    if np.max(np.abs(z)) > LATENT_ABS_MAX:
        raise FaceMetadataError(f"{label} holds a latent with implausibly large numbers (above {LATENT_ABS_MAX:g}); it is damaged.")
    z = z.astype(np.float32)
    z.setflags(write=False)
    return z


def decode_latent(text: Any, nz: int, label: str) -> np.ndarray:
    """The latent (nz,) float32 from its base64 form; exactly 4 * nz bytes or FaceMetadataError."""
    if not isinstance(text, str):
        raise FaceMetadataError(f"{label} has a malformed latent (not base64 text).")
    if len(text) > 4 * math.ceil(4 * MAX_VALUES / 3) + 8:
        raise FaceMetadataError(f"{label} has a latent far longer than any model's; it is damaged.")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise FaceMetadataError(f"{label} has a malformed latent (invalid base64).") from None
    if len(raw) != 4 * nz:
        raise FaceMetadataError(f"{label} has a latent of {len(raw)} bytes; a latent of size {nz} needs exactly {4 * nz}.")
    return _check_latent_values(np.frombuffer(raw, dtype="<f4"), label)


def _normalise_directions(directions: Mapping[str, Any] | None) -> dict[str, dict[str, float]]:
    """Nested {kind: {name: amount}} from nested or flat {"kind/name": amount} input."""
    out: dict[str, dict[str, float]] = {}
    for key, value in (directions or {}).items():
        if isinstance(value, Mapping):
            for name, amount in value.items():
                out.setdefault(str(key), {})[str(name)] = amount
        else:
            kind, sep, name = str(key).partition("/")
            if not sep or not kind or not name:
                raise FaceMetadataError(f"Direction amount key {key!r} must read 'kind/name' (for example 'sefa/SeFa 1').")
            out.setdefault(kind, {})[name] = value
    return out


def face_metadata(
    latent: np.ndarray,
    model_name: str,
    model_sha256: str,
    truncation: float = 1.0,
    directions: Mapping[str, Any] | None = None,
    space: str = "z",
) -> dict[str, Any]:
    """The face JSON object (validated the same way a reader would, so what we write reads back)."""
    z = np.asarray(latent)
    if space not in SPACES or z.ndim != (2 if space == "w+" else 1) or z.dtype.kind != "f" or not 1 <= z.size <= MAX_VALUES:
        raise FaceMetadataError(f"A {space} face's latent must be {'a (layers, w) array' if space == 'w+' else 'a flat vector'} "
                                f"of floating-point numbers; got {z.dtype} {z.shape}.")
    record = {
        "format": FORMAT,
        "version": VERSION,
        "space": space,
        "shape": [int(n) for n in z.shape],
        "nz": int(z.size),
        "latent": encode_latent(z),
        "model": {"name": model_name, "sha256": model_sha256.lower() if isinstance(model_sha256, str) else model_sha256},
        "truncation": float(truncation) if isinstance(truncation, (int, float, np.number)) and not isinstance(truncation, bool) else truncation,
        "directions": {
            kind: {name: float(a) if isinstance(a, (int, float, np.number)) and not isinstance(a, bool) else a for name, a in names.items()}
            for kind, names in _normalise_directions(directions).items()
        },
    }
    parse_face_metadata(record, "This face")  # raise here rather than write a file nobody can read
    return record


# ---------------------------------------------------------------- validation
def _reject_constant(name: str) -> None:
    raise ValueError(f"non-finite number {name}")


def loads_untrusted(data: str | bytes, max_chars: int, too_long: str, unreadable: str,
                    error: type[FaceMetadataError] = FaceMetadataError) -> Any:
    """JSON from a file or paste: size capped before parsing, NaN/Infinity refused, one error type."""
    if len(data) > max_chars:
        raise error(too_long)
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise error(unreadable) from None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_directions(value: Any, label: str) -> dict[str, dict[str, float]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FaceMetadataError(f"{label} has malformed direction amounts (not an object).")
    out: dict[str, dict[str, float]] = {}
    count = 0
    for kind, names in value.items():
        if not isinstance(kind, str) or not 0 < len(kind) <= MAX_NAME_CHARS or not isinstance(names, dict):
            raise FaceMetadataError(f"{label} has malformed direction amounts (kinds must map to objects of amounts).")
        amounts: dict[str, float] = {}
        for name, amount in names.items():
            count += 1
            if count > MAX_DIRECTIONS:
                raise FaceMetadataError(f"{label} lists more than {MAX_DIRECTIONS} direction amounts; it is damaged.")
            if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
                raise FaceMetadataError(f"{label} has a direction with a missing or overlong name.")
            if not _number(amount) or not math.isfinite(amount) or abs(amount) > DIRECTION_ABS_MAX:
                raise FaceMetadataError(f"{label} has an invalid amount for direction {kind}/{name[:40]} (must be a finite number up to {DIRECTION_ABS_MAX:g}).")
            amounts[name] = float(amount)
        out[kind] = amounts
    return out


def parse_face_metadata(data: str | bytes | Mapping[str, Any], label: str = "The face metadata") -> FaceRecord:
    """Validate face JSON (text or an already-parsed object) into a `FaceRecord`."""
    if isinstance(data, (str, bytes)):
        data = loads_untrusted(
            data, MAX_METADATA_CHARS,
            f"{label} has {len(data)} characters of face data, more than the {MAX_METADATA_CHARS} allowed; it is damaged or hostile.",
            f"{label} has unreadable face data (not valid JSON).")
    if not isinstance(data, Mapping):
        raise FaceMetadataError(f"{label} has face data that is not a JSON object.")
    if data.get("format") != FORMAT:
        raise FaceMetadataError(f"{label} does not hold FaceStudio face data (format is not {FORMAT!r}).")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FaceMetadataError(f"{label} has a malformed face format version.")
    if version > VERSION:
        raise FaceMetadataError(f"{label} was saved by a newer FaceStudio (face format {version}); update FaceStudio to open it.")
    nz = data.get("nz")
    limit = MAX_NZ if version == 1 else MAX_VALUES
    if not isinstance(nz, int) or isinstance(nz, bool) or not 1 <= nz <= limit:
        raise FaceMetadataError(f"{label} has an invalid latent size {str(nz)[:40]!r}; it must be a whole number from 1 to {limit}.")
    space, shape = _space_and_shape(data, version, nz, label)
    latent = decode_latent(data.get("latent"), nz, label).reshape(shape)
    model = data.get("model")
    if not isinstance(model, Mapping):
        raise FaceMetadataError(f"{label} does not say which model made it (no model object).")
    name, sha = model.get("name"), model.get("sha256")
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
        raise FaceMetadataError(f"{label} has an invalid model name (must be text of at most {MAX_NAME_CHARS} characters).")
    if not isinstance(sha, str) or (sha and (len(sha) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha))):
        raise FaceMetadataError(f"{label} has an invalid model fingerprint (must be 64 hexadecimal digits or empty).")
    psi = data.get("truncation", 1.0)
    if not _number(psi) or not math.isfinite(psi) or not 0.0 <= psi <= MAX_PSI:
        raise FaceMetadataError(f"{label} has an invalid truncation; it must be a number from 0 to {MAX_PSI:g}.")
    directions = _check_directions(data.get("directions"), label)
    return FaceRecord(latent=latent, model_name=name, model_sha256=sha.lower(), truncation=float(psi), directions=directions,
                      version=version, space=space)


def _space_and_shape(data: Mapping[str, Any], version: int, nz: int, label: str) -> tuple[str, tuple[int, ...]]:
    """Version 1 faces are z faces of shape (nz,); version 2 says its space and shape."""
    if version == 1:
        return "z", (nz,)
    space, shape = data.get("space"), data.get("shape")
    if space not in SPACES:
        raise FaceMetadataError(f"{label} has an unknown latent space {str(space)[:20]!r}; it must be one of {', '.join(SPACES)}.")
    ndim = 2 if space == "w+" else 1
    if not isinstance(shape, list) or len(shape) != ndim or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape):
        raise FaceMetadataError(f"{label} has an invalid latent shape for a {space} face; it must be {ndim} positive whole number(s).")
    if math.prod(shape) != nz:
        raise FaceMetadataError(f"{label} says its latent has shape {shape} but {nz} numbers; it is damaged.")
    return space, tuple(shape)


# ---------------------------------------------------------------- files
def save_face_png(
    path: str | os.PathLike,
    image: np.ndarray,
    latent: np.ndarray,
    model_name: str,
    model_sha256: str,
    truncation: float = 1.0,
    directions: Mapping[str, Any] | None = None,
    size: int | None = None,
    smooth: bool = True,
    space: str = "z",
) -> None:
    """Write `image` (H, W, 3) uint8 as a PNG carrying the face metadata, atomically.

    `size` enlarges (or shrinks) the picture to size x size first: Lanczos when `smooth`,
    else crisp nearest-neighbour pixels. `directions` may be nested {kind: {name: amount}}
    or flat {"kind/name": amount}; it is stored nested.
    """
    pixels = check_images(image, "image")[0]
    if size is not None:
        pixels = resize(pixels, size, smooth=smooth)
    meta = face_metadata(latent, model_name, model_sha256, truncation, directions, space)
    info = PngImagePlugin.PngInfo()
    info.add_itxt(KEYWORD, json.dumps(meta, separators=(",", ":"), allow_nan=False))
    info.add_text("Software", "FaceStudio")
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG", pnginfo=info)
    atomic_write_bytes(path, buffer.getvalue())


def read_face_png(path: str | os.PathLike) -> FaceRecord:
    """The face stored in a face PNG, validated (see the module docstring for the errors)."""
    p = Path(path)
    label = p.name or str(p)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ImageFileError(f"{p} does not exist.") from None
    except OSError as exc:
        raise ImageFileError(f"{p} cannot be read: {exc.strerror or exc}.") from None
    if not p.is_file():
        raise ImageFileError(f"{p} is not a file; choose a face PNG.")
    if size > MAX_FILE_BYTES:
        raise ImageFileError(f"{label} is {size / 1e6:.0f} MB, far larger than any face PNG; it was not opened.")
    try:
        with Image.open(p, formats=["PNG"]) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ImageFileError(f"{label} is {width} x {height} pixels, too large to be a face PNG; it was not opened.")
            # Text before the pixel data is read with the header; only look past the pixels
            # (which decodes them, under the size check above) when it is not there.
            text = im.info.get(KEYWORD)
            if text is None:
                text = im.text.get(KEYWORD)
    except ImageFileError:
        raise
    except UnidentifiedImageError:
        raise ImageFileError(f"{label} is not a PNG image; faces are saved as PNG files.") from None
    except Image.DecompressionBombError:
        raise ImageFileError(f"{label} is too large to be a face PNG (decompression bomb protection); it was not opened.") from None
    except OSError as exc:
        raise ImageFileError(f"{label} cannot be read: {exc.strerror or exc}; the file may be damaged or truncated.") from None
    except Exception as exc:  # Pillow raises many types on hostile files; none may escape untyped
        raise ImageFileError(f"{label} is a damaged PNG ({type(exc).__name__}: {str(exc)[:200]}).") from None
    if text is None:
        raise FaceMetadataError(f"{label} has no FaceStudio face in it; it is an ordinary picture, not a face saved by FaceStudio.")
    return parse_face_metadata(str(text), label)


# ---------------------------------------------------------------- copy and paste
def latent_to_text(latent: np.ndarray) -> str:
    """A compact, paste-safe text form of a latent: 'fslatent1:' + base64 float32."""
    z = np.asarray(latent)
    if z.ndim != 1 or not 1 <= z.shape[0] <= MAX_NZ or z.dtype.kind != "f":
        raise FaceMetadataError(f"A latent must be 1 to {MAX_NZ} floating-point numbers; got {z.dtype} {z.shape}.")
    _check_latent_values(z, "This latent")
    return TEXT_PREFIX + encode_latent(z)


def latent_from_text(text: str) -> np.ndarray:
    """The latent (nz,) float32 in pasted text: the compact form or a face JSON object."""
    label = "The pasted text"
    if not isinstance(text, str):
        raise FaceMetadataError(f"{label} is not text.")
    if len(text) > MAX_METADATA_CHARS:
        raise FaceMetadataError(f"{label} is far too long to be a latent.")
    text = text.strip()
    if text.startswith("{"):
        return parse_face_metadata(text, label).latent
    if text.startswith(TEXT_PREFIX):
        body = "".join(text[len(TEXT_PREFIX):].split())  # tolerate line breaks from chat/mail
        if len(body) % 4:
            raise FaceMetadataError(f"{label} holds a cut-off latent (invalid base64 length); copy it again.")
        n_bytes = len(body) // 4 * 3 - (2 if body.endswith("==") else 1 if body.endswith("=") else 0)
        if n_bytes % 4 or not 1 <= n_bytes // 4 <= MAX_NZ:
            raise FaceMetadataError(f"{label} holds a cut-off or damaged latent; copy it again.")
        return decode_latent(body, n_bytes // 4, label)
    raise FaceMetadataError(f"{label} is not a FaceStudio latent; copy a face with 'Copy latent' (it starts with '{TEXT_PREFIX}').")
