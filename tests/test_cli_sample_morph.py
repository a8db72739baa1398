"""`facestudio sample`, `facestudio morph` and `facestudio bench morph`, end to end on a tiny model."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from facestudio.cli import main
from facestudio.latent.interpolation import keyframe_path
from facestudio.latent.sampling import latent_for_seed, latents_for_seeds, truncate
from facestudio.models import load_model, new_bundle, save_model
from facestudio.render.face_png import read_face_png, save_face_png
from facestudio.render.renderer import Renderer


@pytest.fixture
def model_path(tmp_path, tiny_config):
    bundle = new_bundle(tiny_config, seed=3)
    with torch.no_grad():  # livelier than the DCGAN init, so neighbouring frames differ
        for m in bundle.generator.modules():
            if isinstance(m, torch.nn.ConvTranspose2d):
                m.weight.mul_(8)
    path = tmp_path / "tiny.safetensors"
    save_model(bundle, path)
    return path


def _read(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_sample_grid(model_path, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["sample", "--model", str(model_path), "--seed", "10", "-n", "5", "--cols", "3", "--truncation", "0.8", "--size", "32", "-o", str(out)]) == 0
    assert "5 faces, seeds 10-14" in capsys.readouterr().out
    grid = _read(out)
    assert grid.shape == (2 * 34 + 2, 3 * 34 + 2, 3)
    faces = Renderer(load_model(model_path)).render_batch(latents_for_seeds(range(10, 15), 16), psi=0.8)
    for i in range(5):
        r, c = divmod(i, 3)
        tile = grid[2 + r * 34 : 2 + r * 34 + 32, 2 + c * 34 : 2 + c * 34 + 32]
        np.testing.assert_array_equal(tile, faces[i])


def test_sample_one_face_png_carries_its_latent(model_path, tmp_path):
    out = tmp_path / "face.png"
    assert main(["sample", "--model", str(model_path), "--seed", "4", "-n", "1", "--truncation", "0.6", "--size", "64", "--crisp", "-o", str(out)]) == 0
    record = read_face_png(out)
    bundle = load_model(model_path)
    assert np.array_equal(record.latent, latent_for_seed(4, 16))
    assert record.truncation == 0.6 and record.model_sha256 == bundle.sha256 and record.model_name == "tiny"
    image = _read(out)
    assert image.shape == (64, 64, 3)
    np.testing.assert_array_equal(image[::2, ::2], Renderer(bundle).render(record.latent, psi=record.truncation))


def test_sample_refuses_bad_requests(model_path, tmp_path, capsys):
    assert main(["sample", "--model", str(model_path), "-n", "2", "-o", str(tmp_path / "grid.txt")]) == 2
    assert "Cannot write a picture as grid.txt: use .png" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sample", "--model", str(model_path), "--seed", "-3", "-o", str(tmp_path / "g.png")])
    with pytest.raises(SystemExit):
        main(["sample", "--model", str(model_path), "--truncation", "nan", "-o", str(tmp_path / "g.png")])
    assert main(["sample", "--model", str(tmp_path / "missing.safetensors"), "-o", str(tmp_path / "g.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()


def test_morph_between_a_seed_and_a_face_png(model_path, tmp_path):
    bundle = load_model(model_path)
    renderer = Renderer(bundle)
    face = tmp_path / "end.png"
    end_latent = latent_for_seed(99, 16)
    save_face_png(face, renderer.render(end_latent, psi=0.5), end_latent, bundle.name, bundle.sha256, truncation=0.5)
    frames_dir = tmp_path / "frames"
    code = main(["morph", "--model", str(model_path), "--from", "1", "--via", "7", "--to", str(face), "--frames", "9",
                 "--easing", "ease-in-out", "--size", "32", "-o", str(frames_dir)])
    assert code == 0
    names = sorted(p.name for p in frames_dir.iterdir())
    assert names == [f"frame_{i:04d}.png" for i in range(9)]
    keys = [latent_for_seed(1, 16), latent_for_seed(7, 16), truncate(end_latent, 0.5)]  # the PNG's own truncation
    expected = renderer.render_batch(keyframe_path(keys, total_frames=9, easing="ease-in-out"))
    for i in range(9):
        np.testing.assert_array_equal(_read(frames_dir / f"frame_{i:04d}.png"), expected[i])
    for i, key in ((0, keys[0]), (4, keys[1]), (8, keys[2])):  # the faces themselves, up to float rounding
        assert np.abs(expected[i].astype(int) - renderer.render(key).astype(int)).max() <= 1


def test_morph_gif_and_sheet(model_path, tmp_path, capsys):
    gif = tmp_path / "m.gif"
    assert main(["morph", "--model", str(model_path), "--from", "1", "--to", "2", "--frames", "6", "--lerp", "--loop",
                 "--size", "48", "--fps", "12", "-o", str(gif)]) == 0
    assert "GIF, 6 frames of 48 x 48 px (lerp in Z, linear)" in capsys.readouterr().out
    with Image.open(gif) as im:
        assert im.size == (48, 48) and 2 <= im.n_frames <= 6 and im.info.get("loop") == 0
    sheet = tmp_path / "sheet.png"
    assert main(["morph", "--model", str(model_path), "--from", "1", "--to", "2", "--frames", "4", "--cols", "2", "--size", "32", "-o", str(sheet)]) == 0
    assert _read(sheet).shape == (2 * 34 + 2, 2 * 34 + 2, 3)


def test_morph_reports_unusable_faces(model_path, tmp_path, capsys):
    out = tmp_path / "m.gif"
    assert main(["morph", "--model", str(model_path), "--from", "1", "--to", str(tmp_path / "nope.png"), "-o", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    other = tmp_path / "other.png"
    save_face_png(other, np.zeros((8, 8, 3), np.uint8), latent_for_seed(1, 20), "big", "")
    assert main(["morph", "--model", str(model_path), "--from", "1", "--to", str(other), "-o", str(out)]) == 2
    assert "z face of shape (20,)" in capsys.readouterr().err
    assert main(["morph", "--model", str(model_path), "--from", "1", "--to", "2", "--fps", "100", "-o", str(out)]) == 2
    assert "MP4" in capsys.readouterr().err
    assert main(["morph", "--model", str(model_path), "--from", "1", "--to", "2", "-o", str(tmp_path / "m.avi")]) == 2
    assert not out.exists()


def test_bench_morph_reports_figures(capsys):
    assert main(["bench", "morph", "--frames", "4", "--repeats", "1", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["frames"] == 4 and figures["image_size"] == 64 and figures["inference_path"] == "folded"
    assert figures["strip_ms"]["p50"] > 0 and figures["eager_strip_ms"]["p50"] > 0


def test_cli_choices_follow_the_library_and_help_stays_light():
    import subprocess
    import sys

    from facestudio.latent.interpolation import EASINGS
    from facestudio.cli.morph import EASING_NAMES

    assert tuple(EASINGS) == EASING_NAMES
    code = ("import sys, facestudio.cli.sample, facestudio.cli.morph, facestudio.cli.benches.morph_bench;"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr
