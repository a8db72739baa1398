"""The safe image loader and image-folder data sets, fed every kind of hostile file."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from facestudio.data import check_folder, load_dataset
from facestudio.data import image_folder as imf
from facestudio.data.image_loader import NEUTRAL_BACKGROUND, center_crop_resize, load_image
from facestudio.errors import DataSetError, ImageFileError


def _rgb_image(w=40, h=30, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def _save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


def _kind(path, **kw) -> tuple[str, str]:
    with pytest.raises(ImageFileError) as info:
        load_image(path, **kw)
    msg = str(info.value)
    assert str(path) in msg, msg  # the sentence names the file
    return info.value.kind, msg


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize("name,fmt", [("a.jpg", "JPEG"), ("b.JPEG", "JPEG"), ("c.png", "PNG"), ("d.webp", "WEBP"),
                                      ("e.bmp", "BMP"), ("f.TIF", "TIFF"), ("g.tiff", "TIFF")])
def test_allowed_formats_load_as_rgb(tmp_path, name, fmt):
    p = _save(_rgb_image(), tmp_path / name, format=fmt)
    img = load_image(p)
    assert img.mode == "RGB" and img.size == (40, 30)


def test_sixteen_bit_png(tmp_path):
    arr = np.tile(np.linspace(0, 65535, 32).astype(np.uint16), (8, 1))
    p = tmp_path / "deep.png"
    Image.fromarray(arr).save(p)
    with Image.open(p) as raw:
        assert raw.mode.startswith("I")
    out = np.asarray(load_image(p))
    assert out.shape == (8, 32, 3) and out.dtype == np.uint8
    assert out[0, 0, 0] == 0 and out[0, -1, 0] == 255 and 100 < out[0, 16, 0] < 160
    assert (out[..., 0] == out[..., 1]).all()


def test_cmyk_jpeg(tmp_path):
    p = _save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), tmp_path / "cmyk.jpg", format="JPEG")
    out = np.asarray(load_image(p)).astype(int)
    r, g, b = out[8, 8]
    assert r > 200 and g < 60 and b < 60  # red


def test_palette_with_transparency_on_neutral_background(tmp_path):
    img = Image.new("P", (10, 10), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(0, (0, 0, 5, 10))
    p = tmp_path / "pal.png"
    img.save(p, transparency=0)
    out = np.asarray(load_image(p))
    assert tuple(out[5, 1]) == NEUTRAL_BACKGROUND
    assert tuple(out[5, 8]) == (255, 0, 0)


def test_la_and_rgba_and_greyscale(tmp_path):
    la = Image.new("LA", (8, 8), (255, 0))
    la.paste((0, 255), (4, 0, 8, 8))
    out = np.asarray(load_image(_save(la, tmp_path / "la.png")))
    assert tuple(out[0, 0]) == NEUTRAL_BACKGROUND and tuple(out[0, 7]) == (0, 0, 0)
    rgba = Image.new("RGBA", (8, 8), (0, 255, 0, 128))
    out = np.asarray(load_image(_save(rgba, tmp_path / "rgba.webp", lossless=True))).astype(int)
    assert abs(out[0, 0, 1] - 191) <= 2 and abs(out[0, 0, 0] - 64) <= 2
    grey = load_image(_save(Image.new("L", (8, 8), 77), tmp_path / "grey.bmp"))
    assert grey.mode == "RGB" and grey.getpixel((3, 3)) == (77, 77, 77)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    p = tmp_path / "phone.jpg"
    img.save(p, exif=exif.tobytes(), quality=95)
    out = load_image(p)
    assert out.size == (20, 40)
    top, bottom = np.asarray(out)[2, 10].astype(int), np.asarray(out)[37, 10].astype(int)
    assert top[0] > 200 and top[2] < 60  # red came to the top
    assert bottom[2] > 200 and bottom[0] < 60


# --------------------------------------------------------------------------- hostile files


def test_garbage_with_jpg_extension(tmp_path):
    p = tmp_path / "photo.jpg"
    p.write_bytes(os.urandom(3000))
    kind, msg = _kind(p)
    assert kind == "not-an-image" and "not an image" in msg


def test_empty_file(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    assert _kind(p)[0] == "empty"


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("JPEG", "jpg")])
def test_truncated_files(tmp_path, fmt, ext):
    buf = io.BytesIO()
    _rgb_image(64, 64).save(buf, format=fmt)
    data = buf.getvalue()
    p = tmp_path / f"cut.{ext}"
    p.write_bytes(data[: len(data) // 2])
    kind, msg = _kind(p)
    assert kind == "truncated" and "truncated" in msg


def test_header_only_png_is_reported(tmp_path):
    p = tmp_path / "stub.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert _kind(p)[0] in ("truncated", "not-an-image")


def _png_declaring(width: int, height: int) -> bytes:
    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_declared_in_header(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_declaring(60000, 60000))
    kind, msg = _kind(p)
    assert kind == "too-large" and "limit" in msg
    assert Image.MAX_IMAGE_PIXELS is not None


def test_decompression_limit_is_honoured(tmp_path, monkeypatch):
    p = _save(_rgb_image(100, 100), tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)
    assert _kind(p)[0] == "too-large"


def test_file_size_cap(tmp_path):
    p = _save(_rgb_image(64, 64), tmp_path / "big.bmp")
    kind, msg = _kind(p, max_bytes=1000)
    assert kind == "too-large" and "MB" in msg


def test_unsupported_formats(tmp_path):
    gif = _save(_rgb_image().convert("P"), tmp_path / "anim.gif", format="GIF")
    assert _kind(gif)[0] == "unsupported-format"
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    assert _kind(txt)[0] == "unsupported-format"
    # the contents decide too: a GIF renamed to .png is still refused
    disguised = tmp_path / "disguised.png"
    disguised.write_bytes(gif.read_bytes())
    kind, msg = _kind(disguised)
    assert kind == "unsupported-format" and "GIF" in msg


def test_missing_file(tmp_path):
    assert _kind(tmp_path / "nope.jpg")[0] == "missing"


def test_center_crop_resize():
    img = Image.new("RGB", (90, 30), (0, 0, 255))
    img.paste((255, 0, 0), (30, 0, 60, 30))  # the centre third is red
    out = center_crop_resize(img, 16)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert out[:, 2:-2, 0].min() > 200 and out[:, 2:-2, 2].max() < 60
    assert center_crop_resize(Image.new("L", (20, 40), 9), 8).shape == (8, 8, 3)


# --------------------------------------------------------------------------- folders


def _messy_folder(root):
    (root / "sub").mkdir(parents=True)
    _save(_rgb_image(seed=1), root / "b.png")
    _save(_rgb_image(seed=2), root / "a.JPG", format="JPEG")
    _save(_rgb_image(seed=3), root / "sub" / "c.webp")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 garbage")
    (root / "empty.png").write_bytes(b"")
    (root / "readme.txt").write_text("my faces")
    (root / ".hidden.png").write_bytes(b"ignored")
    return root


def test_scan_folder_reports_usable_and_skipped(tmp_path):
    root = _messy_folder(tmp_path / "faces")
    res = imf.scan_folder(root)
    assert [p.name for p in res.usable] == ["a.JPG", "b.png", "c.webp"]
    kinds = {s.path.name: s.kind for s in res.skipped}
    assert kinds == {"broken.jpg": "truncated", "empty.png": "empty", "readme.txt": "unsupported-format"}
    assert all(str(s.path) in s.reason for s in res.skipped)


def test_check_folder_dict_is_json_ready(tmp_path):
    root = _messy_folder(tmp_path / "faces")
    out = check_folder(root)
    assert out["images"] == 3 and len(out["skipped"]) == 3
    assert set(out["skipped"][0]) >= {"path", "reason"}
    json.dumps(out)


def test_folder_errors(tmp_path):
    with pytest.raises(DataSetError, match="does not exist"):
        imf.scan_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSetError, match="no images"):
        imf.scan_folder(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.jpg").write_bytes(b"junk")
    with pytest.raises(DataSetError, match="no usable images"):
        imf.scan_folder(bad)
    with pytest.raises(DataSetError):
        imf.ImageFolderData(bad, 16)
    afile = _save(_rgb_image(), tmp_path / "one.png")
    with pytest.raises(DataSetError, match="not a folder"):
        imf.scan_folder(afile)
    with pytest.raises(DataSetError, match="no folder"):
        load_dataset(str(tmp_path / "nowhere"), 32)


def test_image_folder_data(tmp_path):
    root = _messy_folder(tmp_path / "faces")
    data = imf.ImageFolderData(root, 16, disk_cache=False)
    assert data.images.dtype == torch.uint8 and data.images.shape == (3, 3, 16, 16)
    assert data.labels is None and data.label_names == []
    assert [p.name for p in data.paths] == ["a.JPG", "b.png", "c.webp"]
    assert {s.path.name for s in data.skipped} == {"broken.jpg", "empty.png", "readme.txt"}
    expected = center_crop_resize(load_image(root / "b.png"), 16)
    assert np.array_equal(data.images[1].permute(1, 2, 0).numpy(), expected)
    flipped = imf.ImageFolderData(root, 16, flip=True, disk_cache=False)
    assert len(flipped) == 6 and torch.equal(flipped.images[3:], data.images.flip(-1))
    first2 = imf.ImageFolderData(root, 16, n=2, disk_cache=False)
    assert torch.equal(first2.images, data.images[:2])


def test_image_folder_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FACESTUDIO_CACHE", str(tmp_path / "cache"))
    root = _messy_folder(tmp_path / "faces")
    first = imf.ImageFolderData(root, 16)
    files = list((tmp_path / "cache" / "folders").glob("*.npz"))
    assert len(files) == 1

    calls = []
    real = imf.ImageFolderData._decode
    monkeypatch.setattr(imf.ImageFolderData, "_decode", lambda self, *a: calls.append(1) or real(self, *a))
    again = imf.ImageFolderData(root, 16)
    assert calls == [] and torch.equal(again.images, first.images)
    assert [s.kind for s in again.skipped] == [s.kind for s in first.skipped]

    files[0].write_bytes(b"damaged cache")  # a damaged cache is decoded again and rewritten
    repaired = imf.ImageFolderData(root, 16)
    assert calls == [1] and torch.equal(repaired.images, first.images)

    _save(_rgb_image(seed=9), root / "b.png")  # a changed file changes the key
    os.utime(root / "b.png", ns=(1, 1))
    changed = imf.ImageFolderData(root, 16)
    assert calls == [1, 1] and not torch.equal(changed.images[1], first.images[1])


CELEBA_NAMES = ["5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
                "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby",
                "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male",
                "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose",
                "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair",
                "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young"]


def _celeba(root, rows: dict[str, list[int]], images: list[str]):
    (root / "img_align_celeba").mkdir(parents=True)
    for i, name in enumerate(images):
        _save(_rgb_image(178 // 4, 218 // 4, seed=i), root / "img_align_celeba" / name, format="JPEG")
    lines = [str(len(rows)), " ".join(CELEBA_NAMES)]
    lines += [f"{name} " + " ".join(f"{v:2d}" for v in vals) for name, vals in rows.items()]
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text("000001.jpg 0\n")


def test_celeba_layout(tmp_path):
    rng = np.random.default_rng(0)
    rows = {f"00000{i}.jpg": list(rng.choice([-1, 1], 40)) for i in (1, 2, 3)}
    root = tmp_path / "celeba"
    _celeba(root, rows, ["000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg"])
    names, table = imf.read_celeba_attributes(root / "list_attr_celeba.txt")
    assert names == CELEBA_NAMES and table["000002.jpg"].tolist() == [int(v > 0) for v in rows["000002.jpg"]]
    data = imf.ImageFolderData(root, 16, disk_cache=False)
    assert data.celeba and len(data) == 3 and data.label_names == CELEBA_NAMES
    assert data.labels.dtype == np.float32 and data.labels.shape == (3, 40)
    assert data.labels[0].tolist() == [float(v > 0) for v in rows["000001.jpg"]]
    assert [(s.path.name, s.kind) for s in data.skipped] == [("000004.jpg", "no-label")]
    ds = load_dataset(str(root), 16)
    assert ds.label_names == CELEBA_NAMES and ds.labels.shape == (3, 40) and ds.name == "celeba"
    out = check_folder(root)
    assert out["celeba"] and out["images"] == 4 and out["skipped"] == []


def test_celeba_bad_attribute_file(tmp_path):
    root = tmp_path / "celeba"
    _celeba(root, {"000001.jpg": [1] * 40}, ["000001.jpg"])
    (root / "list_attr_celeba.txt").write_text("1\nA B\n000001.jpg 1 2\n")
    with pytest.raises(DataSetError, match="list_attr_celeba"):
        imf.ImageFolderData(root, 16, disk_cache=False)


def test_data_check_command(tmp_path, capsys):
    import argparse

    from facestudio.cli import data as data_command

    root = _messy_folder(tmp_path / "faces")
    parser = argparse.ArgumentParser()
    data_command.add_arguments(parser)
    assert data_command.run(parser.parse_args(["check", str(root), "--json"])) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == 3 and {s["kind"] for s in out["skipped"]} == {"truncated", "empty", "unsupported-format"}
    assert data_command.run(parser.parse_args(["check", str(root)])) == 0
    text = capsys.readouterr().out
    assert "3 usable images" in text and "broken.jpg" in text
