"""Start-up on a machine without a display or without Qt's system libraries (issue 12, §2)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from facestudio.ui import platform_check
from facestudio.ui.platform_check import APT_LINE, XCB_LIBRARIES, platform_problem


def test_headless_platforms_and_other_systems_need_nothing():
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert platform_problem({"QT_QPA_PLATFORM": "minimal:foo=1"}) is None
    assert platform_problem({}, platform="darwin") is None
    assert platform_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_no_display_is_one_sentence():
    message = platform_problem({})
    assert message is not None and "\n" not in message
    assert "DISPLAY" in message and "xvfb-run" in message
    assert "DISPLAY" in platform_problem({"QT_QPA_PLATFORM": "xcb"})


def test_missing_libraries_name_the_apt_packages(monkeypatch):
    gone = {"libxcb-cursor.so.0", "libxkbcommon-x11.so.0"}
    real = platform_check.ctypes.CDLL

    def fake_cdll(name, *args, **kwargs):
        if name in gone:
            raise OSError(f"{name}: cannot open shared object file")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(platform_check.ctypes, "CDLL", fake_cdll)
    assert set(platform_check.missing_libraries()) >= gone
    monkeypatch.setattr(platform_check, "missing_libraries", lambda: sorted(gone))
    message = platform_problem({"DISPLAY": ":1"})
    assert "\n" not in message
    assert "libxcb-cursor.so.0" in message
    assert message.endswith("sudo apt-get install -y libxcb-cursor0 libxkbcommon-x11-0")


def test_apt_line_covers_every_library_once():
    packages = APT_LINE.removeprefix("sudo apt-get install -y ").split()
    assert set(packages) == set(XCB_LIBRARIES.values()) and len(packages) == len(set(packages))


def test_readme_install_step_has_the_apt_line():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert APT_LINE in readme


def test_unreachable_x_server_is_reported():
    if platform_check.missing_libraries():
        pytest.skip("this machine lacks the xcb libraries")
    message = platform_problem({"DISPLAY": ":987"})
    assert message is not None and "':987'" in message and "\n" not in message


@pytest.mark.parametrize("argv", [[], ["open", "nowhere.safetensors"]])
def test_app_without_display_exits_with_one_line_and_no_core_dump(argv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "facestudio", *argv], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2  # an error exit, not a signal (an abort would be -6)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facestudio: no display"), proc.stderr
    assert not list(tmp_path.iterdir())  # no core file, nothing written
