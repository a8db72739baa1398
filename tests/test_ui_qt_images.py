"""numpy <-> Qt image conversions copy the pixels."""

import numpy as np
import pytest

from facestudio.ui.widgets.qt_images import png_bytes, qimage_from_rgb, rgb_from_qimage


def test_qimage_owns_its_pixels(qapp):
    rgb = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)  # odd width: padded rows
    image = qimage_from_rgb(rgb)
    kept = rgb.copy()
    rgb[:] = 0
    del rgb
    assert np.array_equal(rgb_from_qimage(image), kept)
    assert png_bytes(image).startswith(b"\x89PNG")


def test_rejects_non_rgb(qapp):
    with pytest.raises(ValueError):
        qimage_from_rgb(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError):
        qimage_from_rgb(np.zeros((4, 4, 3), np.float32))
