"""Faces of any space as files: face PNGs and seeds in, `StyleLatent` out, and back.

A face PNG (`facestudio.render.face_png`, format 2) records its space, shape and model.
Opening one with a model checks that it can mean anything there:

- a w or w+ face from another model is refused: its numbers are coordinates in that
  model's own W, which another model does not share (even at the same size);
- a z face from another model with the same z size opens (z is a shared Gaussian) but
  draws a different face, which `FaceForModel.note` says in a sentence;
- any face whose shape does not fit the model is refused, saying both shapes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facestudio.errors import FaceMetadataError
from facestudio.latent.sampling import MAX_SEED
from facestudio.latent.spaces import StyleLatent, expected_shape, seed_latent, to_space
from facestudio.models.bundle import ModelBundle
from facestudio.render.face_png import FaceRecord, read_face_png, save_face_png


@dataclass(frozen=True)
class FaceForModel:
    """A face ready for a model: the latent, its truncation, and a note for the user (or '')."""

    latent: StyleLatent
    truncation: float = 1.0
    note: str = ""


def _model_label(name: str, sha: str) -> str:
    return repr(name) if name else (f"sha256 {sha[:12]}..." if sha else "an unknown model")


def face_for_model(record: FaceRecord, bundle: ModelBundle, label: str) -> FaceForModel:
    """The record's face for `bundle`'s viewing generator, or FaceMetadataError saying why not."""
    g = bundle.viewing_generator
    want = expected_shape(g, record.space)
    made_by = _model_label(record.model_name, record.model_sha256)
    other_model = bool(record.model_sha256 and bundle.sha256 and record.model_sha256 != bundle.sha256.lower())
    if record.space != "z" and other_model:
        raise FaceMetadataError(
            f"{label} is a {record.space} face made with {made_by}; its numbers only mean something to that model, "
            f"so open {made_by} to use it (this is {_model_label(bundle.name, bundle.sha256)}).")
    if tuple(record.latent.shape) != want:
        raise FaceMetadataError(
            f"{label} holds a {record.space} face of shape {tuple(record.latent.shape)} (made with {made_by}); "
            f"this model's {record.space} faces have shape {want}. Use the model it was made with.")
    note = ""
    if other_model:
        note = f"{label} was made with {made_by}; this model draws its z as a different face."
    return FaceForModel(StyleLatent(record.space, np.array(record.latent)), record.truncation, note)


def wplus_for_model(record: FaceRecord, bundle: ModelBundle, label: str) -> np.ndarray:
    """A w or w+ face's (num_ws, w_dim) styles for `bundle` (a w face on every layer), or FaceMetadataError."""
    return to_space(bundle.viewing_generator, face_for_model(record, bundle, label).latent, "w+").values


def open_face(path: str | os.PathLike, bundle: ModelBundle) -> FaceForModel:
    """A face PNG opened for `bundle` (see `face_for_model`)."""
    p = Path(path)
    return face_for_model(read_face_png(p), bundle, p.name or str(p))


def face_from_text(text: str, bundle: ModelBundle, label: str) -> FaceForModel:
    """A seed (whole number) or the path of a face PNG, as typed on a command line."""
    t = text.strip()
    if t.isdigit() or (t.startswith("+") and t[1:].isdigit()):
        seed = int(t)
        if seed > MAX_SEED:
            raise FaceMetadataError(f"{label}: seed {seed} is out of range; use 0 to {MAX_SEED}.")
        return FaceForModel(seed_latent(bundle.viewing_generator, seed))
    if not Path(t).exists() and t.lstrip("-").isdigit():
        raise FaceMetadataError(f"{label}: seeds are whole numbers from 0 to {MAX_SEED}, not {t}.")
    return open_face(t, bundle)


def save_face(path: str | os.PathLike, image: np.ndarray, face: StyleLatent, bundle: ModelBundle, truncation: float = 1.0,
              size: int | None = None) -> None:
    """A face PNG of any space for `bundle` (format 2, written atomically)."""
    save_face_png(path, image, face.values, model_name=bundle.name, model_sha256=bundle.sha256, truncation=truncation,
                  size=size, space=face.space)
