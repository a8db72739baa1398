"""`facestudio project PHOTO -o face.png`: writes a face PNG with the latent; bad input is a sentence."""

from __future__ import annotations

import pytest
from PIL import Image

from facestudio.cli import build_parser, main
from facestudio.latent.projection import ProjectionSettings
from facestudio.models import ModelConfig, new_bundle, save_model
from facestudio.render.face_png import read_face_png


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="tiny")), path)
    return path


def test_project_writes_a_face_png(model, photo, tmp_path, capsys):
    out = tmp_path / "face.png"
    code = main(["project", str(photo), "-o", str(out), "--model", str(model), "--steps", "4", "--restarts", "2",
                 "--candidates", "4", "--size", "64", "--quiet"])
    assert code == 0
    record = read_face_png(out)
    assert record.latent.shape == (16,) and record.model_name == "tiny"
    with Image.open(out) as img:
        assert img.size == (64, 64)
    printed = capsys.readouterr().out
    assert "pixel MSE" in printed and "4 steps x 2 starts" in printed


@pytest.mark.parametrize("content", [b"", b"plain text, not a picture"])
def test_a_bad_photo_is_a_sentence_not_a_traceback(model, tmp_path, content, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    out = tmp_path / "face.png"
    assert main(["project", str(bad), "-o", str(out), "--model", str(model), "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("facestudio: ") and "bad.png" in err and "Traceback" not in err
    assert not out.exists()


def test_bad_settings_are_a_sentence(model, photo, tmp_path, capsys):
    assert main(["project", str(photo), "-o", str(tmp_path / "f.png"), "--model", str(model), "--steps", "0"]) == 2
    assert "steps" in capsys.readouterr().err


def test_help_states_the_real_defaults():
    """The help text spells the defaults out (to keep --help free of torch); they must match."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["project"]
    helps = {a.dest: a.help for a in sub._actions}
    d = ProjectionSettings()
    assert f"default {d.steps}" in helps["steps"]
    assert f"default {d.restarts}" in helps["restarts"]
    assert f"default {d.candidates}" in helps["candidates"]
    assert f"default {d.pixel_loss}" in helps["pixel_loss"]
    assert f"default {d.seed}" in helps["seed"]
