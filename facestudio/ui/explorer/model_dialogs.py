"""Dialogs about models: the About box with the model card, and the snapshot picker for
training run folders."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QTextBrowser, QVBoxLayout, QWidget,
)

import facestudio
from facestudio.models.bundle import ModelBundle
from facestudio.sessions.explorer.model_sources import Snapshot


def model_card_html(bundle: ModelBundle, note: str = "") -> str:
    """The facts of a model as HTML: what it is, where it came from, what it holds."""
    c = bundle.config
    card = bundle.card or {}
    if bundle.family == "dcgan":
        widths = [("Generator width (ngf)", f"{c.ngf}, norm: {c.g_norm}"), ("Discriminator width (ndf)", f"{c.ndf}, norm: {c.d_norm}")]
    else:
        g = bundle.viewing_generator
        widths = [("Family", bundle.family), ("Styles", f"{g.num_ws} x {g.w_dim} (per-layer styles)")]
    rows = [
        ("Name", card.get("title") or c.name),
        ("Source", str(bundle.source) if bundle.source else "not saved (built in this session)"),
        ("SHA-256", bundle.sha256 or "-"),
        ("Image size", f"{c.image_size} x {c.image_size} px, {c.nc} channels"),
        ("Latent size (nz)", str(c.nz)),
        *widths,
        ("Networks", ", ".join(n for n, net in (("generator", bundle.generator), ("EMA generator", bundle.ema_generator),
                                                ("discriminator", bundle.discriminator)) if net is not None)),
        ("Shipped directions", ", ".join(f"{k} ({len(d.names)})" for k, d in bundle.directions.items()) or "none"),
    ]
    rows += [(k.replace("_", " ").capitalize(), v) for k, v in card.items() if k != "title"]
    rows += [(f"info: {k}", v) for k, v in sorted(c.info.items()) if not k.endswith("_source")]
    table = "".join(
        f"<tr><td style='padding:2px 12px 2px 0; color:#9a9a9a'>{html.escape(k)}</td>"
        f"<td style='padding:2px 0'>{html.escape(v)}</td></tr>" for k, v in rows
    )
    extra = f"<p style='color:#e0b050'>{html.escape(note)}</p>" if note else ""
    return (
        f"<h2 style='margin-bottom:2px'>FaceStudio {html.escape(facestudio.__version__)}</h2>"
        "<p>Explore, morph and train face-generating GANs on an ordinary computer.</p>"
        f"<h3 style='margin-bottom:4px'>Model card</h3>{extra}<table>{table}</table>"
    )


class AboutDialog(QDialog):
    def __init__(self, bundle: ModelBundle, note: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About FaceStudio")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(model_card_html(bundle, note))
        self.browser.setMinimumSize(560, 380)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)


class SnapshotDialog(QDialog):
    """Pick which model file of a training run folder to open (the newest is preselected)."""

    def __init__(self, run_dir: Path, snapshots: list[Snapshot], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open training run")
        self._snapshots = snapshots
        label = QLabel(f"<b>{html.escape(run_dir.name)}</b> holds {len(snapshots)} model file(s). "
                       "Pick one (earlier checkpoints show how the model learned):")
        label.setWordWrap(True)
        self.list = QListWidget()
        for snap in snapshots:
            item = QListWidgetItem(snap.label)
            item.setToolTip(str(snap.path))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(520, 360)
        self.setWindowModality(Qt.WindowModality.WindowModal)

    def chosen(self) -> Path:
        return self._snapshots[max(0, self.list.currentRow())].path
