"""The Morph Studio's keyframe gestures: faces from the explorer, seeds, face PNGs and the
gallery go into the morph session (facestudio/sessions/morph); the key list shows its keys.

A part of MorphPanel (facestudio/ui/morph/morph_panel.py), which mixes it in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QFileDialog, QListWidgetItem

from facestudio.errors import FaceStudioError
from facestudio.latent.sampling import check_seed, latent_for_seed
from facestudio.sessions.morph.morph_session import MorphChange, MorphInputError, key_label
from facestudio.render.face_files import wplus_for_model
from facestudio.render.face_png import read_face_png

KEY_ID_ROLE = Qt.ItemDataRole.UserRole  # a keyframe list item holds only its key's id (the session holds the face)


class MorphKeyframes:
    def set_current_face_provider(self, provider: Callable[[], np.ndarray | None] | None) -> None:
        """Where "Add current face" takes its latent from (the explorer); None hides the button."""
        self._current_face = provider
        self.add_current_button.setVisible(provider is not None)

    def _morph_call(self, action: Callable[[], object]) -> bool:
        """Run a session change; a refused face becomes a message (and nothing changes)."""
        try:
            action()
        except MorphInputError as exc:
            level = "warning" if "at most" in str(exc) else "error"
            self.banner.show_message(str(exc), level)
            return False
        return True

    def add_keyframe(self, latent: np.ndarray, source: str = "explorer") -> bool:
        """Append a face to the path (`source` is shown as its tooltip)."""
        return self._morph_call(lambda: self.morph.add(latent, source))

    def set_keyframes(self, latents: list[np.ndarray], source: str = "gallery") -> bool:
        """Replace the path's faces (e.g. the gallery's "Send to morph"); nothing changes on bad input."""
        self._index = 0
        if not self._morph_call(lambda: self.morph.replace_all(latents, source)):
            return False
        self.banner.dismiss()
        return True

    def set_endpoints(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Morph from face A to face B."""
        return self.set_keyframes([a, b], source="explorer")

    def add_seed(self, seed: int) -> bool:
        if self.bundle is None:
            self.banner.show_message("Open a model before adding faces to the morph.", "error")
            return False
        try:
            latent = latent_for_seed(check_seed(seed), self.bundle.config.nz)
        except ValueError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        return self.add_keyframe(latent, f"seed {seed}")

    def add_face_png(self, path: str | Path) -> bool:
        """Add the face saved in a face PNG; say why when the file cannot be used."""
        path = Path(path)
        try:
            record = read_face_png(path)
        except FaceStudioError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        except OSError as exc:
            self.banner.show_message(f"{path} cannot be read: {exc.strerror or exc}.", "error")
            return False
        latent = record.latent
        if record.space != "z" and self.bundle is not None and self.bundle.family != "dcgan":
            try:  # a w or w+ face of this style model joins as a W+ key
                latent = wplus_for_model(record, self.bundle, path.name)
            except FaceStudioError as exc:
                self.banner.show_message(str(exc), "error")
                return False
        elif record.space != "z":
            self.banner.show_message(f"{path.name} is a {record.space} face of a style model; open that model to morph it.",
                                     "error")
            return False
        if not self.add_keyframe(latent, path.name):
            return False
        if self.bundle is not None and record.model_sha256 and self.bundle.sha256 and record.model_sha256 != self.bundle.sha256:
            self.banner.show_message(f"{path.name} was made with another model ({record.model_name or 'unknown'}); "
                                     "it may look different here.", "warning")
        return True

    def add_current_face(self) -> bool:
        latent = self._current_face() if self._current_face is not None else None
        if latent is None:
            self.banner.show_message("There is no face in the explorer to add.", "warning")
            return False
        return self.add_keyframe(latent, "explorer")

    def choose_face_pngs(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add faces", str(self.start_folder), "Face PNG (*.png)")
        for path in paths:
            self.start_folder = Path(path).parent
            if not self.add_face_png(path):
                break

    def keyframes(self) -> list[np.ndarray]:
        """The path's faces in order (copies)."""
        return self.morph.latents()

    def _listed_key_ids(self) -> list[int]:
        return [self.key_list.item(i).data(KEY_ID_ROLE) for i in range(self.key_list.count())]

    def _selected_key_ids(self) -> list[int]:
        return [item.data(KEY_ID_ROLE) for item in self.key_list.selectedItems()]

    def remove_selected_keys(self) -> None:
        self.morph.remove(self._selected_key_ids())

    def move_selected_key(self, delta: int) -> None:
        """Move the one selected keyframe `delta` places (-1 earlier, +1 later)."""
        selected = self._selected_key_ids()
        if len(selected) != 1 or not self.morph.move(selected[0], delta):
            return
        self.key_list.clearSelection()
        self.key_list.item(self.morph.index_of(selected[0])).setSelected(True)

    def clear_keyframes(self) -> None:
        self.morph.clear()

    def _jump_to_key(self, item: QListWidgetItem) -> None:
        if self.frame_count() > 1:
            self.pause()
            self.set_frame(self.morph.key_frame(self.key_list.row(item)))

    def _on_morph_changed(self, change: MorphChange) -> None:
        """The session's keys or path settings changed: the key list follows, the path is rebuilt."""
        if change is MorphChange.KEYS:
            self._sync_key_list()
            wplus = self.morph.in_wplus
            self.mode_combo.setEnabled(not wplus)
            self.mode_combo.setToolTip("A key is a W+ face (style edits), so the path runs straight in W+." if wplus else
                                       "Spherical keeps every frame as vivid as the faces you picked; "
                                       "linear passes through blander faces midway.")
        self._rebuild_path()

    def _sync_key_list(self) -> None:
        """Show the session's keys (items are remade only when the keys or their order differ)."""
        keys = self.morph.keyframes
        if self._listed_key_ids() != [k.id for k in keys]:
            with QSignalBlocker(self.key_list.model()):
                self.key_list.clear()
                for key in keys:
                    item = QListWidgetItem(self._blank, "")
                    item.setData(KEY_ID_ROLE, key.id)
                    item.setToolTip(key.source)
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
                    self.key_list.addItem(item)
        for i in range(self.key_list.count()):
            self.key_list.item(i).setText(key_label(i))
