"""The Morph Studio's keyframes and path settings, without Qt."""

import numpy as np
import pytest

from facestudio.latent.interpolation import keyframe_path
from facestudio.sessions.morph.morph_session import MAX_KEYFRAMES, MorphChange, MorphInputError, MorphSession, key_label

NZ = 8


def z(i: int) -> np.ndarray:
    return np.random.default_rng(i).standard_normal(NZ).astype(np.float32)


@pytest.fixture
def morph():
    m = MorphSession(NZ)
    m.events = []
    m.subscribe(m.events.append)
    return m


def test_keys_in_order_and_each_change_says_so(morph):
    a, b, c = (morph.add(z(i), f"seed {i}") for i in range(3))
    assert [k.source for k in morph.keyframes] == ["seed 0", "seed 1", "seed 2"]
    assert morph.events == [MorphChange.KEYS] * 3
    assert morph.move(c.id, -2) and [k.id for k in morph.keyframes] == [c.id, a.id, b.id]
    assert not morph.move(c.id, -1)  # already first: nothing, no event
    assert len(morph.events) == 4
    morph.reorder([b.id, a.id, c.id])
    morph.remove([a.id])
    assert [k.id for k in morph.keyframes] == [b.id, c.id]
    with pytest.raises(ValueError):
        morph.reorder([b.id])
    morph.clear()
    assert len(morph) == 0 and morph.path().shape == (0, NZ)


def test_keys_are_read_only_copies(morph):
    src = z(1)
    key = morph.add(src, "x")
    src[:] = 0
    assert not np.array_equal(key.latent, src) and not key.latent.flags.writeable
    morph.latents()[0][:] = 5  # a copy
    assert not np.any(morph.keyframes[0].latent == 5)


def test_path_follows_the_settings(morph):
    morph.add(z(1), "a")
    assert morph.path().shape == (1, NZ)  # one key: the face itself
    morph.add(z(2), "b")
    morph.events.clear()
    morph.set_settings(frames_per_segment=10, interpolation="lerp", easing="ease-in-out", loop=True)
    assert morph.events == [MorphChange.SETTINGS]
    expected = keyframe_path([z(1), z(2)], frames_per_segment=10, mode="lerp", easing="ease-in-out", loop=True)
    np.testing.assert_array_equal(morph.path(), expected)
    assert morph.key_frame(1) == 10
    morph.set_settings(loop=True)  # unchanged: no event
    assert morph.events == [MorphChange.SETTINGS]


def test_refused_faces_change_nothing(morph):
    morph.add(z(1), "a")
    for bad, words in ((np.zeros(NZ + 1), "needs 8 numbers"), (np.full(NZ, np.nan), "NaN")):
        with pytest.raises(MorphInputError, match=words):
            morph.add(bad, "face.png")
        with pytest.raises(MorphInputError, match=words):
            morph.replace_all([z(2), bad], "gallery")
    with pytest.raises(MorphInputError, match="at most"):
        morph.replace_all([z(i) for i in range(MAX_KEYFRAMES + 1)], "gallery")
    with pytest.raises(MorphInputError, match="Frames per step"):
        morph.set_settings(frames_per_segment=1)
    with pytest.raises(MorphInputError, match="Unknown easing"):
        morph.set_settings(easing="wobble")
    assert len(morph) == 1 and morph.events == [MorphChange.KEYS]
    with pytest.raises(MorphInputError, match="Open a model"):
        MorphSession().add(z(1), "seed 1")


def test_a_model_of_another_latent_size_drops_the_keys(morph):
    morph.add(z(1), "a")
    assert morph.set_latent_size(NZ) and len(morph) == 1
    assert not morph.set_latent_size(NZ * 2) and len(morph) == 0 and morph.events[-1] is MorphChange.KEYS


def test_key_labels():
    assert [key_label(i) for i in (0, 1, 25, 26)] == ["A", "B", "Z", "27"]


def test_a_w_plus_key_puts_the_path_in_w_plus():
    shape = (3, NZ)
    m = MorphSession(NZ)
    with pytest.raises(MorphInputError):
        m.add(np.ones(shape, np.float32), "styled face")  # no style model yet
    m.set_style_space(shape, lambda z: np.repeat(z[None] * 2.0, 3, axis=0))  # a stand-in mapping
    m.add(z(1), "seed 1")
    assert not m.in_wplus and m.path().shape == (1, NZ)
    key = np.arange(3 * NZ, dtype=np.float32).reshape(shape)
    m.add(key, "styled face")
    m.set_settings(frames_per_segment=4, interpolation="slerp")  # spherical only applies in Z
    path = m.path()
    assert m.in_wplus and path.shape == (5, 3, NZ)
    np.testing.assert_allclose(path[0], np.repeat(z(1)[None] * 2.0, 3, axis=0), rtol=1e-6)
    np.testing.assert_allclose(path[4], key)
    np.testing.assert_allclose(path[2], (path[0] + path[4]) / 2, rtol=1e-5, atol=1e-5)  # straight in W+
    m.set_style_space((4, NZ), lambda z: np.repeat(z[None], 4, axis=0))  # another style model: W+ keys go
    assert len(m) == 0
