"""Latent space: seeds, truncation, interpolation paths and semantic directions (Qt-free).

`sampling` names faces by seed, `interpolation` builds morph paths (lerp/slerp, easing,
keyframes), `directions` finds unsupervised directions (SeFa, GANSpace PCA) and applies
any `DirectionSet`; `attribute_directions` fits labelled ones with the factor encoder.
Names are imported on first use, so command-line parsers living here load without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "latent_for_seed": "sampling", "latents_for_seeds": "sampling", "random_latent": "sampling",
    "random_seed": "sampling", "truncate": "sampling",
    "lerp": "interpolation", "slerp": "interpolation", "keyframe_path": "interpolation", "EASINGS": "interpolation",
    "sefa_directions": "directions", "pca_directions": "directions", "apply_directions": "directions",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"facestudio.latent.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'facestudio.latent' has no attribute {name!r}")
