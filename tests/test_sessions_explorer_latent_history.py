"""Undo/redo history of the explorer (Qt-free)."""

import pytest

from facestudio.sessions.explorer.latent_history import MERGE_WINDOW_S, LatentHistory


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_record_undo_redo_walks_the_states():
    h = LatentHistory("a")
    assert not h.can_undo and not h.can_redo
    assert h.record("b") and h.record("c")
    assert h.undo() == "b" and h.undo() == "a"
    assert h.undo() is None and h.current == "a"
    assert h.redo() == "b" and h.redo() == "c" and h.redo() is None


def test_recording_the_current_state_is_not_a_step():
    h = LatentHistory("a")
    assert not h.record("a")
    assert len(h) == 1


def test_recording_after_undo_drops_the_redo_tail():
    h = LatentHistory(0)
    for i in range(1, 4):
        h.record(i)
    h.undo()
    h.undo()
    h.record(9)
    assert not h.can_redo
    assert [h.undo(), h.undo(), h.undo()] == [1, 0, None]


def test_same_merge_key_within_the_window_is_one_step():
    clock = Clock()
    h = LatentHistory(0, clock=clock)
    for v in (1, 2, 3):
        clock.t += 0.1
        h.record(v, merge_key="dim 3")
    assert len(h) == 2 and h.current == 3
    assert h.undo() == 0


def test_merge_stops_at_another_key_or_after_the_window():
    clock = Clock()
    h = LatentHistory(0, clock=clock)
    h.record(1, merge_key="a")
    h.record(2, merge_key="b")
    clock.t += MERGE_WINDOW_S + 0.5
    h.record(3, merge_key="b")
    h.record(4)  # no key: never merges
    assert len(h) == 5


def test_merge_back_to_the_start_removes_the_step():
    h = LatentHistory(0, clock=Clock())
    h.record(1, merge_key="k")
    h.record(0, merge_key="k")
    assert len(h) == 1 and not h.can_undo


def test_undo_breaks_a_merge_run():
    h = LatentHistory(0, clock=Clock())
    h.record(1, merge_key="k")
    h.undo()
    h.record(2, merge_key="k")
    assert h.undo() == 0 and h.redo() == 2


def test_limit_drops_the_oldest_steps():
    h = LatentHistory(0, limit=3)
    for i in range(1, 6):
        h.record(i)
    assert len(h) == 3
    assert [h.undo(), h.undo(), h.undo()] == [4, 3, None]


def test_reset_forgets_everything():
    h = LatentHistory(0)
    h.record(1)
    h.reset(7)
    assert h.current == 7 and not h.can_undo and not h.can_redo


def test_limit_must_allow_an_undo():
    with pytest.raises(ValueError):
        LatentHistory(0, limit=1)
