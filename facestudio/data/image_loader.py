"""The one safe loader for images that come from users.

Every picture FaceStudio reads from a person's disk goes through `load_image`:

- only JPEG, PNG, WebP, BMP and TIFF, recognised by extension *and* by Pillow's own
  detection of the contents (Pillow is told to try only those decoders);
- files above `MAX_FILE_BYTES` are refused before they are read;
- Pillow's decompression-bomb limit stays on: an image with more than
  `Image.MAX_IMAGE_PIXELS` pixels is refused (the warning Pillow would print becomes an
  error, and the size is checked from the header before any pixel is decoded);
- the EXIF orientation is applied, so phone pictures stand upright;
- palette, alpha (composited on neutral grey), CMYK, 16/32-bit integer, float,
  greyscale and LA images all come back as 8-bit RGB;
- truncated, empty, garbage or non-image files raise `ImageFileError` whose message names
  the file and says what is wrong. The error carries `.kind`, a short machine-readable
  reason ("empty", "truncated", "not-an-image", "unsupported-format", "too-large",
  "missing", "unreadable").
"""

from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facestudio.errors import ImageFileError

#: Extensions (lower case) of the image types FaceStudio reads.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})

#: Pillow formats accepted, whatever the extension says. MPO is the multi-picture JPEG
#: that many cameras and phones write (recent Pillow opens it through the JPEG entry).
ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF")

#: Refuse files larger than this many bytes before reading them.
MAX_FILE_BYTES = 64 * 1024 * 1024

#: Colour that transparent parts of an image are composited on.
NEUTRAL_BACKGROUND = (128, 128, 128)

_FRIENDLY = "JPEG, PNG, WebP, BMP or TIFF"


def _fail(kind: str, message: str) -> ImageFileError:
    err = ImageFileError(message)
    err.kind = kind  # type: ignore[attr-defined]
    return err


def has_image_extension(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _check_file(path: Path, max_bytes: int) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise _fail("missing", f"The image {path} does not exist; check the path.") from None
    except OSError as exc:
        raise _fail("unreadable", f"The image {path} cannot be read ({exc.strerror or exc}); check its permissions.") from exc
    if not path.is_file():
        raise _fail("not-an-image", f"{path} is not a file; choose an image file ({_FRIENDLY}).")
    if st.st_size == 0:
        raise _fail("empty", f"The image {path} is empty (0 bytes); re-export or re-download it, or remove it.")
    if st.st_size > max_bytes:
        raise _fail(
            "too-large",
            f"The image {path} is {st.st_size / 2**20:.0f} MB, above the {max_bytes / 2**20:.0f} MB limit for one "
            "image; scale it down first.",
        )
    if not has_image_extension(path):
        raise _fail(
            "unsupported-format",
            f"{path} does not have the extension of an image FaceStudio reads ({_FRIENDLY}); convert it to one of these.",
        )


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB (alpha composited on neutral grey)."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        mode = img.mode
        if mode == "RGB":
            return img
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16"):
            arr = arr / 257.0
        else:
            finite = arr[np.isfinite(arr)]
            top = float(finite.max()) if finite.size else 0.0
            if mode == "F" and top <= 1.0:
                arr = arr * 255.0
            elif top > 255.0:
                arr = arr / (65535.0 if top <= 65535.0 else top) * 255.0
        arr = np.nan_to_num(arr, nan=0.0, posinf=255.0, neginf=0.0)
        grey = np.clip(arr + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(grey[..., None], 3, axis=2), "RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "A" in img.getbands():
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, NEUTRAL_BACKGROUND + (255,))
        return Image.alpha_composite(base, rgba).convert("RGB")
    return img.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV, RGBX ...


def load_image(path: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES, draft_size: int | None = None) -> Image.Image:
    """Open a user's image safely and return it as an upright 8-bit RGB Pillow image.

    `draft_size` lets JPEG decoding skip detail that a later reduction to about that many
    pixels a side would throw away (faster on large photos; the result is at least that
    large on its shorter side when the original is).
    Raises ImageFileError (with `.kind`) for anything that cannot be used.
    """
    path = Path(path)
    _check_file(path, max_bytes)
    Image.init()  # registers every plugin, so that `formats` below can name MPO; decoders stay restricted
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=[f for f in ALLOWED_FORMATS if f in Image.OPEN]) as img:
                w, h = img.size
                limit = Image.MAX_IMAGE_PIXELS
                if w <= 0 or h <= 0:
                    raise _fail("not-an-image", f"The image {path} declares no pixels ({w}x{h}); it is damaged.")
                if limit is not None and w * h > limit:
                    raise _fail(
                        "too-large",
                        f"The image {path} is {w}x{h} pixels, more than the {limit:,} pixel safety limit (a possible "
                        "decompression bomb); scale it down first.",
                    )
                if draft_size and img.format in ("JPEG", "MPO"):
                    img.draft("RGB", (draft_size, draft_size))
                img.load()
                try:
                    upright = ImageOps.exif_transpose(img)
                except Exception:  # a malformed EXIF block only loses the orientation
                    upright = img
                rgb = _to_rgb(upright if upright is not None else img)
                if rgb is img:
                    rgb = img.copy()
    except ImageFileError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _fail(
            "too-large",
            f"The image {path} is larger than the pixel safety limit (a possible decompression bomb); scale it down first.",
        ) from exc
    except UnidentifiedImageError as exc:
        kind, what = _identify(path)
        raise _fail(kind, what) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError,
            MemoryError, struct.error) as exc:
        text = str(exc).lower()
        if "truncat" in text or isinstance(exc, EOFError) or "premature" in text or "broken data stream" in text:
            raise _fail(
                "truncated",
                f"The image {path} is truncated or damaged (its data ends early); re-export or re-download it.",
            ) from exc
        raise _fail("unreadable", f"The image {path} is damaged and cannot be decoded ({exc}); re-export or remove it.") from exc
    return rgb


_SIGNATURES = (
    (b"GIF8", "GIF"), (b"\x00\x00\x01\x00", "ICO"), (b"%PDF", "PDF"), (b"8BPS", "PSD"),
    (b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"RIFF", "WEBP"), (b"BM", "BMP"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
)


def _identify(path: Path) -> tuple[str, str]:
    """Why Pillow could not identify `path`: another image type, a damaged one, or no image."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        head = b""
    detected = None
    for sig, name in _SIGNATURES:
        if head.startswith(sig):
            detected = name
            break
    if detected in ("PNG", "JPEG", "WEBP", "BMP", "TIFF"):
        return "truncated", f"The image {path} looks like a {detected} file but is damaged or truncated; re-export or re-download it."
    if detected is not None:
        return "unsupported-format", (
            f"{path} is a {detected} file, which FaceStudio does not read; convert it to {_FRIENDLY}."
        )
    if head:
        try:  # another format Pillow knows but we do not accept?
            with Image.open(path) as other:
                fmt = other.format
            return "unsupported-format", f"{path} is a {fmt} image, which FaceStudio does not read; convert it to {_FRIENDLY}."
        except Exception:
            pass
    return "not-an-image", f"{path} is not an image (its contents are not {_FRIENDLY} data) even though its name says so; remove or replace it."


def center_crop_resize(img: Image.Image, size: int) -> np.ndarray:
    """The largest centred square of `img`, resized to size x size: uint8 (size, size, 3)."""
    if img.mode != "RGB":
        img = _to_rgb(img)
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    box = (left, top, left + s, top + s)
    out = img.resize((size, size), Image.LANCZOS, box=box, reducing_gap=3.0 if s > 3 * size else None)
    return np.asarray(out, dtype=np.uint8).copy()

