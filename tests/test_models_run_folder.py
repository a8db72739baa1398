"""The run-folder layout (facestudio.models.run_folder): numbering, checkpoint names and rotation,
latest_good, resume targets and which file a run folder opens as."""

from __future__ import annotations

import os
import time

import pytest

from facestudio.errors import ConfigError, ModelFileError
from facestudio.models import run_folder as rd


def test_run_folders_are_numbered_and_checkpoints_rotate(tmp_path):
    a, b = rd.create_run_dir(tmp_path, "x"), rd.create_run_dir(tmp_path, "y")
    assert (a.name, b.name) == ("00000-x", "00001-y")
    assert (a / "samples").is_dir() and (a / "checkpoints").is_dir()
    for step in (5, 10, 15, 20):
        rd.checkpoint_path(a, step).write_bytes(b"ckpt %d" % step)
    rd.publish_latest_good(rd.checkpoint_path(a, 10))
    rd.rotate_checkpoints(a, keep=2)
    assert [p.name for p in rd.list_checkpoints(a)] == ["ckpt_0000015.safetensors", "ckpt_0000020.safetensors"]
    assert (a / "checkpoints" / rd.LATEST_GOOD).read_bytes() == b"ckpt 10"  # survives the rotation
    (a / "checkpoints" / ".ckpt_0000025.safetensors.abc.tmp").write_bytes(b"half")
    assert len(rd.remove_stale_temporaries(a)) == 1
    assert rd.abandon_after(a, 15)[0].parent.name == "abandoned"
    assert [p.name for p in rd.list_checkpoints(a)] == ["ckpt_0000015.safetensors"]


def test_resume_target_must_be_a_run(tmp_path):
    with pytest.raises(ConfigError, match="no run folder"):
        rd.resolve_resume_target(tmp_path / "nope")
    with pytest.raises(ConfigError, match="not a FaceStudio run folder"):
        rd.resolve_resume_target(tmp_path)


def test_a_run_folder_opens_as_its_export_else_latest_good_else_newest_checkpoint(tmp_path):
    run = rd.create_run_dir(tmp_path, "r")
    with pytest.raises(ModelFileError, match="no model.safetensors"):
        rd.model_file_of_run(run)
    assert not rd.has_checkpoint(run) and rd.newest_checkpoint_step(run) == 0
    for step in (900, 1000):
        rd.checkpoint_path(run, step).write_bytes(b"c")
    assert rd.model_file_of_run(run) == rd.checkpoint_path(run, 1000)
    assert rd.has_checkpoint(run) and rd.has_checkpoint(rd.checkpoint_path(run, 900))
    assert rd.newest_checkpoint_step(run) == 1000 and rd.newest_checkpoint_step(rd.checkpoint_path(run, 900)) == 900
    rd.publish_latest_good(rd.checkpoint_path(run, 900))
    assert rd.model_file_of_run(run) == rd.latest_good_path(run)
    assert [p.name for p in rd.checkpoint_files(run)] == ["ckpt_0000900.safetensors", "ckpt_0001000.safetensors"]
    (run / rd.MODEL_FILE).write_bytes(b"m")
    assert rd.model_file_of_run(run) == run / rd.MODEL_FILE
    old = time.time() - 100
    os.utime(run / rd.MODEL_FILE, (old, old))
    assert rd.newest_model_file(run) == rd.checkpoint_path(run, 1000)  # the checkpoint is fresher


def test_sample_grid_names_carry_their_step(tmp_path):
    path = rd.sample_path(tmp_path, 1234)
    assert path.name == "step_0001234.png" and path.parent.name == rd.SAMPLES
    assert rd.sample_step(path.name) == 1234
    assert rd.sample_step("fixed_z.npy") is None and rd.sample_step("step_12.png") is None
