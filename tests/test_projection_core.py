"""Photo -> latent projection (Qt-free): it improves on its start, stops when asked, refuses bad photos.

An untrained DCGAN draws almost flat grey pictures (weights N(0, 0.02)), which would
make any matching trivial; `lively_bundle` gives a tiny generator wider weights and
batch-norm statistics measured on real latents, so its faces differ clearly from one
latent to the next.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from facestudio.errors import ConfigError, ImageFileError
from facestudio.latent.projection import (
    ProjectionSettings,
    has_perceptual_loss,
    load_photo,
    project,
    project_photo,
)

FAST = dict(steps=40, restarts=2, candidates=16, report_every=5)


def face_of(bundle, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        x = bundle.viewing_generator(torch.from_numpy(z[None]))
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()


@pytest.fixture(scope="module")
def bundle(lively_bundle):
    return lively_bundle()


@pytest.fixture(scope="module")
def target(bundle) -> np.ndarray:
    z = np.random.default_rng(5).standard_normal(16).astype(np.float32)
    return face_of(bundle, z)


@pytest.fixture(scope="module")
def run(bundle, target):
    """One full projection (with its progress reports), shared by the tests that read it."""
    before = [p.detach().clone() for p in bundle.viewing_generator.parameters()]
    reports = []
    result = project(bundle, target, ProjectionSettings(**FAST), progress=reports.append)
    return result, reports, before


def test_the_test_generator_draws_distinct_faces(bundle):
    a = face_of(bundle, np.random.default_rng(1).standard_normal(16).astype(np.float32)).astype(float)
    b = face_of(bundle, np.random.default_rng(2).standard_normal(16).astype(np.float32)).astype(float)
    assert np.mean((a - b) ** 2) > 500  # far from the flat grey of an untrained DCGAN


def test_projection_improves_clearly_on_its_start(bundle, run):
    result, _, before = run
    assert not result.cancelled and result.steps_done == FAST["steps"]
    assert result.perceptual
    assert result.loss < 0.5 * result.start_loss
    assert result.pixel_mse < 0.5 * result.start_pixel_mse
    assert result.latent.shape == (16,) and result.latent.dtype == np.float32
    assert np.all(np.isfinite(result.latent))
    # The image is the generator's face of the latent returned.
    assert np.abs(face_of(bundle, result.latent).astype(int) - result.image.astype(int)).max() <= 1
    # The best-so-far loss never goes up, and the networks were not touched.
    assert all(b <= a + 1e-9 for a, b in zip(result.losses, result.losses[1:]))
    for p, q in zip(before, bundle.viewing_generator.parameters()):
        assert torch.equal(p, q) and q.grad is None


def test_progress_is_reported_with_the_best_face_so_far(run):
    result, reports, _ = run
    steps = [r.step for r in reports]
    assert steps[0] == 0 and steps[-1] == FAST["steps"]
    assert steps == sorted(steps) and len(steps) >= FAST["steps"] // FAST["report_every"]
    for r in reports:
        assert r.image.dtype == np.uint8 and r.image.shape == (32, 32, 3)
        assert r.steps == FAST["steps"]
    assert reports[-1].loss <= reports[0].loss
    assert reports[-1].loss == result.loss
    np.testing.assert_array_equal(reports[-1].image, result.image)


def test_cancel_returns_the_best_face_so_far(bundle, target):
    polls = 0

    def should_cancel() -> bool:
        nonlocal polls
        polls += 1
        return polls > 6

    result = project(bundle, target, ProjectionSettings(**FAST), should_cancel=should_cancel)
    assert result.cancelled
    assert 0 < result.steps_done < FAST["steps"]
    assert result.loss <= result.start_loss
    assert result.image.shape == (32, 32, 3) and np.all(np.isfinite(result.latent))


def test_cancel_before_the_first_step(bundle, target):
    result = project(bundle, target, ProjectionSettings(**FAST), should_cancel=lambda: True)
    assert result.cancelled and result.steps_done == 0
    assert result.loss == result.start_loss


def test_without_a_discriminator_pixel_loss_only_still_improves(target, lively_bundle):
    bundle = lively_bundle(with_discriminator=False)
    assert not has_perceptual_loss(bundle)
    result = project(bundle, target, ProjectionSettings(**FAST, pixel_loss="l2"))
    assert not result.perceptual
    assert result.pixel_mse < 0.5 * result.start_pixel_mse


def test_same_seed_same_result(bundle, target):
    s = ProjectionSettings(steps=5, restarts=2, candidates=8)
    a, b = project(bundle, target, s), project(bundle, target, s)
    np.testing.assert_array_equal(a.latent, b.latent)


def test_photos_are_cropped_to_the_model_size(bundle, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "wide.jpg"
    Image.fromarray(rng.integers(0, 255, (40, 70, 3), dtype=np.uint8)).save(path)
    photo = load_photo(path, 32)
    assert photo.shape == (32, 32, 3) and photo.dtype == np.uint8
    target, result = project_photo(bundle, path, ProjectionSettings(steps=2, restarts=1, candidates=2))
    assert target.shape == (32, 32, 3) and result.steps_done == 2
    # A picture of another size given directly is centre-cropped the same way.
    result = project(bundle, rng.integers(0, 255, (50, 64, 3), dtype=np.uint8), ProjectionSettings(steps=1, restarts=1, candidates=1))
    assert result.image.shape == (32, 32, 3)


@pytest.mark.parametrize("content,name", [(b"not an image at all", "face.png"), (b"", "empty.jpg"), (b"GIF89a....", "anim.gif")])
def test_bad_photos_raise_image_file_error(bundle, tmp_path, content, name):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageFileError):
        project_photo(bundle, path, ProjectionSettings(steps=1, restarts=1, candidates=1))


def test_missing_photo_and_wrong_arrays(bundle, tmp_path):
    with pytest.raises(ImageFileError, match="does not exist"):
        load_photo(tmp_path / "nope.png", 32)
    for bad in (np.zeros((32, 32), np.uint8), np.zeros((32, 32, 3), np.float32), np.zeros((32, 32, 4), np.uint8)):
        with pytest.raises(ImageFileError):
            project(bundle, bad, ProjectionSettings(steps=1, restarts=1, candidates=1))


@pytest.mark.parametrize("changes", [
    dict(steps=0), dict(restarts=0), dict(restarts=8, candidates=4), dict(pixel_loss="l3"),
    dict(learning_rate=float("nan")), dict(prior_weight=-1.0), dict(steps=True),
])
def test_bad_settings_are_config_errors(changes):
    with pytest.raises(ConfigError):
        ProjectionSettings(**changes)
