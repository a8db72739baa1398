"""What the explorer does with the face on screen: save and open face PNGs, copy and paste
latents, the gallery, and handing faces to the Morph Studio, Find Face and the training room.

A part of ExplorerWindow (facestudio/ui/explorer/explorer_window.py), which mixes it in:
it uses the window's widgets and session through `self`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMainWindow

from facestudio.errors import FaceStudioError
from facestudio.latent.spaces import StyleLatent, to_wplus
from facestudio.render.face_files import face_for_model, wplus_for_model
from facestudio.render.face_files import save_face as save_style_face
from facestudio.render.style_face import face_styles
from facestudio.render.face_png import latent_from_text, latent_to_text, read_face_png, save_face_png
from facestudio.sessions.explorer.gallery_store import default_title
from facestudio.ui.explorer.projection_dialog import ProjectionDialog


class FaceActions:
    # ================================================================ faces as files
    def current_image(self) -> np.ndarray:
        """The current face at the model's size, rendered now if the screen lags behind."""
        shown = self.face_view.image()
        if self._shown_token == self._token and shown is not None and shown.shape[0] == self.renderer.image_size:
            return shown  # (not a preview drawn while a slider moved)
        edit = self._style_edit()
        if edit is not None and not edit.is_plain:
            return self.renderer.render_style_face(self.session.effective_latent(), self.session.state.psi, edit)
        return self.renderer.render(self.session.effective_latent(), psi=self.session.state.psi)

    def _direction_record(self) -> dict[str, dict[str, float]]:
        """The direction amounts in force, {kind: {name: amount}} (names the model has only)."""
        record: dict[str, dict[str, float]] = {}
        for (kind, name), amount in self.session.state.amount_map().items():
            if self.session.amounts_available({(kind, name): amount}):
                record.setdefault(kind, {})[name] = amount
        return record

    def save_face(self, path: str | Path, size: int | None = None) -> bool:
        """Write the face as a PNG with its latent, model id and settings embedded."""
        size = size if size is not None else (self.prefs.export_size or self.bundle.config.image_size)
        edit = self._style_edit()
        try:
            if edit is not None and not edit.is_plain:  # style edits: the face's styles, as a w+ face
                styles = face_styles(self.bundle.viewing_generator, self.session.effective_latent(), self.session.state.psi, edit)
                save_style_face(Path(path), self.current_image(), StyleLatent("w+", styles), self.bundle,
                                truncation=1.0, size=size)  # truncation is already in the styles
                self.statusBar().showMessage(f"Saved {Path(path).name} ({size} x {size} px, a w+ face: "
                                             "it keeps the style edits).", 5000)
                return True
            save_face_png(Path(path), self.current_image(), self.session.effective_latent(),
                          model_name=self.bundle.name, model_sha256=self.bundle.sha256,
                          truncation=self.session.state.psi, directions=self._direction_record(), size=size,
                          smooth=self.prefs.smooth_upscale)
        except (FaceStudioError, ValueError) as exc:
            self.show_error(str(exc))
            return False
        self.statusBar().showMessage(f"Saved {Path(path).name} ({size} x {size} px).", 5000)
        return True

    def choose_save_face(self) -> None:
        state = self.session.state
        stem = f"face_seed{state.seed}" if state.seed is not None else "face"
        start = str(Path(self.prefs.last_dir) / f"{stem}.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save face", start, "Face PNG (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            self.prefs.last_dir = str(Path(path).parent)
            self.save_face(path)

    def _apply_record(self, record, where: str) -> bool:
        """Show a face read from a file, if it fits the model (warn when it was made by another)."""
        if record.space != "z":
            return self._apply_style_record(record, where)
        try:
            latent = self.session.check_latent(record.latent, where)
        except FaceStudioError as exc:
            self.show_error(f"{exc} Open the model it was made with ({record.model_name or 'unknown'}).")
            return False
        self.session.set_face_with_amounts(latent, record.direction_amounts(), psi=record.truncation)
        if record.model_sha256 and self.bundle.sha256 and record.model_sha256 != self.bundle.sha256:
            self.show_message(f"{where} was made with another model ({record.model_name or 'unknown'}, "
                              f"{record.model_sha256[:12]}); it is shown with {self.bundle.name}, so it may look different.",
                              "warning")
        else:
            self.banner.dismiss()
            self.statusBar().showMessage(f"Opened the face from {where}.", 5000)
        return True

    def _apply_style_record(self, record, where: str) -> bool:
        """A w or w+ face (saved with style edits, or found from a photo): shown as a face that lives in W+."""
        if self.bundle.family == "dcgan":
            self.show_error(f"{where} is a {record.space} face of a style model ({record.model_name or 'unknown'}); "
                            "open that model to see it.")
            return False
        try:
            ws = wplus_for_model(record, self.bundle, where)
        except FaceStudioError as exc:
            self.show_error(str(exc))
            return False
        self.session.show_wplus(ws, psi=record.truncation)
        self.banner.dismiss()
        self.statusBar().showMessage(f"Opened the {record.space} face from {where}: edit it in the Style tab "
                                     "(a seed starts a new face).", 6000)
        return True

    def open_face(self, path: str | Path) -> bool:
        """Restore the face saved in a face PNG; on bad metadata say why and change nothing."""
        try:
            record = read_face_png(Path(path))
        except FaceStudioError as exc:
            self.show_error(str(exc))
            return False
        except OSError as exc:
            self.show_error(f"{path} cannot be read: {exc.strerror or exc}.")
            return False
        return self._apply_record(record, Path(path).name)

    def current_latent(self) -> np.ndarray:
        """The latent on screen (directions included), float32 (nz,) copy: for other panels."""
        return self.session.effective_latent()

    def show_latent(self, latent: np.ndarray, psi: float | None = None) -> bool:
        """Make `latent` the current face (e.g. a morph frame sent back); one undo step."""
        try:
            z = self.session.check_latent(latent, "That face")
        except FaceStudioError as exc:
            self.show_error(str(exc))
            return False
        self.session.set_face(z, psi=psi)
        return True

    def copy_latent(self) -> None:
        QGuiApplication.clipboard().setText(latent_to_text(self.session.effective_latent()))
        self.statusBar().showMessage("Copied the latent as text.", 3000)

    def paste_latent(self, text: str | None = None) -> bool:
        text = QGuiApplication.clipboard().text() if text is None else text
        try:
            latent = self.session.check_latent(latent_from_text(text), "The pasted latent")
        except FaceStudioError as exc:
            self.show_error(str(exc))
            return False
        self.session.set_face(latent)
        self.statusBar().showMessage("Pasted the latent.", 3000)
        return True

    # ================================================================ gallery
    def add_to_gallery(self) -> bool:
        try:
            state = self.session.state
            title = default_title(state.seed, state.edited or bool(state.amounts), (e.title for e in self.gallery.entries))
            edit = self._style_edit()
            if edit is not None and not edit.is_plain:  # keep the style edits: the face's styles, a w+ face
                styles = face_styles(self.bundle.viewing_generator, self.session.effective_latent(), state.psi, edit)
                entry = self.gallery.add(self.current_image(), styles, truncation=1.0, model_name=self.bundle.name,
                                         model_sha256=self.bundle.sha256, title=title, space="w+")
            else:
                entry = self.gallery.add(self.current_image(), self.session.effective_latent(),
                                         truncation=state.psi, model_name=self.bundle.name,
                                         model_sha256=self.bundle.sha256, directions=self._direction_record(), title=title)
        except FaceStudioError as exc:
            self.show_error(str(exc))
            return False
        self.gallery_panel.refresh()
        self.gallery_dock.show()
        self.statusBar().showMessage(f"Added \u201c{entry.title}\u201d to the gallery.", 4000)
        return True

    def restore_from_gallery(self, entry_id: str) -> bool:
        try:
            entry = self.gallery.get(entry_id)
            record = self.gallery.load_face(entry_id)
        except (FaceStudioError, KeyError, OSError) as exc:
            self.show_error(f"This gallery face cannot be read ({exc}); remove it from the gallery.")
            return False
        return self._apply_record(record, f"gallery face \u201c{entry.title}\u201d")

    def morph_selection(self) -> bool:
        """Send the gallery's selected faces to the morph studio (two or more are needed)."""
        ids = self.gallery_panel.selected_ids()
        if len(ids) < 2:
            self.gallery_dock.show()
            self.statusBar().showMessage("Select two or more faces in the gallery (Ctrl/Shift-click) to morph between them.", 5000)
            return False
        return self.send_to_morph(ids)

    def send_to_morph(self, entry_ids: list[str]) -> bool:
        """Emit `morphRequested` with the latents of these gallery faces."""
        latents = []
        for entry_id in entry_ids:
            try:
                record = self.gallery.load_face(entry_id)
            except (FaceStudioError, KeyError, OSError) as exc:
                self.show_error(f"A selected gallery face cannot be read ({exc}); nothing was sent to the morph studio.")
                return False
            try:
                if record.space != "z" and self.bundle.family != "dcgan":  # a style face: a W+ key
                    latents.append(wplus_for_model(record, self.bundle, "A selected face"))
                else:
                    latents.append(np.array(self.session.check_latent(record.latent, "A selected face"), copy=True))
            except FaceStudioError as exc:
                self.show_error(f"{exc} Pick faces of the open model.")
                return False
        self.morphRequested.emit(latents)
        self.statusBar().showMessage(f"Sent {len(latents)} faces to the morph studio.", 4000)
        return True

    # ================================================================ morph studio and projection
    def _show_morph_studio(self) -> None:
        self.morph_window.present()

    @Slot(list)
    def _show_morph(self, latents: list) -> None:
        if self.morph_panel.set_keyframes(latents):
            self._show_morph_studio()

    # ================================================================ style-mixing donors
    def _record_styles(self, record, where: str) -> np.ndarray | None:
        """A face file's final W+ styles for the open style model (its own truncation applied), or None
        after saying why it cannot be a donor."""
        if self.bundle is None or self.bundle.family == "dcgan":
            return None
        try:
            face = face_for_model(record, self.bundle, where).latent
            return to_wplus(self.bundle.viewing_generator, face, record.truncation)
        except (FaceStudioError, ValueError) as exc:
            self.show_error(f"{where} cannot be the donor: {exc}")
            return None

    def set_donor_face(self, path: str | Path) -> bool:
        """A face PNG as the style-mixing donor."""
        try:
            record = read_face_png(Path(path))
        except (FaceStudioError, OSError) as exc:
            self.show_error(f"{Path(path).name} cannot be read: {exc}")
            return False
        styles = self._record_styles(record, Path(path).name)
        if styles is None:
            return False
        self.style_panel.set_donor_face(styles, Path(path).name)
        return True

    def choose_donor_face(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Donor face", str(self.prefs.last_dir or Path.home()), "Face PNG (*.png)")
        if path:
            self.set_donor_face(path)

    def donor_from_gallery(self) -> bool:
        """The face selected in the gallery as the style-mixing donor."""
        ids = self.gallery_panel.selected_ids()
        if len(ids) != 1:
            self.gallery_dock.show()
            self.statusBar().showMessage("Select one face in the gallery to take its layers.", 5000)
            return False
        try:
            entry, record = self.gallery.get(ids[0]), self.gallery.load_face(ids[0])
        except (FaceStudioError, KeyError, OSError) as exc:
            self.show_error(f"This gallery face cannot be read ({exc}).")
            return False
        styles = self._record_styles(record, f"gallery face \u201c{entry.title}\u201d")
        if styles is None:
            return False
        self.style_panel.set_donor_face(styles, f"gallery face \u201c{entry.title}\u201d")
        return True

    def face_for_morph(self) -> np.ndarray | None:
        """The face on screen for the Morph Studio: its z, or its W+ styles when it has style edits or lives in W+."""
        if self.session is None:
            return None
        edit = self._style_edit()
        if edit is not None and not edit.is_plain:
            return face_styles(self.bundle.viewing_generator, self.session.effective_latent(), self.session.state.psi, edit)
        return self.session.effective_latent()

    def _show_morph_frame(self, latent: np.ndarray, psi: float) -> None:
        """A morph frame sent back: a z face, or a W+ path's styles (shown as a W+ face)."""
        latent = np.asarray(latent, dtype=np.float32)
        if latent.ndim == 2:
            self.session.show_wplus(latent, psi=1.0)  # the path's styles are already truncated
        else:
            self.show_latent(latent, psi)

    def _add_frame_to_gallery(self, latent, image, psi: float) -> None:
        wplus = np.ndim(latent) == 2  # a frame of a W+ morph: its styles, already truncated
        try:
            entry = self.gallery.add(image, latent, truncation=1.0 if wplus else psi, model_name=self.bundle.name,
                                     model_sha256=self.bundle.sha256, space="w+" if wplus else "z")
        except FaceStudioError as exc:
            self.show_error(str(exc))
            return
        self.gallery_panel.refresh()
        self.gallery_dock.show()
        self.statusBar().showMessage(f"Added the morph frame \u201c{entry.title}\u201d to the gallery.", 4000)

    def open_projection(self, photo: str | Path | None = None) -> ProjectionDialog:
        """Open (or raise) the photo -> face search for the open model; it never blocks the window."""
        if self._projection is None:
            self._projection = ProjectionDialog(self.bundle, self, photo=photo, start_folder=self.prefs.last_dir or None)
            self._projection.latentChosen.connect(self._open_found_face)
            self._projection.finished.connect(self._forget_projection)
        self._projection.show()
        self._projection.raise_()
        return self._projection

    def _open_found_face(self, latent: np.ndarray) -> None:
        """"Open in explorer": the found face becomes the current one as one undo step, and
        the dialog closes so the explorer (and its Ctrl+Z) is in front again."""
        latent = np.asarray(latent, dtype=np.float32)
        if latent.ndim == 2:  # a style model's face, found in W then W+
            try:
                self.session.show_wplus(latent, psi=1.0)
            except FaceStudioError as exc:
                self.show_error(str(exc))
                return
        elif not self.show_latent(latent, 1.0):
            return
        if self._projection is not None:
            self._projection.close()
        self.raise_()
        self.activateWindow()
        self.statusBar().showMessage("Opened the face found from the photo (Ctrl+Z goes back).", 5000)

    def _forget_projection(self) -> None:
        self._projection = None

    # ================================================================ training room
    def open_training_room(self) -> QMainWindow:
        """Show the training room window (made on first use; pyqtgraph loads only then)."""
        from facestudio.ui.training.training_panel import TrainingWindow

        if self._training is None or self._training.is_shut_down:
            self._training = TrainingWindow()
            self._training.snapshotBundle.connect(self.use_bundle)
            self._training.handedOff.connect(lambda text: self.show_message(text, "info", sticky=True))
        self._training.show()
        self._training.raise_()
        self._training.activateWindow()
        return self._training
