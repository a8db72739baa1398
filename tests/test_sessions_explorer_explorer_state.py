"""The explorer's face and gestures, without Qt."""

import numpy as np
import pytest

from facestudio.latent.sampling import latent_for_seed
from facestudio.models.bundle import DirectionSet
from facestudio.sessions.explorer.explorer_state import ExplorerSession, FaceState, face_for_seed

NZ = 16


@pytest.fixture
def session():
    return ExplorerSession(NZ, seed=5)


def test_starts_on_the_seed(session):
    assert np.array_equal(session.state.base, latent_for_seed(5, NZ))
    assert session.state.seed == 5 and not session.state.edited
    assert not session.history.can_undo


def test_states_are_immutable_and_compare_by_value():
    a = face_for_seed(1, NZ)
    b = face_for_seed(1, NZ)
    assert a == b and a != face_for_seed(2, NZ)
    with pytest.raises(ValueError):
        a.base[0] = 3.0
    assert FaceState(a.base, a.origin, amounts=(("sefa", "0", 0.0),)) == FaceState(a.base, a.origin)


def test_a_drag_is_one_undo_step(session):
    start = session.state
    for v in np.linspace(0, 2, 50):
        session.set_dimension(3, v)
    assert session.dirty
    assert session.commit()
    assert len(session.history) == 2
    assert session.state.base[3] == np.float32(2.0) and session.state.edited
    assert session.undo() == start
    assert session.redo().base[3] == np.float32(2.0)


def test_undo_during_a_live_edit_drops_it(session):
    start = session.state
    session.set_dimension(0, 3.0)
    assert session.undo() == start and not session.history.can_undo


def test_nudges_on_one_dimension_merge(session):
    for v in (0.1, 0.2, 0.3):
        session.set_dimension(2, v)
        session.commit(merge_key=("dimension", 2))
    assert len(session.history) == 2


def test_seed_steps_keep_psi_and_directions(session):
    session.set_psi(0.7)
    session.set_amount("sefa", "0", 1.5)
    session.commit()
    session.step_seed(1)
    assert session.state.seed == 6 and session.state.psi == pytest.approx(0.7)
    assert session.state.amount("sefa", "0") == 1.5
    session.step_seed(-2)
    assert session.state.seed == 4


def test_randomise_and_new_seeds_skip_locked_dimensions(session):
    session.set_dimension(4, 3.25)
    session.commit()
    session.toggle_lock(4)
    session.randomise(np.random.default_rng(0))
    assert session.state.base[4] == np.float32(3.25)
    assert session.state.seed is None  # a mix of seeds is no single seed
    session.go_to_seed(9)
    assert session.state.base[4] == np.float32(3.25)
    session.toggle_lock(4)
    session.go_to_seed(9)
    assert np.array_equal(session.state.base, latent_for_seed(9, NZ)) and session.state.seed == 9


def test_reset_one_and_all(session):
    origin = session.state.origin.copy()
    session.set_dimension(1, 2.0)
    session.set_dimension(2, -2.0)
    session.commit()
    session.reset_dimension(1)
    assert session.state.base[1] == origin[1] and session.state.base[2] == np.float32(-2.0)
    session.toggle_lock(2)
    session.reset_all()
    assert session.state.base[2] == np.float32(-2.0)  # locked: kept
    session.toggle_lock(2)
    session.reset_all()
    assert np.array_equal(session.state.base, origin) and not session.state.edited


def test_effective_latent_adds_directions(session):
    vecs = np.eye(2, NZ, dtype=np.float32)
    session.set_directions([DirectionSet("sefa", ["a", "b"], vecs)])
    session.set_amount("sefa", "b", 2.0)
    session.set_amount("pca", "missing", 5.0)  # not in this model: ignored
    z = session.effective_latent()
    expected = session.state.base.copy()
    expected[1] += 2.0
    assert np.allclose(z, expected)
    session.reset_directions()
    assert session.state.amounts == ()


def test_set_face_becomes_the_reset_target_and_checks_size(session):
    z = np.arange(NZ, dtype=np.float32)
    session.set_face(z, psi=0.5)
    assert np.array_equal(session.state.origin, z) and session.state.psi == 0.5 and session.state.seed is None
    with pytest.raises(ValueError):
        session.set_face(np.zeros(NZ + 1, dtype=np.float32))


def test_variations_are_near_and_respect_locks(session):
    session.toggle_lock(0)
    bases = session.variation_bases(8, 0.3, seed=1)
    assert bases.shape == (8, NZ) and bases.dtype == np.float32
    assert np.all(bases[:, 0] == session.state.base[0])
    spread = np.abs(bases - session.state.base).mean()
    assert 0.1 < spread < 0.5
    assert np.array_equal(bases, session.variation_bases(8, 0.3, seed=1))


def test_history_survives_a_model_with_the_same_nz(session):
    session.go_to_seed(11)
    assert session.change_model(NZ, {})
    assert session.history.can_undo and session.state.seed == 11
    assert not session.change_model(NZ * 2, {})
    assert session.nz == NZ * 2 and not session.history.can_undo
    assert session.state.seed == 11  # starts over on the last seed


def test_psi_is_clamped(session):
    session.set_psi(9.0)
    assert session.state.psi == 2.0


def test_a_saved_face_brings_its_direction_sliders_back_exactly(session):
    rng = np.random.default_rng(3)
    vecs = np.linalg.qr(rng.standard_normal((NZ, 3)))[0].T.astype(np.float32)
    session.set_directions([DirectionSet("sefa", ["a", "b", "c"], vecs)])
    for trial in range(20):
        session.go_to_seed(trial)
        session.set_amount("sefa", "b", float(rng.uniform(-5, 5)))
        session.set_amount("sefa", "c", float(rng.uniform(-5, 5)))
        session.commit()
        saved, amounts = session.effective_latent(), session.state.amount_map()
        session.go_to_seed(999)
        session.set_face_with_amounts(saved, amounts, psi=0.8)
        assert np.array_equal(session.effective_latent(), saved)
        assert session.state.amount_map() == amounts and session.state.psi == 0.8


def test_a_saved_face_with_unknown_directions_is_baked(session):
    z = latent_for_seed(4, NZ) + 1
    session.set_face_with_amounts(z, {("attribute", "smile"): 2.0})
    assert session.state.amounts == () and np.array_equal(session.effective_latent(), z)


def test_undo_brings_the_seed_back(session):
    session.go_to_seed(20)
    session.go_to_seed(21)
    session.undo()
    assert session.last_seed == 20
    session.redo()
    assert session.last_seed == 21


def test_each_change_tells_the_views_what_it_touched():
    from facestudio.sessions.explorer.explorer_state import Change

    s = ExplorerSession(8, seed=3)
    seen = []
    s.subscribe(seen.append)
    s.set_dimension(2, 1.5)
    assert seen == [Change.LIVE]
    assert s.commit(merge_key=("dimension", 2)) and seen[-1] is Change.COMMITTED
    n = len(seen)
    assert not s.commit() and len(seen) == n  # nothing new: no event
    s.go_to_seed(9)
    assert seen[-1] is Change.FACE
    s.set_locked(1, True)
    assert seen[-1] is Change.LOCK and s.locked == {1}
    s.unlock_all()
    assert seen[-1] is Change.LOCKS_CLEARED and not s.locked
    s.undo()
    assert seen[-1] is Change.FACE and s.state.seed == 3
    n = len(seen)
    s.redo()
    s.redo()  # the second has nothing to redo: no event
    assert seen[n:] == [Change.FACE]
    s.set_amount("pca", "PCA 1", 2.0)
    s.commit()
    s.reset_direction("pca", "PCA 1")
    assert seen[-1] is Change.FACE and s.state.amounts == () and s.history.can_undo
    s.unsubscribe(seen.append)
    n = len(seen)
    s.randomise(np.random.default_rng(0))
    s.step_seed(1)
    assert len(seen) == n  # unsubscribed


def test_one_latent_check_for_every_way_a_face_arrives():
    from facestudio.errors import FaceStudioError

    s = ExplorerSession(8, seed=0)
    assert s.check_latent(np.ones(8, np.float64), "x").dtype == np.float32
    with pytest.raises(FaceStudioError, match="latent size of 12; the open model uses 8"):
        s.check_latent(np.zeros(12), "face.png")
    with pytest.raises(FaceStudioError, match="not finite"):
        s.check_latent(np.full(8, np.nan), "face.png")
    with pytest.raises(FaceStudioError, match="2x8"):
        s.check_latent(np.zeros((2, 8)), "face.png")
