"""GIF / MP4 / PNG frames / contact sheets: readable back, atomic, cancellable."""

import sys

import numpy as np
import pytest
from PIL import Image

from facestudio.errors import ConfigError, FaceStudioError
from facestudio.render.export import (
    contact_sheet,
    export_frames,
    export_gif,
    export_kind,
    export_mp4,
    export_png_frames,
    gif_durations,
    mp4_available,
    mp4_installed,
)


def _frames(n=6, h=24, w=32):
    """Distinct frames: a bright bar moving across a gradient."""
    frames = np.zeros((n, h, w, 3), np.uint8)
    frames[..., 2] = np.linspace(0, 255, w, dtype=np.uint8)[None, None, :]
    for i in range(n):
        frames[i, :, (i * 5) % w : (i * 5) % w + 4, 0] = 255
    return frames


class Recorder:
    def __init__(self, cancel_after=None):
        self.calls, self.cancel_after = [], cancel_after

    def progress(self, i, n):
        self.calls.append((i, n))

    def cancel(self):
        return self.cancel_after is not None and len(self.calls) >= self.cancel_after


def test_gif_round_trip(tmp_path):
    frames = _frames(6)
    rec = Recorder()
    path = export_gif(frames, tmp_path / "m.gif", fps=20, progress=rec.progress, cancel=rec.cancel)
    assert path == tmp_path / "m.gif"
    assert rec.calls == [(i, 6) for i in range(1, 7)]
    with Image.open(path) as im:
        assert im.n_frames == 6 and im.size == (32, 24)
        assert im.info.get("loop") == 0 and im.info["duration"] == 50
        im.seek(3)
        got = np.asarray(im.convert("RGB")).astype(int)
    assert np.abs(got - frames[3].astype(int)).mean() < 8  # 256-colour palette, dithered


def test_gif_that_plays_once(tmp_path):
    export_gif(_frames(3), tmp_path / "once.gif", fps=10, loop=False)
    with Image.open(tmp_path / "once.gif") as im:
        assert im.n_frames == 3 and "loop" not in im.info


def test_gif_delays_keep_the_requested_speed():
    d = gif_durations(24, 24)
    assert set(d) <= {40, 50} and sum(d) == 1000
    assert gif_durations(3, 50) == [20, 20, 20]
    assert sum(gif_durations(60, 30)) == 2000


@pytest.mark.parametrize("fps", [0, 51, float("nan"), "24"])
def test_gif_speed_limits(tmp_path, fps):
    with pytest.raises(ConfigError):
        export_gif(_frames(2), tmp_path / "x.gif", fps=fps)
    assert not (tmp_path / "x.gif").exists()


def test_cancelled_exports_write_nothing(tmp_path):
    rec = Recorder(cancel_after=2)
    assert export_gif(_frames(6), tmp_path / "c.gif", progress=rec.progress, cancel=rec.cancel) is None
    assert rec.calls == [(1, 6), (2, 6)]
    rec = Recorder(cancel_after=3)
    assert export_png_frames(_frames(6), tmp_path / "frames", progress=rec.progress, cancel=rec.cancel) is None
    assert list((tmp_path / "frames").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def test_png_frames_round_trip_and_replace_older_exports(tmp_path):
    folder = tmp_path / "out"
    export_png_frames(_frames(12), folder)
    frames = _frames(5)
    (folder / "notes.txt").write_text("mine")
    assert export_png_frames(frames, folder) == folder
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["frame_0000.png", "frame_0001.png", "frame_0002.png", "frame_0003.png", "frame_0004.png", "notes.txt"]
    for i in range(5):
        with Image.open(folder / f"frame_{i:04d}.png") as im:
            np.testing.assert_array_equal(np.asarray(im), frames[i])  # lossless


def test_contact_sheet_keeps_first_and_last(tmp_path):
    frames = _frames(10, 8, 8)
    sheet = contact_sheet(frames, cols=5, pad=1)
    assert sheet.shape == (2 * 9 + 1, 5 * 9 + 1, 3)
    few = contact_sheet(frames, cols=4, pad=0, max_frames=4)
    assert few.shape == (8, 32, 3)
    np.testing.assert_array_equal(few[:, :8], frames[0])
    np.testing.assert_array_equal(few[:, 24:], frames[-1])


def test_export_kind_and_dispatch(tmp_path):
    assert export_kind("a.GIF") == "gif" and export_kind("a.mp4") == "mp4" and export_kind("s.png") == "sheet"
    assert export_kind(str(tmp_path) + "/new/") == "frames" and export_kind(tmp_path / "frames") == "frames"
    with pytest.raises(ConfigError, match=r"use a .gif or .mp4 file name, a .png or .jpg one"):
        export_kind("movie.avi")
    export_frames(_frames(4), tmp_path / "sheet.png", cols=2)
    with Image.open(tmp_path / "sheet.png") as im:
        assert im.size == (2 * 34 + 2, 2 * 26 + 2)
    assert export_frames(_frames(3), tmp_path / "seq") == tmp_path / "seq"
    assert len(list((tmp_path / "seq").glob("frame_*.png"))) == 3


@pytest.mark.skipif(not mp4_available(), reason="imageio-ffmpeg is not installed (pip install 'facestudio[video]')")
def test_mp4_round_trip_with_odd_sizes(tmp_path):
    import imageio_ffmpeg

    frames = _frames(10, 31, 33)
    rec = Recorder()
    path = export_mp4(frames, tmp_path / "m.mp4", fps=12, progress=rec.progress)
    assert path == tmp_path / "m.mp4" and rec.calls[-1] == (10, 10)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    assert tuple(meta["size"]) == (34, 32) and abs(meta["fps"] - 12) < 1e-6
    decoded = [np.frombuffer(f, np.uint8).reshape(32, 34, 3) for f in reader]
    assert len(decoded) == 10
    assert np.abs(decoded[4][:31, :33].astype(int) - frames[4].astype(int)).mean() < 12  # lossy but the same picture
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.mp4"]  # no temporary files left
    rec = Recorder(cancel_after=3)
    assert export_mp4(frames, tmp_path / "c.mp4", progress=rec.progress, cancel=rec.cancel) is None
    assert not (tmp_path / "c.mp4").exists()


def test_mp4_without_the_video_extra_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails as if not installed
    assert not mp4_available()
    assert not mp4_installed()
    with pytest.raises(FaceStudioError, match=r"pip install 'facestudio\[video\]'"):
        export_mp4(_frames(2), tmp_path / "m.mp4")
    assert not (tmp_path / "m.mp4").exists()


def test_exports_refuse_bad_frames(tmp_path):
    with pytest.raises(ValueError):
        export_gif(np.zeros((2, 8, 8), np.uint8), tmp_path / "x.gif")
    with pytest.raises(ValueError):
        export_png_frames([], tmp_path / "f")
