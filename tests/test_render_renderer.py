"""Renderer: exact batch-norm folding, uint8 faces, realism, snapshots, threads."""

import threading

import numpy as np
import pytest
import torch
from torch import nn

from facestudio.latent.sampling import latents_for_seeds
from facestudio.models import ModelConfig, new_bundle
from facestudio.render import folded_generator
from facestudio.render.folded_generator import FoldedGenerator, NotFoldableError
from facestudio.render.grid import tensor_to_uint8
from facestudio.render.renderer import Renderer


def _trained_looking(bundle, seed=0):
    """Give every batch norm non-trivial statistics and affine terms, as training would."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in bundle.generator.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(n, generator=gen) * 2 + 0.1)
                m.weight.copy_(1 + torch.randn(n, generator=gen) * 0.3)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.2)
            if isinstance(m, nn.ConvTranspose2d):  # He-like scale: images use tanh's curved range
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 1.5 / (m.in_channels * 4) ** 0.5)
    return bundle


@pytest.fixture
def bundle(tiny_config):
    return _trained_looking(new_bundle(tiny_config, seed=0))


def _eager(bundle, z):
    with torch.no_grad():
        return bundle.viewing_generator.eval()(torch.as_tensor(z))


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(nz=16, ngf=8, ndf=8, image_size=32),
        ModelConfig(nz=20, ngf=4, ndf=4, image_size=64),
        ModelConfig(nz=8, ngf=4, ndf=4, image_size=32, g_norm="none"),
        ModelConfig(nz=8, ngf=2, ndf=2, image_size=128, nc=1),
    ],
    ids=["32px", "64px", "no-norm", "128px-grey"],
)
@pytest.mark.parametrize("batch", [1, 2, 5])
def test_folded_output_equals_the_eval_mode_generator(config, batch):
    bundle = _trained_looking(new_bundle(config, seed=1))
    renderer = Renderer(bundle)
    assert renderer.inference_path == "folded"
    z = latents_for_seeds(range(batch), config.nz)
    out = renderer.render_float(z)
    ref = _eager(bundle, z)
    assert out.shape == ref.shape == (batch, config.nc, config.image_size, config.image_size)
    assert float((out - ref).abs().max()) < 1e-4
    assert float(ref.abs().max()) > 0.5  # the comparison covers tanh's curved range


def test_gemm_phase_and_deconvolution_stages_agree(bundle, tiny_config, monkeypatch):
    net = FoldedGenerator(bundle.generator)
    last = len(net._geometry) - 1
    assert hasattr(net, f"phase_weight{last}") and not hasattr(net, "phase_weight0")  # only the RGB stage
    monkeypatch.setattr(folded_generator, "PHASE_STAGE_MAX_CHANNELS", 0)
    plain = FoldedGenerator(bundle.generator)
    assert not hasattr(plain, f"phase_weight{last}")
    z = torch.from_numpy(latents_for_seeds(range(2), tiny_config.nz))
    with torch.inference_mode():
        monkeypatch.setattr(folded_generator, "GEMM_STAGE_MAX_POSITIONS", 10**9)
        gemm = plain(z)
        monkeypatch.setattr(folded_generator, "GEMM_STAGE_MAX_POSITIONS", 0)
        deconv = plain(z)
        phase = net(z)
    assert float((gemm - deconv).abs().max()) < 1e-5
    assert float((phase - deconv).abs().max()) < 1e-5


def test_render_gives_rgb_uint8_faces_like_the_generator(bundle, tiny_config):
    renderer = Renderer(bundle)
    z = latents_for_seeds([7], tiny_config.nz)
    face = renderer.render(z[0])
    assert face.shape == (32, 32, 3) and face.dtype == np.uint8
    ref = tensor_to_uint8(_eager(bundle, z))[0]
    diff = np.abs(face.astype(int) - ref.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01  # only float rounding at level boundaries
    assert face.std() > 10  # a real picture, not a flat colour
    np.testing.assert_array_equal(renderer.render(torch.from_numpy(z[0])), face)
    np.testing.assert_array_equal(renderer.render(z), face)  # (1, nz) is one face too


def test_render_batch_matches_single_renders_across_chunks(bundle, tiny_config):
    renderer = Renderer(bundle, max_batch=4)
    z = latents_for_seeds(range(11), tiny_config.nz)
    faces = renderer.render_batch(z, psi=0.8)
    assert faces.shape == (11, 32, 32, 3) and faces.dtype == np.uint8
    for i in (0, 5, 10):
        # Batch 1 and batch 4 take different (equally exact) kernels: float rounding only.
        diff = np.abs(faces[i].astype(int) - renderer.render(z[i], psi=0.8).astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    np.testing.assert_array_equal(faces[8:], renderer.render_batch(z[8:], psi=0.8))  # same chunk, same bits
    assert renderer.render_batch(np.zeros((0, tiny_config.nz), np.float32)).shape == (0, 32, 32, 3)


def test_truncation_is_applied(bundle, tiny_config):
    renderer = Renderer(bundle)
    z = latents_for_seeds([3], tiny_config.nz)[0]
    np.testing.assert_array_equal(renderer.render(z, psi=0.0), renderer.render(np.zeros_like(z)))
    np.testing.assert_array_equal(renderer.render(z, psi=0.5), renderer.render(z * 0.5))
    with pytest.raises(ValueError):
        renderer.render(z, psi=-1.0)


@pytest.mark.parametrize(
    "z", [np.zeros(15, np.float32), np.zeros((2, 16), np.float32), np.full(16, np.nan, np.float32), np.array(["a"] * 16)]
)
def test_bad_latents_are_refused(bundle, z):
    with pytest.raises(ValueError):
        Renderer(bundle).render(z)


def test_renderer_keeps_its_own_snapshot_of_the_weights(bundle, tiny_config):
    renderer = Renderer(bundle)
    z = latents_for_seeds([1], tiny_config.nz)[0]
    before = renderer.render(z)
    realism_before = renderer.realism(z)
    with torch.no_grad():
        for p in bundle.generator.parameters():
            p.add_(1.0)
        for p in bundle.discriminator.parameters():
            p.mul_(-1.0)
    np.testing.assert_array_equal(renderer.render(z), before)
    assert renderer.realism(z) == realism_before
    assert not np.array_equal(Renderer(bundle).render(z), before)


def test_realism_is_a_probability_from_the_discriminator(bundle, tiny_config):
    renderer = Renderer(bundle)
    z = latents_for_seeds(range(3), tiny_config.nz)
    faces = renderer.render_batch(z)
    scores = renderer.realism_scores(faces)
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))
    with torch.no_grad():
        images = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 127.5 - 1
        expected = torch.sigmoid(bundle.discriminator(images)).numpy()
    np.testing.assert_allclose(scores, expected, atol=1e-6)
    single = renderer.realism(faces[0])
    assert isinstance(single, float) and abs(single - float(expected[0])) < 1e-6
    assert abs(renderer.realism(z[0]) - single) < 0.02  # latent path skips the 8-bit rounding only
    assert abs(renderer.realism(faces) - float(expected.mean())) < 1e-6
    with pytest.raises(ValueError):
        renderer.realism(np.zeros((16, 16, 3), np.uint8))


def test_realism_is_none_without_a_discriminator(tiny_config):
    renderer = Renderer(new_bundle(tiny_config, with_discriminator=False))
    assert not renderer.has_discriminator
    assert renderer.realism(np.zeros((32, 32, 3), np.uint8)) is None
    assert renderer.realism_scores(np.zeros(tiny_config.nz, np.float32)) is None


def test_unknown_layouts_fall_back_to_an_eager_copy(tiny_config):
    bundle = new_bundle(tiny_config, seed=2)
    bundle.generator.main[2] = nn.ELU()
    with pytest.raises(NotFoldableError):
        FoldedGenerator(bundle.generator)
    renderer = Renderer(bundle)
    assert renderer.inference_path == "eager"
    z = latents_for_seeds([1, 2], tiny_config.nz)
    assert float((renderer.render_float(z) - _eager(bundle, z)).abs().max()) < 1e-6


def test_one_renderer_serves_several_threads(bundle, tiny_config):
    renderer = Renderer(bundle)
    z = latents_for_seeds(range(6), tiny_config.nz)
    expected = [renderer.render(z[i]) for i in range(6)]
    results: dict[int, list] = {}
    errors = []

    def work(k):
        try:
            results[k] = [renderer.render(z[i]) for i in range(6)] + [renderer.realism(z[k])]
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 3
    for faces in results.values():
        for i in range(6):
            np.testing.assert_array_equal(faces[i], expected[i])


def test_realism_percentile_is_the_face_check_for_synthetic_models_only(tiny_config):
    import dataclasses

    from facestudio.data.synthetic_faces import synthetic_faces

    z = latents_for_seeds(range(6), tiny_config.nz)
    config = dataclasses.replace(tiny_config, image_size=64)
    assert Renderer(new_bundle(config)).realism_percentile(z[0]) is None  # no data info: not judged
    small = new_bundle(dataclasses.replace(tiny_config, info={"data": "synthetic"}))
    assert Renderer(small).realism_percentile(z[0]) is None  # 32 px: too small for the check
    renderer = Renderer(new_bundle(dataclasses.replace(config, info={"data": "synthetic"})))
    assert renderer.has_realism_meter
    readings = [renderer.realism_percentile(z[i]) for i in range(6)]
    assert all(0.0 <= r <= 1.0 for r in readings)
    # Real faces (another seed) read far higher than an untrained model's grey noise.
    real, _ = synthetic_faces(6, config.image_size, seed=99)
    real_reading = renderer.realism_percentile(real.permute(0, 2, 3, 1).contiguous().numpy())
    assert real_reading > 0.3 > max(readings)
