""""Find a face from a photo": match a picture with a latent of the open model.

The photo and the model's current best reconstruction are shown side by side while the
optimiser works on a worker thread (`projection_worker`), with the step and loss. The
person can stop early (the best face so far is kept), open the result in the explorer
(`latentChosen`) or save it as a face PNG. Closing the dialog cancels and joins the
thread.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from facestudio.errors import ConfigError, FaceStudioError
from facestudio.latent.projection import ProjectionProgress, ProjectionResult, ProjectionSettings, has_perceptual_loss, load_photo
from facestudio.models.bundle import ModelBundle
from facestudio.render.face_png import save_face_png
from facestudio.ui.widgets.face_view import FaceView
from facestudio.ui.widgets.message_banner import MessageBanner
from facestudio.ui.workers.projection_worker import ProjectionJob, ProjectionThread

PHOTO_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff)"


class ProjectionDialog(QDialog):
    """Modeless dialog; `bundle` is the model whose latent space is searched."""

    latentChosen = Signal(object)  # (nz,) float32, or (num_ws, w_dim) for a style model: "Open in explorer"
    progressed = Signal(object)  # ProjectionProgress (also drives the views)
    projectionFinished = Signal(object)  # ProjectionResult (cancelled=True when stopped early)
    projectionFailed = Signal(str)
    saved = Signal(str)  # path of a face PNG written

    def __init__(self, bundle: ModelBundle, parent: QWidget | None = None, *, photo: str | Path | None = None,
                 settings: ProjectionSettings | None = None, start_folder: str | Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find a face from a photo")
        self.bundle = bundle
        # The explorer edits z faces until the W / W+ panels arrive, so the dialog asks for a z.
        self.base_settings = settings or ProjectionSettings()  # z for DCGAN models, W then W+ for style models
        self.start_folder = Path(start_folder) if start_folder else Path.home()
        self.target: np.ndarray | None = None
        self.photo_path: Path | None = None
        self.result: ProjectionResult | None = None
        self._token = 0
        self._running = False
        self._thread: ProjectionThread | None = None  # started with the first search
        self._build()
        self._update_buttons()
        if photo is not None:
            self.set_photo(photo)

    # ================================================================ building
    def _build(self) -> None:
        self.banner = MessageBanner()
        self.target_view = FaceView()
        self.target_view.set_placeholder("Choose a photo")
        self.result_view = FaceView()
        self.result_view.set_placeholder("The model's face appears here")
        for view in (self.target_view, self.result_view):
            view.setMinimumSize(220, 220)
        views = QGridLayout()
        views.addWidget(QLabel("Photo (cropped to the model's square)"), 0, 0, Qt.AlignmentFlag.AlignHCenter)
        views.addWidget(QLabel("Closest face of the model"), 0, 1, Qt.AlignmentFlag.AlignHCenter)
        views.addWidget(self.target_view, 1, 0)
        views.addWidget(self.result_view, 1, 1)

        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(10, 5000)
        self.steps_spin.setSingleStep(50)
        self.steps_spin.setValue(self.base_settings.steps)
        self.steps_spin.setToolTip("More steps match the photo more closely and take longer.")
        self.restarts_spin = QSpinBox()
        self.restarts_spin.setRange(1, 32)
        self.restarts_spin.setValue(self.base_settings.restarts)
        self.restarts_spin.setToolTip("Several starting faces are refined together; the best one wins.")
        form = QHBoxLayout()
        for caption, spin in (("Steps", self.steps_spin), ("Starting faces", self.restarts_spin)):
            form.addWidget(QLabel(caption))
            form.addWidget(spin)
        # No face detector ships its weights in an installable package, so the face is framed by hand.
        self.crop_edit = QLineEdit()
        self.crop_edit.setPlaceholderText("left, top, side (px)")
        self.crop_edit.setToolTip("Frame the face yourself: the square's left and top corner and its side, in pixels of "
                                  "the photo. Empty: the largest centred square. Faces match best when they fill the "
                                  "square with the eyes a little above the middle.")
        self.crop_edit.editingFinished.connect(self._on_crop_edited)
        form.addWidget(QLabel("Face box"))
        form.addWidget(self.crop_edit)
        form.addStretch(1)

        perceptual = has_perceptual_loss(self.bundle)
        self.loss_note = QLabel(
            "Matches pixels and the features the model's discriminator sees." if perceptual else
            "This model file has no discriminator, so only pixels are matched (expect a blurrier likeness)."
        )
        self.loss_note.setObjectName("Hint")
        self.loss_note.setWordWrap(True)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, self.base_settings.steps)
        self.progress_bar.setValue(0)
        self.status = QLabel("Choose a photo of a face, then press Find.")
        self.status.setObjectName("Hint")

        self.choose_button = QPushButton("Choose photo...")
        self.choose_button.clicked.connect(self.choose_photo)
        self.start_button = QPushButton("Find")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.setToolTip("Stop early and keep the best face found so far")
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button = QPushButton("Open in explorer")
        self.open_button.clicked.connect(self.open_in_explorer)
        self.save_button = QPushButton("Save face PNG...")
        self.save_button.clicked.connect(self.choose_save)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for b in (self.choose_button, self.start_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.open_button, self.save_button, close):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(views, 1)
        layout.addLayout(form)
        layout.addWidget(self.loss_note)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    def _update_buttons(self) -> None:
        self.choose_button.setEnabled(not self._running)
        self.start_button.setEnabled(not self._running and self.target is not None)
        self.cancel_button.setEnabled(self._running)
        self.steps_spin.setEnabled(not self._running)
        self.restarts_spin.setEnabled(not self._running)
        done = self.result is not None and not self._running
        self.open_button.setEnabled(done)
        self.save_button.setEnabled(done)

    # ================================================================ actions
    @property
    def running(self) -> bool:
        return self._running

    def choose_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a photo", str(self.start_folder), PHOTO_FILTER)
        if path:
            self.start_folder = Path(path).parent
            self.set_photo(path)

    def crop_box(self) -> tuple[int, int, int] | None:
        """The face box typed by the person (left, top, side), None when empty; ConfigError when unreadable."""
        text = self.crop_edit.text().strip()
        if not text:
            return None
        parts = [s.strip() for s in text.replace(";", ",").split(",")]
        if len(parts) != 3 or not all(s.isdigit() for s in parts) or int(parts[2]) < 8:
            raise ConfigError(f"The face box {text!r} must be three whole numbers: left, top, side (side at least 8 px).")
        left, top, side = (int(s) for s in parts)
        return left, top, side

    def _on_crop_edited(self) -> None:
        if self.photo_path is not None and not self._running:
            self.set_photo(self.photo_path)

    def set_photo(self, path: str | Path) -> bool:
        """Load a photo (safe loader, cropped to the face box or the centred square); say why when it cannot be used."""
        try:
            target = load_photo(path, self.bundle.config.image_size, self.crop_box())
        except FaceStudioError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        self.banner.dismiss()
        self.photo_path = Path(path)
        self.set_target(target)
        return True

    def set_target(self, target: np.ndarray) -> None:
        """Match this uint8 (H, W, 3) picture (already a square at the model's size, or cropped)."""
        self.target = np.array(target, dtype=np.uint8, copy=True)
        self.target_view.set_image(self.target)
        self.result = None
        self.progress_bar.setValue(0)
        self.status.setText("Press Find to search the model for this face.")
        self._update_buttons()

    def settings(self) -> ProjectionSettings:
        """The dialog's settings: the base settings with the steps and starts chosen here."""
        restarts = self.restarts_spin.value()
        return replace(self.base_settings, steps=self.steps_spin.value(), restarts=restarts,
                       candidates=max(self.base_settings.candidates, restarts))

    def start(self) -> bool:
        if self.target is None or self._running:
            return False
        try:
            settings = self.settings()
        except FaceStudioError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        self._token += 1
        self._running = True
        self.result = None
        self.progress_bar.setRange(0, settings.steps)
        self.progress_bar.setValue(0)
        self.status.setText("Screening random faces for good starting points...")
        self._update_buttons()
        if self._thread is None:
            self._thread = ProjectionThread()
            self._thread.worker.progressed.connect(self._on_progress)
            self._thread.worker.finished.connect(self._on_finished)
            self._thread.worker.failed.connect(self._on_failed)
        self._thread.start(ProjectionJob(self.bundle, self.target, settings, self._token))
        return True

    def cancel(self) -> None:
        """Stop early; the best face so far arrives through `projectionFinished`."""
        if self._running and self._thread is not None:
            self._thread.cancel()
            self.status.setText("Stopping...")

    def open_in_explorer(self) -> None:
        if self.result is not None:
            self.latentChosen.emit(self.result.latent.copy())

    def save(self, path: str | Path, size: int | None = None) -> bool:
        if self.result is None:
            return False
        try:
            save_face_png(Path(path), self.result.image, self.result.latent, model_name=self.bundle.name,
                          model_sha256=self.bundle.sha256, truncation=1.0, size=size,
                          space="w+" if self.result.latent.ndim == 2 else "z")
        except FaceStudioError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        self.status.setText(f"Saved {Path(path).name}.")
        self.saved.emit(str(path))
        return True

    def choose_save(self) -> None:
        stem = self.photo_path.stem + "_face" if self.photo_path else "face"
        path, _ = QFileDialog.getSaveFileName(self, "Save face", str(self.start_folder / f"{stem}.png"), "Face PNG (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            self.save(path)

    # ================================================================ worker results
    def _on_progress(self, token: int, report: ProjectionProgress) -> None:
        if token != self._token:
            return
        self.result_view.set_image(report.image)
        self.progress_bar.setValue(report.step)
        self.status.setText(f"Step {report.step} of {report.steps}: loss {report.loss:.4f}, pixel error {report.pixel_mse:.4f}")
        self.progressed.emit(report)

    def _on_finished(self, token: int, result: ProjectionResult) -> None:
        if token != self._token:
            return
        self._running = False
        self.result = result
        self.result_view.set_image(result.image)
        self.progress_bar.setValue(result.steps_done)
        how = "Stopped early" if result.cancelled else "Done"
        self.status.setText(f"{how} after {result.steps_done} steps: pixel error {result.pixel_mse:.4f} "
                            f"(best random face {result.start_pixel_mse:.4f}).")
        self._update_buttons()
        self.projectionFinished.emit(result)

    def _on_failed(self, token: int, message: str) -> None:
        if token != self._token:
            return
        self._running = False
        self.banner.show_message(message, "error")
        self.status.setText("The search failed.")
        self._update_buttons()
        self.projectionFailed.emit(message)

    # ================================================================ closing
    def shutdown(self) -> None:
        """Cancel any search and join the thread; safe to call twice (a new search restarts it)."""
        if self._thread is not None:
            self._thread.close()
            self._thread = None
        if self._running:
            self._running = False
            self._token += 1  # whatever the stopped search still sends is stale
            self.status.setText("Stopped.")
            self._update_buttons()

    def done(self, result: int) -> None:  # Escape, accept/reject
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
