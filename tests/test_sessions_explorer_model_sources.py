"""Recognising what a person opened, and the snapshots of a run folder (Qt-free)."""

import os

import pytest

from facestudio.errors import ModelFileError
from facestudio.sessions.explorer.model_sources import path_kind, run_snapshots, updated_recent


def test_path_kind(tmp_path):
    assert path_kind(tmp_path) == "run"
    assert path_kind(tmp_path / "m.safetensors") == "model"
    assert path_kind(tmp_path / "netG.PTH") == "foreign"
    assert path_kind(tmp_path / "face.png") == "face"
    assert path_kind(tmp_path / "notes.txt") == "unknown"


def test_run_snapshots_lists_what_load_model_opens_first_then_newest_checkpoints(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    for name in ("step_100", "step_1000", "step_200", ".partial", "latest_good"):
        (tmp_path / "checkpoints" / f"{name}.safetensors").write_bytes(b"x")
    (tmp_path / "model.safetensors").write_bytes(b"x")
    snaps = run_snapshots(tmp_path)
    assert [s.path.name for s in snaps] == ["model.safetensors", "latest_good.safetensors", "step_1000.safetensors",
                                            "step_200.safetensors", "step_100.safetensors"]
    assert "checkpoint step_1000" in snaps[2].label and "healthy" in snaps[1].label
    (tmp_path / "model.safetensors").unlink()
    (tmp_path / "checkpoints" / "latest_good.safetensors").unlink()
    assert run_snapshots(tmp_path)[0].path.name == "step_1000.safetensors"


def test_run_snapshots_of_an_unrelated_folder_says_so(tmp_path):
    with pytest.raises(ModelFileError, match="no model.safetensors"):
        run_snapshots(tmp_path)


def test_updated_recent_moves_to_front_and_drops_vanished(tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    a.write_bytes(b"")
    b.write_bytes(b"")
    recent = updated_recent([str(a), str(tmp_path / "gone.safetensors")], b)
    assert recent == [str(b), str(a)]
    assert updated_recent(recent, a) == [str(a), str(b)]
    many = [str(tmp_path / f"m{i}.safetensors") for i in range(20)]
    for p in many:
        open(p, "wb").close()
    assert len(updated_recent(many, a, limit=5)) == 5
    assert os.path.isabs(updated_recent([], "rel.safetensors")[0])
