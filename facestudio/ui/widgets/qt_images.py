"""numpy RGB images <-> Qt images, always copying the pixels.

A QImage built on a numpy buffer only borrows it: when the array is freed (or reused by
the next render) the image shows garbage or crashes. Every conversion here copies.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage, QPixmap


def qimage_from_rgb(image: np.ndarray) -> QImage:
    """(H, W, 3) uint8 -> a QImage that owns its pixels."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.dtype} {image.shape}")
    pixels = np.ascontiguousarray(image)
    h, w, _ = pixels.shape
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def qpixmap_from_rgb(image: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(qimage_from_rgb(image))


def rgb_from_qimage(image: QImage) -> np.ndarray:
    """A QImage (any format) -> (H, W, 3) uint8 copy."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = rgb.height(), rgb.width()
    buf = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=rgb.sizeInBytes())
    return buf.reshape(h, rgb.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def png_bytes(image: QImage | QPixmap) -> bytes:
    """Encode as PNG in memory (so the file can then be written atomically)."""
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise ValueError("Qt could not encode the image as PNG")
    buf.close()
    return bytes(data.data())
