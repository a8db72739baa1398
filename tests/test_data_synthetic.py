"""The built-in synthetic face data set: determinism, labels, variety, sizes, cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facestudio.data import FACTOR_NAMES, FACTORS, load_dataset, to_float
from facestudio.data import synthetic_faces as sf


def test_render_face_is_deterministic_by_seed():
    a, fa = sf.render_face(7, 64)
    b, fb = sf.render_face(7, 64)
    c, _ = sf.render_face(8, 64)
    assert a.dtype == np.uint8 and a.shape == (64, 64, 3)
    assert np.array_equal(a, b) and fa == fb
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_sizes(size):
    img, _ = sf.render_face(3, size)
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    assert 20 < img.mean() < 235 and img.std() > 15


def test_factor_specs_and_vector_ranges():
    names = [f.name for f in FACTORS]
    assert tuple(names) == FACTOR_NAMES and len(set(names)) == len(names)
    kinds = {f.name: f.kind for f in FACTORS}
    for name in ("glasses", "beard"):
        assert kinds[name] == "binary"
    for name in ("smile", "hair_darkness", "skin_tone", "yaw", "light"):
        assert kinds[name] == "continuous"
    for name in ("hair_style", "face_shape", "eye_shape"):
        assert kinds[name] == "categorical"
    rng = np.random.default_rng(0)
    vecs = np.stack([sf.factor_vector(sf.sample_factors(rng)) for _ in range(400)])
    assert vecs.dtype == np.float32 and vecs.shape == (400, len(FACTORS))
    for i, spec in enumerate(FACTORS):
        col = vecs[:, i]
        assert col.min() >= spec.low - 1e-6 and col.max() <= spec.high + 1e-6, spec.name
        if spec.kind == "binary":
            assert set(np.unique(col)) == {0.0, 1.0}, spec.name
        elif spec.kind == "categorical":
            assert np.all(col == np.round(col)), spec.name
            assert len(np.unique(col)) == spec.classes, spec.name  # every class occurs
        else:
            assert col.std() > 0.1 * (spec.high - spec.low), spec.name
    assert sf.FACTOR_INDEX["yaw"] == FACTOR_NAMES.index("yaw")


def test_faces_vary():
    imgs = np.stack([sf.render_face(s, 32)[0] for s in range(64)]).astype(np.float32)
    flat = imgs.reshape(64, -1)
    d = np.sqrt(((flat[:, None] - flat[None]) ** 2).mean(-1))
    mean_pairwise = d[np.triu_indices(64, 1)].mean()
    assert mean_pairwise > 40, mean_pairwise
    assert d[np.triu_indices(64, 1)].min() > 5


def test_render_from_factors_varies_one_factor():
    _, f = sf.render_face(11, 64)
    base = sf.render_from_factors(f, 64)
    assert np.array_equal(base, sf.render_face(11, 64)[0])
    for key, value in (("glasses", 1 - f["glasses"]), ("smile", 1.0 - f["smile"]), ("yaw", -0.9 if f["yaw"] > 0 else 0.9),
                       ("hair_style", (f["hair_style"] + 3) % 10), ("light", -f["light"] or 1.0)):
        other = sf.render_from_factors({**f, key: value}, 64)
        diff = np.abs(other.astype(int) - base.astype(int))
        assert diff.mean() > 0.3, key
        assert diff.mean() < 60, key  # the rest of the face is kept


def test_synthetic_faces_prefix_and_labels(monkeypatch, tmp_path):
    monkeypatch.setenv("FACESTUDIO_CACHE", str(tmp_path))
    small, ls = sf.synthetic_faces(5, 32, seed=3, workers=1, cache=False)
    big, lb = sf.synthetic_faces(12, 32, seed=3, workers=1, cache=False)
    assert small.dtype == torch.uint8 and small.shape == (5, 3, 32, 32)
    assert ls.dtype == np.float32 and ls.shape == (5, len(FACTORS))
    assert torch.equal(big[:5], small) and np.array_equal(lb[:5], ls)
    img, fac = sf.render_face(sf.face_seed(3, 4), 32)
    assert np.array_equal(small[4].permute(1, 2, 0).numpy(), img)
    assert np.array_equal(ls[4], sf.factor_vector(fac))
    other, _ = sf.synthetic_faces(5, 32, seed=4, workers=1, cache=False)
    assert not torch.equal(other, small)


def test_pool_rendering_matches_serial():
    a, la = sf.render_faces(240, 32, seed=1, workers=1)
    b, lb = sf.render_faces(240, 32, seed=1, workers=2)
    assert np.array_equal(a, b) and np.array_equal(la, lb)


def test_cache_round_trip_and_prefix_reuse(monkeypatch, tmp_path):
    monkeypatch.setenv("FACESTUDIO_CACHE", str(tmp_path))
    x, lx = sf.synthetic_faces(20, 32, seed=5, workers=1)
    path = sf._cache_path(20, 32, 5)
    assert path.is_file()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]

    def boom(*a, **k):
        raise AssertionError("should have come from the cache")

    monkeypatch.setattr(sf, "render_faces", boom)
    y, ly = sf.synthetic_faces(20, 32, seed=5)
    assert torch.equal(x, y) and np.array_equal(lx, ly)
    z, lz = sf.synthetic_faces(8, 32, seed=5)  # a prefix of the cached larger set
    assert torch.equal(z, x[:8]) and np.array_equal(lz, lx[:8])


@pytest.mark.parametrize("damage", ["garbage", "truncate", "wrong_shape"])
def test_corrupt_cache_is_rendered_again(monkeypatch, tmp_path, damage):
    monkeypatch.setenv("FACESTUDIO_CACHE", str(tmp_path))
    x, lx = sf.synthetic_faces(6, 32, seed=9, workers=1)
    path = sf._cache_path(6, 32, 9)
    if damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        np.savez(path, images=np.zeros((6, 16, 16, 3), np.uint8), labels=lx, version=np.int64(sf.RENDERER_VERSION),
                 factor_names=np.array(FACTOR_NAMES))
    y, ly = sf.synthetic_faces(6, 32, seed=9, workers=1)
    assert torch.equal(x, y) and np.array_equal(lx, ly)
    # and the cache was repaired
    with np.load(path) as z:
        assert z["images"].shape == (6, 32, 32, 3)


def test_load_dataset_synthetic_and_to_float():
    ds = load_dataset("synthetic", size=32, n=6, seed=2)
    assert ds.images.shape == (6, 3, 32, 32) and ds.images.dtype == torch.uint8
    assert ds.labels.shape == (6, len(FACTORS)) and ds.label_names == list(FACTOR_NAMES)
    assert ds.name == "synthetic" and ds.skipped == [] and len(ds) == 6
    flipped = load_dataset("synthetic", size=32, n=6, seed=2, flip=True)
    assert len(flipped) == 12 and torch.equal(flipped.images[6:], ds.images.flip(-1))
    yaw = FACTOR_NAMES.index("yaw")
    assert np.allclose(flipped.labels[6:, yaw], -ds.labels[:, yaw])
    f = to_float(ds.images)
    assert f.dtype == torch.float32 and f.min() >= -1 and f.max() <= 1
    assert to_float(torch.tensor([0, 255], dtype=torch.uint8)).tolist() == [-1.0, 1.0]


def test_preparation_reports_real_progress_then_a_cache_hit_at_once(monkeypatch, tmp_path):
    monkeypatch.setenv("FACESTUDIO_CACHE", str(tmp_path))
    seen: list[tuple[int, int]] = []
    load_dataset("synthetic", 32, 300, seed=5, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (300, 300) and len(seen) >= 2  # chunks of faces as they are drawn
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:])) and {t for _, t in seen} == {300}
    seen.clear()
    load_dataset("synthetic", 32, 300, seed=5, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(300, 300)]


def test_the_command_line_prints_preparation_progress_by_quarters():
    import io

    from facestudio.cli.train import PreparationReport

    out = io.StringIO()
    report = PreparationReport(out)
    for done in range(0, 1001, 50):
        report(done, 1000)
    lines = out.getvalue().splitlines()
    assert lines[0] == "preparing the data: 0 of 1,000 images (0%)" and lines[-1].endswith("1,000 of 1,000 images (100%)")
    assert len(lines) == 5
