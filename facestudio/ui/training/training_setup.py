"""Setting up a run: what to learn from, how to train, how long, and where to save.

The data check comes first: choosing a folder counts its usable images, lists every
skipped file with its reason and shows a preview, and the form then fills in settings
suited to that many images (`facestudio.sessions.training.suggested_settings`), each with its reason as the
tooltip. The checking itself happens on the training thread; this form only asks for
it (`checkRequested`) and shows the answer.

`config()` turns the form into a `TrainConfig`, whose validation supplies the sentence
when a value cannot train. Defaults, ranges and choices come from the TrainConfig fields
(`TrainConfig.setting`), the same ones the command line uses.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractSpinBox, QComboBox, QFileDialog, QLineEdit, QListWidgetItem, QVBoxLayout, QWidget,
)

from facestudio.ui.widgets.qt_images import qpixmap_from_rgb
from facestudio.sessions.training.suggested_settings import suggest_settings
from trainer.config import TrainConfig
from facestudio.ui.training.training_setup_form import PREVIEW_SIDE, SYNTHETIC, TIPS, TrainingSetupForm


class TrainingSetup(TrainingSetupForm, QWidget):
    """The form; `config()` and `runs_dir()` give what `Start` needs."""

    checkRequested = Signal(str, int)  # "synthetic" or a folder, number of synthetic faces

    def __init__(self, runs_dir: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._check: dict[str, Any] | None = None  # the data check of the current source
        self._checking: str | None = None
        self._suggested_for: int | None = None
        self._locked = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self._build_data())
        layout.addWidget(self._build_training())
        layout.addWidget(self._build_budget())
        layout.addWidget(self._build_advanced())
        layout.addWidget(self._build_save(runs_dir))
        layout.addStretch(1)
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(300)
        self._count_timer.timeout.connect(self._on_count_settled)
        self._sync_source_widgets()

    # ================================================================ data source
    def data_spec(self) -> tuple[str, int]:
        """("synthetic", faces) or (folder, 0)."""
        if self.synthetic_radio.isChecked():
            return SYNTHETIC, int(self.synthetic_count.value())
        return self.folder_edit.text().strip(), 0

    def choose_folder(self) -> None:
        start = self.folder_edit.text().strip() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder of face photos", start)
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str | os.PathLike) -> None:
        """Train on `folder` and check it now."""
        self.folder_edit.setText(str(folder))
        if self.folder_radio.isChecked():
            self.request_check()
        else:
            self.folder_radio.setChecked(True)  # the switch of source asks for the check

    def choose_runs_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save runs in", self.runs_edit.text().strip() or str(Path.home()))
        if folder:
            self.runs_edit.setText(folder)

    def request_check(self) -> None:
        """Ask for the data check of the current source (answered by `set_check_result`)."""
        root, count = self.data_spec()
        self._check = None
        if not root:
            self._checking = None  # an answer still on its way is for another source: not waited for
            self.data_summary.setText("Choose a folder of face photos, or use the built-in faces.")
            self._show_preview(None)
            self.skipped_list.hide()
            return
        self._checking = root
        self.data_summary.setText("Checking the images..." if root != SYNTHETIC else "Preparing a preview...")
        self.checkRequested.emit(root, count)

    def set_check_result(self, result: dict[str, Any]) -> None:
        """Show a data check (ignored when the source changed meanwhile)."""
        root, count = self.data_spec()
        if result.get("root") != (SYNTHETIC if root == SYNTHETIC else str(Path(root))):
            return
        if root == SYNTHETIC:
            result = dict(result, images=count)
        self._check = result
        self._checking = None
        n = int(result["images"])
        skipped = result.get("skipped") or []
        if root == SYNTHETIC:
            text = f"{n:,} built-in faces."
        else:
            text = f"<b>{n:,}</b> usable image{'s' if n != 1 else ''}"
            text += f"; {len(skipped):,} file{'s' if len(skipped) != 1 else ''} skipped (listed below)." if skipped else "; nothing skipped."
            if result.get("celeba"):
                text += " CelebA layout recognised."
        self.data_summary.setText(text)
        self._show_preview(result.get("preview"))
        self.skipped_list.clear()
        for s in skipped:
            item = QListWidgetItem(f"{Path(s['path']).name}: {s['reason']}")
            item.setToolTip(f"{s['path']}\n{s['reason']}")
            self.skipped_list.addItem(item)
        self.skipped_list.setVisible(bool(skipped))
        if not self._locked:  # a run has started meanwhile: its settings stay on show
            self.apply_suggestions(n)

    def set_check_failed(self, root: str, text: str) -> None:
        if root != self.data_spec()[0]:
            return
        self._check = None
        self._checking = None
        self.data_summary.setText(f"<span style='color:#e07070'>{html.escape(text, quote=False)}</span>")
        self._show_preview(None)
        self.skipped_list.hide()

    def data_ready(self) -> bool:
        """Whether the current source passed its check (the built-in faces always do)."""
        if self.synthetic_radio.isChecked():
            return True
        return self._check is not None and int(self._check.get("images", 0)) > 0

    def checking(self) -> bool:
        return self._checking is not None

    def usable_images(self) -> int | None:
        if self.synthetic_radio.isChecked():
            return int(self.synthetic_count.value())
        return int(self._check["images"]) if self._check else None

    # ================================================================ settings
    def apply_suggestions(self, n_images: int) -> None:
        """Fill the form with settings suited to `n_images`; their reasons become the tooltips."""
        s = suggest_settings(n_images, int(self.size_combo.currentData()))
        values = dict(s.values)
        values.pop("image_size", None)
        self.set_values(**values)
        for key, reason in s.reasons.items():
            widget = self._tip_widgets.get(key)
            if widget is not None:
                widget.setToolTip(f"{TIPS[key]}\n\nSuggested for {n_images:,} images: {reason}")
        self._suggested_for = n_images

    def set_values(self, **fields: Any) -> None:
        """Set form fields by TrainConfig name (plus "width" for ngf = ndf, and "runs_dir")."""
        setters = {
            "image_size": lambda v: self.size_combo.setCurrentIndex(max(0, self.size_combo.findData(int(v)))),
            "batch_size": lambda v: self.batch_spin.setValue(int(v)),
            "lr_g": lambda v: self.lr_g_spin.setValue(float(v)),
            "lr_d": lambda v: self.lr_d_spin.setValue(float(v)),
            "loss": lambda v: self.loss_combo.setCurrentIndex(max(0, self.loss_combo.findData(v))),
            "diffaugment": lambda v: self.diffaugment_combo.setCurrentIndex(max(0, self.diffaugment_combo.findData(v))),
            "ema_decay": lambda v: self.ema_spin.setValue(float(v)),
            "flip": lambda v: self.flip_check.setChecked(bool(v)),
            "max_steps": self._set_steps,
            "minutes": self._set_minutes,
            "nz": lambda v: self.nz_spin.setValue(int(v)),
            "width": lambda v: self.width_spin.setValue(int(v)),
            "ngf": lambda v: self.width_spin.setValue(int(v)),
            "seed": lambda v: self.seed_spin.setValue(int(v)),
            "sample_every": lambda v: self.sample_every_spin.setValue(int(v)),
            "checkpoint_every": lambda v: self.checkpoint_every_spin.setValue(int(v)),
            "name": lambda v: self.name_edit.setText(str(v)),
            "runs_dir": lambda v: self.runs_edit.setText(str(v)),
            "data_count": self._set_count,
        }
        for key, value in fields.items():
            if key not in setters:
                raise KeyError(f"the training form has no field {key!r}")
            setters[key](value)

    def _set_count(self, value: int) -> None:
        """The number of built-in faces, set as is (no new suggestions: the caller chose the values)."""
        self.synthetic_count.blockSignals(True)
        self.synthetic_count.setValue(int(value))
        self.synthetic_count.blockSignals(False)
        self._count_timer.stop()
        if self._check is not None and self.synthetic_radio.isChecked():
            self._check["images"] = int(value)
        if self.synthetic_radio.isChecked():
            self.data_summary.setText(f"{int(value):,} built-in faces.")

    def _set_steps(self, value: int | None) -> None:
        if value:
            self.steps_spin.setValue(int(value))
            self.steps_radio.setChecked(True)

    def _set_minutes(self, value: float | None) -> None:
        if value:
            self.minutes_spin.setValue(float(value))
            self.minutes_radio.setChecked(True)

    def budget(self) -> tuple[str, float]:
        """("steps", N) or ("minutes", M)."""
        if self.steps_radio.isChecked():
            return "steps", int(self.steps_spin.value())
        return "minutes", float(self.minutes_spin.value())

    def config(self) -> TrainConfig:
        """The form as a TrainConfig; raises ConfigError with a sentence for a value that cannot train."""
        root, count = self.data_spec()
        kind, amount = self.budget()
        width = int(self.width_spin.value())
        return TrainConfig(
            data=root if root == SYNTHETIC else str(Path(root).expanduser().resolve()),
            data_count=count if root == SYNTHETIC else None,
            flip=self.flip_check.isChecked(), image_size=int(self.size_combo.currentData()),
            nz=int(self.nz_spin.value()), ngf=width, ndf=width, name=self.name_edit.text().strip(),
            batch_size=int(self.batch_spin.value()), loss=self.loss_combo.currentData(),
            lr_g=float(self.lr_g_spin.value()), lr_d=float(self.lr_d_spin.value()), ema_decay=float(self.ema_spin.value()),
            diffaugment=self.diffaugment_combo.currentData(), seed=int(self.seed_spin.value()),
            max_steps=int(amount) if kind == "steps" else None, minutes=float(amount) if kind == "minutes" else None,
            sample_every=int(self.sample_every_spin.value()), checkpoint_every=int(self.checkpoint_every_spin.value()),
        )

    def runs_dir(self) -> str:
        return str(Path(self.runs_edit.text().strip() or ".").expanduser())

    def set_locked(self, locked: bool) -> None:
        """Greyed out while a run trains (its settings are fixed once it starts)."""
        self._locked = locked
        if locked:
            self._count_timer.stop()
        for kind in (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit):  # not the preview or the lists
            for child in self.findChildren(kind):
                child.setEnabled(not locked)
        if not locked:
            self._sync_source_widgets()
            self._on_budget_toggled()

    # ================================================================ internals
    def _sync_source_widgets(self) -> None:
        synthetic = self.synthetic_radio.isChecked()
        self.synthetic_count.setEnabled(synthetic)
        for w in (self.folder_edit, self.browse_button, self.recheck_button):
            w.setEnabled(not synthetic)

    def _on_source_toggled(self, *_args) -> None:
        self._sync_source_widgets()
        self.request_check()  # with no folder chosen yet, it says what to do

    def _on_folder_edited(self) -> None:
        if self.folder_radio.isChecked() and (self._check is None or self._check.get("root") != str(Path(self.folder_edit.text().strip()))):
            self.request_check()

    def _on_count_settled(self) -> None:
        if self.synthetic_radio.isChecked() and not self._locked:
            n = int(self.synthetic_count.value())
            self.data_summary.setText(f"{n:,} built-in faces.")
            if self._check is not None:
                self._check["images"] = n
            self.apply_suggestions(n)

    def _on_budget_toggled(self, *_args) -> None:
        self.steps_spin.setEnabled(self.steps_radio.isChecked())
        self.minutes_spin.setEnabled(self.minutes_radio.isChecked())

    def _show_preview(self, grid: np.ndarray | None) -> None:
        if grid is None:
            self.preview.clear()
            self.preview.setText("No preview")
            return
        pix = qpixmap_from_rgb(np.asarray(grid, dtype=np.uint8))
        self.preview.setPixmap(pix.scaled(PREVIEW_SIDE, PREVIEW_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))
