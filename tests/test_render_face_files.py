"""Face PNGs of z, w and w+ faces: round trips, version 1 files, faces from other models."""

import base64
import json

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from style_nets import random_sg2_bundle

from facestudio.errors import FaceMetadataError
from facestudio.render.face_files import face_from_text, open_face, save_face
from facestudio.latent.spaces import StyleLatent, seed_latent, to_space
from facestudio.render.face_png import read_face_png

IMAGE = np.zeros((8, 8, 3), np.uint8)


@pytest.fixture(scope="module")
def sg2():
    return random_sg2_bundle(seed=6)


@pytest.mark.parametrize("space", ["z", "w", "w+"])
def test_round_trip_of_each_space(sg2, tmp_path, space):
    g = sg2.viewing_generator
    face = to_space(g, seed_latent(g, 3), space)
    save_face(tmp_path / "f.png", IMAGE, face, sg2, truncation=0.6)
    record = read_face_png(tmp_path / "f.png")
    assert record.version == 2 and record.space == space and record.latent.shape == face.shape
    back = open_face(tmp_path / "f.png", sg2)
    assert back.latent.space == space and back.truncation == pytest.approx(0.6) and back.note == ""
    np.testing.assert_array_equal(back.latent.values, face.values)


def test_w_face_from_another_model_is_refused_with_a_sentence(sg2, tmp_path):
    g = sg2.viewing_generator
    save_face(tmp_path / "w.png", IMAGE, to_space(g, seed_latent(g, 1), "w+"), sg2)
    other = random_sg2_bundle(seed=7)
    with pytest.raises(FaceMetadataError, match=r"w\+ face made with 'random-sg2-6'.*open 'random-sg2-6'"):
        open_face(tmp_path / "w.png", other)


def test_z_face_from_another_model_opens_with_a_note(sg2, tmp_path):
    save_face(tmp_path / "z.png", IMAGE, seed_latent(sg2.viewing_generator, 1), sg2)
    opened = open_face(tmp_path / "z.png", random_sg2_bundle(seed=8))
    assert opened.latent.space == "z" and "different face" in opened.note


def test_wrong_shape_is_refused(sg2, tmp_path):
    save_face(tmp_path / "z.png", IMAGE, StyleLatent("z", np.ones(10, np.float32)), sg2)
    with pytest.raises(FaceMetadataError, match=r"shape \(10,\).*shape \(24,\)"):
        open_face(tmp_path / "z.png", sg2)


def test_version_1_file_still_opens_as_a_z_face(sg2, tmp_path):
    z = seed_latent(sg2.viewing_generator, 5).values
    meta = {"format": "facestudio-face", "version": 1, "nz": 24, "latent": base64.b64encode(z.astype("<f4").tobytes()).decode(),
            "model": {"name": "old", "sha256": ""}, "truncation": 0.5}
    info = PngImagePlugin.PngInfo()
    info.add_itxt("facestudio", json.dumps(meta))
    Image.fromarray(IMAGE).save(tmp_path / "v1.png", pnginfo=info)
    record = read_face_png(tmp_path / "v1.png")
    assert record.version == 1 and record.space == "z" and record.nz == 24
    opened = open_face(tmp_path / "v1.png", sg2)
    np.testing.assert_array_equal(opened.latent.values, z)


def test_non_z_record_has_no_nz(sg2, tmp_path):
    g = sg2.viewing_generator
    save_face(tmp_path / "w.png", IMAGE, to_space(g, seed_latent(g, 1), "w"), sg2)
    with pytest.raises(FaceMetadataError, match="not a z face"):
        read_face_png(tmp_path / "w.png").nz


def test_seed_or_path_text(sg2):
    assert face_from_text("12", sg2, "--from").latent.space == "z"
    with pytest.raises(FaceMetadataError, match="seeds are whole numbers"):
        face_from_text("-3", sg2, "--from")
