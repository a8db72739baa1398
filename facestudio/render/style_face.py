"""A style-model face as the explorer edits it: a z face, truncated in W, moved by directions
on layer ranges and mixed with a donor's layers, drawn from its W+ styles.

`StyleEdit` is plain data (it crosses to the render thread); `StyleEdit.build` makes one
from direction amounts; `face_styles` turns a z face and an edit into the (num_ws, w_dim)
styles the synthesis network draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from facestudio.latent.spaces import StyleLatent, to_wplus
from facestudio.latent.style_directions import StyleDirection
from facestudio.models.two_stage import TwoStageGenerator


@dataclass(frozen=True, eq=False)
class StyleEdit:
    """W+ offsets (num_ws, w_dim) or None, a donor z face and the layers taken from it, the cutoff."""

    offsets: np.ndarray | None = None
    donor: np.ndarray | None = None
    mix_layers: tuple[int, ...] = ()
    cutoff: int | None = None
    base_ws: np.ndarray | None = None  # a face that lives in W+ (num_ws, w_dim): used instead of the z face's styles
    donor_ws: np.ndarray | None = None  # a donor face's final styles (num_ws, w_dim), instead of the donor z

    @property
    def is_plain(self) -> bool:
        """Nothing beyond z and truncation: the ordinary render path draws it."""
        return (self.offsets is None and ((self.donor is None and self.donor_ws is None) or not self.mix_layers)
                and self.cutoff is None and self.base_ws is None)

    @staticmethod
    def build(num_ws: int, w_dim: int, moves: Iterable[tuple[StyleDirection, float]], *, donor: np.ndarray | None = None,
              mix_layers: Iterable[int] = (), cutoff: int | None = None, base_ws: np.ndarray | None = None,
              donor_ws: np.ndarray | None = None) -> "StyleEdit":
        """The edit of `moves` ((direction, amount in steps) pairs), a donor and a cutoff."""
        offsets = np.zeros((num_ws, w_dim), dtype=np.float32)
        moved = False
        for direction, amount in moves:
            if amount == 0.0:
                continue
            offsets[list(direction.layers)] += np.float32(amount * direction.scale) * direction.vector
            moved = True
        layers = tuple(sorted(int(i) for i in mix_layers))
        if any(not 0 <= i < num_ws for i in layers):
            raise ValueError(f"Mixed layers {layers} are outside 0..{num_ws - 1}.")
        for ws in (base_ws, donor_ws):
            if ws is not None and np.shape(ws) != (num_ws, w_dim):
                raise ValueError(f"A W+ face of shape {np.shape(ws)} does not fit this model's ({num_ws}, {w_dim}).")
        return StyleEdit(offsets if moved else None, None if donor is None else np.array(donor, dtype=np.float32),
                         layers, cutoff, None if base_ws is None else np.array(base_ws, dtype=np.float32),
                         None if donor_ws is None else np.array(donor_ws, dtype=np.float32))


def face_styles(generator: TwoStageGenerator, z: np.ndarray, psi: float, edit: StyleEdit) -> np.ndarray:
    """(num_ws, w_dim) float32 styles of the face: truncated w+ of `z`, the donor's layers, the offsets."""
    face = StyleLatent("z", np.asarray(z, dtype=np.float32)) if edit.base_ws is None else StyleLatent("w+", edit.base_ws)
    ws = to_wplus(generator, face, psi, edit.cutoff)
    if edit.donor_ws is not None and edit.mix_layers:
        ws[list(edit.mix_layers)] = edit.donor_ws[list(edit.mix_layers)]
    elif edit.donor is not None and edit.mix_layers:
        donor = to_wplus(generator, StyleLatent("z", edit.donor), psi, edit.cutoff)
        ws[list(edit.mix_layers)] = donor[list(edit.mix_layers)]
    if edit.offsets is not None:
        ws = ws + edit.offsets
    return ws.astype(np.float32)


def moves_from_amounts(directions: Mapping[tuple[str, str], StyleDirection],
                       amounts: Iterable[tuple[str, str, tuple[int, ...], float]]) -> list[tuple[StyleDirection, float]]:
    """(direction on its chosen layers, amount) for every (kind, name, layers, amount) the model has."""
    out = []
    for kind, name, layers, amount in amounts:
        direction = directions.get((kind, name))
        if direction is not None and amount != 0.0 and layers:
            out.append((direction.on_layers(layers), float(amount)))
    return out
