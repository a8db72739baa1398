"""The explorer window's widgets, docks, actions, toolbar, menus and status bar (built once).

A part of ExplorerWindow (facestudio/ui/explorer/explorer_window.py), which mixes it in:
it uses the window's widgets and session through `self`.
"""

from __future__ import annotations


from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QFrame, QScrollArea,
    QDockWidget, QHBoxLayout, QLabel, QSlider, QStyle, QToolBar, QToolButton, QVBoxLayout, QWidget,
)

from facestudio.models.mobilestylegan.source import PHOTOGRAPHIC_HINT, photographic_available
from facestudio.ui.explorer.directions_panel import DirectionsPanel
from facestudio.sessions.explorer.explorer_state import MAX_SEED, PSI_RANGE
from facestudio.ui.widgets.face_view import FaceView
from facestudio.ui.explorer.gallery_panel import GalleryPanel
from facestudio.ui.widgets.icons import dice_icon, favourite_icon
from facestudio.ui.morph.morph_panel import MorphPanel
from facestudio.ui.explorer.latent_panel import LatentPanel
from facestudio.ui.widgets.message_banner import MessageBanner
from facestudio.ui.morph.morph_window import MorphWindow
from facestudio.ui.explorer.realism_meter import RealismMeter
from facestudio.ui.explorer.seed_box import SeedBox
from facestudio.ui.explorer.style_panel import StylePanel
from facestudio.ui.explorer.variation_strip import VariationStrip


VARIATION_COUNT = 8  # nearby faces under the face
EXPORT_SIZES = (0, 256, 512, 1024)  # 0 = the model's own size


class ExplorerLayout:
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
        # Style models' W edits: a tab beside Directions, shown only for them (ModelOpening._adopt).
        self.style_panel = StylePanel()
        self.style_panel.amountDragged.connect(self._on_style_dragged)
        self.style_panel.amountReleased.connect(self._on_style_released)
        self.style_panel.styleChosen.connect(self._on_style_chosen)
        self.style_panel.donorFileRequested.connect(self.choose_donor_face)
        self.style_panel.donorGalleryRequested.connect(self.donor_from_gallery)
        style_scroll = QScrollArea()
        style_scroll.setWidget(self.style_panel)
        style_scroll.setWidgetResizable(True)
        style_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.style_dock = self._dock("Style", "StyleDock", style_scroll, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.directions_dock, self.style_dock)
        self.style_dock.hide()

        # The morph studio: a window of its own, hidden until asked for or sent faces.
        self.morph_panel = MorphPanel(current_face=self.face_for_morph)
        self.morph_panel.explorerRequested.connect(self._show_morph_frame)
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
