"""Factor encoder: shapes at every image size, losses, and validated safetensors files."""

import json
import struct

import pytest
import torch
from safetensors.torch import save as st_save

from facestudio.errors import ModelFileError
from facestudio.metrics.factor_encoder import (
    EncoderArch,
    FactorEncoder,
    FactorHead,
    encoder_metadata,
    heads_for_synthetic_faces,
    load_encoder,
    prepare_images,
    save_encoder,
)

HEADS = [
    FactorHead("glasses", "binary"),
    FactorHead("smile", "continuous", mean=0.5, std=0.3),
    FactorHead("glasses_style", "categorical", classes=3, class_names=("round", "rect", "sun"), given="glasses"),
]
ARCH = EncoderArch(width=8, feature_dim=24)


@pytest.fixture
def encoder():
    torch.manual_seed(0)
    return FactorEncoder(HEADS, ARCH).eval()


@pytest.mark.parametrize("size", [32, 64, 128])
def test_forward_shapes_at_every_size(encoder, size):
    x = torch.rand(5, 3, size, size) * 2 - 1
    assert encoder.metric_dim == 24 + 4 * 8
    assert encoder.features(x).shape == (5, encoder.metric_dim)
    assert encoder(x).shape == (5, 1 + 1 + 3)
    feats, raw, readings = encoder.encode(x, batch_size=2)
    assert feats.shape == (5, encoder.metric_dim) and raw.shape == (5, 5) and readings.shape == (5, 3)
    assert torch.allclose(feats, encoder.features(x), atol=1e-5) and torch.allclose(raw, encoder(x), atol=1e-5)
    assert ((readings[:, 0] >= 0) & (readings[:, 0] <= 1)).all()
    assert set(readings[:, 2].tolist()) <= {0.0, 1.0, 2.0}


def test_feature_calibration_standardises_each_dimension(encoder):
    g = torch.Generator().manual_seed(3)
    faces = torch.rand(300, 3, 64, 64, generator=g) * 2 - 1
    encoder.calibrate_features(faces)
    f = encoder.features(faces).double()
    live = encoder.feature_scale > 0.1 * encoder.feature_scale.median() + 1e-6
    assert f.mean(0).abs().max() < 1e-4
    assert torch.allclose(f.std(0)[live], torch.ones(int(live.sum()), dtype=torch.float64), atol=1e-3)
    # Units that do not vary keep a floor scale instead of dividing by ~0.
    assert (encoder.feature_scale > 0).all() and torch.isfinite(f).all()


def test_uint8_and_float_inputs_agree(encoder):
    u8 = torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8)
    as_float = u8.float() / 127.5 - 1
    assert torch.allclose(encoder.features(u8), encoder.features(as_float), atol=1e-5)


def test_prepare_images_resizes_to_64():
    assert prepare_images(torch.zeros(2, 3, 128, 128, dtype=torch.uint8)).shape == (2, 3, 64, 64)
    up = prepare_images(torch.ones(1, 3, 32, 32))
    assert up.shape == (1, 3, 64, 64) and torch.allclose(up, torch.ones_like(up))
    # 128 -> 64 is an area (2x2 mean) reduction, not a subsampling.
    checker = torch.zeros(1, 3, 128, 128)
    checker[..., ::2, ::2] = 1.0
    checker[..., 1::2, 1::2] = 1.0
    assert torch.allclose(prepare_images(checker), torch.full((1, 3, 64, 64), 0.5))
    for bad in (torch.zeros(2, 1, 64, 64), torch.zeros(2, 3, 64, 32), torch.zeros(3, 64, 64), torch.zeros(1, 3, 64, 64, dtype=torch.int32)):
        with pytest.raises(ValueError):
            prepare_images(bad)


def test_readings_are_in_label_units(encoder):
    raw = torch.tensor([[0.0, 2.0, 0.1, 3.0, -1.0]])
    readings = encoder.readings_from_raw(raw)
    assert readings[0, 0] == pytest.approx(0.5)
    assert readings[0, 1] == pytest.approx(0.5 + 2.0 * 0.3)
    assert readings[0, 2] == 1.0


def test_loss_ignores_style_of_absent_glasses(encoder):
    raw = torch.zeros(4, 5, requires_grad=True)
    labels = torch.tensor([[0.0, 0.5, 2.0], [0.0, 0.5, 1.0], [1.0, 0.5, 0.0], [1.0, 0.5, 0.0]])
    loss, parts = encoder.loss(raw, labels)
    loss.backward()
    # Rows without glasses get no gradient from the style head.
    assert torch.all(raw.grad[:2, 2:] == 0)
    assert torch.any(raw.grad[2:, 2:] != 0)
    assert parts["glasses_style"] == pytest.approx(float(torch.log(torch.tensor(3.0))), rel=1e-5)
    # No face with glasses: the style head is simply skipped.
    _, parts = encoder.loss(torch.zeros(2, 5), labels[:2])
    assert "glasses_style" not in parts


def test_a_few_steps_learn_a_planted_factor():
    # Brightness decides the binary label: the encoder must pick that up quickly.
    torch.manual_seed(1)
    enc = FactorEncoder([FactorHead("bright", "binary")], EncoderArch(width=4, feature_dim=8))
    opt = torch.optim.Adam(enc.parameters(), lr=1e-2)
    labels = (torch.arange(32) % 2).float()[:, None]
    images = ((labels[:, :, None, None] * 1.2 - 0.6) + 0.2 * torch.randn(32, 3, 32, 32)).clamp(-1, 1)
    for _ in range(25):
        loss, _ = enc.loss(enc(images), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    _, _, readings = enc.encode(images)
    assert ((readings[:, 0] > 0.5).float() == labels[:, 0]).all()


def test_head_validation():
    with pytest.raises(ValueError):
        FactorHead("x", "ordinal")
    with pytest.raises(ValueError):
        FactorHead("x", "categorical", classes=1)
    with pytest.raises(ValueError):
        FactorHead("x", "continuous", std=0.0)
    with pytest.raises(ValueError):
        FactorHead("x", "continuous", mean=float("nan"))
    with pytest.raises(ValueError):
        FactorEncoder([FactorHead("a", "binary"), FactorHead("a", "binary")], ARCH)
    with pytest.raises(ValueError):
        FactorEncoder([FactorHead("s", "categorical", classes=2, given="nothing")], ARCH)


def test_heads_for_synthetic_faces_follow_the_data_factors():
    from facestudio.data.synthetic_faces import FACTORS

    labels = torch.zeros(10, len(FACTORS))
    labels[:, 1] = torch.linspace(0, 1, 10)
    heads = heads_for_synthetic_faces(labels)
    assert [h.name for h in heads] == [f.name for f in FACTORS]
    assert [h.kind for h in heads] == [f.kind for f in FACTORS]
    assert heads[1].mean == pytest.approx(0.5) and heads[1].std == pytest.approx(float(torch.linspace(0, 1, 10).std()), rel=1e-5)
    gated = {h.name: h.given for h in heads if h.given}
    assert gated == {"glasses_style": "glasses", "beard_style": "beard"}
    with pytest.raises(ValueError):
        heads_for_synthetic_faces(torch.zeros(10, 3))


# ---------------------------------------------------------------- files
def test_save_load_round_trip(encoder, tmp_path):
    encoder.calibrate_features(torch.rand(20, 3, 64, 64) * 2 - 1)
    path = tmp_path / "enc.safetensors"
    digest = save_encoder(encoder, path, card={"note": "test"})
    loaded = load_encoder(path)
    assert loaded.sha256 == digest and loaded.card == {"note": "test"}
    assert loaded.encoder.specs == HEADS and loaded.encoder.arch == ARCH
    assert not loaded.encoder.training
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.equal(loaded.encoder(x), encoder(x))
    assert torch.equal(loaded.encoder.features(x), encoder.features(x))


def _tensors(encoder):
    return {f"encoder.{k}": v.clone() for k, v in encoder.state_dict().items()}


def test_rejects_damaged_files(encoder, tmp_path):
    good = tmp_path / "good.safetensors"
    save_encoder(encoder, good)
    data = good.read_bytes()

    cases = {}
    cases["truncated"] = data[: len(data) // 2]
    cases["empty"] = b""
    # a header that claims a huge length
    cases["huge_header"] = struct.pack("<Q", 10**12) + data[8:]
    meta = encoder_metadata(encoder)
    cases["model_file"] = st_save(_tensors(encoder), metadata={**meta, "format": "facestudio-model"})
    cases["newer"] = st_save(_tensors(encoder), metadata={**meta, "format_version": "99"})
    cases["bad_factors"] = st_save(_tensors(encoder), metadata={**meta, "factors": json.dumps([{"name": "x", "kind": "nope"}])})
    cases["factors_not_json"] = st_save(_tensors(encoder), metadata={**meta, "factors": "{"})
    wrong = _tensors(encoder)
    wrong["encoder.heads.weight"] = torch.zeros(7, 24)
    cases["wrong_shape"] = st_save(wrong, metadata=meta)
    missing = _tensors(encoder)
    del missing["encoder.heads.bias"]
    cases["missing"] = st_save(missing, metadata=meta)
    nan = _tensors(encoder)
    nan["encoder.heads.bias"][0] = float("nan")
    cases["nan"] = st_save(nan, metadata=meta)
    negative = _tensors(encoder)
    negative["encoder.feature_scale"][3] = -1.0
    cases["negative_scale"] = st_save(negative, metadata=meta)
    as_f64 = _tensors(encoder)
    as_f64["encoder.heads.bias"] = as_f64["encoder.heads.bias"].double()
    cases["wrong_dtype"] = st_save(as_f64, metadata=meta)

    for name, blob in cases.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(blob)
        with pytest.raises(ModelFileError) as info:
            load_encoder(path)
        assert str(path) in str(info.value), name


def test_missing_file_messages(tmp_path, monkeypatch):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_encoder(tmp_path / "nope.safetensors")
    import facestudio.metrics.factor_encoder as fe

    monkeypatch.setattr(fe, "default_encoder_path", lambda: tmp_path / "gone.safetensors")
    with pytest.raises(ModelFileError, match="train_factor_encoder"):
        load_encoder(None)


def test_shipped_encoder_loads_and_has_a_card():
    loaded = load_encoder(None)
    from facestudio.data.synthetic_faces import FACTOR_NAMES

    assert loaded.encoder.names == list(FACTOR_NAMES)
    heldout = loaded.card["heldout"]["factors"]
    # It must actually read the factors that directions are named after.
    assert heldout["glasses"]["accuracy"] > 0.95
    assert heldout["beard"]["accuracy"] > 0.9
    assert heldout["yaw"]["r2"] > 0.8
    assert heldout["smile"]["r2"] > 0.6
