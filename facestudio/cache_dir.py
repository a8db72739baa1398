"""Where FaceStudio keeps its caches (decoded image folders, the synthetic faces, metric
reference statistics): one app-wide place, so every cache can be found and cleared."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$FACESTUDIO_CACHE, else ~/.cache/facestudio."""
    env = os.environ.get("FACESTUDIO_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "facestudio"
