"""Faces as pixels and files (Qt-free): the fast `Renderer`, grids, exports, face PNGs.

`renderer` (Renderer, LatestRequest), `grid` (uint8 conversion, grids, upscaling),
`face_png` (the public latent-in-PNG format), `export` (GIF, MP4, PNG frames, sheets).
Names are imported on first use, so the command line's `sample`/`morph` parsers load
without torch and `facestudio --help` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"Renderer": "facestudio.render.renderer", "LatestRequest": "facestudio.render.latest_request"}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'facestudio.render' has no attribute {name!r}")
