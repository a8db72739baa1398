"""The metric ranks sets of known quality correctly (a light version of tests/bench/validate_metric.py)."""

import torch

from facestudio.metrics.metric_validation import (
    COLLAPSED_GENERATOR,
    UNTRAINED_GENERATOR,
    proxy_sets,
    validate_metric,
    validation_table,
)
from facestudio.metrics.proxy_sets import FixedLatentGenerator, add_noise, collapsed_set, gaussian_blur

N = 160  # below the data set's process-pool threshold: renders in-process, in seconds


def test_damage_helpers():
    img = torch.zeros(2, 3, 16, 16, dtype=torch.uint8)
    img[:, :, 8, 8] = 255
    blurred = gaussian_blur(img, 1.0)
    assert blurred.dtype == torch.uint8 and blurred.shape == img.shape
    assert blurred[0, 0, 8, 8] < 255 and blurred[0, 0, 8, 9] > 0 and blurred[0, 0, 0, 0] == 0
    # Light is spread, not lost: the sum moves only by rounding (< 0.5 per pixel of the 7x7 support).
    assert abs(int(blurred.long().sum()) - 2 * 3 * 255) <= 2 * 3 * 49 // 2
    assert torch.equal(gaussian_blur(img, 0), img)
    noisy = add_noise(torch.full((1, 3, 32, 32), 128, dtype=torch.uint8), 0.1, seed=1)
    assert abs(float(noisy.float().std()) - 25.5) < 3
    assert torch.equal(noisy, add_noise(torch.full((1, 3, 32, 32), 128, dtype=torch.uint8), 0.1, seed=1))
    col = collapsed_set(torch.randint(0, 256, (5, 3, 8, 8), dtype=torch.uint8), 7)
    assert col.shape == (7, 3, 8, 8) and float((col.float() - col[0].float()).abs().max()) < 16
    assert set(proxy_sets(torch.zeros(4, 3, 8, 8, dtype=torch.uint8))) >= {"real (second held-out set)", "pure noise"}


def test_metric_ranks_real_damaged_collapsed_and_noise():
    result = validate_metric(N, 64)
    failed = [c["check"] for c in result["checks"] if not c["ok"]]
    assert not failed, f"{failed}\n{validation_table(result)}"
    rows = {r["name"]: r for r in result["rows"]}
    real = rows["real (second held-out set)"]
    assert real["precision"] > 0.6 and real["recall"] > 0.6
    assert 0.85 < real["diversity"] < 1.15
    assert rows["pure noise"]["precision"] < 0.05


def test_fixed_latent_generator_ignores_z(tiny_config):
    from facestudio.models import new_bundle

    g = new_bundle(tiny_config, seed=0).generator
    collapsed = FixedLatentGenerator(g, torch.randn(tiny_config.nz))
    assert collapsed.config is g.config
    out = collapsed(torch.randn(3, tiny_config.nz))
    assert out.shape == (3, 3, 32, 32) and torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])
    try:
        FixedLatentGenerator(g, torch.randn(2, tiny_config.nz))
    except ValueError:
        pass
    else:
        raise AssertionError("a batch of latents is not one latent")


def test_models_bring_collapsed_and_untrained_generator_rows(tiny_config, tmp_path):
    """Structure only: a tiny untrained model and a tiny encoder, so nothing here is a quality claim."""
    from facestudio.data.synthetic_faces import FACTORS
    from facestudio.metrics.factor_encoder import EncoderArch, FactorEncoder, LoadedEncoder, heads_for_synthetic_faces
    from facestudio.models import new_bundle, save_model

    torch.manual_seed(0)
    heads = heads_for_synthetic_faces(torch.rand(50, len(FACTORS)))
    enc = LoadedEncoder(FactorEncoder(heads, EncoderArch(width=4, feature_dim=16)).eval(), sha256="1" * 64, source=None, card={})
    path = tmp_path / "tiny.safetensors"
    save_model(new_bundle(tiny_config, seed=3), path)
    result = validate_metric(24, 32, [("tiny", path)], encoder=enc)
    names = [r["name"] for r in result["rows"]]
    assert names[-3:] == ["tiny: tiny.safetensors", COLLAPSED_GENERATOR, UNTRAINED_GENERATOR]
    collapsed = next(r for r in result["rows"] if r["name"] == COLLAPSED_GENERATOR)
    assert collapsed["diversity"] < 1e-6  # every face is the same face
    checks = [c["check"] for c in result["checks"]]
    assert any("collapsed generator < pure noise" in c for c in checks) and len(checks) == 8
    assert result["models"] == [str(path)]
    assert "tiny: tiny.safetensors" in validation_table(result)
