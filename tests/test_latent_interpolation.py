"""lerp/slerp, easing and keyframed paths: exact ends, exact frame counts, safe geometry."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from facestudio.latent.interpolation import EASINGS, get_easing, keyframe_path, keyframe_times, lerp, slerp
from facestudio.latent.sampling import latent_for_seed


def _pair(nz=64):
    return latent_for_seed(1, nz), latent_for_seed(2, nz)


# ---------------------------------------------------------------- lerp / slerp
@pytest.mark.parametrize("fn", [lerp, slerp])
def test_endpoints_are_bit_exact(fn):
    a, b = _pair()
    assert np.array_equal(fn(a, b, 0.0), a)
    assert np.array_equal(fn(a, b, 1.0), b)
    path = fn(a, b, np.array([0.0, 0.3, 1.0]))
    assert path.shape == (3, 64) and path.dtype == np.float32
    assert np.array_equal(path[0], a) and np.array_equal(path[-1], b)


def test_slerp_keeps_the_radius_where_lerp_cuts_inside():
    a, b = _pair(100)
    b = b * (np.linalg.norm(a) / np.linalg.norm(b))  # equal lengths
    t = np.linspace(0, 1, 11)
    s_norms = np.linalg.norm(slerp(a, b, t), axis=1)
    np.testing.assert_allclose(s_norms, np.linalg.norm(a), rtol=1e-5)
    l_norms = np.linalg.norm(lerp(a, b, t), axis=1)
    assert l_norms[5] < 0.8 * s_norms[5]  # two random 100-d latents are nearly orthogonal


def test_slerp_on_the_unit_circle():
    mid = slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0.5)
    np.testing.assert_allclose(mid, [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-7)
    third = slerp(np.array([2.0, 0.0]), np.array([0.0, 2.0]), 1 / 3)
    np.testing.assert_allclose(third, [2 * np.cos(np.pi / 6), 2 * np.sin(np.pi / 6)], atol=1e-6)


def test_slerp_near_parallel_is_finite_and_matches_the_chord():
    a = latent_for_seed(3, 32)
    b = (a.astype(np.float64) * (1 + 1e-9)).astype(np.float32)
    b[0] = np.nextafter(b[0], np.float32(10))
    path = slerp(a, b, np.linspace(0, 1, 9))
    assert np.all(np.isfinite(path))
    np.testing.assert_allclose(path, lerp(a, b, np.linspace(0, 1, 9)), atol=1e-5)
    assert np.all(np.isfinite(slerp(a, a, np.linspace(0, 1, 5))))
    np.testing.assert_array_equal(slerp(a, a, 0.5), a)


def test_slerp_antiparallel_turns_through_a_fixed_orthogonal_plane():
    a = latent_for_seed(4, 16)
    path = slerp(a, -a, np.linspace(0, 1, 9))
    assert np.all(np.isfinite(path))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-5)
    assert abs(np.dot(path[4], a)) < 1e-4 * np.dot(a, a)  # half way: a right angle from both ends
    np.testing.assert_array_equal(path, slerp(a, -a, np.linspace(0, 1, 9)))  # deterministic
    nearly = -a.copy()
    nearly[0] += 1e-7
    assert np.all(np.isfinite(slerp(a, nearly, np.linspace(0, 1, 9))))


def test_slerp_with_a_zero_endpoint_falls_back_to_lerp():
    a = latent_for_seed(5, 8)
    zero = np.zeros(8, np.float32)
    np.testing.assert_allclose(slerp(zero, a, 0.25), 0.25 * a, rtol=1e-6)


@settings(max_examples=150, deadline=None)
@given(
    arrays(np.float32, 6, elements=st.floats(-50, 50, width=32)),
    arrays(np.float32, 6, elements=st.floats(-50, 50, width=32)),
    st.floats(0, 1),
)
def test_slerp_length_moves_linearly_for_any_pair(a, b, t):
    out = slerp(a, b, t)
    assert out.shape == (6,) and np.all(np.isfinite(out))
    na, nb = np.linalg.norm(a.astype(np.float64)), np.linalg.norm(b.astype(np.float64))
    if min(na, nb) > 1e-6:
        assert abs(np.linalg.norm(out.astype(np.float64)) - ((1 - t) * na + t * nb)) <= 1e-4 * (1 + na + nb)


@pytest.mark.parametrize("fn", [lerp, slerp])
def test_bad_inputs_are_refused(fn):
    a = np.zeros(4, np.float32)
    with pytest.raises(ValueError):
        fn(a, np.zeros(5, np.float32), 0.5)
    with pytest.raises(ValueError):
        fn(a, np.array([np.nan, 0, 0, 0], np.float32), 0.5)
    with pytest.raises(ValueError):
        fn(a, a, np.zeros((2, 2)))
    with pytest.raises(ValueError):
        fn(np.zeros((2, 4)), np.zeros((2, 4)), 0.5)


# ---------------------------------------------------------------- easing
@pytest.mark.parametrize("name", sorted(EASINGS))
def test_easings_fix_the_ends_and_never_go_back(name):
    ease = get_easing(name)
    t = np.linspace(0, 1, 101)
    y = ease(t)
    assert y[0] == 0.0 and y[-1] == 1.0
    assert np.all(np.diff(y) >= -1e-12)


def test_easing_shapes():
    t = np.array([0.25, 0.5, 0.75])
    np.testing.assert_allclose(get_easing("ease-in-out")(t), [0.15625, 0.5, 0.84375])
    np.testing.assert_allclose(get_easing("cosine")(t)[1], 0.5)
    assert get_easing("ease-in")(t)[0] < 0.25 < get_easing("ease-out")(t)[0]
    with pytest.raises(ValueError, match="ease-in-out"):
        get_easing("bouncy")


# ---------------------------------------------------------------- keyframe paths
@pytest.mark.parametrize("n_keys", [2, 3, 5])
@pytest.mark.parametrize("frames", [2, 7, 60, 61])
@pytest.mark.parametrize("mode", ["slerp", "lerp"])
def test_total_frames_is_exact_and_ends_are_the_keys(n_keys, frames, mode):
    keys = [latent_for_seed(s, 12) for s in range(n_keys)]
    path = keyframe_path(keys, total_frames=frames, mode=mode, easing="ease-in-out")
    assert path.shape == (frames, 12) and path.dtype == np.float32
    assert np.array_equal(path[0], keys[0]) and np.array_equal(path[-1], keys[-1])


def test_frames_per_segment_puts_every_key_on_its_frame():
    keys = [latent_for_seed(s, 12) for s in range(4)]
    path = keyframe_path(keys, frames_per_segment=5)
    assert path.shape == (16, 12)
    for i, key in enumerate(keys):
        assert np.array_equal(path[5 * i], key)


def test_linear_lerp_steps_are_even_and_easing_slows_the_ends():
    a, b = _pair(8)
    even = keyframe_path([a, b], total_frames=11, mode="lerp")
    steps = np.linalg.norm(np.diff(even.astype(np.float64), axis=0), axis=1)
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-4)
    eased = keyframe_path([a, b], total_frames=11, mode="lerp", easing="ease-in-out")
    e_steps = np.linalg.norm(np.diff(eased.astype(np.float64), axis=0), axis=1)
    assert e_steps[0] < 0.5 * e_steps[5] and e_steps[-1] < 0.5 * e_steps[5]


def test_loop_cycles_without_repeating_the_first_frame():
    keys = [latent_for_seed(s, 10) for s in range(3)]
    path = keyframe_path(keys, total_frames=30, mode="lerp", loop=True)
    assert path.shape == (30, 10)
    assert np.array_equal(path[0], keys[0]) and not np.allclose(path[-1], keys[0])
    assert np.array_equal(path[10], keys[1]) and np.array_equal(path[20], keys[2])
    closing = np.concatenate([path, path[:1]]).astype(np.float64)
    steps = np.linalg.norm(np.diff(closing, axis=0), axis=1)
    last_segment = steps[20:]  # the way back to the first key: even steps, wrap included
    np.testing.assert_allclose(last_segment, last_segment.mean(), rtol=1e-4)
    assert keyframe_path(keys, frames_per_segment=4, loop=True).shape == (12, 10)


def test_keyframe_times_cover_the_path_evenly():
    segment, local = keyframe_times(2, 5)
    assert segment.tolist() == [0, 0, 1, 1, 1] and local.tolist() == [0.0, 0.5, 0.0, 0.5, 1.0]


def test_keyframe_path_refuses_bad_requests():
    keys = [latent_for_seed(s, 6) for s in range(2)]
    with pytest.raises(ValueError):
        keyframe_path(keys)
    with pytest.raises(ValueError):
        keyframe_path(keys, frames_per_segment=3, total_frames=4)
    with pytest.raises(ValueError):
        keyframe_path(keys, total_frames=1)
    with pytest.raises(ValueError):
        keyframe_path(keys[:1], total_frames=5)
    with pytest.raises(ValueError):
        keyframe_path(keys, total_frames=5, mode="cubic")
    with pytest.raises(ValueError):
        keyframe_path([keys[0], np.zeros(7, np.float32)], total_frames=5)
    with pytest.raises(ValueError):
        keyframe_path(keys, frames_per_segment=0)
    with pytest.raises(ValueError):
        keyframe_path(keys, total_frames=5, easing=lambda t: t * np.nan)
