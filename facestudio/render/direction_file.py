"""User direction files: a small JSON document people can save, share and load.

    {"format": "facestudio-directions", "version": 1,
     "model": {"name": "mobilestylegan-ffhq", "sha256": "<64 hex digits>"},
     "space": "w", "w_dim": 512, "num_ws": 16,
     "directions": [{"name": "smile", "kind": "user", "layers": [3, 4, 5, 6],
                     "scale": 1.0, "vector": [512 numbers]}]}

Directions only mean something for the model they were found on, so a file names the
model by its sha256 and a file for another model is refused with a sentence saying
which. Everything read is untrusted: the size is capped before parsing, JSON constants
(NaN, Infinity) are refused, every field is type- and range-checked. See
docs/style-latents.md.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from facestudio.atomic_file import atomic_write_text
from facestudio.errors import FaceMetadataError
from facestudio.latent.style_directions import KINDS, StyleDirection
from facestudio.render.face_png import loads_untrusted

FORMAT = "facestudio-directions"
VERSION = 1
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DIRECTIONS = 256
MAX_W_DIM = 4096
MAX_NUM_WS = 64
MAX_NAME_CHARS = 100
VECTOR_ABS_MAX = 1e4


class DirectionFileError(FaceMetadataError):
    """A direction file that cannot be used (damaged, hostile, or for another model)."""


def _whole(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def directions_document(directions: Sequence[StyleDirection], model_name: str, model_sha256: str, num_ws: int) -> dict[str, Any]:
    """The JSON object for `directions` of one model (checked as a reader would)."""
    if not directions:
        raise DirectionFileError("There are no directions to save.")
    w_dim = int(directions[0].vector.shape[0])
    doc = {
        "format": FORMAT, "version": VERSION,
        "model": {"name": model_name, "sha256": model_sha256.lower()},
        "space": "w", "w_dim": w_dim, "num_ws": int(num_ws),
        "directions": [{"name": d.name, "kind": d.kind, "layers": list(d.layers), "scale": float(d.scale),
                        "vector": [float(x) for x in d.vector]} for d in directions],
    }
    parse_directions(doc, "These directions")
    return doc


def save_directions(path: str | os.PathLike, directions: Sequence[StyleDirection], model_name: str, model_sha256: str,
                    num_ws: int) -> Path:
    """Write a direction file atomically; returns its path."""
    doc = directions_document(directions, model_name, model_sha256, num_ws)
    atomic_write_text(path, json.dumps(doc, allow_nan=False, indent=1))
    return Path(path)


def _direction(item: Any, w_dim: int, num_ws: int, label: str, i: int) -> StyleDirection:
    where = f"{label}, direction {i + 1}"
    if not isinstance(item, dict):
        raise DirectionFileError(f"{where} is not an object.")
    name, kind, layers, scale, vector = (item.get(k) for k in ("name", "kind", "layers", "scale", "vector"))
    if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NAME_CHARS or not name.isprintable():
        raise DirectionFileError(f"{where} needs a name of 1 to {MAX_NAME_CHARS} printable characters.")
    if kind not in KINDS:
        raise DirectionFileError(f"{where} ({name[:40]}) has kind {str(kind)[:20]!r}; use one of {', '.join(KINDS)}.")
    if not isinstance(layers, list) or not 0 < len(layers) <= num_ws or not all(_whole(x, 0, num_ws - 1) for x in layers) \
            or len(set(layers)) != len(layers):
        raise DirectionFileError(f"{where} ({name[:40]}) must list distinct layers from 0 to {num_ws - 1}.")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or not 0 < scale < 1e4:
        raise DirectionFileError(f"{where} ({name[:40]}) has an invalid step size; it must be a positive number below 10000.")
    if not isinstance(vector, list) or len(vector) != w_dim \
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector):
        raise DirectionFileError(f"{where} ({name[:40]}) must have a vector of exactly {w_dim} numbers.")
    v = np.asarray(vector, dtype=np.float64)
    if not np.all(np.isfinite(v)) or np.abs(v).max() > VECTOR_ABS_MAX or not np.any(v):
        raise DirectionFileError(f"{where} ({name[:40]}) has a zero, infinite or absurdly large vector.")
    return StyleDirection(name.strip(), kind, v.astype(np.float32), tuple(sorted(layers)), float(scale))


def parse_directions(data: str | bytes | dict[str, Any], label: str = "The direction file") -> tuple[dict[str, Any], list[StyleDirection]]:
    """(header, directions) from untrusted JSON; header holds model name/sha, w_dim, num_ws."""
    if isinstance(data, (str, bytes)):
        data = loads_untrusted(data, MAX_FILE_BYTES,
                               f"{label} is larger than any direction file ({MAX_FILE_BYTES // 2**20} MB); it was not read.",
                               f"{label} is not valid JSON; it is damaged or not a direction file.", DirectionFileError)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DirectionFileError(f"{label} is not a FaceStudio direction file (format is not {FORMAT!r}).")
    version = data.get("version")
    if not _whole(version, 1, 10**6):
        raise DirectionFileError(f"{label} has a malformed format version.")
    if version > VERSION:
        raise DirectionFileError(f"{label} was written by a newer FaceStudio (direction format {version}); update FaceStudio to open it.")
    model = data.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("name"), str) or len(model["name"]) > 200:
        raise DirectionFileError(f"{label} does not say which model its directions are for.")
    sha = model.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha.lower()):
        raise DirectionFileError(f"{label} has no valid model fingerprint (64 hexadecimal digits), so it cannot be matched to a model.")
    if data.get("space") != "w":
        raise DirectionFileError(f"{label} has directions in space {str(data.get('space'))[:20]!r}; FaceStudio reads directions in 'w'.")
    w_dim, num_ws, items = data.get("w_dim"), data.get("num_ws"), data.get("directions")
    if not _whole(w_dim, 1, MAX_W_DIM) or not _whole(num_ws, 1, MAX_NUM_WS):
        raise DirectionFileError(f"{label} has an invalid w_dim or num_ws.")
    if not isinstance(items, list) or not 0 < len(items) <= MAX_DIRECTIONS:
        raise DirectionFileError(f"{label} must hold 1 to {MAX_DIRECTIONS} directions.")
    directions = [_direction(item, w_dim, num_ws, label, i) for i, item in enumerate(items)]
    header = {"model_name": model["name"], "model_sha256": sha.lower(), "w_dim": w_dim, "num_ws": num_ws}
    return header, directions


def load_directions(path: str | os.PathLike, model_name: str, model_sha256: str, w_dim: int, num_ws: int) -> list[StyleDirection]:
    """The directions in a file, refused with a clear sentence when they are for another model."""
    p = Path(path)
    label = p.name or str(p)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise DirectionFileError(f"{p} is not a file; choose a direction file (.json).")
        if size > MAX_FILE_BYTES:
            raise DirectionFileError(f"{label} is {size / 1e6:.0f} MB, far larger than any direction file; it was not read.")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DirectionFileError(f"{p} does not exist.") from None
    except OSError as exc:
        raise DirectionFileError(f"{p} cannot be read: {exc.strerror or exc}.") from None
    header, directions = parse_directions(raw, label)
    if header["model_sha256"] != model_sha256.lower():
        raise DirectionFileError(
            f"{label} holds directions for the model {header['model_name'] or 'unknown'!r}, not for this one "
            f"({model_name or 'unknown'!r}); directions only work on the model they were found on.")
    if (header["w_dim"], header["num_ws"]) != (w_dim, num_ws):
        raise DirectionFileError(f"{label} is for a model with w_dim {header['w_dim']} and {header['num_ws']} layers; "
                                 f"this one has {w_dim} and {num_ws}.")
    return directions
