"""A folder of a person's own images as a training data set.

`scan_folder(root)` walks the folder (recursively, in sorted order), opens every file
through the safe loader and tells usable images from skipped files, each with a reason.
`ImageFolderData(root, size)` decodes each usable image once, centre-crops and resizes it
to size x size and keeps the result as one uint8 tensor (N, 3, size, size); broken files
are skipped and reported, never fatal. The decoded set is cached on disk (keyed by the
file list, their sizes and modification times, and the image size), so opening the same
folder again costs a fraction of a second.

The CelebA layout (`img_align_celeba/` beside `list_attr_celeba.txt`, or the Kaggle
`list_attr_celeba.csv`) is recognised: its 40 attributes (-1/1 in the file) become 0/1
labels with their names.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from facestudio.atomic_file import atomic_open
from facestudio.data.image_loader import IMAGE_EXTENSIONS, center_crop_resize, load_image
from facestudio.cache_dir import cache_dir
from facestudio.errors import DataSetError, ImageFileError

log = logging.getLogger(__name__)

#: Bump when decoding/cropping changes pixels: it keys the on-disk cache.
FOLDER_CACHE_VERSION = 1

CELEBA_IMAGE_DIR = "img_align_celeba"
CELEBA_ATTR_FILES = ("list_attr_celeba.txt", "list_attr_celeba.csv", "Anno/list_attr_celeba.txt")
#: Files of the CelebA distribution that are not images and not worth reporting.
_CELEBA_SIDE_FILES = {
    "list_attr_celeba.txt", "list_attr_celeba.csv", "list_eval_partition.txt", "list_eval_partition.csv",
    "identity_celeba.txt", "list_bbox_celeba.txt", "list_bbox_celeba.csv", "list_landmarks_align_celeba.txt",
    "list_landmarks_align_celeba.csv", "list_landmarks_celeba.txt",
}
_IGNORED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


@dataclass(frozen=True)
class Skipped:
    """A file that is not used, and why (a sentence; `kind` is a short machine-readable reason)."""

    path: Path
    reason: str
    kind: str = "unreadable"


@dataclass
class ScanResult:
    usable: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class CelebALayout:
    image_dir: Path
    attr_file: Path


# --------------------------------------------------------------------------- CelebA


def find_celeba(root: str | os.PathLike) -> CelebALayout | None:
    """The CelebA layout under `root` (image folder + attribute file), or None."""
    root = Path(root)
    img_dir = root / CELEBA_IMAGE_DIR
    if not img_dir.is_dir():
        return None
    nested = img_dir / CELEBA_IMAGE_DIR  # the Kaggle archive nests the folder once more
    if nested.is_dir():
        img_dir = nested
    for name in CELEBA_ATTR_FILES:
        attr = root / name
        if attr.is_file():
            return CelebALayout(img_dir, attr)
    return None


def read_celeba_attributes(path: str | os.PathLike) -> tuple[list[str], dict[str, np.ndarray]]:
    """Attribute names and {file name: 0/1 uint8 vector} from list_attr_celeba.txt or .csv."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DataSetError(f"The CelebA attribute file {path} cannot be read ({exc.strerror or exc}).") from exc
    lines = [ln for ln in text.splitlines() if ln.strip()]
    bad = f"The CelebA attribute file {path} is not in the expected format; replace it with the original list_attr_celeba file."
    if path.suffix.lower() == ".csv":
        if not lines:
            raise DataSetError(bad)
        header = [h.strip() for h in lines[0].split(",")]
        names, rows = header[1:], [ln.split(",") for ln in lines[1:]]
    else:
        if len(lines) < 2:
            raise DataSetError(bad)
        first = lines[0].split()
        start = 1 if (len(first) == 1 and first[0].isdigit()) else 0
        names = lines[start].split()
        rows = [ln.split() for ln in lines[start + 1:]]
    if not names:
        raise DataSetError(bad)
    table: dict[str, np.ndarray] = {}
    for row in rows:
        if len(row) != len(names) + 1:
            raise DataSetError(f"{bad} (a row has {len(row) - 1} values for {len(names)} attributes)")
        try:
            vals = np.array([int(v) for v in row[1:]], dtype=np.int64)
        except ValueError:
            raise DataSetError(f"{bad} (a row holds something other than -1/1)") from None
        if not np.isin(vals, (-1, 0, 1)).all():
            raise DataSetError(f"{bad} (values must be -1 or 1)")
        table[row[0].strip()] = (vals > 0).astype(np.uint8)
    return names, table


# --------------------------------------------------------------------------- scanning


def _walk(folder: Path) -> tuple[list[Path], list[Skipped]]:
    """Files under `folder` with an image extension (sorted), and other files as skipped."""
    images: list[Path] = []
    others: list[Skipped] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or name.lower() in _IGNORED_NAMES:
                continue
            p = Path(dirpath) / name
            if p.suffix.lower() in IMAGE_EXTENSIONS:
                images.append(p)
            elif name.lower() not in _CELEBA_SIDE_FILES:
                others.append(Skipped(
                    p, f"{p} is not a file type FaceStudio reads as an image (JPEG, PNG, WebP, BMP or TIFF); it was skipped.",
                    "unsupported-format"))
    images.sort()
    others.sort(key=lambda s: s.path)
    return images, others


def _check_root(root: Path) -> None:
    if not root.exists():
        raise DataSetError(f"The folder {root} does not exist; choose a folder of images.")
    if not root.is_dir():
        raise DataSetError(f"{root} is a file, not a folder; choose the folder that holds your images.")


def _candidates(root: Path) -> tuple[list[Path], list[Skipped], CelebALayout | None]:
    _check_root(root)
    celeba = find_celeba(root)
    images, others = _walk(celeba.image_dir if celeba else root)
    return images, others, celeba


def _no_images(root: Path, skipped: list[Skipped]) -> DataSetError:
    if skipped:
        return DataSetError(
            f"The folder {root} holds no usable images: all {len(skipped)} files were skipped "
            f"(for example: {skipped[0].reason}). Add JPEG, PNG, WebP, BMP or TIFF pictures."
        )
    return DataSetError(f"The folder {root} holds no images; add JPEG, PNG, WebP, BMP or TIFF pictures to it.")


def scan_folder(root: str | os.PathLike) -> ScanResult:
    """Every usable image under `root` and every skipped file with its reason.

    Each image file is fully decoded once, so truncated or garbage files are found.
    Raises DataSetError if the folder is missing or holds no usable image.
    """
    root = Path(root)
    images, others, _ = _candidates(root)
    result = ScanResult(skipped=list(others))
    for p in images:
        try:
            load_image(p, draft_size=64)
        except ImageFileError as exc:
            result.skipped.append(Skipped(p, str(exc), getattr(exc, "kind", "unreadable")))
        else:
            result.usable.append(p)
    result.skipped.sort(key=lambda s: s.path)
    if not result.usable:
        raise _no_images(root, result.skipped)
    return result


# --------------------------------------------------------------------------- decoding


def _decode_one(path: Path, size: int) -> tuple[np.ndarray | None, str, str]:
    try:
        img = load_image(path, draft_size=size)
        return center_crop_resize(img, size), "", ""
    except ImageFileError as exc:
        return None, getattr(exc, "kind", "unreadable"), str(exc)


def _decode_chunk(args: tuple[list[str], int]) -> list[tuple[np.ndarray | None, str, str]]:
    """Pool worker: decode a list of files."""
    paths, size = args
    return [_decode_one(Path(p), size) for p in paths]


def _decode_all(paths: list[Path], size: int, n: int | None, workers: int | None):
    """Decode in order until n images are usable: yields (path, array|None, kind, reason)."""
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    chunk = 128
    chunks = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    if workers <= 1 or len(paths) < 512:
        for c in chunks:
            for p, r in zip(c, _decode_chunk(([str(x) for x in c], size))):
                yield (p, *r)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes=workers) as pool:
        for c, res in zip(chunks, pool.imap(_decode_chunk, [([str(x) for x in c], size) for c in chunks])):
            for p, r in zip(c, res):
                yield (p, *r)
        pool.terminate()


def _cache_key(root: Path, files: list[Path], size: int, n: int | None, celeba: CelebALayout | None) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"v": FOLDER_CACHE_VERSION, "root": str(root.resolve()), "size": size, "n": n}).encode())
    extra = [celeba.attr_file] if celeba else []
    for p in files + extra:
        try:
            st = p.stat()
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
        except OSError:
            h.update(f"{p}\0missing\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:32]


class ImageFolderData:
    """The images of a folder, decoded once, as a uint8 tensor (N, 3, size, size).

    Attributes: images (torch.uint8), labels (float32 (N, A) for CelebA, else None),
    label_names, paths (one per image), skipped (list of Skipped), celeba (bool).
    flip=True appends a mirrored copy of every image (labels repeated), doubling N.
    """

    def __init__(self, root: str | os.PathLike, size: int, flip: bool = False, n: int | None = None,
                 disk_cache: bool = True, workers: int | None = None, progress: Callable[[int, int], None] | None = None):
        import torch

        self.root = Path(root)
        self.size = int(size)
        files, others, celeba = _candidates(self.root)
        self.celeba = celeba is not None
        names: list[str] = []
        table: dict[str, np.ndarray] = {}
        if celeba:
            names, table = read_celeba_attributes(celeba.attr_file)
        key = _cache_key(self.root, files, self.size, n, celeba)
        cache_file = cache_dir() / "folders" / f"{key}.npz"
        loaded = self._read_cache(cache_file) if disk_cache else None
        if loaded is None:
            imgs, labels, paths, skipped = self._decode(files, celeba, names, table, n, workers, progress)
            skipped = sorted(others + skipped, key=lambda s: s.path)
            if not paths:
                raise _no_images(self.root, skipped)
            if disk_cache:
                self._write_cache(cache_file, imgs, labels, names, paths, skipped)
        else:
            imgs, labels, names, paths, skipped = loaded
        if flip:
            imgs = np.concatenate([imgs, imgs[:, :, ::-1]])
            labels = None if labels is None else np.concatenate([labels, labels])
            paths = paths + paths
        self.images = torch.from_numpy(np.ascontiguousarray(imgs.transpose(0, 3, 1, 2)))
        self.labels = labels
        self.label_names = list(names) if labels is not None else []
        self.paths = paths
        self.skipped = skipped

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, i: int):
        return self.images[i], (None if self.labels is None else self.labels[i])

    # ---------------------------------------------------------------- internals

    def _decode(self, files, celeba, names, table, n, workers, progress=None):
        arrays: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        paths: list[Path] = []
        skipped: list[Skipped] = []
        todo = files
        if celeba:
            todo = []
            for p in files:
                if p.name in table:
                    todo.append(p)
                else:
                    skipped.append(Skipped(p, f"{p} has no row in {celeba.attr_file.name}, so it has no labels; it was skipped.",
                                           "no-label"))
        total = len(todo) if n is None else min(n, len(todo))
        for i, (p, arr, kind, reason) in enumerate(_decode_all(todo, self.size, n, workers)):
            if n is not None and len(paths) >= n:
                break
            if progress is not None and (i % 64 == 63 or i + 1 == len(todo)):
                progress(min(i + 1, total), total)
            if arr is None:
                skipped.append(Skipped(p, reason, kind))
                continue
            arrays.append(arr)
            paths.append(p)
            if celeba:
                rows.append(table[p.name])
        imgs = np.stack(arrays) if arrays else np.zeros((0, self.size, self.size, 3), np.uint8)
        labels = np.stack(rows).astype(np.float32) if celeba and rows else None
        return imgs, labels, paths, skipped

    def _read_cache(self, path: Path):
        try:
            with np.load(path, allow_pickle=False) as z:
                imgs = z["images"]
                labels = z["labels"]
                names = [str(s) for s in z["label_names"]]
                meta = json.loads(bytes(z["meta"]).decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            log.warning("ignoring damaged image-folder cache %s (%s); decoding again", path, exc)
            return None
        try:
            paths = [Path(p) for p in meta["paths"]]
            skipped = [Skipped(Path(s["path"]), str(s["reason"]), str(s["kind"])) for s in meta["skipped"]]
            ok = (imgs.dtype == np.uint8 and imgs.ndim == 4 and imgs.shape[1:] == (self.size, self.size, 3)
                  and len(paths) == imgs.shape[0] and len(paths) > 0 and meta.get("version") == FOLDER_CACHE_VERSION)
            if labels.size == 0:
                labels_out = None
            else:
                ok = ok and labels.dtype == np.float32 and labels.shape == (imgs.shape[0], len(names))
                labels_out = labels
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            log.warning("ignoring image-folder cache %s: contents do not match; decoding again", path)
            return None
        return imgs, labels_out, names, paths, skipped

    def _write_cache(self, path: Path, imgs, labels, names, paths, skipped) -> None:
        meta = {"version": FOLDER_CACHE_VERSION, "root": str(self.root), "paths": [str(p) for p in paths],
                "skipped": [{"path": str(s.path), "reason": s.reason, "kind": s.kind} for s in skipped]}
        try:
            with atomic_open(path, "wb") as fh:
                np.savez(fh, images=imgs,
                         labels=labels if labels is not None else np.zeros((0,), np.float32),
                         label_names=np.array(names if labels is not None else [], dtype=str),
                         meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        except Exception as exc:  # a cache that cannot be written only costs time next time
            log.warning("could not write the image-folder cache %s: %s", path, exc)
