"""One rule for the files the commands write: the suffix says the format, the folder must exist.

`facestudio sample -o /nonexistent/dir/x.png` used to create /nonexistent/dir at the root,
and `project -o p.jpg` wrote PNG bytes under a .jpg name. Now every command checks its
output first (before loading a model or rendering): the parent folder must already exist,
and the suffix must name a format FaceStudio writes, or the command refuses with a
sentence. Only PNG carries a face's latent; other picture formats are plain pictures.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from facestudio.atomic_file import check_parent
from facestudio.errors import ConfigError

if TYPE_CHECKING:  # numpy and Pillow load lazily: the commands import this module for --help
    import numpy as np

# Side in pixels of every face a command writes unless --size says otherwise: what the
# app's File > Save Face writes by default (facestudio.ui.preferences export_size).
DEFAULT_FACE_SIZE = 512

# suffix -> Pillow format of the still pictures FaceStudio writes
PICTURE_FORMATS: dict[str, str] = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
                                   ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}
PICTURE_SUFFIXES = ".png (keeps the face's latent), .jpg, .webp, .bmp or .tiff"


def picture_format(path: str | os.PathLike) -> str:
    """The Pillow format the suffix of `path` names, or ConfigError."""
    p = Path(path)
    fmt = PICTURE_FORMATS.get(p.suffix.lower())
    if fmt is None:
        name = p.with_suffix(".png").name if p.suffix else p.name + ".png"
        raise ConfigError(f"Cannot write a picture as {p.name}: use {PICTURE_SUFFIXES}, for example -o {name}.")
    return fmt


def check_picture_output(path: str | os.PathLike) -> Path:
    """Folder exists and suffix names a picture format (checked before any work)."""
    p = check_parent(path)
    picture_format(p)
    return p


def picture_bytes(pixels: np.ndarray, fmt: str, **options: Any) -> bytes:
    """RGB uint8 (H, W, 3) pixels encoded as `fmt` (JPEG/WebP at quality 95)."""
    import numpy as np
    from PIL import Image

    if fmt in ("JPEG", "WEBP"):
        options.setdefault("quality", 95)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(buffer, format=fmt, **options)
    return buffer.getvalue()


def save_picture(path: str | os.PathLike, pixels: np.ndarray) -> Path:
    """Write pixels in the format the suffix says, atomically."""
    from facestudio.atomic_file import atomic_write_bytes

    p = Path(path)
    atomic_write_bytes(p, picture_bytes(pixels, picture_format(p)))
    return p


def save_face_picture(path: str | os.PathLike, image: np.ndarray, latent: np.ndarray, *, model_name: str,
                      model_sha256: str, truncation: float = 1.0, directions: Mapping[str, Any] | None = None,
                      size: int | None = None, smooth: bool = True, space: str = "z") -> bool:
    """A face PNG with its latent for .png; a plain picture for the other formats.

    Returns whether the latent was embedded.
    """
    from facestudio.render.face_png import save_face_png
    from facestudio.render.grid import resize

    fmt = picture_format(path)
    if fmt == "PNG":
        save_face_png(path, image, latent, model_name, model_sha256, truncation=truncation, directions=directions,
                      size=size, smooth=smooth, space=space)
        return True
    save_picture(path, resize(image, size, smooth=smooth) if size is not None else image)
    return False
