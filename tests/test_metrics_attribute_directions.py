"""Attribute directions: recovering planted directions, conditional orthogonality, effects."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from facestudio.latent.attribute_directions import (
    BASELINE,
    compute_attribute_directions,
    default_attribute_directions,
    direction_factors,
    conditional_direction,
    conditional_directions,
    direction_effects,
    effects_table,
    fit_attribute_directions,
    fit_linear_normal,
    fit_logistic_normal,
)
from facestudio.metrics.factor_encoder import FactorHead
from facestudio.models import DirectionSet

NZ = 16


def _unit(seed, nz=NZ):
    v = torch.randn(nz, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return v / v.norm()


def _latents(n, seed=0):
    return torch.randn(n, NZ, generator=torch.Generator().manual_seed(seed))


def test_linear_fit_recovers_a_planted_direction():
    z, u = _latents(3000), _unit(1)
    noise = 0.3 * torch.randn(3000, generator=torch.Generator().manual_seed(9))
    y = 0.5 + 0.2 * (z.double() @ u) + 0.2 * noise.double()
    w = fit_linear_normal(z, y)
    assert float(w @ u) > 0.98 and float(w.norm()) == pytest.approx(1.0)


def test_logistic_fit_recovers_a_planted_direction_from_soft_and_hard_labels():
    z, u = _latents(3000, 1), _unit(2)
    p = torch.sigmoid(3.0 * (z.double() @ u) - 0.5)  # imbalanced: not a boundary through 0
    assert float(fit_logistic_normal(z, p) @ u) > 0.98
    hard = torch.bernoulli(p, generator=torch.Generator().manual_seed(3))
    assert float(fit_logistic_normal(z, hard) @ u) > 0.95


def test_fit_attribute_directions_names_rows_and_rejects_categorical():
    z = _latents(2000, 2)
    u1, u2 = _unit(3), _unit(4)
    readings = torch.stack([torch.sigmoid(4 * z.double() @ u1), z.double() @ u2, torch.zeros(2000, dtype=torch.float64)], 1)
    kinds = {"glasses": "binary", "smile": "continuous", "background": "categorical"}
    dset = fit_attribute_directions(z, readings, kinds, ["smile", "glasses"], ["glasses", "smile", "background"])
    assert dset.kind == "attribute" and dset.names == ["smile", "glasses"]
    assert dset.vectors.shape == (2, NZ) and dset.vectors.dtype == np.float32
    assert float(torch.from_numpy(dset.vectors[0]).double() @ u2) > 0.99
    assert float(torch.from_numpy(dset.vectors[1]).double() @ u1) > 0.97
    with pytest.raises(ValueError, match="binary and continuous"):
        fit_attribute_directions(z, readings, kinds, ["background"], ["glasses", "smile", "background"])
    with pytest.raises(ValueError, match="no factor"):
        fit_attribute_directions(z, readings, kinds, ["hat"], ["glasses", "smile", "background"])


def test_conditional_direction_is_orthogonal_to_the_kept_attributes():
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(4, 32))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    dset = DirectionSet("attribute", ["smile", "glasses", "beard", "yaw"], vecs)
    cond = conditional_directions(dset, {"smile": ["glasses", "beard"], "yaw": ["smile"]})
    assert cond.names == ["smile|glasses,beard", "yaw|smile"]
    smile_c = cond.vectors[0].astype(np.float64)
    assert np.linalg.norm(smile_c) == pytest.approx(1.0, abs=1e-6)
    assert abs(smile_c @ vecs[1]) < 1e-6 and abs(smile_c @ vecs[2]) < 1e-6
    assert smile_c @ vecs[0] > 0.5  # still mostly smile
    assert abs(cond.vectors[1].astype(np.float64) @ vecs[0]) < 1e-6
    # Gram-Schmidt: a kept direction that is a combination of others adds nothing and breaks nothing.
    combo = (vecs[1] + vecs[2]) / np.linalg.norm(vecs[1] + vecs[2])
    v = conditional_direction(vecs[0], [vecs[1], vecs[2], combo]).astype(np.float64)
    assert abs(v @ vecs[1]) < 1e-6 and abs(v @ vecs[2]) < 1e-6
    assert np.allclose(v, smile_c, atol=1e-6)
    with pytest.raises(ValueError, match="span"):
        conditional_direction(vecs[1], [vecs[1]])
    with pytest.raises(ValueError, match="no direction"):
        conditional_directions(dset, {"smile": ["hat"]})


def test_a_conditional_that_is_the_plain_direction_again_is_left_out():
    vecs = np.eye(3, 16, dtype=np.float32)  # smile, light, yaw: already independent
    vecs[2, 0] = 0.5  # yaw leans on smile
    dset = DirectionSet("attribute", ["smile", "light", "yaw"], vecs / np.linalg.norm(vecs, axis=1, keepdims=True))
    cond = conditional_directions(dset, {"smile": ["light"], "yaw": ["smile"]})
    assert cond.names == ["yaw|smile"]  # smile with light kept would be smile again: no second slider
    assert conditional_directions(dset, {"smile": ["light"]}).vectors.shape == (0, 16)


# ---------------------------------------------------------------- whole pipeline on a planted model
class PlantedGenerator(nn.Module):
    """A "GAN" whose left half brightness is tanh(z·u1) and right half tanh(z·u2)."""

    def __init__(self, u1, u2):
        super().__init__()
        self.config = SimpleNamespace(nz=NZ)
        self.register_buffer("u", torch.stack([u1, u2]).float())

    def forward(self, z):
        a = torch.tanh(z.reshape(z.shape[0], NZ) @ self.u.T * 0.5)  # (N, 2)
        img = torch.empty(z.shape[0], 3, 32, 32)
        img[..., :16] = a[:, 0, None, None, None]
        img[..., 16:] = a[:, 1, None, None, None]
        return img


class HalfBrightnessEncoder(nn.Module):
    """Reads 'left' (continuous: left half brightness) and 'right_on' (binary: right half bright)."""

    specs = [FactorHead("left", "continuous", std=0.5), FactorHead("right_on", "binary")]

    def encode(self, images, batch_size=500):
        x = images.float() / 127.5 - 1
        left, right = x[..., :16].mean((1, 2, 3)), x[..., 16:].mean((1, 2, 3))
        readings = torch.stack([left, torch.sigmoid(6 * right)], 1)
        return None, None, readings


def _planted(cos):
    u1 = _unit(10)
    other = _unit(11)
    other = other - (other @ u1) * u1
    other = other / other.norm()
    u2 = cos * u1 + (1 - cos**2) ** 0.5 * other
    return PlantedGenerator(u1, u2), u1, u2, SimpleNamespace(encoder=HalfBrightnessEncoder(), sha256="planted")


def test_pipeline_recovers_planted_directions_and_effects():
    g, u1, u2, enc = _planted(cos=0.0)
    dset = compute_attribute_directions(g, 1500, encoder=enc)
    assert dset.names == ["left", "right_on"]
    v = torch.from_numpy(dset.vectors).double()
    assert float(v[0] @ u1) > 0.97 and float(v[1] @ u2) > 0.95
    eff = direction_effects(g, dset, n=60, encoder=enc)
    for name in ("left", "right_on"):
        row = eff["directions"][name]
        assert row["target_spearman"] > 0.9
        assert row["monotonic_fraction"] > 0.85
        assert row["target_change"] > 0.3
        assert row["others_change"] < 0.1 * row["target_change"]
    assert "| left |" in effects_table(eff)
    json.dumps(eff)  # plain data


def test_conditional_direction_removes_entangled_change():
    # Entangled model: moving "left" also moves "right" (cos 0.7 between the true directions).
    g, u1, u2, enc = _planted(cos=0.7)
    dset = compute_attribute_directions(g, 1500, encoder=enc, conditions={"left": ["right_on"]})
    assert dset.names == ["left", "right_on", "left|right_on"]
    eff = direction_effects(g, dset, n=60, encoder=enc)["directions"]
    assert eff["left"]["most_changed_other"] == "right_on"
    assert eff["left|right_on"]["target_spearman"] > 0.9
    assert eff["left|right_on"]["others_change"] < 0.25 * eff["left"]["others_change"]


def test_runs_on_a_real_tiny_generator_with_the_shipped_encoder(tiny_config):
    from facestudio.models import new_bundle

    bundle = new_bundle(tiny_config, seed=0)
    dset = compute_attribute_directions(bundle, 64, names=["smile", "glasses"])
    assert dset.vectors.shape == (2, tiny_config.nz)
    assert np.allclose(np.linalg.norm(dset.vectors, axis=1), 1.0, atol=1e-5)
    eff = direction_effects(bundle, dset, steps=(-1, 0, 1), n=8)
    assert set(eff["directions"]) == {"smile", "glasses", BASELINE}
    assert all(np.isfinite(r["others_change"]) for r in eff["directions"].values())


def test_conditioning_on_all_others():
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(4, 32))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    dset = DirectionSet("attribute", ["smile", "glasses", "beard", "yaw"], vecs)
    cond = conditional_directions(dset, {"smile": ["*"], "yaw": ["*"]})
    assert cond.names == ["smile|*", "yaw|*"]
    for row, own in ((0, 0), (1, 3)):
        v = cond.vectors[row].astype(np.float64)
        others = [i for i in range(4) if i != own]
        assert max(abs(v @ vecs[i]) for i in others) < 1e-6 and v @ vecs[own] > 0.3
    # Conditional rows already in the set are not "others" to hold fixed.
    with_cond = DirectionSet("attribute", dset.names + ["smile|glasses"], np.concatenate([vecs, vecs[:1]]))
    assert np.allclose(conditional_directions(with_cond, {"yaw": ["*"]}).vectors[0], cond.vectors[1], atol=1e-6)


def test_directions_only_for_factors_the_encoder_reads():
    specs = [FactorHead("smile", "continuous"), FactorHead("nose", "continuous"), FactorHead("glasses", "binary"),
             FactorHead("beard", "binary"), FactorHead("hair", "categorical", classes=3)]
    card = {"heldout": {"factors": {
        "smile": {"kind": "continuous", "r2": 0.78}, "nose": {"kind": "continuous", "r2": 0.06},
        "glasses": {"kind": "binary", "accuracy": 0.99, "baseline": 0.70}, "beard": {"kind": "binary", "accuracy": 0.72, "baseline": 0.70},
    }}}
    enc = SimpleNamespace(encoder=SimpleNamespace(specs=specs), card=card)
    assert direction_factors(enc) == ["smile", "glasses"]
    # No card (e.g. a user's own encoder): every binary and continuous factor.
    assert direction_factors(SimpleNamespace(encoder=SimpleNamespace(specs=specs))) == ["smile", "nose", "glasses", "beard"]


def test_default_set_adds_all_others_fixed_rows_and_a_random_baseline():
    g, u1, u2, enc = _planted(cos=0.7)
    dset = default_attribute_directions(g, 1500, encoder=enc)
    assert dset.names == ["left", "right_on", "left|*", "right_on|*"]
    eff = direction_effects(g, dset, n=60, encoder=enc)
    rows = eff["directions"]
    assert rows["left|*"]["target_spearman"] > 0.9
    assert rows["left|*"]["others_change"] < 0.25 * rows["left"]["others_change"]
    # The random direction aims at nothing: it has no target, only spill.
    assert "target_spearman" not in rows[BASELINE] and rows[BASELINE]["others_change"] >= 0
    table = effects_table(eff)
    assert "| left\\|* |" in table and f"| {BASELINE} |" in table
