"""Favourites on disk (Qt-free): atomic, validated, forgiving of damage."""

import json

import numpy as np
import pytest

from facestudio.errors import FaceStudioError
from facestudio.sessions.explorer.gallery_store import GALLERY_FILE, GalleryStore


def add(store, seed=0, nz=8):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    latent = rng.standard_normal(nz).astype(np.float32)
    entry = store.add(image, latent, truncation=0.8, model_name="m", model_sha256="ab" * 32,
                      directions={"sefa": {"SeFa 1": 1.0}})
    return entry, latent


def test_add_persist_reload_and_read_back(tmp_path):
    store = GalleryStore(tmp_path)
    e1, z1 = add(store, 1)
    e2, z2 = add(store, 2)
    assert [e.id for e in store.entries] == [e2.id, e1.id]  # newest first
    again = GalleryStore(tmp_path)
    assert again.entries == store.entries and not again.problems
    record = again.load_face(e1.id)
    assert np.array_equal(record.latent, z1) and record.truncation == pytest.approx(0.8)
    assert record.directions == {"sefa": {"SeFa 1": 1.0}}
    assert not list(tmp_path.glob("**/*.tmp"))


def test_rename_and_remove(tmp_path):
    store = GalleryStore(tmp_path)
    e1, _ = add(store, 1)
    e2, _ = add(store, 2)
    store.rename(e1.id, "  Grandma  ")
    assert GalleryStore(tmp_path).get(e1.id).title == "Grandma"
    with pytest.raises(FaceStudioError):
        store.rename(e1.id, "   ")
    assert store.remove([e2.id, "unknown"]) == 1
    assert not store.path(e1).with_name(f"{e2.id}.png").exists()
    assert [e.id for e in GalleryStore(tmp_path).entries] == [e1.id]


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"format": "other", "faces": []}', b"\xff\xfe"])
def test_a_damaged_list_is_set_aside_not_fatal(tmp_path, content):
    (tmp_path / GALLERY_FILE).write_bytes(content)
    store = GalleryStore(tmp_path)
    assert len(store) == 0 and store.problems
    assert (tmp_path / (GALLERY_FILE + ".damaged")).read_bytes() == content
    add(store)  # and the gallery works again
    assert len(GalleryStore(tmp_path)) == 1


def test_hostile_entries_are_skipped(tmp_path):
    store = GalleryStore(tmp_path)
    good, _ = add(store, 1)
    doc = json.loads((tmp_path / GALLERY_FILE).read_text())
    doc["faces"] += [
        {**doc["faces"][0], "id": "../../etc/passwd"},  # path traversal through the id
        {**doc["faces"][0], "nz": True},
        {**doc["faces"][0], "id": "0" * 32},  # file missing
        "not an entry",
    ]
    (tmp_path / GALLERY_FILE).write_text(json.dumps(doc))
    again = GalleryStore(tmp_path)
    assert [e.id for e in again.entries] == [good.id]
    assert any("skipped" in p for p in again.problems) and any("no longer exist" in p for p in again.problems)


def test_a_newer_gallery_is_left_untouched(tmp_path):
    (tmp_path / GALLERY_FILE).write_text(json.dumps({"format": "facestudio-gallery", "version": 99, "faces": []}))
    store = GalleryStore(tmp_path)
    assert store.problems
    with pytest.raises(FaceStudioError, match="newer FaceStudio"):
        add(store)
    assert json.loads((tmp_path / GALLERY_FILE).read_text())["version"] == 99


def test_titles_tell_favourites_apart(tmp_path):
    from facestudio.sessions.explorer.gallery_store import caption, default_title, short_date

    assert default_title(42, False, []) == "Seed 42"
    assert default_title(42, True, []) == "Seed 42 edited"
    assert default_title(None, False, ["Face 1", "Face 3", "Seed 2"]) == "Face 2"
    store = GalleryStore(tmp_path)
    titles = [add(store, i)[0].title for i in range(4)]  # faces with no seed: numbered
    assert titles == ["Face 1", "Face 2", "Face 3", "Face 4"]
    captions = [caption(e) for e in store.entries]
    assert len(set(captions)) == 4 and all(len(c.split("\n")[0]) <= 14 for c in captions)
    # dates are short: the time today, day and month this year, day month year before
    now = 1_780_000_000.0
    assert ":" in short_date(now - 60, now) and len(short_date(now - 60, now)) == 5
    assert str(time_of(now - 40 * 86400).tm_year) not in short_date(now - 40 * 86400, now)
    assert str(time_of(now - 400 * 86400).tm_year) in short_date(now - 400 * 86400, now)


def time_of(t):
    import time

    return time.localtime(t)


def test_old_timestamp_titles_get_a_distinct_readable_caption(tmp_path):
    from facestudio.sessions.explorer.gallery_store import caption

    store = GalleryStore(tmp_path)
    e1, _ = add(store, 1)
    e2, _ = add(store, 2)
    old1 = store.rename(e1.id, "Face 2026-12-06 14:03:22")
    old2 = store.rename(e2.id, "Face 2026-12-06 14:03:41")
    c1, c2 = caption(old1), caption(old2)
    assert c1.startswith("Face\n") and c1 != c2
