"""One documented place for training runs, shared by the app and the command line (issue 12 §3.7)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from facestudio import app_folders
from facestudio.app_folders import data_home, default_runs_dir, gallery_dir


def test_the_data_folder_names_facestudio_once(monkeypatch, tmp_path):
    monkeypatch.delenv("FACESTUDIO_HOME", raising=False)
    monkeypatch.setattr(app_folders.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert data_home() == tmp_path / "share" / "FaceStudio"
    assert default_runs_dir() == tmp_path / "share" / "FaceStudio" / "runs"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_runs_dir().parts[-4:] == (".local", "share", "FaceStudio", "runs")
    monkeypatch.setattr(app_folders.sys, "platform", "darwin")
    assert default_runs_dir().parts[-4:] == ("Library", "Application Support", "FaceStudio", "runs")
    monkeypatch.setattr(app_folders.sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    assert default_runs_dir() == tmp_path / "Roaming" / "FaceStudio" / "runs"
    monkeypatch.setenv("FACESTUDIO_HOME", str(tmp_path / "portable"))
    assert default_runs_dir() == tmp_path / "portable" / "runs"


def test_a_gallery_at_the_old_doubled_place_is_still_used(monkeypatch, tmp_path):
    monkeypatch.delenv("FACESTUDIO_HOME", raising=False)
    monkeypatch.setattr(app_folders.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert gallery_dir() == tmp_path / "FaceStudio" / "gallery"
    old = tmp_path / "FaceStudio" / "FaceStudio" / "gallery"
    old.mkdir(parents=True)
    (old / "gallery.json").write_text("{}")
    assert gallery_dir() == old
    (tmp_path / "FaceStudio" / "gallery").mkdir()  # once the new one exists, it wins
    assert gallery_dir() == tmp_path / "FaceStudio" / "gallery"


def test_the_folder_module_needs_no_qt():
    code = "import sys, facestudio.app_folders, facestudio.cli.train; print('PySide6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_cli_trains_into_the_shared_runs_folder_by_default(tmp_path, monkeypatch, capsys):
    from facestudio.cli import main

    monkeypatch.setenv("FACESTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    faces = tmp_path / "faces"
    faces.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(faces / f"{i}.png")
    flags = ["--data", "faces", "--size", "32", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "4",
             "--threads", "1", "--quiet", "--max-steps", "1", "--name", "here"]
    assert main(["train", *flags]) == 0
    assert (default_runs_dir() / "00000-here" / "model.safetensors").is_file()
    assert not (tmp_path / "runs").exists()
    assert str(default_runs_dir()) in capsys.readouterr().err


def test_the_training_room_offers_the_same_folder(qtbot, tmp_path, monkeypatch):
    from facestudio.ui.training.training_panel import TrainingWindow

    monkeypatch.setenv("FACESTUDIO_HOME", str(tmp_path / "home"))
    room = TrainingWindow()
    qtbot.addWidget(room)
    try:
        assert room.panel.setup.runs_dir() == str(default_runs_dir())
        assert "FaceStudio/FaceStudio" not in room.panel.setup.runs_dir()
    finally:
        room.close()
    assert room.is_shut_down and room.panel.training.thread.isFinished()
