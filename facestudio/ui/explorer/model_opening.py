"""Opening models in the explorer: the default and photographic models, files, run folders,
recent files and drops.

A part of ExplorerWindow (facestudio/ui/explorer/explorer_window.py), which mixes it in:
it uses the window's widgets and session through `self`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from facestudio.errors import FaceStudioError
from facestudio.models import ModelConfig, checkpoint, load_model, new_bundle
from facestudio.models.mobilestylegan.convert import MODEL_ID as PHOTOGRAPHIC_ID
from facestudio.models.mobilestylegan.source import PHOTOGRAPHIC_HINT, photographic_available
from facestudio.models.bundle import ModelBundle
from facestudio.latent.sampling import start_seed
from facestudio.render.renderer import Renderer
from facestudio.sessions.explorer.explorer_state import ExplorerSession
from facestudio.ui.explorer.model_dialogs import AboutDialog, SnapshotDialog
from facestudio.sessions.explorer.model_sources import path_kind, run_snapshots, still_openable, updated_recent


APP_TITLE = "FaceStudio"
STARTER_NAME = "Untrained starter model"
STARTER_NOTE = ("No trained default model is installed yet, so this is an untrained network and its faces look like "
                "noise. Open a trained model (File > Open) or train one.")
MODEL_FILTER = "Models and faces (*.safetensors *.pkl *.pth *.pt *.ckpt *.png);;FaceStudio models (*.safetensors);;" \
               "StyleGAN2-ADA / StyleGAN3 pickles (*.pkl);;PyTorch DCGAN checkpoints (*.pth *.pt *.ckpt);;Face PNGs (*.png)"


class ModelOpening:
    # ================================================================ models
    def _open_initial(self, path: str | Path | None) -> None:
        kind = path_kind(path) if path is not None else ""
        if path is not None and kind != "face" and self.open_model(path, remember=True):
            return
        self.open_default_model()
        if path is not None and kind == "face":
            self.open_face(path)

    def open_default_model(self) -> None:
        """Photographic faces (MobileStyleGAN) when random-face is installed, else the shipped
        DCGAN with one line on how to get them; when neither opens, an untrained network."""
        if photographic_available():
            try:
                self._adopt(load_model(PHOTOGRAPHIC_ID), "")
                return
            except FaceStudioError as exc:
                self.show_message(f"The photographic face model could not be opened ({exc}); showing the built-in one.", "warning")
        else:
            self.show_message(PHOTOGRAPHIC_HINT, "info")
        try:
            bundle, note = load_model(None), ""
        except FaceStudioError as exc:
            bundle = new_bundle(ModelConfig(name=STARTER_NAME), seed=0)
            note = STARTER_NOTE if not checkpoint.default_model_path().is_file() else (
                f"The built-in model could not be opened ({exc}) Showing an untrained network instead; "
                "reinstall FaceStudio or open a model (File > Open).")
        self._adopt(bundle, note)
        if note:
            self.show_message(note, "info", sticky=True)

    def open_photographic(self) -> bool:
        """File > Open Photographic Faces: the `mobilestylegan-ffhq` model (first time: converted)."""
        if not photographic_available():
            self.show_error(PHOTOGRAPHIC_HINT)
            return False
        self.statusBar().showMessage("Opening photographic faces (the first time converts them: about 10-15 s)...")
        return self.open_model(PHOTOGRAPHIC_ID, remember=True)

    def open_path(self, path: str | Path) -> bool:
        """Open whatever `path` is: face PNG, model file, run folder or PyTorch checkpoint."""
        if path == PHOTOGRAPHIC_ID:
            return self.open_photographic()
        kind = path_kind(path)
        if kind == "face":
            return self.open_face(path)
        if kind == "unknown":
            self.show_error(f"{path} is not something FaceStudio opens: choose a model (.safetensors), a training run "
                            "folder, a StyleGAN .pkl, a PyTorch DCGAN checkpoint (.pth) or a face PNG.")
            return False
        return self.open_model(path, remember=True)

    def open_model(self, path: str | Path, *, remember: bool = True) -> bool:
        """Load a model file or run folder (its newest snapshot); on failure nothing changes."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            bundle = load_model(path)
        except FaceStudioError as exc:
            self.show_error(str(exc))
            return False
        except OSError as exc:
            self.show_error(f"{path} cannot be read: {exc.strerror or exc}.")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        kept = self._adopt(bundle, "")
        if remember:
            self.prefs.recent_models = updated_recent(self.prefs.recent_models, path)
        where = bundle.source.name if bundle.source else str(path)
        suffix = "" if kept else " (new latent size: the undo history starts over)"
        self.statusBar().showMessage(f"Opened {bundle.name} from {where}{suffix}.", 6000)
        return True

    def _adopt(self, bundle: ModelBundle, note: str) -> bool:
        """Make `bundle` the model on screen; returns True when the face and history were kept."""
        self.bundle, self.renderer, self._model_note = bundle, Renderer(bundle), note
        self._model_floor = self._token + 1
        self._last_request = None
        nz = bundle.config.nz
        if self.session is None:  # the first model: nothing to keep or lose
            self.session = ExplorerSession(nz, seed=start_seed(bundle.config.info))
            self.session.change_model(nz, bundle.directions)
            self.session.subscribe(self._on_session_changed)
            kept = True
        else:
            kept = self.session.change_model(nz, bundle.directions)
        name = bundle.name if not note else STARTER_NAME
        source = f" ({bundle.source.name})" if bundle.source else ""
        self.setWindowTitle(f"{name}{source} \u2014 {APP_TITLE}")
        c = bundle.config
        family = "" if bundle.family == "dcgan" else f"  |  {bundle.family}"
        self.model_label.setText(f"{name}{family}  |  {c.image_size} px  |  nz {c.nz}" + ("  |  untrained" if note else ""))
        self.model_label.setToolTip(note or (str(bundle.source) if bundle.source else ""))
        self.realism.set_available(self.renderer.has_realism_meter, by_discriminator=self.renderer.realism_by_discriminator)
        if not note and self.banner.text() == STARTER_NOTE:
            self.banner.dismiss()
        self._variation_bases = None
        # SeFa/PCA here are z-space directions of DCGAN generators; StyleGAN models get W-space ones later.
        missing = tuple(k for k in ("sefa", "pca") if k not in bundle.directions) if bundle.family == "dcgan" else ()
        self.directions_panel.set_directions(self.session.directions, self.session.state.amount_map())
        style = bundle.family != "dcgan"
        if style and not bundle.directions:
            self.directions_panel.set_busy("Directions of style models act in W, on the layers you choose: "
                                           "see the Style tab.", computing=False)
        self._directions_token += 1
        self._pending_directions = None
        self.style_panel.set_model(bundle.viewing_generator if style else None, bundle.name, bundle.sha256)
        # Style models: the Style tab takes the Directions dock's place (their directions act in W);
        # DCGAN models: the reverse.
        self.style_dock.setVisible(style)
        self.directions_dock.setVisible(not style)
        if style:
            self.style_dock.raise_()
            self._pending_directions = (self._directions_token, bundle, ("style",))
        elif missing:
            # Started once the first face is up, so it does not compete with it for the CPU.
            self.directions_panel.set_busy("Finding SeFa and PCA directions for this model...")
            self._pending_directions = (self._directions_token, bundle, missing)
        self.morph_panel.set_model(bundle)
        if self._projection is not None:  # it searches the model it was opened with
            self._projection.close()
            self._projection = None
        self._after_change()
        self.modelChanged.emit(bundle.name)
        return kept

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model or a face", self.prefs.last_dir, MODEL_FILTER)
        if path:
            self.prefs.last_dir = str(Path(path).parent)
            self.open_path(path)

    def choose_run_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a training run folder", self.prefs.last_dir)
        if not folder:
            return
        self.prefs.last_dir = str(Path(folder).parent)
        try:
            snapshots = run_snapshots(folder)
        except FaceStudioError as exc:
            self.show_error(str(exc))
            return
        chosen = snapshots[0].path
        if len(snapshots) > 1:
            dialog = SnapshotDialog(Path(folder), snapshots, self)
            if not dialog.exec():
                return
            chosen = dialog.chosen()
        if self.open_model(chosen, remember=False):
            self.prefs.recent_models = updated_recent(self.prefs.recent_models, chosen)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in self.prefs.recent_models if still_openable(p)]
        for i, path in enumerate(recent, 1):
            label = "Photographic faces (MobileStyleGAN, FFHQ)" if path == PHOTOGRAPHIC_ID else Path(path).name
            act = self.recent_menu.addAction(f"&{i % 10}  {label}", lambda p=path: self.open_path(p))
            act.setToolTip(path)
            act.setStatusTip(path)
        if not recent:
            self.recent_menu.addAction("No recent models").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear List", lambda: setattr(self.prefs, "recent_models", []))

    def show_about(self) -> None:
        if self.bundle is None:
            return
        dialog = AboutDialog(self.bundle, self._model_note, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def use_bundle(self, bundle: ModelBundle, label: str) -> bool:
        """Explore a model that exists only in memory (a training snapshot); the face is kept when it fits."""
        kept = self._adopt(bundle, "")
        suffix = "" if kept else " (new latent size: the undo history starts over)"
        self.statusBar().showMessage(f"Exploring {label}{suffix}.", 6000)
        self.raise_()
        return True

    # ================================================================ drag and drop
    @staticmethod
    def _dropped_path(event) -> Path | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if isinstance(url, QUrl) and url.isLocalFile():
                path = Path(url.toLocalFile())
                if path_kind(path) != "unknown":
                    return path
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()
            self.face_view.set_drop_hint(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self.face_view.set_drop_hint(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self.face_view.set_drop_hint(False)
        path = self._dropped_path(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)
