"""Face PNGs: exact round trips, and untrusted metadata only ever fails with a sentence."""

import base64
import io
import json
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from facestudio.errors import FaceMetadataError, ImageFileError
from facestudio.latent.sampling import latent_for_seed
from facestudio.render.face_png import (
    MAX_METADATA_CHARS,
    FaceRecord,
    face_metadata,
    latent_from_text,
    latent_to_text,
    parse_face_metadata,
    read_face_png,
    save_face_png,
)

SHA = "ab" * 32
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _image(size=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def _valid_meta(nz=8):
    return face_metadata(latent_for_seed(1, nz), "tiny", SHA, 0.7, {"sefa": {"SeFa 1": 1.5}})


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_with_text(text: bytes, *, after_pixels: bool = False, compressed: bool = False) -> bytes:
    """A PNG whose iTXt `facestudio` chunk holds exactly `text` (bytes, not re-encoded)."""
    buffer = io.BytesIO()
    Image.fromarray(_image(4)).save(buffer, format="PNG")
    png = buffer.getvalue()
    body = zlib.compress(text) if compressed else text
    chunk = _chunk(b"iTXt", b"facestudio\0" + (b"\1\0" if compressed else b"\0\0") + b"\0\0" + body)
    cut = png.index(b"IEND") - 4 if after_pixels else png.index(b"IDAT") - 4
    return png[:cut] + chunk + png[cut:]


# ---------------------------------------------------------------- round trips
def test_round_trip_is_exact(tmp_path):
    z = latent_for_seed(5, 100)
    z[0] = np.float32(1) / np.float32(3)  # a value with every mantissa bit in use
    image = _image(32)
    path = tmp_path / "face.png"
    save_face_png(path, image, z, "My model", SHA.upper(), truncation=0.7, directions={"sefa/SeFa 1": 1.25, "pca/PCA 2": -3})
    record = read_face_png(path)
    assert isinstance(record, FaceRecord)
    assert record.latent.dtype == np.float32 and np.array_equal(record.latent, z) and record.nz == 100
    assert not record.latent.flags.writeable
    assert (record.model_name, record.model_sha256, record.truncation, record.version) == ("My model", SHA, 0.7, 2)
    assert record.space == "z"
    assert record.directions == {"sefa": {"SeFa 1": 1.25}, "pca": {"PCA 2": -3.0}}
    assert record.direction_amounts()[("pca", "PCA 2")] == -3.0
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), image)  # pixels untouched
        meta = json.loads(im.text["facestudio"])
    assert meta["format"] == "facestudio-face" and meta["nz"] == 100
    assert np.array_equal(np.frombuffer(base64.b64decode(meta["latent"]), "<f4"), z)


def test_saving_can_enlarge_the_picture(tmp_path):
    path = tmp_path / "big.png"
    save_face_png(path, _image(16), latent_for_seed(1, 8), "m", "", size=64, smooth=False)
    with Image.open(path) as im:
        assert im.size == (64, 64)
        assert np.array_equal(np.asarray(im)[::4, ::4], _image(16))
    assert read_face_png(path).model_sha256 == ""


def test_nested_directions_and_other_tools_keys_are_accepted(tmp_path):
    meta = _valid_meta()
    meta["made_by"] = {"tool": "other"}  # extra keys from other tools are ignored
    record = parse_face_metadata(json.dumps(meta))
    assert record.directions == {"sefa": {"SeFa 1": 1.5}}
    path = tmp_path / "late.png"
    path.write_bytes(_png_with_text(json.dumps(meta).encode(), after_pixels=True, compressed=True))
    assert np.array_equal(read_face_png(path).latent, latent_for_seed(1, 8))  # iTXt after IDAT, zipped


# ---------------------------------------------------------------- files that are not face PNGs
def test_a_plain_png_has_no_face_in_it(tmp_path):
    path = tmp_path / "plain.png"
    Image.fromarray(_image()).save(path)
    with pytest.raises(FaceMetadataError, match="has no FaceStudio face in it"):
        read_face_png(path)


def test_files_that_are_not_pngs(tmp_path):
    jpeg = tmp_path / "photo.jpg"
    Image.fromarray(_image()).save(jpeg)
    with pytest.raises(ImageFileError, match="not a PNG"):
        read_face_png(jpeg)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(ImageFileError):
        read_face_png(junk)
    with pytest.raises(ImageFileError, match="does not exist"):
        read_face_png(tmp_path / "missing.png")
    with pytest.raises(ImageFileError):
        read_face_png(tmp_path)


def test_decompression_bombs_are_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + _chunk(b"IEND", b""))
    with pytest.raises(ImageFileError, match="too large"):
        read_face_png(path)


# ---------------------------------------------------------------- validation, one by one
@pytest.mark.parametrize(
    "change, message",
    [
        ({"format": "other"}, "does not hold FaceStudio face data"),
        ({"version": 3}, "newer FaceStudio"),
        ({"version": "1"}, "version"),
        ({"nz": 0}, "latent size"),
        ({"nz": 9}, "shape \\[8\\] but 9 numbers"),
        ({"nz": 9, "shape": [9]}, "needs exactly 36"),
        ({"space": "q"}, "unknown latent space"),
        ({"shape": [2, 4]}, "invalid latent shape"),
        ({"shape": [True]}, "invalid latent shape"),
        ({"space": "w+"}, "invalid latent shape"),
        ({"nz": True}, "latent size"),
        ({"latent": "!!!"}, "base64"),
        ({"latent": 5}, "base64"),
        ({"latent": base64.b64encode(np.full(8, np.nan, "<f4").tobytes()).decode()}, "NaN"),
        ({"latent": base64.b64encode(np.full(8, 1e6, "<f4").tobytes()).decode()}, "implausibly large"),
        ({"model": "tiny"}, "model"),
        ({"model": {"name": "x", "sha256": "xyz"}}, "fingerprint"),
        ({"model": {"name": "x" * 201, "sha256": ""}}, "model name"),
        ({"truncation": 3.0}, "truncation"),
        ({"truncation": True}, "truncation"),
        ({"directions": {"sefa": {"SeFa 1": "big"}}}, "amount"),
        ({"directions": {"sefa": {"SeFa 1": 1e9}}}, "amount"),
        ({"directions": {"sefa": [1, 2]}}, "direction"),
        ({"directions": []}, "direction"),
    ],
)
def test_each_field_is_checked(change, message):
    meta = _valid_meta()
    meta.update(change)
    with pytest.raises(FaceMetadataError, match=message):
        parse_face_metadata(json.dumps(meta))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "null",
        '{"format": "facestudio-face", "version": 1, "nz": 8, "truncation": NaN}',
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' + "1" * 5000 + "}",
        " " * (MAX_METADATA_CHARS + 1),
    ],
    ids=["empty", "list", "null", "nan-literal", "deep", "huge-int", "oversized"],
)
def test_hostile_json_text(text):
    with pytest.raises(FaceMetadataError):
        parse_face_metadata(text)


def test_nan_literal_truncation_is_refused():
    meta = json.dumps(_valid_meta(), separators=(",", ":")).replace('"truncation":0.7', '"truncation":NaN')
    assert "NaN" in meta
    with pytest.raises(FaceMetadataError):
        parse_face_metadata(meta)


# ---------------------------------------------------------------- fuzzing
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["format", "version", "nz", "latent", "model", "truncation", "directions"]


@FUZZ
@given(json_values)
def test_fuzz_random_json_only_fails_with_face_metadata_error(value):
    try:
        parse_face_metadata(json.dumps(value))
    except FaceMetadataError:
        pass


@FUZZ
@given(st.sampled_from(FIELDS), json_values)
def test_fuzz_one_mutated_field(field, value):
    meta = _valid_meta()
    meta[field] = value
    try:
        record = parse_face_metadata(json.dumps(meta))
    except FaceMetadataError:
        return
    assert record.latent.shape == (8,) and np.all(np.isfinite(record.latent))


@FUZZ
@given(st.sets(st.sampled_from(FIELDS), min_size=1))
def test_fuzz_missing_fields(missing):
    meta = {k: v for k, v in _valid_meta().items() if k not in missing}
    try:
        parse_face_metadata(json.dumps(meta))
    except FaceMetadataError:
        assert missing - {"directions", "truncation"}  # only optional fields may be left out
        return
    assert missing <= {"directions", "truncation"}


@FUZZ
@given(st.integers(1, 64), st.binary(max_size=300))
def test_fuzz_latent_lengths(nz, raw):
    meta = _valid_meta()
    meta["nz"], meta["latent"] = nz, base64.b64encode(raw).decode()
    try:
        record = parse_face_metadata(json.dumps(meta))
    except FaceMetadataError:
        return
    assert len(raw) == 4 * nz and np.array_equal(record.latent, np.frombuffer(raw, "<f4"))


@FUZZ
@given(st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), min_size=1, max_size=16))
def test_fuzz_latent_values(values):
    z = np.array(values, dtype="<f4")
    meta = _valid_meta()
    meta["nz"], meta["latent"] = len(values), base64.b64encode(z.tobytes()).decode()
    meta["shape"] = [len(values)]
    try:
        record = parse_face_metadata(json.dumps(meta))
    except FaceMetadataError:
        assert not np.all(np.isfinite(z)) or np.abs(z).max() > 1000
        return
    assert np.array_equal(record.latent, z)


@FUZZ
@given(st.binary(max_size=400), st.booleans(), st.booleans())
def test_fuzz_chunk_bytes_in_a_real_png(tmp_path, data, after_pixels, compressed):
    path = tmp_path / "fuzz.png"
    path.write_bytes(_png_with_text(data, after_pixels=after_pixels, compressed=compressed))
    with pytest.raises(FaceMetadataError):
        read_face_png(path)


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_pasted_text(text):
    try:
        latent_from_text(text)
    except FaceMetadataError:
        pass


# ---------------------------------------------------------------- copy / paste
def test_latent_text_round_trip_is_exact():
    z = latent_for_seed(9, 100)
    text = latent_to_text(z)
    assert text.startswith("fslatent1:") and "\n" not in text
    assert np.array_equal(latent_from_text(text), z)
    wrapped = "  " + text[:50] + "\n" + text[50:] + "\n"
    assert np.array_equal(latent_from_text(wrapped), z)
    assert np.array_equal(latent_from_text(json.dumps(_valid_meta())), latent_for_seed(1, 8))


@pytest.mark.parametrize("text", ["hello", "fslatent1:", "fslatent1:AAAA", "fslatent1:AAAAAAA=", "fslatent1:####", "{not json"])
def test_bad_pasted_text(text):
    with pytest.raises(FaceMetadataError):
        latent_from_text(text)
    text_cut = latent_to_text(latent_for_seed(1, 16))[:-3]
    with pytest.raises(FaceMetadataError):
        latent_from_text(text_cut)


# ---------------------------------------------------------------- writing refuses what it could not read back
@pytest.mark.parametrize(
    "kwargs",
    [
        {"latent": np.array([np.nan, 0], np.float32)},
        {"latent": np.zeros((2, 2), np.float32)},
        {"latent": np.zeros(3, np.int64)},
        {"model_sha256": "123"},
        {"truncation": 5.0},
        {"directions": {"nokind": 1.0}},
    ],
)
def test_saving_refuses_bad_faces_and_keeps_the_old_file(tmp_path, kwargs):
    path = tmp_path / "face.png"
    path.write_bytes(b"old")
    args = {"latent": latent_for_seed(1, 8), "model_name": "m", "model_sha256": SHA, "truncation": 1.0, "directions": None}
    args.update(kwargs)
    with pytest.raises(FaceMetadataError):
        save_face_png(path, _image(), **args)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["face.png"]


def test_saving_refuses_bad_images(tmp_path):
    with pytest.raises(ValueError):
        save_face_png(tmp_path / "f.png", np.zeros((4, 4), np.uint8), latent_for_seed(1, 8), "m", "")
    assert not (tmp_path / "f.png").exists()


def test_pillow_text_api_writes_what_we_read(tmp_path):
    """Another tool writing the documented chunk with plain Pillow is understood."""
    z = np.linspace(-2, 2, 12).astype(np.float32)
    meta = {"format": "facestudio-face", "version": 1, "nz": 12, "latent": base64.b64encode(z.astype("<f4").tobytes()).decode(),
            "model": {"name": "theirs", "sha256": ""}, "truncation": 1}
    info = PngImagePlugin.PngInfo()
    info.add_itxt("facestudio", json.dumps(meta))
    Image.fromarray(_image()).save(tmp_path / "theirs.png", pnginfo=info)
    record = read_face_png(tmp_path / "theirs.png")
    assert np.array_equal(record.latent, z) and record.truncation == 1.0 and record.directions == {}
