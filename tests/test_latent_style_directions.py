"""SeFa and PCA directions in W with layer ranges, and user direction files."""

import json

import numpy as np
import pytest
import torch
from style_nets import fixture_path, random_sg2_bundle

from facestudio.errors import FaceMetadataError
from facestudio.render.direction_file import DirectionFileError, load_directions, parse_directions, save_directions
from facestudio.latent.layers import group_layers
from facestudio.latent.spaces import seed_latent, to_space
from facestudio.latent.style_directions import (StyleDirection, apply_style_directions, pca_style_directions,
                                                sefa_style_directions, style_affines)
from facestudio.latent.w_pca import compute_w_pca
from facestudio.models import ModelConfig, load_model, new_bundle


@pytest.fixture(scope="module")
def sg2():
    return random_sg2_bundle(seed=3)


def test_style_affines_cover_every_synthesis_layer():
    for name, expected_counts in (("sg2_skip_32", [1, 2, 1, 2, 1, 2, 1, 1]), ("sg3_t_32", [1] * 16)):
        g = load_model(fixture_path(name)).viewing_generator
        mats = style_affines(g)
        assert [len(m) for m in mats] == expected_counts
        assert all(m.shape[1] == 64 for ms in mats for m in ms)


def test_sefa_finds_a_planted_direction_on_the_chosen_layers():
    g = random_sg2_bundle(seed=5).viewing_generator
    fine_conv = g.synthesis.b32.conv1.affine
    planted = torch.zeros(24)
    planted[11] = 1.0
    with torch.no_grad():
        fine_conv.weight[:] = fine_conv.weight * 0.01 + torch.outer(torch.ones(fine_conv.weight.shape[0]), planted)
    layers = [6]  # b32.conv1 is ws[6]
    top = sefa_style_directions(g, layers, k=3)[0]
    assert abs(float(top.vector @ planted.numpy())) > 0.99 and top.layers == (6,)
    coarse = sefa_style_directions(g, "coarse", k=3)[0]  # layers that never see the planted weights
    assert abs(float(coarse.vector @ planted.numpy())) < 0.9


def test_sefa_top_direction_moves_styles_most(sg2):
    g = sg2.viewing_generator
    dirs = sefa_style_directions(g, "coarse", k=4)
    assert [d.name for d in dirs] == ["SeFa 1", "SeFa 2", "SeFa 3", "SeFa 4"]
    a = torch.cat([m for i in group_layers(g, "coarse") for m in style_affines(g)[i]])
    a = (a / a.norm(dim=1, keepdim=True)).numpy()
    gains = [np.linalg.norm(a @ d.vector) for d in dirs]
    assert gains == sorted(gains, reverse=True)
    rand = np.random.default_rng(0).standard_normal((50, 24))
    rand /= np.linalg.norm(rand, axis=1, keepdims=True)
    assert gains[0] >= np.linalg.norm(a @ rand.T, axis=0).max() - 1e-5
    assert all(d.scale > 0 for d in dirs)


def test_dcgan_sefa_and_pca_in_w_equal_z():
    g = new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32), seed=1).viewing_generator
    dirs = sefa_style_directions(g, "all", k=3)
    face = seed_latent(g, 2)
    moved = apply_style_directions(g, face, dirs, [1.0, 0, 0])
    assert moved.space == "w" and moved.shape == (16,)
    np.testing.assert_allclose(moved.values - face.values, dirs[0].scale * dirs[0].vector, atol=1e-5)


def test_layer_range_edit_changes_only_those_layers(sg2):
    g = sg2.viewing_generator
    pca = compute_w_pca(g, k=3, n=500)
    fine = pca_style_directions(g, pca, "middle")
    face = seed_latent(g, 7)
    moved = apply_style_directions(g, face, fine, {"PCA 2": 1.5})
    base = to_space(g, face, "w+").values
    rows = list(group_layers(g, "middle"))
    others = [i for i in range(g.num_ws) if i not in rows]
    assert moved.space == "w+"
    np.testing.assert_allclose(moved.values[rows] - base[rows], np.broadcast_to(1.5 * pca.stdev[1] * pca.components[1], (len(rows), 24)), atol=1e-5)
    np.testing.assert_array_equal(moved.values[others], base[others])
    with pytest.raises(ValueError, match="No direction"):
        apply_style_directions(g, face, fine, {"smile": 1.0})


def _user_direction(w_dim=24):
    return StyleDirection("smile", "user", np.arange(1, w_dim + 1, dtype=np.float32), (3, 4), 1.5)


def test_direction_file_round_trip_and_other_model_refused(sg2, tmp_path):
    path = save_directions(tmp_path / "mine.json", [_user_direction()], sg2.name, sg2.sha256, sg2.viewing_generator.num_ws)
    back = load_directions(path, sg2.name, sg2.sha256, 24, sg2.viewing_generator.num_ws)
    assert back[0].name == "smile" and back[0].layers == (3, 4) and back[0].scale == 1.5
    np.testing.assert_allclose(back[0].vector, _user_direction().vector, atol=1e-7)
    with pytest.raises(DirectionFileError, match="not for this one"):
        load_directions(path, "other", "e" * 64, 24, 8)
    assert issubclass(DirectionFileError, FaceMetadataError)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format="x"), "not a FaceStudio direction file"),
    (lambda d: d.update(version=99), "newer FaceStudio"),
    (lambda d: d["model"].update(sha256="zz"), "fingerprint"),
    (lambda d: d.update(space="z"), "space"),
    (lambda d: d["directions"][0].update(vector=[1.0] * 3), "exactly 24 numbers"),
    (lambda d: d["directions"][0].update(vector=[0.0] * 24), "zero"),
    (lambda d: d["directions"][0].update(layers=[0, 99]), "distinct layers"),
    (lambda d: d["directions"][0].update(layers=[1, 1]), "distinct layers"),
    (lambda d: d["directions"][0].update(name="\x00evil"), "printable"),
    (lambda d: d["directions"][0].update(kind="magic"), "kind"),
    (lambda d: d["directions"][0].update(scale=True), "step size"),
    (lambda d: d.update(directions=[]), "1 to 256"),
])
def test_hostile_direction_files_are_refused(sg2, tmp_path, mutate, message):
    path = save_directions(tmp_path / "mine.json", [_user_direction()], sg2.name, sg2.sha256, 8)
    doc = json.loads(path.read_text())
    mutate(doc)
    with pytest.raises(DirectionFileError, match=message):
        parse_directions(json.dumps(doc))


def test_unparseable_direction_files(tmp_path):
    for text in ("{", '{"a": NaN}', "[]"):
        with pytest.raises(DirectionFileError):
            parse_directions(text)
    with pytest.raises(DirectionFileError, match="does not exist"):
        load_directions(tmp_path / "none.json", "m", "a" * 64, 24, 8)
    with pytest.raises(DirectionFileError, match="not a file"):
        load_directions(tmp_path, "m", "a" * 64, 24, 8)
