"""The explorer: the main window artists live in.

Thin on purpose: what a face is and how gestures change it lives in `ExplorerSession`
(Qt-free), favourites in `GalleryStore`, pixels come from the Qt-free `Renderer` on the
render thread. This class wires widgets to those and keeps the screen in step.

Every gesture follows one path: change the session -> ask for a render (newest wins) ->
the render thread sends pixels back -> show them. Drags change the session live and
commit one undo step on release.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QDockWidget, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QSlider, QStyle, QToolBar,
    QToolButton, QVBoxLayout, QWidget,
)

from facestudio.app_folders import gallery_dir
from facestudio.errors import FaceStudioError
from facestudio.models import ModelConfig, checkpoint, load_model, new_bundle
from facestudio.models.mobilestylegan.convert import MODEL_ID as PHOTOGRAPHIC_ID
from facestudio.models.mobilestylegan.source import PHOTOGRAPHIC_HINT, photographic_available
from facestudio.models.bundle import ModelBundle
from facestudio.latent.sampling import start_seed
from facestudio.render.face_png import latent_from_text, latent_to_text, read_face_png, save_face_png
from facestudio.render.renderer import Renderer
from facestudio.ui.explorer.directions_panel import DirectionsPanel
from facestudio.ui.workers.directions_worker import DirectionsThread
from facestudio.sessions.explorer.explorer_state import MAX_SEED, PSI_RANGE, Change, ExplorerSession
from facestudio.ui.widgets.face_view import FaceView
from facestudio.ui.explorer.gallery_panel import GalleryPanel
from facestudio.sessions.explorer.gallery_store import GalleryStore, default_title
from facestudio.ui.widgets.icons import dice_icon, favourite_icon
from facestudio.ui.morph.interpolation_panel import InterpolationPanel
from facestudio.ui.explorer.latent_panel import LatentPanel
from facestudio.ui.widgets.message_banner import MessageBanner
from facestudio.ui.explorer.model_dialogs import AboutDialog, SnapshotDialog
from facestudio.sessions.explorer.model_sources import path_kind, run_snapshots, still_openable, updated_recent
from facestudio.ui.morph.morph_window import MorphWindow
from facestudio.ui.preferences import Preferences
from facestudio.ui.explorer.projection_dialog import ProjectionDialog
from facestudio.ui.explorer.realism_meter import RealismMeter
from facestudio.ui.workers.render_worker import FaceJob, RenderThread, VariationsJob
from facestudio.ui.explorer.seed_box import SeedBox
from facestudio.ui.explorer.variation_strip import VariationStrip

APP_TITLE = "FaceStudio"
STARTER_NAME = "Untrained starter model"
STARTER_NOTE = ("No trained default model is installed yet, so this is an untrained network and its faces look like "
                "noise. Open a trained model (File > Open) or train one.")
VARIATION_COUNT = 8
VARIATION_DELAY_MS = 120
EXPORT_SIZES = (0, 256, 512, 1024)  # 0 = the model's own size
MODEL_FILTER = "Models and faces (*.safetensors *.pkl *.pth *.pt *.ckpt *.png);;FaceStudio models (*.safetensors);;" \
               "StyleGAN2-ADA / StyleGAN3 pickles (*.pkl);;PyTorch DCGAN checkpoints (*.pth *.pt *.ckpt);;Face PNGs (*.png)"


class ExplorerWindow(QMainWindow):
    """Main window. `path`: a model, run folder or face PNG to open (None: the default model)."""

    faceShown = Signal(int)  # render token of the face now on screen
    variationsShown = Signal()
    realismShown = Signal(object)  # float | None
    directionsReady = Signal()  # the search for SeFa/PCA directions finished (found or failed)
    modelChanged = Signal(str)  # model name
    # Latents (float32 (nz,) copies) of the gallery faces picked for morphing, in order.
    # The morph studio connects to this.
    morphRequested = Signal(list)

    def __init__(self, path: str | Path | None = None, *, preferences: Preferences | None = None,
                 gallery_folder: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prefs = preferences or Preferences()
        self.bundle: ModelBundle | None = None
        self.renderer: Renderer | None = None
        self.session: ExplorerSession | None = None
        self._model_note = ""
        self._rng = np.random.default_rng()
        self._token = 0  # last face job sent
        self._model_floor = 0  # first token rendered with the current model
        self._shown_token = 0
        self._var_token = 0
        self._variation_bases: np.ndarray | None = None  # latents of the tiles on screen
        self._requested_variations: tuple[int, np.ndarray] | None = None
        self._shuffle = 0
        self._directions_token = 0
        self._pending_directions: tuple | None = None
        self._closed = False
        self._projection: ProjectionDialog | None = None
        self._training = None  # the training room window (facestudio.ui.training.training_panel), made on first use

        self._render = RenderThread()
        self._render.worker.faceRendered.connect(self._on_face_rendered)
        self._render.worker.realismMeasured.connect(self._on_realism)
        self._render.worker.variationsRendered.connect(self._on_variations)
        self._render.worker.failed.connect(self._on_render_failed)
        self._directions = DirectionsThread()
        self._directions.worker.computed.connect(self._on_directions)
        self._directions.worker.failed.connect(self._on_directions_failed)

        gallery_folder = Path(gallery_folder) if gallery_folder else gallery_dir()
        self.gallery = GalleryStore(gallery_folder)

        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self._build_status()
        self._restore_window()
        self.setAcceptDrops(True)
        self._var_timer = QTimer(self)
        self._var_timer.setSingleShot(True)
        self._var_timer.timeout.connect(self._request_variations)
        if self.gallery.problems:
            self.show_message(" ".join(self.gallery.problems), "warning")
        self._open_initial(path)

    # ================================================================ building
    def _build_central(self) -> None:
        self.banner = MessageBanner()
        self.face_view = FaceView()
        self.face_view.set_smooth(self.prefs.smooth_upscale)
        self.face_view.setToolTip("The current face. Drop a face PNG or a model file here to open it.")
        self.realism = RealismMeter()
        self.variations = VariationStrip(VARIATION_COUNT)
        self.variations.set_smooth(self.prefs.smooth_upscale)
        self.variations.picked.connect(self._on_variation_picked)

        near_title = QLabel("Nearby faces")
        near_title.setObjectName("SectionTitle")
        self.spread = QSlider(Qt.Orientation.Horizontal)
        self.spread.setRange(5, 200)
        self.spread.setValue(int(round(self.prefs.variation_spread * 100)))
        self.spread.setFixedWidth(140)
        self.spread.setToolTip("How far the nearby faces stray from the current one")
        self.spread.valueChanged.connect(self._on_spread_changed)
        self.spread_label = QLabel()
        self.spread_label.setObjectName("Hint")
        self.spread_label.setMinimumWidth(36)
        self._on_spread_changed(self.spread.value(), schedule=False)
        shuffle = QToolButton()
        shuffle.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        shuffle.setAutoRaise(True)
        shuffle.setToolTip("Other nearby faces (V)")
        shuffle.clicked.connect(self.shuffle_variations)
        near_head = QHBoxLayout()
        near_head.setSpacing(8)
        near_head.addWidget(near_title)
        near_head.addStretch(1)
        spread_caption = QLabel("Spread")
        spread_caption.setObjectName("Hint")
        near_head.addWidget(spread_caption)
        near_head.addWidget(self.spread)
        near_head.addWidget(self.spread_label)
        near_head.addWidget(shuffle)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(8)
        layout.addWidget(self.banner)
        layout.addWidget(self.face_view, 1)
        layout.addWidget(self.realism)
        layout.addLayout(near_head)
        layout.addWidget(self.variations)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        self.latent_panel = LatentPanel()
        sl = self.latent_panel.sliders
        sl.dragged.connect(self._on_dim_dragged)
        sl.released.connect(self._on_released)
        sl.nudged.connect(self._on_dim_nudged)
        sl.resetRequested.connect(self._on_dim_reset)
        sl.lockToggled.connect(self._on_lock_toggled)
        self.latent_panel.randomiseRequested.connect(self.randomise)
        self.latent_panel.resetAllRequested.connect(self.reset_all)
        self.latent_panel.unlockAllRequested.connect(self.unlock_all)

        self.directions_panel = DirectionsPanel()
        dp = self.directions_panel
        dp.dragged.connect(self._on_dir_dragged)
        dp.released.connect(lambda _k, _n: self._on_released(-1))
        dp.nudged.connect(self._on_dir_nudged)
        dp.resetRequested.connect(self._on_dir_reset)
        dp.resetKindRequested.connect(self._on_dir_reset_kind)

        self.gallery_panel = GalleryPanel(self.gallery)
        self.gallery_panel.restoreRequested.connect(self.restore_from_gallery)
        self.gallery_panel.addRequested.connect(self.add_to_gallery)
        self.gallery_panel.morphRequested.connect(self.send_to_morph)
        self.gallery_panel.failed.connect(lambda text: self.show_message(text, "error"))
        self.gallery_panel.removed.connect(lambda n: self.statusBar().showMessage(f"Removed {n} face(s) from the gallery.", 4000))

        self.latent_dock = self._dock("Latent", "LatentDock", self.latent_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.directions_dock = self._dock("Directions", "DirectionsDock", self.directions_panel,
                                          Qt.DockWidgetArea.RightDockWidgetArea)
        self.gallery_dock = self._dock("Gallery", "GalleryDock", self.gallery_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.directions_dock, self.gallery_dock, Qt.Orientation.Vertical)

        # The morph studio: a window of its own, hidden until asked for or sent faces.
        self.morph_panel = InterpolationPanel(current_face=lambda: self.session.effective_latent() if self.session else None)
        self.morph_panel.explorerRequested.connect(lambda z, psi: self.show_latent(z, psi))
        self.morph_panel.galleryRequested.connect(self._add_frame_to_gallery)
        self.morphRequested.connect(self._show_morph)
        self.morph_window = MorphWindow(self.morph_panel, self, geometry=self.prefs.morph_geometry)
        self.resizeDocks([self.latent_dock, self.directions_dock], [330, 330], Qt.Orientation.Horizontal)
        self.resizeDocks([self.directions_dock, self.gallery_dock], [420, 360], Qt.Orientation.Vertical)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, tip: str = "", icon: QStyle.StandardPixmap | None = None) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({keys})" if keys else tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        self.act_open = self._action("&Open...", self.choose_file, QKeySequence.StandardKey.Open,
                                     "Open a model, a PyTorch DCGAN checkpoint or a face PNG", SP.SP_DialogOpenButton)
        self.act_open_run = self._action("Open &Training Run...", self.choose_run_folder, "Ctrl+Shift+O",
                                         "Open a training run folder and pick which snapshot to explore", SP.SP_DirOpenIcon)
        self.act_save = self._action("&Save Face As...", self.choose_save_face, QKeySequence.StandardKey.Save,
                                     "Save the face as a PNG that remembers its latent and settings", SP.SP_DialogSaveButton)
        self.act_gallery_add = self._action("Add to &Gallery", self.add_to_gallery, "Ctrl+D",
                                            "Keep the current face in the gallery")
        self.act_gallery_add.setIcon(favourite_icon())
        self.act_quit = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, "Quit FaceStudio")
        self.act_undo = self._action("&Undo", self.undo, ["Ctrl+Z"], "Undo the last change to the face", SP.SP_ArrowBack)
        self.act_redo = self._action("&Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo", SP.SP_ArrowForward)
        self.act_copy = self._action("&Copy Latent", self.copy_latent, QKeySequence.StandardKey.Copy,
                                     "Copy the face's latent as text (paste it into FaceStudio elsewhere)")
        self.act_paste = self._action("&Paste Latent", self.paste_latent, QKeySequence.StandardKey.Paste,
                                      "Show the face whose latent text is on the clipboard")
        self.act_random = self._action("&Randomise", self.randomise, "R",
                                       "A new random face (locked dimensions keep their values)")
        self.act_random.setIcon(dice_icon())
        self.act_reset = self._action("Reset &Dimensions", self.reset_all, "Ctrl+Backspace",
                                      "Every unlocked dimension back to where this face started")
        self.act_reset_dirs = self._action("Reset D&irections", lambda: self._on_dir_reset_kind(None), "Ctrl+Shift+Backspace",
                                           "Every direction slider back to zero")
        self.act_unlock = self._action("Unlock All Dimensions", self.unlock_all, None, "Unlock every latent dimension")
        self.act_prev_seed = self._action("&Previous Seed", lambda: self.step_seed(-1), ["Alt+Left", "["],
                                          "The face of the previous seed", SP.SP_MediaSeekBackward)
        self.act_next_seed = self._action("&Next Seed", lambda: self.step_seed(1), ["Alt+Right", "]"],
                                          "The face of the next seed", SP.SP_MediaSeekForward)
        self.act_goto_seed = self._action("&Go to Seed...", self._focus_seed, "Ctrl+G", "Type a seed number")
        self.act_shuffle = self._action("Other Nearby &Faces", self.shuffle_variations, "V", "Show other nearby faces")
        self.act_smooth = self._action("&Smooth Upscaling", lambda: self.set_smooth(self.act_smooth.isChecked()), "Ctrl+U",
                                       "Filter the enlarged face (off: crisp pixels, as the model made them)")
        self.act_smooth.setCheckable(True)
        self.act_smooth.setChecked(self.prefs.smooth_upscale)
        self.act_reset_layout = self._action("Reset &Layout", self.reset_layout, None, "Put the panels back where they started")
        self.act_open_photographic = self._action(
            "Open &Photographic Faces (MobileStyleGAN)", self.open_photographic, None,
            "1024 px photographic faces (MobileStyleGAN distilled from StyleGAN2 on FFHQ)" if photographic_available()
            else PHOTOGRAPHIC_HINT)
        self.act_about = self._action("&About FaceStudio and This Model", self.show_about, "F1",
                                      "Version, and the card of the open model", SP.SP_MessageBoxInformation)
        self.act_morph = self._action("Send Selection to &Morph", self.morph_selection, None,
                                      "Morph between the faces selected in the gallery")
        self.act_morph_studio = self._action("&Morph Studio", self._show_morph_studio, "Ctrl+M",
                                             "Morph between faces: the current face, seeds, face PNGs or gallery picks")
        self.act_project = self._action("Find Face from &Photo...", self.open_projection, "Ctrl+P",
                                        "Search the model for the face closest to a photo of your own")
        self.act_training = self._action("Open &Training Room...", self.open_training_room, "Ctrl+T",
                                         "Train a model on your photos or the built-in faces and watch it learn")

    def _build_toolbar(self) -> None:
        bar = QToolBar("Face")
        bar.setObjectName("FaceToolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        bar.addAction(self.act_open)
        bar.addAction(self.act_save)
        bar.addAction(self.act_gallery_add)
        bar.addSeparator()
        bar.addAction(self.act_undo)
        bar.addAction(self.act_redo)
        bar.addSeparator()
        seed_caption = QLabel(" Seed ")
        seed_caption.setObjectName("Hint")
        bar.addWidget(seed_caption)
        bar.addAction(self.act_prev_seed)
        self.seed_box = SeedBox(MAX_SEED)
        self.seed_box.setKeyboardTracking(False)
        self.seed_box.setAccelerated(True)
        self.seed_box.setMinimumWidth(110)
        self.seed_box.setToolTip("Seed of the face (\u201ccustom\u201d: a face no seed makes, e.g. a nearby or pasted one): "
                                 "type a number and press Enter; the arrows step through seeds")
        self.seed_box.valueChanged.connect(self.go_to_seed)
        bar.addWidget(self.seed_box)
        bar.addAction(self.act_next_seed)
        bar.addAction(self.act_random)
        bar.addSeparator()
        psi_caption = QLabel(" Truncation ")
        psi_caption.setObjectName("Hint")
        bar.addWidget(psi_caption)
        self.psi_slider = QSlider(Qt.Orientation.Horizontal)
        lo, hi = PSI_RANGE
        self.psi_slider.setRange(int(lo * 100), int(hi * 100))
        self.psi_slider.setValue(100)
        self.psi_slider.setFixedWidth(170)
        self.psi_slider.setToolTip("Truncation psi: lower values give more typical, safer faces; "
                                   "1.0 is the model's full range; above 1 exaggerates")
        self.psi_slider.valueChanged.connect(self._on_psi_changed)
        self.psi_slider.sliderReleased.connect(lambda: self._on_released(-1))
        bar.addWidget(self.psi_slider)
        self.psi_label = QLabel("1.00")
        self.psi_label.setMinimumWidth(40)
        bar.addWidget(self.psi_label)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(self.act_about)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.addAction(self.act_open)
        file_menu.addAction(self.act_open_run)
        file_menu.addAction(self.act_open_photographic)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_save)
        size_menu = file_menu.addMenu("Saved Face &Size")
        self._size_group = QActionGroup(self)
        wanted = self.prefs.export_size
        for size in EXPORT_SIZES:
            act = size_menu.addAction("The model's own size" if size == 0 else f"{size} x {size} px")
            act.setCheckable(True)
            act.setData(size)
            act.setChecked(size == wanted or (size == 512 and wanted not in EXPORT_SIZES))
            self._size_group.addAction(act)
        self._size_group.triggered.connect(lambda act: setattr(self.prefs, "export_size", int(act.data())))
        file_menu.addAction(self.act_gallery_add)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)

        edit = mb.addMenu("&Edit")
        edit.addAction(self.act_undo)
        edit.addAction(self.act_redo)
        edit.addSeparator()
        edit.addAction(self.act_copy)
        edit.addAction(self.act_paste)
        edit.addSeparator()
        edit.addAction(self.act_reset)
        edit.addAction(self.act_reset_dirs)
        edit.addAction(self.act_unlock)

        face = mb.addMenu("F&ace")
        face.addAction(self.act_prev_seed)
        face.addAction(self.act_next_seed)
        face.addAction(self.act_goto_seed)
        face.addAction(self.act_random)
        face.addSeparator()
        face.addAction(self.act_shuffle)
        face.addAction(self.act_morph)
        face.addAction(self.act_morph_studio)
        face.addSeparator()
        face.addAction(self.act_project)

        mb.addMenu("&Train").addAction(self.act_training)

        view = mb.addMenu("&View")
        view.addAction(self.act_smooth)
        view.addSeparator()
        for dock in (self.latent_dock, self.directions_dock, self.gallery_dock):
            view.addAction(dock.toggleViewAction())
        view.addAction(self.act_morph_studio)
        view.addAction(self.act_reset_layout)

        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self.act_about)

    def _build_status(self) -> None:
        self.face_label = QLabel()
        self.face_label.setObjectName("Hint")
        self.model_label = QLabel()
        self.statusBar().addPermanentWidget(self.face_label)
        self.statusBar().addPermanentWidget(self.model_label)

    def _restore_window(self) -> None:
        self._default_state = self.saveState()
        geometry, state = self.prefs.geometry, self.prefs.window_state
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        if state is not None:
            self.restoreState(state)

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        for dock in (self.latent_dock, self.directions_dock, self.gallery_dock):
            dock.show()

    # ================================================================ messages
    def show_message(self, text: str, level: str = "info", *, sticky: bool = False) -> None:
        """A sentence for the person: banner for errors/warnings/notes, echoed in the status bar."""
        self.banner.show_message(text, level, sticky=sticky)
        if not sticky:
            self.statusBar().showMessage(text, 8000)

    def show_error(self, text: str) -> None:
        self.show_message(text, "error")

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
        self.realism.set_available(self.renderer.has_realism_meter)
        if not note and self.banner.text() == STARTER_NOTE:
            self.banner.dismiss()
        self._variation_bases = None
        # SeFa/PCA here are z-space directions of DCGAN generators; StyleGAN models get W-space ones later.
        missing = tuple(k for k in ("sefa", "pca") if k not in bundle.directions) if bundle.family == "dcgan" else ()
        self.directions_panel.set_directions(self.session.directions, self.session.state.amount_map())
        if bundle.family != "dcgan" and not bundle.directions:
            self.directions_panel.set_busy("No latent directions for this StyleGAN model yet: explore it with the "
                                           "z sliders, seeds and truncation.", computing=False)
        self._directions_token += 1
        self._pending_directions = None
        if missing:
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

    @Slot(int, object)
    def _on_directions(self, token: int, sets: list) -> None:
        if token != self._directions_token or self.session is None:
            return
        self.session.set_directions(sets)  # -> Change.DIRECTIONS
        self.directionsReady.emit()

    @Slot(int, str)
    def _on_directions_failed(self, token: int, text: str) -> None:
        if token == self._directions_token:
            self.directions_panel.set_busy(text, computing=False)
            self.statusBar().showMessage(text, 8000)
            self.directionsReady.emit()

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

    # ================================================================ rendering
    def _request_render(self) -> None:
        if self.renderer is None or self.session is None or self._closed:
            return
        latent = self.session.effective_latent()
        latent.setflags(write=False)
        self._token += 1
        self._render.worker.submit_face(FaceJob(self.renderer, latent, self.session.state.psi, self._token,
                                                want_realism=self.renderer.has_realism_meter))
        if self.renderer.has_realism_meter:
            self.realism.set_pending()

    @Slot(int, object)
    def _on_face_rendered(self, token: int, image: np.ndarray) -> None:
        if token < self._model_floor or token <= self._shown_token or self._closed:
            return
        self._shown_token = token
        self.face_view.set_image(image)
        self.faceShown.emit(token)
        if self._pending_directions is not None:
            token_d, bundle, missing = self._pending_directions
            self._pending_directions = None
            self._directions.worker.submit(token_d, bundle, missing)

    @Slot(int, object)
    def _on_realism(self, token: int, value: object) -> None:
        if token < self._model_floor or self._closed:
            return
        self.realism.set_value(value if value is None else float(value))
        self.realismShown.emit(value)

    @Slot(str)
    def _on_render_failed(self, text: str) -> None:
        self.show_error(text)

    def _schedule_variations(self) -> None:
        self.variations.set_stale(True)
        self._var_timer.start(VARIATION_DELAY_MS)

    def _request_variations(self) -> None:
        if self.renderer is None or self.session is None or self._closed:
            return
        seed = (zlib.crc32(self.session.state.base.tobytes()) + 7919 * self._shuffle) & 0x7FFFFFFF
        bases = self.session.variation_bases(VARIATION_COUNT, self.spread.value() / 100.0, seed)
        self._var_token += 1
        self._requested_variations = (self._var_token, bases)
        latents = (bases + self.session.direction_offset()[None, :]).astype(np.float32)
        self._render.worker.submit_variations(VariationsJob(self.renderer, latents, self.session.state.psi, self._var_token))

    @Slot(int, object)
    def _on_variations(self, token: int, images: np.ndarray) -> None:
        if token != self._var_token or self._closed:
            return
        self._variation_bases = self._requested_variations[1]  # what the tiles now show
        self.variations.set_images(images)
        self.variationsShown.emit()

    def shuffle_variations(self) -> None:
        self._shuffle += 1
        self._schedule_variations()

    def _on_spread_changed(self, value: int, schedule: bool = True) -> None:
        self.spread_label.setText(f"{value / 100:.2f}")
        self.prefs.variation_spread = value / 100.0
        if schedule:
            self._schedule_variations()

    def _on_variation_picked(self, index: int) -> None:
        if self.session is None or self._variation_bases is None or index >= len(self._variation_bases):
            return
        if self.variations.is_stale():
            self.statusBar().showMessage("The nearby faces are being updated; pick one in a moment.", 2000)
            return
        self.session.set_face(self._variation_bases[index], keep_amounts=True)
        self.statusBar().showMessage("Moved to a nearby face (Ctrl+Z goes back).", 3000)

    # ================================================================ keeping the screen in step
    def _on_session_changed(self, change: Change) -> None:
        """The one place that turns a session change into refreshes (see explorer_state.Change)."""
        if self._closed:
            return
        if change is Change.LIVE:
            self.variations.set_stale(True)
            self._request_render()
        elif change is Change.COMMITTED:
            self._after_live_commit()
        elif change is Change.FACE:
            self._after_change()
        elif change is Change.LOCK:
            state = self.session.state
            self.latent_panel.update_summary(state.base, state.origin, self.session.locked)
            self._schedule_variations()
        elif change is Change.LOCKS_CLEARED:
            self._sync_controls()
            self._schedule_variations()
        elif change is Change.DIRECTIONS:
            self.directions_panel.set_directions(self.session.directions, self.session.state.amount_map())
            if self.session.state.amounts:
                self._request_render()

    def _after_change(self) -> None:
        """The session changed as a whole (not by a drag): refresh controls, render, new neighbours."""
        self._sync_controls()
        self._request_render()
        self._schedule_variations()

    def _after_live_commit(self) -> None:
        state = self.session.state
        self.latent_panel.update_summary(state.base, state.origin, self.session.locked)
        self._update_face_label()
        self._update_undo_actions()
        self._request_render()
        self._schedule_variations()

    def _sync_controls(self) -> None:
        s = self.session
        state = s.state
        self.latent_panel.set_latent(state.base, state.origin, s.locked)
        self.directions_panel.set_amounts(state.amount_map())
        self.seed_box.show_seed(state.seed, s.last_seed)
        self.psi_slider.blockSignals(True)
        self.psi_slider.setValue(int(round(state.psi * 100)))
        self.psi_slider.blockSignals(False)
        self.psi_label.setText(f"{state.psi:.2f}")
        self._update_face_label()
        self._update_undo_actions()

    def _update_face_label(self) -> None:
        state = self.session.state
        origin = f"seed {state.seed}" if state.seed is not None else "custom face"
        parts = [origin]
        if state.edited:
            parts.append("edited")
        if state.amounts:
            parts.append(f"{len(state.amounts)} direction(s)")
        parts.append(f"psi {state.psi:.2f}")
        self.face_label.setText("  |  ".join(parts) + "   ")

    def _update_undo_actions(self) -> None:
        h = self.session.history
        self.act_undo.setEnabled(h.can_undo or self.session.dirty)
        self.act_redo.setEnabled(h.can_redo and not self.session.dirty)

    # ================================================================ gestures (each one session call; the session says what changed)
    def _on_dim_dragged(self, row: int, value: float) -> None:
        self.session.set_dimension(row, value)

    def _on_dim_nudged(self, row: int, value: float) -> None:
        self.session.set_dimension(row, value)
        self.session.commit(merge_key=("dimension", row))

    def _on_released(self, _row: int) -> None:
        if self.session is not None:
            self.session.commit()

    def _on_dim_reset(self, row: int) -> None:
        self.session.reset_dimension(row)

    def _on_lock_toggled(self, row: int, locked: bool) -> None:
        self.session.set_locked(row, locked)

    def _on_dir_dragged(self, kind: str, name: str, value: float) -> None:
        self.session.set_amount(kind, name, value)

    def _on_dir_nudged(self, kind: str, name: str, value: float) -> None:
        self.session.set_amount(kind, name, value)
        self.session.commit(merge_key=("direction", kind, name))

    def _on_dir_reset(self, kind: str, name: str) -> None:
        self.session.reset_direction(kind, name)

    def _on_dir_reset_kind(self, kind: str | None) -> None:
        self.session.reset_directions(kind)

    def _on_psi_changed(self, value: int) -> None:
        self.psi_label.setText(f"{value / 100:.2f}")
        self.session.set_psi(value / 100.0)
        if not self.psi_slider.isSliderDown():
            self.session.commit(merge_key="psi")
            self.morph_panel.set_truncation(value / 100.0)

    def go_to_seed(self, seed: int) -> None:
        if seed < 0:  # "custom" typed or stepped to: not a seed
            self._sync_controls()
            return
        self.session.go_to_seed(int(seed))

    def step_seed(self, delta: int) -> None:
        self.session.step_seed(delta)

    def _focus_seed(self) -> None:
        self.seed_box.setFocus()
        self.seed_box.selectAll()

    def randomise(self) -> None:
        self.session.randomise(self._rng)

    def reset_all(self) -> None:
        self.session.reset_all()

    def unlock_all(self) -> None:
        self.session.unlock_all()

    def undo(self) -> None:
        if self.session.undo() is not None:
            self.statusBar().showMessage("Undone.", 1500)

    def redo(self) -> None:
        if self.session.redo() is not None:
            self.statusBar().showMessage("Redone.", 1500)

    def set_smooth(self, smooth: bool) -> None:
        self.face_view.set_smooth(smooth)
        self.morph_panel.set_smooth(smooth)
        self.variations.set_smooth(smooth)
        self.act_smooth.setChecked(smooth)
        self.prefs.smooth_upscale = smooth

    # ================================================================ faces as files
    def current_image(self) -> np.ndarray:
        """The current face at the model's size, rendered now if the screen lags behind."""
        if self._shown_token == self._token and self.face_view.image() is not None:
            return self.face_view.image()
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
        try:
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

    def _add_frame_to_gallery(self, latent, image, psi: float) -> None:
        try:
            entry = self.gallery.add(image, latent, truncation=psi, model_name=self.bundle.name, model_sha256=self.bundle.sha256)
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
        if not self.show_latent(latent, 1.0):
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

    # ================================================================ closing
    def shutdown(self) -> None:
        """Stop and join every thread and remember the window; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._var_timer.stop()
        self._render.close()
        self._directions.close()
        self.morph_panel.shutdown()
        if self._projection is not None:
            self._projection.shutdown()
        if self._training is not None:
            self._training.shutdown()  # stops and saves (or hands off) a run, joins its thread
            self._training.close()
        self.prefs.geometry = self.saveGeometry()
        self.prefs.window_state = self.saveState()
        if self.morph_window.placed:  # never shown: nothing of the person's to remember
            self.prefs.morph_geometry = self.morph_window.saveGeometry()
        self.morph_window.close()
        self.prefs.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
