"""face_defects: broken faces made from whole ones, and the shipped face check behind the realism meter."""

import numpy as np
import pytest
import torch

from facestudio.metrics import face_defects as fd


@pytest.fixture(scope="module")
def pairs():
    return fd.render_pairs(48, fd.HELDOUT_SEED)


def test_only_the_eyes_can_be_left_out():
    from facestudio.data.face_factors import sample_factors
    from facestudio.data.synthetic_faces import render_from_factors

    with pytest.raises(ValueError, match="only the eyes"):
        render_from_factors(sample_factors(np.random.default_rng(0)), 64, omit=frozenset({"eye"}))


def test_the_eyeless_twin_differs_from_the_face_only_around_the_eyes(pairs):
    for p in pairs:
        diff = np.abs(p.whole.astype(int) - p.no_eyes).sum(-1) > 0
        rows = np.nonzero(diff)[0]
        assert diff.any() and 0.3 * fd.SIZE < rows.min() and rows.max() < 0.62 * fd.SIZE  # eye height, nowhere else
    # Dark sunglasses can hide the eyes almost entirely; every other face has a found eye mask.
    assert sum(p.eye_mask.any() for p in pairs) >= 0.9 * len(pairs)


def test_every_defect_changes_the_face_and_one_eye_takes_out_a_single_eye(pairs):
    rng = np.random.default_rng(0)
    for kind in fd.DEFECTS:
        for p in pairs[:8]:
            broken = fd.make_broken(p, kind, rng)
            assert broken.shape == p.whole.shape and broken.dtype == np.uint8
            assert np.abs(broken.astype(int) - p.whole).sum() > 0, kind
    p = pairs[0]
    broken = fd.make_broken(p, "one_eye", np.random.default_rng(1))
    changed = np.nonzero(np.abs(broken.astype(int) - p.whole).sum(-1))[1]
    assert (changed < p.centre_x).all() or (changed >= p.centre_x).all()  # one side of the face only
    with pytest.raises(ValueError, match="unknown defect"):
        fd.make_broken(p, "two_noses", rng)


def test_the_shipped_check_reads_whole_faces_above_broken_ones(pairs):
    check = fd.shared_face_check()
    rng = np.random.default_rng(2)
    whole = check.readings(np.stack([p.whole for p in pairs]))
    for kind in ("one_eye", "eye_smudge", "smear"):
        broken = check.readings(np.stack([fd.make_broken(p, kind, rng) for p in pairs]))
        assert fd.auc(whole, broken) > 0.85, kind
    assert np.median(whole) > 0.5


def test_readings_take_any_size_and_refuse_what_is_not_a_picture(pairs):
    check = fd.shared_face_check()
    one = check.readings(pairs[0].whole)
    assert one.shape == (1,) and 0.0 <= one[0] <= 1.0
    faces = np.stack([p.whole for p in pairs[:16]])
    big = torch.nn.functional.interpolate(torch.from_numpy(faces).permute(0, 3, 1, 2).float(), size=(128, 128), mode="bilinear")
    big = big.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.abs(check.readings(big) - check.readings(faces)).mean() < 0.1  # a 128 px face reads as its 64 px self
    assert check.readings(np.zeros((0, 64, 64, 3), np.uint8)).shape == (0,)
    with pytest.raises(ValueError, match="uint8 RGB"):
        check.readings(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(ValueError, match="uint8 RGB"):
        check.readings(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="8 px or more"):
        check.readings(np.zeros((4, 64, 3), np.uint8))


def test_the_start_seed_is_the_face_the_check_is_surest_of(pairs):
    rng = np.random.default_rng(3)
    faces = np.stack([fd.make_broken(pairs[0], "eye_smudge", rng), pairs[1].whole, fd.make_broken(pairs[2], "smear", rng)])
    index, reading = fd.pick_start_seed(faces)
    assert index == 1 and reading == pytest.approx(float(fd.shared_face_check().readings(faces[1])[0]))  # the whole one


def test_the_recipe_trains_and_writes_weights_and_card_that_load(tmp_path, capsys):
    import json

    from trainer.recipes import train_face_check

    out = tmp_path / "check.safetensors"
    assert train_face_check.main(["--faces", "128", "--epochs", "1", "--heldout", "16", "-o", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert len(card["losses"]) == 1 and np.isfinite(card["losses"][0]) and "--faces 128" in card["command"]
    assert set(card["heldout_auc"]) == set(fd.DEFECTS) and all(0.0 <= v <= 1.0 for v in card["heldout_auc"].values())
    assert fd.FaceCheck.load(out).readings(np.zeros((2, 64, 64, 3), np.uint8)).shape == (2,)
    with pytest.raises(ValueError, match="at least 64 faces"):
        fd.train_face_check(n=10, epochs=1)


def test_only_models_of_the_synthetic_faces_at_64_px_or_more_are_judged(monkeypatch, tmp_path):
    assert fd.applies_to({"data": "synthetic"}, image_size=64) and fd.applies_to({"data": " Synthetic "}, image_size=128)
    assert not fd.applies_to({"data": "/photos"}, image_size=64) and not fd.applies_to({}, image_size=64)
    assert not fd.applies_to(None, image_size=64)
    assert not fd.applies_to({"data": "synthetic"}, image_size=32)  # too small to judge
    monkeypatch.setattr(fd, "default_path", lambda: tmp_path / "missing.safetensors")
    assert not fd.applies_to({"data": "synthetic"}, image_size=64)  # no weights installed: greyed out, not an error
