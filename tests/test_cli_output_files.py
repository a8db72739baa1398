"""One rule for command outputs (issue 12, §4.1, 4.2, 4.4): the folder must exist, the suffix
says the format (or the command refuses with a sentence), and faces default to 512 px."""

from __future__ import annotations

import pytest
from PIL import Image

from facestudio.cli import build_parser, main
from facestudio.errors import FaceStudioError
from facestudio.models import ModelConfig, new_bundle, save_model
from facestudio.render.face_png import read_face_png
from facestudio.render.output_files import DEFAULT_FACE_SIZE


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="tiny")), path)
    return str(path)


PROJECT_FAST = ["--steps", "2", "--restarts", "1", "--candidates", "2", "--quiet"]


def _commands(model: str, photo: str, out: str) -> dict[str, list[str]]:
    return {
        "sample one": ["sample", "--model", model, "-n", "1", "-o", out],
        "sample grid": ["sample", "--model", model, "-n", "3", "-o", out],
        "morph": ["morph", "--model", model, "--from", "1", "--to", "2", "--frames", "3", "-o", out],
        "project": ["project", photo, "--model", model, *PROJECT_FAST, "-o", out],
    }


@pytest.mark.parametrize("command", ["sample one", "sample grid", "morph", "project"])
def test_missing_parent_folder_is_a_sentence_and_nothing_is_created(command, model, photo, tmp_path, capsys):
    missing = tmp_path / "no" / "such"
    out = missing / ("m.gif" if command == "morph" else "x.png")
    assert main(_commands(model, str(photo), str(out))[command]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and str(missing) in err
    assert not (tmp_path / "no").exists()


def test_morph_frames_folder_is_made_only_inside_an_existing_folder(model, tmp_path, capsys):
    assert main(["morph", "--model", model, "--from", "1", "--to", "2", "--frames", "3", "--size", "32",
                 "-o", str(tmp_path / "frames") + "/"]) == 0
    assert len(list((tmp_path / "frames").glob("frame_*.png"))) == 3
    assert main(["morph", "--model", model, "--from", "1", "--to", "2", "-o", str(tmp_path / "a" / "frames") + "/"]) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "a").exists()


@pytest.mark.parametrize("suffix,fmt", [(".png", "PNG"), (".jpg", "JPEG"), (".jpeg", "JPEG"), (".webp", "WEBP"),
                                        (".bmp", "BMP"), (".tiff", "TIFF")])
@pytest.mark.parametrize("command", ["sample one", "sample grid", "project"])
def test_the_suffix_says_the_format(command, suffix, fmt, model, photo, tmp_path, capsys):
    out = tmp_path / f"out{suffix}"
    assert main(_commands(model, str(photo), str(out))[command] + ["--size", "40"]) == 0
    with Image.open(out) as im:
        assert im.format == fmt
        assert im.width == 40 if command != "sample grid" else im.width > 2 * 40
    if command != "sample grid" and fmt == "PNG":
        assert read_face_png(out).latent.shape == (16,)
    elif command != "sample grid":
        assert "only .png keeps the latent" in capsys.readouterr().out
        with pytest.raises(FaceStudioError, match="not a PNG"):
            read_face_png(out)


@pytest.mark.parametrize("command", ["sample one", "sample grid", "project"])
def test_an_unknown_suffix_is_refused_before_any_work(command, model, photo, tmp_path, capsys):
    out = tmp_path / "face.txt"
    assert main(_commands(model, str(photo), str(out))[command]) == 2
    err = capsys.readouterr().err
    assert "Cannot write a picture as face.txt" in err and ".jpg" in err and not out.exists()


def test_morph_suffixes(model, tmp_path, capsys):
    sheet = tmp_path / "sheet.jpg"
    assert main(["morph", "--model", model, "--from", "1", "--to", "2", "--frames", "4", "--size", "32", "-o", str(sheet)]) == 0
    with Image.open(sheet) as im:
        assert im.format == "JPEG"
    assert main(["morph", "--model", model, "--from", "1", "--to", "2", "-o", str(tmp_path / "m.webp")]) == 2
    assert "Cannot tell what to write for m.webp" in capsys.readouterr().err


def test_default_size_is_the_apps_512_and_help_says_so(model, photo, tmp_path):
    for command in ("sample one", "project"):
        out = tmp_path / f"{command.replace(' ', '_')}.png"
        assert main(_commands(model, str(photo), str(out))[command]) == 0
        with Image.open(out) as im:
            assert im.size == (DEFAULT_FACE_SIZE, DEFAULT_FACE_SIZE)
    gif = tmp_path / "m.gif"
    assert main(_commands(model, photo, str(gif))["morph"]) == 0
    with Image.open(gif) as im:
        assert im.size == (DEFAULT_FACE_SIZE, DEFAULT_FACE_SIZE)
    assert DEFAULT_FACE_SIZE == 512
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    for name in ("sample", "morph", "project"):
        size = next(a for a in sub[name]._actions if a.dest == "size")
        assert size.default == 512 and "default 512" in size.help


def test_import_output_folder_must_exist(tmp_path, capsys):
    out = tmp_path / "no" / "m.safetensors"
    assert main(["import", str(tmp_path / "netG.pth"), "-o", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "no").exists()


def test_the_morph_studio_exports_at_the_same_default_size(qtbot):
    from facestudio.ui.morph.morph_panel import MorphPanel

    panel = MorphPanel()
    qtbot.addWidget(panel)
    assert panel.export_size() == DEFAULT_FACE_SIZE
    panel.shutdown()
