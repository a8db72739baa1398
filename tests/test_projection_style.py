"""Projection of a picture into W then W+ of a style model (small random StyleGAN2)."""

import numpy as np
import pytest
import torch
from style_nets import random_sg2_bundle

from facestudio.errors import ImageFileError
from facestudio.latent.projection import ProjectionSettings, load_photo, project
from facestudio.latent.spaces import StyleLatent, seed_latent, to_wplus
from facestudio.latent.style_projection import gradient_features, loss_resolution
from facestudio.render.renderer import Renderer

FAST = dict(steps=16, restarts=2, candidates=8, style_learning_rate=0.1, report_every=4)


@pytest.fixture(scope="module")
def with_d():
    return random_sg2_bundle(seed=11, resolution=16, with_discriminator=True)


def _target(bundle, seed=40):
    g = bundle.viewing_generator
    return Renderer(bundle).render_ws(to_wplus(g, seed_latent(g, seed), psi=0.8))[0]


def test_projection_improves_on_the_best_start_and_returns_w_plus(with_d):
    g = with_d.viewing_generator
    before = {k: v.clone() for k, v in g.state_dict().items()}
    reports = []
    result = project(with_d, _target(with_d), ProjectionSettings(**FAST), progress=reports.append)
    assert result.space == "w+" and result.latent.shape == (g.num_ws, g.w_dim)
    assert result.features == "discriminator" and result.perceptual
    assert result.pixel_mse < result.start_pixel_mse and result.steps_done == 16 and not result.cancelled
    assert [r.step for r in reports] == [0, 4, 8, 12, 16]
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items())
    redrawn = Renderer(with_d).render_ws(StyleLatent("w+", result.latent).values)[0]
    np.testing.assert_array_equal(redrawn, result.image)


def test_pure_w_stage_keeps_layers_equal_and_no_disc_uses_gradients():
    bundle = random_sg2_bundle(seed=12, resolution=16)
    result = project(bundle, _target(bundle), ProjectionSettings(**FAST, w_plus_fraction=0.0))
    assert result.features == "gradients" and not result.perceptual
    np.testing.assert_allclose(result.latent, np.broadcast_to(result.latent[0], result.latent.shape))


def test_cancel_returns_the_best_so_far(with_d):
    polls = []
    result = project(with_d, _target(with_d), ProjectionSettings(**FAST), should_cancel=lambda: polls.append(1) or len(polls) > 3)
    assert result.cancelled and result.steps_done == 3 and result.latent.shape[0] == with_d.viewing_generator.num_ws


def test_loss_resolution_prefers_a_preview(with_d):
    g = with_d.viewing_generator
    assert loss_resolution(g, 256) == 16 and loss_resolution(g, 8) == 8 and loss_resolution(g, 12) == 8
    feats = gradient_features(torch.zeros(1, 3, 16, 16), 3)
    assert len(feats) == 6


def test_manual_crop(tmp_path):
    from PIL import Image

    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[10:30, 20:40] = 255
    Image.fromarray(pixels).save(tmp_path / "p.png")
    assert load_photo(tmp_path / "p.png", 8, crop=(20, 10, 20)).min() == 255
    with pytest.raises(ImageFileError, match="does not fit"):
        load_photo(tmp_path / "p.png", 8, crop=(50, 0, 20))


def test_project_command_on_a_stylegan_pickle(tmp_path, capsys):
    from PIL import Image
    from style_nets import fixture_path

    from facestudio.cli import main
    from facestudio.render.face_files import open_face
    from facestudio.models import load_model

    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 40, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "face.png"
    assert main(["project", str(photo), "--model", str(fixture_path("sg2_skip_32")), "--crop", "0,5,40", "--steps", "3",
                 "--restarts", "1", "--candidates", "4", "--quiet", "-o", str(out)]) == 0
    assert "w+ latent" in capsys.readouterr().out
    face = open_face(out, load_model(fixture_path("sg2_skip_32")))
    assert face.latent.space == "w+" and face.latent.shape == (8, 64)
    assert main(["project", str(photo), "--model", str(fixture_path("sg2_skip_32")), "--crop", "1,2", "-o", str(out)]) == 2
    assert "LEFT,TOP,SIDE" in capsys.readouterr().err


def test_z_projection_of_a_style_model_uses_its_discriminator(with_d):
    result = project(with_d, _target(with_d), ProjectionSettings(**FAST, latent_space="z"))
    assert result.space == "z" and result.latent.shape == (with_d.viewing_generator.z_dim,) and result.perceptual
    assert result.pixel_mse <= result.start_pixel_mse


def test_preview_loss_result_is_checked_on_the_full_image(with_d):
    result = project(with_d, _target(with_d), ProjectionSettings(**FAST, resolution=8))
    redrawn = Renderer(with_d).render_ws(result.latent)[0]
    assert redrawn.shape == (16, 16, 3) and result.features == "gradients"
    np.testing.assert_array_equal(redrawn, result.image)
