"""How whole the current face looks, as a small gauge.

The reading is `Renderer.realism_percentile` (Qt-free, `facestudio.metrics.face_defects`):
the face check's probability that the face has none of the defects people point at in
GAN faces (a missing eye, glasses as a smudge, smeared or ghosted hair, seams). Only for
models of the built-in synthetic faces at 64 px or more (style models read their
discriminator); greyed out otherwise.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget


UNAVAILABLE = "only for 64 px+ models of the built-in faces"


class RealismMeter(QWidget):
    """A horizontal gauge 0..1 with a label; greyed out for models it cannot judge."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value: float | None = None
        self._available = True
        self._by_discriminator = False
        self._pending = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(max(22, self.fontMetrics().height() + 8))
        self._update_tooltip()

    def value(self) -> float | None:
        return self._value

    def is_available(self) -> bool:
        return self._available

    def set_value(self, value: float | None) -> None:
        self._value = None if value is None else float(min(max(value, 0.0), 1.0))
        self._pending = False
        self._update_tooltip()
        self.update()

    def set_pending(self) -> None:
        """The face changed; the previous reading is shown faded until the new one arrives."""
        if not self._pending:
            self._pending = True
            self.update()

    def set_available(self, available: bool, by_discriminator: bool = False) -> None:
        """Whether the model can be judged, and by what: the face check, or (style models) its discriminator."""
        self._available = available
        self._by_discriminator = available and by_discriminator
        if not available:
            self._value = None
        self.setEnabled(available)
        self._update_tooltip()
        self.update()

    def text(self) -> str:
        if not self._available:
            return f"Realism: {UNAVAILABLE}"
        if self._value is None:
            return "Realism: ..."
        return f"Realism {self._value * 100:.0f}%"

    def _update_tooltip(self) -> None:
        if not self._available:
            self.setToolTip("The realism meter learned what whole and broken 64 px built-in synthetic faces "
                            "look like, so it only judges models trained on them at 64 px or more (smaller "
                            "faces would read as broken whatever they show).")
        elif self._by_discriminator:
            self.setToolTip("How this model's own discriminator rates this face, as the share of the model's "
                            "random faces it rates lower (50% = a typical face of this model). A discriminator "
                            "judges what it last trained against: a rough guide, not a verdict.")
        else:
            self.setToolTip("How sure FaceStudio's face check is that this face is whole: it was trained to spot "
                            "a missing eye, glasses drawn as a smudge, smeared or ghosted hair and seams. Low "
                            "values often mean a broken face; a rough guide, not a verdict.")

    def sizeHint(self) -> QSize:
        return QSize(240, self.height())

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = self.palette()
        fm = self.fontMetrics()
        text_color = pal.color(QPalette.ColorRole.Text if self._available else QPalette.ColorRole.PlaceholderText)
        hint = pal.color(QPalette.ColorRole.PlaceholderText)
        full = QRectF(self.rect())
        caption_w = fm.horizontalAdvance("Realism") + 12
        value_w = fm.horizontalAdvance("100%") + 12
        p.setPen(hint)
        p.drawText(QRectF(0, 0, caption_w, full.height()), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, "Realism")
        if not self._available:
            p.drawText(full.adjusted(caption_w, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                       UNAVAILABLE)
            p.end()
            return
        track = QRectF(caption_w, full.center().y() - 3, max(10.0, full.width() - caption_w - value_w), 6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(pal.color(QPalette.ColorRole.Base))
        p.drawRoundedRect(track, 3, 3)
        if self._value is not None:
            # red (implausible) -> amber -> green (convincing)
            fill = QColor.fromHsv(int(120 * self._value), 170, 210)
            if self._pending:
                fill.setAlpha(110)
            p.setBrush(fill)
            p.drawRoundedRect(QRectF(track.left(), track.top(), max(6.0, track.width() * self._value), track.height()), 3, 3)
        p.setPen(text_color)
        label = "..." if self._value is None else f"{self._value * 100:.0f}%"
        p.drawText(QRectF(track.right(), 0, value_w, full.height()), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, label)
        p.end()
