"""Writing morphs and strips: GIF, MP4, numbered PNG frames, contact sheets.

Every file appears atomically (`facestudio.atomic_file`): a crash, a full disk or a
cancel never leaves a half-written GIF or MP4 behind. Long exports report progress as
`progress(i, n)` (i frames of n done) and poll `cancel()` between frames; a cancelled
export writes nothing and returns None, a finished one returns the path written.

GIF needs only Pillow. MP4 needs the optional `imageio-ffmpeg` (`pip install
'facestudio[video]'`), which ships its own ffmpeg binary and needs no network.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from facestudio.atomic_file import atomic_write_bytes
from facestudio.errors import ConfigError, DiskWriteError, FaceStudioError
from facestudio.render.grid import check_images, image_grid
from facestudio.render.output_files import save_picture

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

# GIF delays are whole centiseconds and browsers slow anything under 2 cs down to 10 cs,
# so 50 frames per second is the honest maximum.
GIF_MAX_FPS = 50
MP4_MAX_FPS = 120
FRAME_NAME = re.compile(r"^frame_(\d{4,})\.png$")


def _check_fps(fps: float, high: int, kind: str) -> float:
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)) or not 1 <= fps <= high:
        hint = " For smoother motion export an MP4." if kind == "GIF" else ""
        raise ConfigError(f"A {kind} can play at 1 to {high} frames per second, not {fps!r}.{hint}")
    return float(fps)


def check_fps(fps: float, kind: str) -> float:
    """`fps` if a file of `kind` ('gif' or 'mp4') can play at it, else ConfigError; lets callers fail before rendering."""
    if kind == "gif":
        return _check_fps(fps, GIF_MAX_FPS, "GIF")
    return _check_fps(fps, MP4_MAX_FPS, "video")


def _steps(frames: np.ndarray, progress: Progress | None, cancel: CancelCheck | None):
    """Yield (index, frame), reporting progress after each and stopping early on cancel."""
    n = len(frames)
    for i in range(n):
        if cancel is not None and cancel():
            return
        yield i, frames[i]
        if progress is not None:
            progress(i + 1, n)


def _cancelled(cancel: CancelCheck | None) -> bool:
    return cancel is not None and bool(cancel())


def save_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write one RGB uint8 (H, W, 3) image as a PNG, atomically."""
    pixels = check_images(image, "image")[0]
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def gif_durations(n_frames: int, fps: float) -> list[int]:
    """Per-frame delays in ms, whole centiseconds, whose running sum tracks n/fps exactly.

    24 fps is 4.17 cs a frame; a fixed 4 cs would play 4 % fast, so delays alternate
    between 4 and 5 cs the way a line is drawn on a pixel grid.
    """
    ends = np.round(np.arange(1, n_frames + 1) * (100.0 / fps)).astype(np.int64)
    starts = np.concatenate([[0], ends[:-1]])
    return [int(d) * 10 for d in np.maximum(ends - starts, 2)]


def export_gif(
    frames: np.ndarray | Sequence[np.ndarray],
    path: str | os.PathLike,
    fps: float = 24,
    loop: bool = True,
    *,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> Path | None:
    """Animated GIF of RGB uint8 frames (F, H, W, 3); `loop` plays it forever, else once.

    Each frame gets its own 256-colour palette (median cut, Floyd-Steinberg dithering),
    which suits faces better than one palette for the whole morph. Pillow merges runs of
    identical frames into one longer frame, so the file may hold fewer frames than given.
    """
    frames = check_images(frames)
    fps = _check_fps(fps, GIF_MAX_FPS, "GIF")
    paletted = []
    for _, frame in _steps(frames, progress, cancel):
        paletted.append(Image.fromarray(frame, "RGB").quantize(256, dither=Image.Dither.FLOYDSTEINBERG))
    if len(paletted) < len(frames) or _cancelled(cancel):
        return None
    options = {"save_all": True, "append_images": paletted[1:], "duration": gif_durations(len(paletted), fps), "disposal": 1}
    if loop:
        options["loop"] = 0
    buffer = io.BytesIO()
    paletted[0].save(buffer, format="GIF", **options)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad to even width and height by repeating the last row/column (yuv420p needs even sizes)."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def mp4_installed() -> bool:
    """True when imageio-ffmpeg is installed, without loading it (a menu can ask at start-up for free).

    `mp4_available` is the full check (the bundled binary is usable); exporting uses that.
    """
    import importlib.util

    return importlib.util.find_spec("imageio_ffmpeg") is not None


def mp4_available() -> bool:
    """True when the optional imageio-ffmpeg (with its bundled ffmpeg) is installed."""
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or installed without a usable binary
        return False
    return True


def export_mp4(
    frames: np.ndarray | Sequence[np.ndarray],
    path: str | os.PathLike,
    fps: float = 24,
    *,
    quality: float = 8.0,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> Path | None:
    """H.264 MP4 (yuv420p, plays everywhere) of RGB uint8 frames; odd sizes are padded to even.

    `quality` is imageio-ffmpeg's 0-10 scale (10 best). Needs `facestudio[video]`.
    """
    frames = check_images(frames)
    fps = _check_fps(fps, MP4_MAX_FPS, "video")
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        raise FaceStudioError(
            "MP4 export needs the optional video support; install it with: pip install 'facestudio[video]' "
            "(or export a GIF or PNG frames instead)."
        ) from None
    target = Path(path)
    first = _even(frames[0])
    height, width = first.shape[:2]
    with tempfile.TemporaryDirectory(prefix=".facestudio-mp4-") as tmp:
        tmp_file = Path(tmp) / "out.mp4"
        writer = imageio_ffmpeg.write_frames(
            str(tmp_file), (width, height), fps=fps, codec="libx264", quality=quality,
            pix_fmt_in="rgb24", pix_fmt_out="yuv420p", macro_block_size=1, ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart"],
        )
        done = 0
        try:
            writer.send(None)  # start ffmpeg
            for i, frame in _steps(frames, progress, cancel):
                writer.send(np.ascontiguousarray(_even(frame)))
                done = i + 1
        except (OSError, RuntimeError) as exc:
            writer.close()
            raise DiskWriteError(f"The video {target} could not be written: {exc}") from None
        writer.close()  # waits for ffmpeg to finish the file
        if done < len(frames) or _cancelled(cancel):
            return None
        atomic_write_bytes(target, tmp_file.read_bytes())
    return target


def export_png_frames(
    frames: np.ndarray | Sequence[np.ndarray],
    folder: str | os.PathLike,
    *,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> Path | None:
    """Numbered PNGs frame_0000.png, frame_0001.png... in `folder` (created if needed).

    Each file is written atomically. Older frame_NNNN.png files beyond this sequence are
    removed, so tools reading `frame_%04d.png` never pick up frames of an earlier export;
    on cancel the frames written so far are removed again.
    """
    frames = check_images(frames)
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DiskWriteError(f"The folder {out} could not be created: {exc.strerror or exc}.") from None
    digits = max(4, len(str(len(frames) - 1)))
    written: list[Path] = []
    for i, frame in _steps(frames, progress, cancel):
        written.append(save_png(out / f"frame_{i:0{digits}d}.png", frame))
    if len(written) < len(frames) or _cancelled(cancel):
        for p in written:
            p.unlink(missing_ok=True)
        return None
    keep = {p.name for p in written}
    for old in out.iterdir():
        if FRAME_NAME.match(old.name) and old.name not in keep and old.is_file():
            old.unlink(missing_ok=True)
    return out


def contact_sheet(frames: np.ndarray | Sequence[np.ndarray], cols: int = 8, pad: int = 2, max_frames: int | None = None) -> np.ndarray:
    """One image showing the frames in reading order; `max_frames` keeps that many, evenly spaced (first and last included)."""
    frames = check_images(frames)
    if max_frames is not None:
        if isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer)) or max_frames < 1:
            raise ValueError(f"max_frames must be a whole number of at least 1, not {max_frames!r}.")
        if len(frames) > max_frames:
            frames = frames[np.unique(np.round(np.linspace(0, len(frames) - 1, int(max_frames))).astype(np.int64))]
    return image_grid(frames, cols=cols, pad=pad)


SHEET_SUFFIXES = (".png", ".jpg", ".jpeg")  # a contact sheet, in the format the suffix names


def export_kind(target: str | os.PathLike) -> str:
    """'gif', 'mp4', 'sheet' (a .png contact sheet) or 'frames' (a folder) for an output path."""
    text = os.fspath(target)
    p = Path(text)
    suffix = p.suffix.lower()
    if suffix == ".gif":
        return "gif"
    if suffix == ".mp4":
        return "mp4"
    if suffix in SHEET_SUFFIXES:
        return "sheet"
    if text.endswith(("/", os.sep)) or p.is_dir() or suffix == "":
        return "frames"
    raise ConfigError(f"Cannot tell what to write for {p.name}: use a .gif or .mp4 file name, a .png or .jpg one for a "
                      "contact sheet, or a folder for PNG frames.")


def export_frames(
    frames: np.ndarray | Sequence[np.ndarray],
    target: str | os.PathLike,
    fps: float = 24,
    loop: bool = True,
    *,
    cols: int = 10,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> Path | None:
    """Write frames in the form the target's name asks for (see `export_kind`)."""
    kind = export_kind(target)
    if kind == "gif":
        return export_gif(frames, target, fps, loop, progress=progress, cancel=cancel)
    if kind == "mp4":
        return export_mp4(frames, target, fps, progress=progress, cancel=cancel)
    if kind == "sheet":
        return save_picture(target, contact_sheet(frames, cols=cols))
    return export_png_frames(frames, target, progress=progress, cancel=cancel)
