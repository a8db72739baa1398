"""Helpers the explorer's UI tests share (their fixtures `model_file` and `open_window` are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facestudio.models import ModelConfig, new_bundle, save_model

TINY = dict(ngf=8, ndf=8, image_size=32)


def save_tiny(path: Path, *, nz: int = 16, seed: int = 1, name: str = "tiny", generator_only: bool = False,
              info: dict[str, str] | None = None, size: int = TINY["image_size"]) -> Path:
    bundle = new_bundle(ModelConfig(nz=nz, name=name, info=dict(info or {}), **(TINY | {"image_size": size})), seed=seed)
    save_model(bundle, path, include_training=not generator_only)
    return path


def settle(qtbot, w) -> None:
    """Wait until the face on screen is the newest one asked for."""
    qtbot.waitUntil(lambda: w._shown_token == w._token and w.face_view.image() is not None, timeout=30000)


def shows_current_face(w) -> bool:
    expected = w.renderer.render(w.session.effective_latent(), psi=w.session.state.psi)
    return np.array_equal(w.face_view.image(), expected)
