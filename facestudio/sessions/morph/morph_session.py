"""The Morph Studio's state, free of Qt: the keyframes (faces the morph passes through, in
order) and the path settings, with change events the studio's views subscribe to.

The views keep no faces of their own: the keyframe list shows the session's keys (each
list item holds only the key's id), and every change the person makes (add, reorder by
drag, remove, a path setting) is one session call, after which the session tells the
views that the path changed. `path()` is the morph's latents, one row per frame.

Style models also take W+ keys (a face with style edits, a W+ face found from a photo):
as soon as one key is W+, the path runs straight in W+ (every layer its own line; z keys
mapped and truncated by the model's `to_wplus`, given with `set_style_space`), and its
frames are (num_ws, w_dim) styles drawn as they are. All-z paths stay spherical in Z.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from itertools import count
from typing import Callable, Iterable, Sequence

import numpy as np

from facestudio.errors import FaceStudioError
from facestudio.latent.interpolation import EASINGS, keyframe_path

MAX_KEYFRAMES = 16
FRAMES_PER_SEGMENT = (2, 120)
INTERPOLATIONS = ("slerp", "lerp")


class MorphInputError(FaceStudioError):
    """A face that cannot join the morph (another model's latent size, NaN, too many keys)."""


class MorphChange(Enum):
    KEYS = "keys"  # keyframes added, removed, reordered or replaced
    SETTINGS = "settings"  # a path setting changed


@dataclass(frozen=True)
class Keyframe:
    """One face of the path: a read-only float32 latent (nz,), where it came from, a stable id."""

    id: int
    latent: np.ndarray
    source: str


@dataclass(frozen=True)
class PathSettings:
    """How the morph goes from key to key (the studio's defaults)."""

    frames_per_segment: int = 30
    interpolation: str = "slerp"  # spherical keeps every frame as vivid as the keys
    easing: str = "linear"
    loop: bool = False  # back to the first face, for seamless loops

    def __post_init__(self) -> None:
        lo, hi = FRAMES_PER_SEGMENT
        if not lo <= int(self.frames_per_segment) <= hi:
            raise MorphInputError(f"Frames per step must be from {lo} to {hi}, not {self.frames_per_segment}.")
        if self.interpolation not in INTERPOLATIONS:
            raise MorphInputError(f"Unknown path {self.interpolation!r}; use one of {', '.join(INTERPOLATIONS)}.")
        if self.easing not in EASINGS:
            raise MorphInputError(f"Unknown easing {self.easing!r}; use one of {', '.join(EASINGS)}.")


def key_label(index: int) -> str:
    """A, B, C... then 27, 28..."""
    return chr(ord("A") + index) if index < 26 else str(index + 1)


class MorphSession:
    """Keyframes and path settings of one morph; `set_latent_size` when the model changes."""

    def __init__(self, nz: int | None = None, settings: PathSettings | None = None) -> None:
        self.nz = nz
        self.style_shape: tuple[int, int] | None = None  # (num_ws, w_dim) of a style model
        self._to_wplus: Callable[[np.ndarray], np.ndarray] | None = None
        self.settings = settings or PathSettings()
        self._keys: list[Keyframe] = []
        self._ids = count(1)
        self._listeners: list[Callable[[MorphChange], None]] = []

    # ------------------------------------------------------------ events
    def subscribe(self, listener: Callable[[MorphChange], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, change: MorphChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    # ------------------------------------------------------------ reading
    @property
    def keyframes(self) -> tuple[Keyframe, ...]:
        return tuple(self._keys)

    def latents(self) -> list[np.ndarray]:
        """The keys' latents in order (copies)."""
        return [np.array(k.latent, copy=True) for k in self._keys]

    def __len__(self) -> int:
        return len(self._keys)

    def index_of(self, key_id: int) -> int:
        return next(i for i, k in enumerate(self._keys) if k.id == key_id)

    @property
    def in_wplus(self) -> bool:
        """True when a key is a W+ face: the path's frames are (num_ws, w_dim) styles."""
        return any(k.latent.ndim == 2 for k in self._keys)

    def path(self) -> np.ndarray:
        """The morph's latents: (F, nz) z faces, or (F, num_ws, w_dim) styles when a key is W+;
        none without keys, the one face for one key."""
        if not self._keys:
            return np.zeros((0, self.nz or 0), dtype=np.float32)
        keys = [k.latent for k in self._keys]
        if self.in_wplus:
            if self._to_wplus is None:
                raise MorphInputError("W+ keys need a style model's mapping (set_style_space).")
            shape = keys[next(i for i, k in enumerate(keys) if k.ndim == 2)].shape
            flat = [(k if k.ndim == 2 else self._to_wplus(k)).reshape(-1) for k in keys]
            if len(flat) == 1:
                return flat[0].reshape((1,) + shape).astype(np.float32)
            s = self.settings
            frames = keyframe_path(flat, frames_per_segment=s.frames_per_segment, mode="lerp", easing=s.easing,
                                   loop=s.loop)
            return frames.reshape((len(frames),) + shape).astype(np.float32)
        if len(keys) == 1:
            return np.stack(keys).astype(np.float32)
        s = self.settings
        return keyframe_path(keys, frames_per_segment=s.frames_per_segment, mode=s.interpolation,
                             easing=s.easing, loop=s.loop)

    def key_frame(self, index: int) -> int:
        """The frame of the path where key `index` lands."""
        return index * self.settings.frames_per_segment

    # ------------------------------------------------------------ checking faces
    def check_latent(self, latent: np.ndarray, where: str) -> np.ndarray:
        """`latent` as a read-only float32 (nz,) array, or MorphInputError saying why not."""
        if self.nz is None:
            raise MorphInputError("Open a model before adding faces to the morph.")
        z = np.asarray(latent)
        if z.ndim == 2 and self.style_shape is not None and z.shape == self.style_shape and z.dtype.kind == "f":
            pass  # a W+ face of this style model
        elif z.ndim != 1 or z.shape[0] != self.nz or z.dtype.kind not in "fiu":
            raise MorphInputError(f"{where} holds a latent of shape {z.shape}; the open model needs {self.nz} numbers. "
                                  "Use faces made with this model.")
        z = np.array(z, dtype=np.float32, copy=True)
        if not np.all(np.isfinite(z)):
            raise MorphInputError(f"{where} holds a latent with NaN or infinite values; it cannot be morphed.")
        z.setflags(write=False)
        return z

    def _room(self, wanted: int) -> None:
        if wanted > MAX_KEYFRAMES:
            raise MorphInputError(f"A morph can pass through at most {MAX_KEYFRAMES} faces; {wanted} were sent. Pick fewer.")

    # ------------------------------------------------------------ changing (each emits)
    def add(self, latent: np.ndarray, source: str) -> Keyframe:
        z = self.check_latent(latent, f"The face from {source}")
        if len(self._keys) + 1 > MAX_KEYFRAMES:
            raise MorphInputError(f"A morph can pass through at most {MAX_KEYFRAMES} faces; remove some first.")
        key = Keyframe(next(self._ids), z, source)
        self._keys.append(key)
        self._emit(MorphChange.KEYS)
        return key

    def replace_all(self, latents: Sequence[np.ndarray], source: str) -> None:
        """New keys (e.g. the gallery's "Send to morph"); nothing changes when one of them is refused."""
        self._room(len(latents))
        checked = [self.check_latent(z, f"Face {i + 1} from {source}") for i, z in enumerate(latents)]
        self._keys = [Keyframe(next(self._ids), z, f"{source} face {i + 1}") for i, z in enumerate(checked)]
        self._emit(MorphChange.KEYS)

    def remove(self, key_ids: Iterable[int]) -> None:
        gone = set(key_ids)
        self._keys = [k for k in self._keys if k.id not in gone]
        self._emit(MorphChange.KEYS)

    def move(self, key_id: int, delta: int) -> bool:
        """Move a key `delta` places (-1 earlier, +1 later); False when it cannot go there."""
        row = self.index_of(key_id)
        new = row + delta
        if not 0 <= new < len(self._keys):
            return False
        self._keys.insert(new, self._keys.pop(row))
        self._emit(MorphChange.KEYS)
        return True

    def reorder(self, key_ids: Sequence[int]) -> None:
        """The keys in this order (after a drag in the key list); ids must be the current keys'."""
        by_id = {k.id: k for k in self._keys}
        if sorted(key_ids) != sorted(by_id):
            raise ValueError("reorder() needs every current key id exactly once")
        self._keys = [by_id[i] for i in key_ids]
        self._emit(MorphChange.KEYS)

    def clear(self) -> None:
        self._keys = []
        self._emit(MorphChange.KEYS)

    def set_style_space(self, shape: tuple[int, int] | None, to_wplus: Callable[[np.ndarray], np.ndarray] | None) -> None:
        """A style model's (num_ws, w_dim) and its z -> truncated w+ mapping (None for DCGAN models).
        Call before `set_latent_size`; W+ keys of another shape are dropped with the keys."""
        changed = shape != self.style_shape
        self.style_shape, self._to_wplus = shape, to_wplus
        if changed and any(k.latent.ndim == 2 for k in self._keys):
            self._keys = []
            self._emit(MorphChange.KEYS)

    def set_latent_size(self, nz: int) -> bool:
        """A model of latent size `nz`; returns False (keys removed) when the size changed and keys existed."""
        kept = self.nz == nz or not self._keys
        self.nz = nz
        if not kept:
            self._keys = []
            self._emit(MorphChange.KEYS)
        return kept

    def set_settings(self, **changes) -> None:
        """Change path settings (frames_per_segment, interpolation, easing, loop); MorphInputError on a bad value."""
        new = replace(self.settings, **changes)
        if new != self.settings:
            self.settings = new
            self._emit(MorphChange.SETTINGS)
