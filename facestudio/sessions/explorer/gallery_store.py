"""Favourite faces on disk: a folder of face PNGs plus `gallery.json` (Qt-free).

Each favourite is an ordinary face PNG (it carries its own latent, so it can be opened,
shared or morphed anywhere) under `faces/`, and `gallery.json` keeps the order, titles
and dates. Both are written atomically. The JSON is read as untrusted input: a damaged
or hand-edited file is set aside (renamed `gallery.json.damaged`) and the gallery starts
from what can still be used, never crashing the app.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from facestudio.atomic_file import atomic_write_text
from facestudio.errors import FaceStudioError
from facestudio.render.face_png import FaceRecord, read_face_png, save_face_png

GALLERY_FILE = "gallery.json"
GALLERY_FORMAT = "facestudio-gallery"
GALLERY_VERSION = 1
FACES_DIR = "faces"
THUMBNAIL_SIZE = 256
MAX_ENTRIES = 10_000
_ID = re.compile(r"^[0-9a-f]{32}$")
_NUMBERED = re.compile(r"^Face (\d{1,6})$")
# Titles older versions gave every face ("Face 2026-12-06 14:03:22"): cut in the grid, they all read "Face ...".
_TIMESTAMP_TITLE = re.compile(r"^Face \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def default_title(seed: int | None, edited: bool, taken: Iterable[str]) -> str:
    """A short title that tells favourites apart: "Seed 42", "Seed 42 edited", or for a
    face with no seed (nearby, pasted, found from a photo) the next free "Face N"."""
    if seed is not None:
        return f"Seed {seed}" + (" edited" if edited else "")
    used = {int(m.group(1)) for t in taken if (m := _NUMBERED.match(t))}
    n = 1
    while n in used:
        n += 1
    return f"Face {n}"


def short_date(created: float, now: float | None = None) -> str:
    """"14:03" today, "6 Dec 14:03" this year, "6 Dec 2025" before: readable under a thumbnail."""
    when = time.localtime(created)
    today = time.localtime(time.time() if now is None else now)
    if when[:3] == today[:3]:
        return time.strftime("%H:%M", when)
    if when.tm_year == today.tm_year:
        return f"{when.tm_mday} {time.strftime('%b %H:%M', when)}"
    return f"{when.tm_mday} {time.strftime('%b %Y', when)}"


def caption(entry: "GalleryEntry", now: float | None = None) -> str:
    """Two lines under a thumbnail: the title and when the face was kept."""
    if not _TIMESTAMP_TITLE.match(entry.title):
        return f"{entry.title}\n{short_date(entry.created, now)}"
    # An old timestamp title: its own time, to the second, is what tells such faces apart.
    stamp = time.mktime(time.strptime(entry.title[5:], "%Y-%m-%d %H:%M:%S"))
    when = short_date(stamp, now)
    return "Face\n" + (when + time.strftime(":%S", time.localtime(stamp)) if ":" in when else when)


@dataclass(frozen=True)
class GalleryEntry:
    """One favourite: its PNG (relative to the gallery folder) and what to show for it."""

    id: str
    title: str
    created: float
    model_name: str
    model_sha256: str
    nz: int

    @property
    def file(self) -> str:
        return f"{FACES_DIR}/{self.id}.png"


def _entry_from_json(item: Any) -> GalleryEntry | None:
    if not isinstance(item, dict):
        return None
    try:
        entry = GalleryEntry(
            id=item["id"], title=item["title"], created=float(item["created"]),
            model_name=item["model_name"], model_sha256=item["model_sha256"], nz=item["nz"],
        )
    except (KeyError, TypeError, ValueError):
        return None
    ok = (
        isinstance(entry.id, str) and _ID.match(entry.id)
        and isinstance(entry.title, str) and len(entry.title) <= 200
        and isinstance(entry.model_name, str) and len(entry.model_name) <= 200
        and isinstance(entry.model_sha256, str) and len(entry.model_sha256) <= 64
        and isinstance(entry.nz, int) and not isinstance(entry.nz, bool) and 1 <= entry.nz <= 4096
        and np.isfinite(entry.created)
    )
    return entry if ok else None


class GalleryStore:
    """The favourites in `folder`, newest first. `problems` lists what was skipped on load."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.problems: list[str] = []
        self._entries: list[GalleryEntry] = []
        self._read_only = False
        self._load()

    # ------------------------------------------------------------ reading
    @property
    def entries(self) -> list[GalleryEntry]:
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, entry_id: str) -> GalleryEntry:
        for entry in self._entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def path(self, entry: GalleryEntry | str) -> Path:
        entry = self.get(entry) if isinstance(entry, str) else entry
        return self.folder / entry.file

    def load_face(self, entry_id: str) -> FaceRecord:
        """The face's latent and settings, read back from its PNG (validated)."""
        return read_face_png(self.path(entry_id))

    # ------------------------------------------------------------ changing
    def add(self, image: np.ndarray, latent: np.ndarray, *, truncation: float, model_name: str, model_sha256: str,
            directions: Mapping[str, float] | None = None, title: str | None = None, space: str = "z") -> GalleryEntry:
        """Save a face PNG into the gallery and list it first (`space` "w+" for a style face's styles)."""
        if self._read_only:
            raise FaceStudioError("The gallery was saved by a newer FaceStudio; update FaceStudio to add faces to it.")
        if len(self._entries) >= MAX_ENTRIES:
            raise FaceStudioError(f"The gallery holds {MAX_ENTRIES} faces already; remove some before adding more.")
        created = time.time()
        entry = GalleryEntry(
            id=uuid.uuid4().hex,
            title=(title or default_title(None, False, (e.title for e in self._entries)))[:200],
            created=created, model_name=model_name[:200], model_sha256=model_sha256[:64], nz=int(latent.shape[0]),
        )
        save_face_png(self.folder / entry.file, image, latent, model_name=model_name, model_sha256=model_sha256,
                      truncation=truncation, directions=dict(directions or {}), size=THUMBNAIL_SIZE, space=space)
        self._entries.insert(0, entry)
        try:
            self._save()
        except FaceStudioError:
            self._entries.pop(0)
            (self.folder / entry.file).unlink(missing_ok=True)
            raise
        return entry

    def remove(self, entry_ids: Iterable[str]) -> int:
        """Forget these favourites and delete their PNGs; returns how many were removed."""
        ids = set(entry_ids)
        gone = [e for e in self._entries if e.id in ids]
        if not gone:
            return 0
        self._commit([e for e in self._entries if e.id not in ids])
        for entry in gone:
            (self.folder / entry.file).unlink(missing_ok=True)
        return len(gone)

    def rename(self, entry_id: str, title: str) -> GalleryEntry:
        title = title.strip()[:200]
        if not title:
            raise FaceStudioError("A gallery title cannot be empty.")
        old = self.get(entry_id)
        new = GalleryEntry(**{**asdict(old), "title": title})
        self._commit([new if e.id == entry_id else e for e in self._entries])
        return new

    # ------------------------------------------------------------ storage
    def _commit(self, entries: list[GalleryEntry]) -> None:
        """Adopt `entries` only once they are safely on disk."""
        old, self._entries = self._entries, entries
        try:
            self._save()
        except BaseException:
            self._entries = old
            raise

    def _save(self) -> None:
        if self._read_only:
            raise FaceStudioError("The gallery was saved by a newer FaceStudio; update FaceStudio to change it.")
        doc = {"format": GALLERY_FORMAT, "version": GALLERY_VERSION, "faces": [asdict(e) for e in self._entries]}
        atomic_write_text(self.folder / GALLERY_FILE, json.dumps(doc, indent=1))

    def _set_aside(self, reason: str) -> None:
        index = self.folder / GALLERY_FILE
        damaged = self.folder / (GALLERY_FILE + ".damaged")
        try:
            os.replace(index, damaged)
            self.problems.append(f"The gallery list was {reason}; it was kept as {damaged.name} and the gallery starts empty.")
        except OSError:
            self.problems.append(f"The gallery list was {reason}; the gallery starts empty.")

    def _load(self) -> None:
        index = self.folder / GALLERY_FILE
        if not index.is_file():
            return
        try:
            raw = index.read_bytes()
            doc = json.loads(raw.decode("utf-8")) if len(raw) <= 64 * 1024 * 1024 else None
        except OSError as exc:
            self.problems.append(f"The gallery list {index} cannot be read ({exc.strerror}); the gallery starts empty.")
            return
        except (ValueError, RecursionError, UnicodeDecodeError):
            self._set_aside("damaged")
            return
        if not isinstance(doc, dict) or doc.get("format") != GALLERY_FORMAT or not isinstance(doc.get("faces"), list):
            self._set_aside("not a FaceStudio gallery")
            return
        if not isinstance(doc.get("version"), int) or doc["version"] > GALLERY_VERSION:
            self.problems.append("The gallery was saved by a newer FaceStudio; update FaceStudio to see it. It was left untouched.")
            self._read_only = True
            return
        seen: set[str] = set()
        skipped = missing = 0
        for item in doc["faces"][:MAX_ENTRIES]:
            entry = _entry_from_json(item)
            if entry is None or entry.id in seen:
                skipped += 1
                continue
            if not (self.folder / entry.file).is_file():
                missing += 1
                continue
            seen.add(entry.id)
            self._entries.append(entry)
        if skipped:
            self.problems.append(f"{skipped} damaged gallery entr{'y was' if skipped == 1 else 'ies were'} skipped.")
        if missing:
            self.problems.append(f"{missing} gallery face(s) no longer exist in {self.folder / FACES_DIR} and were left out.")
