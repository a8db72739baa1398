"""Morphs through z / w / w+ keyframes: path rule, batched rendering, cancel, the command."""

import numpy as np
import pytest
from PIL import Image
from style_nets import fixture_path, random_sg2_bundle

from facestudio.cli import main
from facestudio.render.face_files import save_face
from facestudio.latent.interpolation import keyframe_path, slerp
from facestudio.latent.spaces import StyleLatent, seed_latent, to_space, to_wplus
from facestudio.render.style_morph import MorphKey, morph_path, render_morph
from facestudio.models import ModelConfig, new_bundle
from facestudio.render.renderer import Renderer


@pytest.fixture(scope="module")
def sg2():
    return random_sg2_bundle(seed=9)


@pytest.fixture(scope="module")
def renderer(sg2):
    return Renderer(sg2)


def test_z_keys_slerp_in_z(sg2, renderer):
    g = sg2.viewing_generator
    a, b = seed_latent(g, 1), seed_latent(g, 2)
    path = morph_path(renderer, [MorphKey(a, 0.7), MorphKey(b, 0.7)], 5)
    assert path.space == "z" and path.truncation == 0.7 and len(path) == 5
    np.testing.assert_allclose(path.values[2], slerp(a.values, b.values, 0.5), atol=1e-6)
    frames = render_morph(renderer, path, batch=2)
    np.testing.assert_array_equal(frames[0], renderer.render_ws(to_wplus(g, a, psi=0.7))[0])
    np.testing.assert_array_equal(frames[-1], renderer.render_ws(to_wplus(g, b, psi=0.7))[0])


def test_mixed_keys_run_straight_in_w(sg2, renderer):
    g = sg2.viewing_generator
    a = seed_latent(g, 1)
    b = to_space(g, seed_latent(g, 2), "w")
    path = morph_path(renderer, [MorphKey(a, 0.5), MorphKey(b, 1.0)], 3)
    wa = to_wplus(g, a, psi=0.5)[0]
    assert path.space == "w"
    np.testing.assert_allclose(path.values[1], 0.5 * (wa + b.values), atol=1e-5)
    c = StyleLatent("w+", to_wplus(g, seed_latent(g, 3)))
    plus = morph_path(renderer, [MorphKey(a), MorphKey(b), MorphKey(c)], 5, easing="ease-in-out")
    assert plus.space == "w+" and plus.values.shape == (5, g.num_ws, g.w_dim)
    np.testing.assert_allclose(plus.values[2], np.broadcast_to(b.values, (g.num_ws, g.w_dim)), atol=1e-5)
    np.testing.assert_allclose(plus.values[-1], c.values, atol=1e-6)


def test_batches_progress_and_cancel(sg2, renderer):
    g = sg2.viewing_generator
    path = morph_path(renderer, [MorphKey(seed_latent(g, 1)), MorphKey(seed_latent(g, 2))], 7)
    seen = []
    frames = render_morph(renderer, path, batch=3, progress=lambda i, n: seen.append((i, n)))
    assert frames.shape == (7, 32, 32, 3) and seen == [(3, 7), (6, 7), (7, 7)]
    one_at_a_time = render_morph(renderer, path, batch=1)
    np.testing.assert_array_equal(frames, one_at_a_time)
    calls = []
    assert render_morph(renderer, path, batch=3, cancel=lambda: calls.append(1) or len(calls) > 1) is None
    small = render_morph(renderer, path, batch=4, resolution=16)
    assert small.shape == (7, 16, 16, 3)


def test_dcgan_morph_is_the_old_z_path():
    bundle = new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32), seed=1)
    r = Renderer(bundle)
    g = bundle.viewing_generator
    a, b = seed_latent(g, 1), seed_latent(g, 2)
    path = morph_path(r, [MorphKey(a, 0.6), MorphKey(b, 0.9)], 6)
    old = keyframe_path([0.6 * a.values, 0.9 * b.values], total_frames=6, mode="slerp")
    np.testing.assert_allclose(path.values, old, atol=1e-6)
    np.testing.assert_array_equal(render_morph(r, path), r.render_batch(old))


def test_morph_command_with_a_w_plus_face(tmp_path, capsys):
    from facestudio.models import load_model

    bundle = load_model(fixture_path("sg2_skip_32"))
    g = bundle.viewing_generator
    face = tmp_path / "wplus.png"
    save_face(face, np.zeros((32, 32, 3), np.uint8), StyleLatent("w+", to_wplus(g, seed_latent(g, 5))), bundle)
    out = tmp_path / "m.gif"
    assert main(["morph", "--model", str(fixture_path("sg2_skip_32")), "--from", "3", "--to", str(face),
                 "--frames", "4", "--size", "64", "-o", str(out)]) == 0
    assert "linear in W+" in capsys.readouterr().out
    with Image.open(out) as im:
        assert im.size == (64, 64) and im.n_frames == 4
