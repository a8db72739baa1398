"""Where the StyleGAN fixture pickles live: ../shared/fixtures/stylegan beside the clone."""

from __future__ import annotations

from pathlib import Path

import pytest


def fixtures_dir() -> Path | None:
    """The first `shared/fixtures/stylegan` found walking up from the tests folder, else None."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "fixtures" / "stylegan"
        if candidate.is_dir():
            return candidate
    return None


def fixture(name: str) -> Path:
    """Path of a fixture file; skips the test with the reason when the folder is absent."""
    folder = fixtures_dir()
    if folder is None:
        pytest.skip("StyleGAN fixtures not found (expected ../shared/fixtures/stylegan beside the repository)")
    path = folder / name
    if not path.is_file():
        pytest.skip(f"StyleGAN fixture {name} is missing from {folder}")
    return path
