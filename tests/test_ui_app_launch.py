"""`facestudio [--screenshot OUT.png] [open PATH]`."""

import argparse
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from facestudio.models import ModelConfig, new_bundle, save_model
from facestudio.cli import open_app
from facestudio.ui import app_launch


def tiny_model(path):
    save_model(new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="shot"), seed=0), path)
    return path


def test_open_takes_an_optional_path():
    p = argparse.ArgumentParser()
    open_app.add_arguments(p)
    assert p.parse_args([]).path is None
    assert p.parse_args(["m.safetensors"]).path == "m.safetensors"


def test_screenshot_waits_for_the_face_then_grabs_the_window(qtbot, tmp_path):
    from facestudio.ui.explorer.explorer_window import ExplorerWindow

    out = tmp_path / "shot.png"
    window = ExplorerWindow(tiny_model(tmp_path / "m.safetensors"), gallery_folder=tmp_path / "gallery")
    qtbot.addWidget(window)
    window.resize(1000, 640)
    taker = app_launch.ScreenshotTaker(window, out, finished=lambda: None)
    window.show()
    qtbot.waitUntil(lambda: taker.done, timeout=30000)
    assert taker.ok and window.face_view.painted_frame() >= 1
    assert window.variations.is_stale() is False and not window.directions_panel.is_busy()
    window.close()
    with Image.open(out) as im:
        assert im.size[0] >= 800 and im.size[1] >= 500
        pixels = np.asarray(im.convert("RGB").resize((64, 40))).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 20  # a drawn window, not a blank


def test_cli_screenshot_of_open_path(tmp_path):
    out = tmp_path / "cli.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    model = tiny_model(tmp_path / "m.safetensors")
    done = subprocess.run([sys.executable, "-m", "facestudio", "--screenshot", str(out), "open", str(model)],
                          capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr
    assert out.is_file() and Image.open(out).size[0] > 0
