"""The morph studio: interpolate between faces, scrub and play the morph, export it.

Keyframes (two or more faces: from the explorer, the gallery, seeds or face PNGs) make a
path through latent space (`facestudio.latent.interpolation.keyframe_path`: spherical by
default, since straight lines between latents cut through the bland middle of the
latent ball). Every change to the path is sent to the morph thread, which renders the
frames ahead in batches starting at the playhead (`morph_worker`); the GUI thread only
shows finished frames, so playback stays smooth and a change never waits for a stale
strip. Playback holds on a frame that is not rendered yet rather than skipping it.

Any frame can go back to the explorer (`explorerRequested`) or into the gallery
(`galleryRequested`); the window that hosts the panel does both. Exports (GIF, MP4,
PNG frames, contact sheet) run on their own thread with a progress bar and Cancel.
Call `shutdown()` before the panel is destroyed: it stops playback and joins both
threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QDragEnterEvent, QDropEvent, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from facestudio.errors import FaceStudioError
from facestudio.latent.interpolation import EASINGS, keyframe_path
from facestudio.latent.sampling import MAX_PSI, check_seed, latent_for_seed
from facestudio.models.bundle import ModelBundle
from facestudio.render.export import mp4_available, mp4_installed
from facestudio.render.face_png import read_face_png
from facestudio.render.output_files import DEFAULT_FACE_SIZE
from facestudio.render.renderer import Renderer
from facestudio.ui.widgets.face_view import FaceView
from facestudio.ui.widgets.message_banner import MessageBanner
from facestudio.ui.workers.morph_worker import ExportJob, ExportThread, MorphThread, StripJob
from facestudio.ui.widgets.qt_images import qpixmap_from_rgb

MAX_KEYFRAMES = 16
FRAMES_PER_SEGMENT = (2, 120)
DEFAULT_FRAMES_PER_SEGMENT = 30
FPS_RANGE = (1, 60)
DEFAULT_FPS = 24
PLAYBACK_MODES = {"loop": "Loop", "pingpong": "Ping-pong", "once": "Once"}
INTERPOLATION_NAMES = {"slerp": "Spherical", "lerp": "Linear"}
EXPORT_FORMATS = {"gif": "GIF", "mp4": "MP4 video", "frames": "PNG frames", "sheet": "Contact sheet"}
EXPORT_SIZES = (0, 256, 512, 1024)  # 0 = the model's own size
THUMB = 56
LATENT_ROLE = Qt.ItemDataRole.UserRole
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 1


def playing_order(count: int, mode: str) -> np.ndarray:
    """Frame indices of one pass as played (and exported): ping-pong adds the way back."""
    forward = np.arange(count, dtype=np.int64)
    if mode == "pingpong" and count > 2:
        return np.concatenate([forward, forward[-2:0:-1]])
    return forward


class InterpolationPanel(QWidget):
    """Self-contained morph studio; call `set_model` before use and `shutdown` at the end.

    `current_face`: optional callable returning the explorer's current latent (nz,) (or
    None); when given, an "Add current face" button appears.
    """

    explorerRequested = Signal(object, float)  # latent (nz,) float32, truncation psi
    galleryRequested = Signal(object, object, float)  # latent (nz,) float32, image (H, W, 3) uint8, psi
    frameShown = Signal(int)  # index of the frame now in the preview
    stripReady = Signal()  # every frame of the current path is rendered
    pathChanged = Signal(int)  # number of frames of the new path
    exportProgressed = Signal(int, int)  # steps done, steps in all
    exportFinished = Signal(str)  # path written
    exportCancelled = Signal()
    exportFailed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, current_face: Callable[[], np.ndarray | None] | None = None,
                 start_folder: str | Path | None = None) -> None:
        super().__init__(parent)
        self.bundle: ModelBundle | None = None
        self.renderer: Renderer | None = None
        self.psi = 1.0
        self.start_folder = Path(start_folder) if start_folder else Path.home()
        self._current_face = current_face
        self._latents = np.zeros((0, 0), dtype=np.float32)  # the path, (F, nz)
        self._frames: np.ndarray | None = None  # (F, H, W, 3) uint8
        self._have = np.zeros(0, dtype=bool)
        self._token = 0
        self._index = 0
        self._direction = 1
        self._export_token = 0
        self._exporting = False
        self._closed = False
        self._blank = self._blank_icon()

        self._morph = MorphThread()
        self._morph.worker.framesRendered.connect(self._on_frames)
        self._morph.worker.failed.connect(lambda text: self.banner.show_message(text, "error"))
        self._export: ExportThread | None = None  # started with the first export

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._build()
        self.setAcceptDrops(True)
        self._update_enabled()

    # ================================================================ building
    def _build(self) -> None:
        style = self.style()
        self.banner = MessageBanner()

        # --- keyframes
        self.key_list = QListWidget()
        self.key_list.setObjectName("Keyframes")
        # List mode flowing left to right: unlike icon mode, a drag really reorders the rows.
        self.key_list.setViewMode(QListView.ViewMode.ListMode)
        self.key_list.setFlow(QListView.Flow.LeftToRight)
        self.key_list.setWrapping(False)
        self.key_list.setIconSize(QSize(THUMB, THUMB))
        self.key_list.setSpacing(3)
        self.key_list.setFixedHeight(THUMB + 22)
        self.key_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.key_list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.key_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.key_list.setToolTip("The faces the morph passes through, in order. Drag to reorder; drop face PNGs here.")
        self.key_list.model().rowsMoved.connect(lambda *_: self._keys_changed())
        self.key_list.itemSelectionChanged.connect(self._update_enabled)
        self.key_list.itemDoubleClicked.connect(self._jump_to_key)

        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Seed of a face to add")
        self.add_seed_button = QPushButton("Add seed")
        self.add_seed_button.clicked.connect(lambda: self.add_seed(self.seed_spin.value()))
        self.add_png_button = QPushButton("Add face PNG...")
        self.add_png_button.clicked.connect(self.choose_face_pngs)
        self.add_current_button = QPushButton("Add current face")
        self.add_current_button.setToolTip("Add the face shown in the explorer")
        self.add_current_button.clicked.connect(self.add_current_face)
        self.add_current_button.setVisible(self._current_face is not None)
        self.remove_key_button = QToolButton()
        self.remove_key_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TrashIcon))
        self.remove_key_button.setToolTip("Remove the selected keyframes")
        self.remove_key_button.clicked.connect(self.remove_selected_keys)
        self.key_left_button = QToolButton()
        self.key_left_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.key_left_button.setToolTip("Move the selected keyframe earlier")
        self.key_left_button.clicked.connect(lambda: self.move_selected_key(-1))
        self.key_right_button = QToolButton()
        self.key_right_button.setArrowType(Qt.ArrowType.RightArrow)
        self.key_right_button.setToolTip("Move the selected keyframe later")
        self.key_right_button.clicked.connect(lambda: self.move_selected_key(1))
        self.clear_keys_button = QToolButton()
        self.clear_keys_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogResetButton))
        self.clear_keys_button.setToolTip("Remove every keyframe")
        self.clear_keys_button.clicked.connect(self.clear_keyframes)
        key_buttons = QHBoxLayout()
        key_buttons.setSpacing(6)
        key_buttons.addWidget(self.add_current_button)
        key_buttons.addWidget(self.seed_spin)
        key_buttons.addWidget(self.add_seed_button)
        key_buttons.addWidget(self.add_png_button)
        key_buttons.addStretch(1)
        key_buttons.addWidget(self.key_left_button)
        key_buttons.addWidget(self.key_right_button)
        key_buttons.addWidget(self.remove_key_button)
        key_buttons.addWidget(self.clear_keys_button)

        # --- path
        self.mode_combo = QComboBox()
        for key, label in INTERPOLATION_NAMES.items():
            self.mode_combo.addItem(label, key)
        self.mode_combo.setToolTip("Spherical keeps every frame as vivid as the faces you picked; "
                                   "linear passes through blander faces midway.")
        self.easing_combo = QComboBox()
        for name in EASINGS:
            self.easing_combo.addItem(name.replace("-", " ").capitalize(), name)
        self.easing_combo.setToolTip("How the morph speeds up and slows down between keyframes")
        self.frames_spin = QSpinBox()
        self.frames_spin.setRange(*FRAMES_PER_SEGMENT)
        self.frames_spin.setValue(DEFAULT_FRAMES_PER_SEGMENT)
        self.frames_spin.setToolTip("Frames from one keyframe to the next")
        self.closed_check = QCheckBox("Back to the first face")
        self.closed_check.setToolTip("Close the path: the morph returns to the first keyframe, for seamless loops")
        for w in (self.mode_combo, self.easing_combo):
            w.currentIndexChanged.connect(lambda _i: self._path_settings_changed())
        self.frames_spin.valueChanged.connect(lambda _v: self._path_settings_changed())
        self.closed_check.toggled.connect(lambda _v: self._path_settings_changed())
        path_row = QHBoxLayout()
        path_row.setSpacing(6)
        for caption, w in (("Path", self.mode_combo), ("Easing", self.easing_combo), ("Frames per step", self.frames_spin)):
            label = QLabel(caption)
            label.setObjectName("Hint")
            path_row.addWidget(label)
            path_row.addWidget(w)
        path_row.addWidget(self.closed_check)
        path_row.addStretch(1)

        # --- preview, scrubber, playback
        self.preview = FaceView()
        self.preview.set_placeholder("Add two or more faces to morph between")
        self.preview.setMinimumSize(160, 160)
        self.play_button = QToolButton()
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        # Space plays only while the focus is inside the panel, not anywhere in the window.
        play_action = QAction("Play / pause", self)
        play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        play_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        play_action.triggered.connect(self.toggle_play)
        self.addAction(play_action)
        self.prev_button = QToolButton()
        self.prev_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward))
        self.prev_button.setToolTip("Previous frame")
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button = QToolButton()
        self.next_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.next_button.setToolTip("Next frame")
        self.next_button.clicked.connect(lambda: self.step(1))
        self.playback_combo = QComboBox()
        for key, label in PLAYBACK_MODES.items():
            self.playback_combo.addItem(label, key)
        self.playback_combo.currentIndexChanged.connect(lambda _i: self._playback_changed())
        self.fps_spin = QSpinBox()
        self.fps_spin.setRange(*FPS_RANGE)
        self.fps_spin.setValue(DEFAULT_FPS)
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.valueChanged.connect(lambda _v: self._playback_changed())
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setRange(0, 0)
        self.scrubber.setToolTip("Scrub through the morph")
        self.scrubber.valueChanged.connect(self._on_scrub)
        self.frame_label = QLabel("0 / 0")
        self.frame_label.setObjectName("Hint")
        self.frame_label.setMinimumWidth(70)
        transport = QHBoxLayout()
        transport.setSpacing(6)
        for w in (self.prev_button, self.play_button, self.next_button):
            transport.addWidget(w)
        transport.addWidget(self.scrubber, 1)
        transport.addWidget(self.frame_label)
        transport.addWidget(self.playback_combo)
        transport.addWidget(self.fps_spin)

        self.filmstrip = QListWidget()
        self.filmstrip.setObjectName("Filmstrip")
        # List mode flowing left to right: icon-only cells whose highlight frames the picture.
        self.filmstrip.setViewMode(QListView.ViewMode.ListMode)
        self.filmstrip.setFlow(QListView.Flow.LeftToRight)
        self.filmstrip.setWrapping(False)
        self.filmstrip.setMovement(QListView.Movement.Static)
        self.filmstrip.setUniformItemSizes(True)
        self.filmstrip.setIconSize(QSize(THUMB, THUMB))
        self.filmstrip.setSpacing(2)
        self.filmstrip.setFixedHeight(THUMB + 34)
        self.filmstrip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.filmstrip.currentRowChanged.connect(self._on_strip_row)

        # --- frame actions and export
        self.to_explorer_button = QPushButton("Send frame to explorer")
        self.to_explorer_button.clicked.connect(self.send_frame_to_explorer)
        self.to_gallery_button = QPushButton("Save frame to gallery")
        self.to_gallery_button.clicked.connect(self.save_frame_to_gallery)
        self.format_combo = QComboBox()
        video = mp4_installed()  # the binary is checked when exporting; importing it here costs start-up
        for key, label in EXPORT_FORMATS.items():
            self.format_combo.addItem(label, key)
            if key == "mp4" and not video:
                item = self.format_combo.model().item(self.format_combo.count() - 1)
                item.setEnabled(False)
                item.setToolTip("MP4 needs the optional video support: pip install 'facestudio[video]'")
        self.size_combo = QComboBox()
        for size in EXPORT_SIZES:
            self.size_combo.addItem("Model size" if size == 0 else f"{size} px", size)
        self.size_combo.setCurrentIndex(EXPORT_SIZES.index(DEFAULT_FACE_SIZE))  # as the commands and Save Face
        self.export_button = QPushButton("Export...")
        self.export_button.clicked.connect(self.choose_export)
        self.export_progress = QProgressBar()
        self.export_progress.setTextVisible(True)
        self.export_progress.hide()
        self.export_cancel_button = QPushButton("Cancel")
        self.export_cancel_button.clicked.connect(self.cancel_export)
        self.export_cancel_button.hide()
        actions = QHBoxLayout()
        actions.setSpacing(6)
        actions.addWidget(self.to_explorer_button)
        actions.addWidget(self.to_gallery_button)
        actions.addStretch(1)
        actions.addWidget(self.format_combo)
        actions.addWidget(self.size_combo)
        actions.addWidget(self.export_button)
        actions.addWidget(self.export_progress)
        actions.addWidget(self.export_cancel_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.banner)
        layout.addWidget(self.key_list)
        layout.addLayout(key_buttons)
        layout.addLayout(path_row)
        layout.addWidget(self.preview, 1)
        layout.addLayout(transport)
        layout.addWidget(self.filmstrip)
        layout.addLayout(actions)

    @staticmethod
    def _blank_icon() -> QIcon:
        pixmap = QPixmap(THUMB, THUMB)
        pixmap.fill(QColor(60, 60, 64))
        return QIcon(pixmap)

    def _update_enabled(self) -> None:
        has_model = self.renderer is not None
        for w in (self.add_seed_button, self.add_png_button, self.add_current_button, self.seed_spin):
            w.setEnabled(has_model)
        selected = self.key_list.selectedItems()
        self.remove_key_button.setEnabled(bool(selected))
        row = self.key_list.row(selected[0]) if len(selected) == 1 else -1
        self.key_left_button.setEnabled(row > 0)
        self.key_right_button.setEnabled(0 <= row < self.key_list.count() - 1)
        self.clear_keys_button.setEnabled(self.key_list.count() > 0)
        frames = self.frame_count()
        for w in (self.play_button, self.prev_button, self.next_button, self.scrubber):
            w.setEnabled(frames > 1)
        shown = frames > 0 and bool(self._have[self._index])
        self.to_explorer_button.setEnabled(shown)
        self.to_gallery_button.setEnabled(shown)
        self.export_button.setEnabled(frames > 1 and not self._exporting)
        self.format_combo.setEnabled(not self._exporting)
        self.size_combo.setEnabled(not self._exporting)

    # ================================================================ model and keyframes
    def set_model(self, bundle: ModelBundle, renderer: Renderer | None = None) -> None:
        """Morph with this model. Keyframes stay when the latent size matches, else they go.

        Without `renderer` the panel builds its own, so morph rendering never waits on the
        explorer's renderer lock.
        """
        same_space = self.bundle is not None and self.bundle.config.nz == bundle.config.nz
        self.bundle = bundle
        self.renderer = renderer if renderer is not None else Renderer(bundle)
        size = bundle.config.image_size
        self.size_combo.setItemText(0, f"Model size ({size} px)")
        if not same_space and self.key_list.count():
            self.banner.show_message("The new model has another latent size, so the keyframes were removed.", "warning")
            self.key_list.clear()
        self._rebuild_path()

    def set_truncation(self, psi: float) -> None:
        """Render the morph with this truncation (the explorer's psi)."""
        psi = float(psi)
        if not 0.0 <= psi <= MAX_PSI:
            raise ValueError(f"Truncation {psi} is out of range; use a value from 0 to {MAX_PSI:g}.")
        if psi != self.psi:
            self.psi = psi
            self._rebuild_path()

    def set_smooth(self, smooth: bool) -> None:
        """Smooth (bilinear preview, Lanczos export enlarging) or crisp pixel squares."""
        self.preview.set_smooth(smooth)

    def set_current_face_provider(self, provider: Callable[[], np.ndarray | None] | None) -> None:
        """Where "Add current face" takes its latent from (the explorer); None hides the button."""
        self._current_face = provider
        self.add_current_button.setVisible(provider is not None)

    def _check_latent(self, latent: np.ndarray, where: str) -> np.ndarray | None:
        if self.bundle is None:
            self.banner.show_message("Open a model before adding faces to the morph.", "error")
            return None
        z = np.asarray(latent)
        nz = self.bundle.config.nz
        if z.ndim != 1 or z.shape[0] != nz or z.dtype.kind not in "fiu":
            self.banner.show_message(f"{where} holds a latent of shape {z.shape}; the open model needs {nz} numbers. "
                                     "Use faces made with this model.", "error")
            return None
        z = z.astype(np.float32)
        if not np.all(np.isfinite(z)):
            self.banner.show_message(f"{where} holds a latent with NaN or infinite values; it cannot be morphed.", "error")
            return None
        return z

    def _append_key(self, latent: np.ndarray, source: str) -> None:
        item = QListWidgetItem(self._blank, "")
        item.setData(LATENT_ROLE, latent)
        item.setData(SOURCE_ROLE, source)
        item.setToolTip(source)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
        self.key_list.addItem(item)

    def _room(self, wanted: int) -> bool:
        if self.key_list.count() + wanted > MAX_KEYFRAMES:
            self.banner.show_message(f"A morph can pass through at most {MAX_KEYFRAMES} faces; remove some first.", "warning")
            return False
        return True

    def add_keyframe(self, latent: np.ndarray, source: str = "explorer") -> bool:
        """Append a face to the path (`source` is shown as its tooltip)."""
        z = self._check_latent(latent, f"The face from {source}")
        if z is None or not self._room(1):
            return False
        self._append_key(z, source)
        self._keys_changed()
        return True

    def set_keyframes(self, latents: list[np.ndarray], source: str = "gallery") -> bool:
        """Replace the path's faces (e.g. the gallery's "Send to morph"); nothing changes on bad input."""
        if len(latents) > MAX_KEYFRAMES:
            self.banner.show_message(f"A morph can pass through at most {MAX_KEYFRAMES} faces; "
                                     f"{len(latents)} were sent. Pick fewer.", "warning")
            return False
        checked = []
        for i, latent in enumerate(latents):
            z = self._check_latent(latent, f"Face {i + 1} from {source}")
            if z is None:
                return False
            checked.append(z)
        self.key_list.clear()
        for i, z in enumerate(checked):
            self._append_key(z, f"{source} face {i + 1}")
        self.banner.dismiss()
        self._index = 0
        self._keys_changed()
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
        if not self.add_keyframe(record.latent, path.name):
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
        return [np.array(self.key_list.item(i).data(LATENT_ROLE), copy=True) for i in range(self.key_list.count())]

    def remove_selected_keys(self) -> None:
        for item in self.key_list.selectedItems():
            self.key_list.takeItem(self.key_list.row(item))
        self._keys_changed()

    def move_selected_key(self, delta: int) -> None:
        """Move the one selected keyframe `delta` places (-1 earlier, +1 later)."""
        selected = self.key_list.selectedItems()
        if len(selected) != 1:
            return
        row = self.key_list.row(selected[0])
        new = row + delta
        if not 0 <= new < self.key_list.count():
            return
        item = self.key_list.takeItem(row)
        self.key_list.insertItem(new, item)
        self.key_list.clearSelection()
        item.setSelected(True)
        self._keys_changed()

    def clear_keyframes(self) -> None:
        self.key_list.clear()
        self._keys_changed()

    def _jump_to_key(self, item: QListWidgetItem) -> None:
        if self.frame_count() > 1:
            self.pause()
            self.set_frame(self.key_list.row(item) * self.frames_spin.value())

    # ================================================================ the path
    def interpolation(self) -> str:
        return self.mode_combo.currentData()

    def easing(self) -> str:
        return self.easing_combo.currentData()

    def set_interpolation(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))

    def set_easing(self, name: str) -> None:
        self.easing_combo.setCurrentIndex(self.easing_combo.findData(name))

    def path_latents(self) -> np.ndarray:
        """The latents of every frame (F, nz), a copy."""
        return self._latents.copy()

    def frame_count(self) -> int:
        return int(self._latents.shape[0])

    def rendered_count(self) -> int:
        return int(self._have.sum())

    def _keys_changed(self) -> None:
        for i in range(self.key_list.count()):
            item = self.key_list.item(i)
            item.setText(chr(ord("A") + i) if i < 26 else str(i + 1))
        self._rebuild_path()

    def _path_settings_changed(self) -> None:
        self._rebuild_path()

    def _compute_path(self) -> np.ndarray:
        keys = self.keyframes()
        nz = self.bundle.config.nz if self.bundle is not None else 0
        if not keys or self.renderer is None:
            return np.zeros((0, nz), dtype=np.float32)
        if len(keys) == 1:
            return np.stack(keys).astype(np.float32)
        return keyframe_path(keys, frames_per_segment=self.frames_spin.value(), mode=self.interpolation(),
                             easing=self.easing(), loop=self.closed_check.isChecked())

    def _rebuild_path(self) -> None:
        """New path: drop the frames, render again from the playhead (newest request wins)."""
        if self._closed:
            return
        try:
            latents = self._compute_path()
        except ValueError as exc:
            self.banner.show_message(str(exc), "error")
            latents = np.zeros((0, self._latents.shape[1] if self._latents.ndim == 2 else 0), dtype=np.float32)
        self._latents = latents
        n = len(latents)
        self._token += 1
        self._have = np.zeros(n, dtype=bool)
        self._frames = None
        self._index = min(self._index, max(n - 1, 0))
        self._direction = 1
        with QSignalBlocker(self.filmstrip):
            self.filmstrip.clear()
            for i in range(n):
                item = QListWidgetItem(self._blank, "")
                item.setToolTip(f"Frame {i + 1}")
                self.filmstrip.addItem(item)
            if n:
                self.filmstrip.setCurrentRow(self._index)
        with QSignalBlocker(self.scrubber):
            self.scrubber.setRange(0, max(n - 1, 0))
            self.scrubber.setValue(self._index)
        self._update_frame_label()
        if n == 0:
            self.pause()
            self.preview.set_placeholder("Add two or more faces to morph between")
        self._update_enabled()
        self.pathChanged.emit(n)
        if n and self.renderer is not None:
            self._morph.worker.submit(StripJob(self.renderer, latents, self.psi, self._token, first=self._index))

    def _on_frames(self, token: int, indices: np.ndarray, images: np.ndarray) -> None:
        if token != self._token or self._closed:
            return
        if self._frames is None:
            self._frames = np.zeros((self.frame_count(),) + images.shape[1:], dtype=np.uint8)
        self._frames[indices] = images
        self._have[indices] = True
        step = self.frames_spin.value()
        n_keys = self.key_list.count()
        for i, image in zip(indices.tolist(), images):
            icon = QIcon(qpixmap_from_rgb(image))
            self.filmstrip.item(i).setIcon(icon)
            if n_keys > 1 and i % step == 0 and i // step < n_keys:
                self.key_list.item(i // step).setIcon(icon)
            elif n_keys == 1 and i == 0:
                self.key_list.item(0).setIcon(icon)
        if self._have[self._index]:
            self._show(self._index)
        self._update_enabled()
        if self._have.all():
            self.stripReady.emit()

    # ================================================================ frames and playback
    def current_frame(self) -> int:
        return self._index

    def frame_image(self, index: int | None = None) -> np.ndarray | None:
        """The rendered frame (a copy), or None while it is still being rendered."""
        i = self._index if index is None else index
        if self._frames is None or not 0 <= i < self.frame_count() or not self._have[i]:
            return None
        return self._frames[i].copy()

    def frame_latent(self, index: int | None = None) -> np.ndarray | None:
        i = self._index if index is None else index
        if not 0 <= i < self.frame_count():
            return None
        return self._latents[i].copy()

    def set_frame(self, index: int) -> None:
        """Move the playhead (scrubber, filmstrip and preview follow)."""
        n = self.frame_count()
        if n == 0:
            return
        self._index = int(min(max(index, 0), n - 1))
        with QSignalBlocker(self.scrubber):
            self.scrubber.setValue(self._index)
        with QSignalBlocker(self.filmstrip):
            self.filmstrip.setCurrentRow(self._index)
        self.filmstrip.scrollToItem(self.filmstrip.item(self._index))
        self._update_frame_label()
        if self._have[self._index]:
            self._show(self._index)
        self._update_enabled()

    def _show(self, index: int) -> None:
        self.preview.set_image(self._frames[index])
        self.frameShown.emit(index)

    def _update_frame_label(self) -> None:
        n = self.frame_count()
        self.frame_label.setText(f"{self._index + 1 if n else 0} / {n}")

    def _on_scrub(self, value: int) -> None:
        self.pause()
        self.set_frame(value)

    def _on_strip_row(self, row: int) -> None:
        if row >= 0 and row != self._index:
            self.pause()
            self.set_frame(row)

    def step(self, delta: int) -> None:
        self.pause()
        n = self.frame_count()
        if n:
            self.set_frame((self._index + delta) % n)

    def playback_mode(self) -> str:
        return self.playback_combo.currentData()

    def set_playback_mode(self, mode: str) -> None:
        self.playback_combo.setCurrentIndex(self.playback_combo.findData(mode))

    def set_fps(self, fps: int) -> None:
        self.fps_spin.setValue(int(fps))

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def play(self) -> None:
        if self.frame_count() < 2:
            return
        if self.playback_mode() == "once" and self._index == self.frame_count() - 1:
            self.set_frame(0)
        self._timer.start(max(1, round(1000 / self.fps_spin.value())))
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))

    def pause(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))

    def toggle_play(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def _playback_changed(self) -> None:
        self._direction = 1
        if self.is_playing():
            self._timer.start(max(1, round(1000 / self.fps_spin.value())))

    def next_index(self) -> int | None:
        """Where the playhead goes on the next tick (None: the end of a "once" pass)."""
        n, i, mode = self.frame_count(), self._index, self.playback_mode()
        if n < 2:
            return None
        if mode == "pingpong":
            if not 0 <= i + self._direction < n:
                self._direction = -self._direction
            return i + self._direction
        if i + 1 < n:
            return i + 1
        return 0 if mode == "loop" else None

    def _tick(self) -> None:
        direction = self._direction
        nxt = self.next_index()
        if nxt is None:
            self.pause()
            return
        if not self._have[nxt]:
            self._direction = direction  # hold until the frame is rendered; retry next tick
            return
        self.set_frame(nxt)

    # ================================================================ frame actions
    def send_frame_to_explorer(self) -> bool:
        latent = self.frame_latent()
        if latent is None:
            return False
        self.explorerRequested.emit(latent, self.psi)
        return True

    def save_frame_to_gallery(self) -> bool:
        image, latent = self.frame_image(), self.frame_latent()
        if image is None or latent is None:
            return False
        self.galleryRequested.emit(latent, image, self.psi)
        return True

    # ================================================================ export
    def export_format(self) -> str:
        return self.format_combo.currentData()

    def export_size(self) -> int | None:
        return self.size_combo.currentData() or None

    def is_exporting(self) -> bool:
        return self._exporting

    def choose_export(self) -> None:
        kind = self.export_format()
        if kind == "frames":
            path = QFileDialog.getExistingDirectory(self, "Export PNG frames into", str(self.start_folder))
        else:
            suffix = {"gif": ".gif", "mp4": ".mp4", "sheet": ".png"}[kind]
            name = str(self.start_folder / f"morph{suffix}")
            path, _ = QFileDialog.getSaveFileName(self, f"Export {EXPORT_FORMATS[kind]}", name, f"{EXPORT_FORMATS[kind]} (*{suffix})")
            if path and not path.lower().endswith(suffix):
                path += suffix
        if path:
            self.start_folder = Path(path).parent if kind != "frames" else Path(path)
            self.export_to(path, kind, self.export_size())

    def export_to(self, path: str | Path, kind: str | None = None, size: int | None = None) -> bool:
        """Export the morph as played (ping-pong includes the way back) on the export thread."""
        kind = kind or self.export_format()
        if kind not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {kind!r}; use one of {', '.join(EXPORT_FORMATS)}")
        if self._exporting or self.renderer is None or self.frame_count() < 2:
            return False
        if kind == "mp4" and not mp4_available():
            self.banner.show_message("MP4 export needs the optional video support: pip install 'facestudio[video]'. "
                                     "GIF and PNG frames work without it.", "error")
            return False
        mode = self.playback_mode()
        latents = self._latents[playing_order(self.frame_count(), mode)]
        self._export_token += 1
        job = ExportJob(self.renderer, latents, self.psi, Path(path), kind, self._export_token, size=size,
                        fps=float(self.fps_spin.value()), loop=mode != "once", smooth=self.preview.smooth())
        if self._export is None:
            self._export = ExportThread()
            self._export.worker.progressed.connect(self._on_export_progress)
            self._export.worker.finished.connect(self._on_export_finished)
            self._export.worker.cancelled.connect(self._on_export_cancelled)
            self._export.worker.failed.connect(self._on_export_failed)
        self._exporting = True
        self.export_progress.setRange(0, 0)  # busy until the first report
        self.export_progress.show()
        self.export_cancel_button.show()
        self.export_cancel_button.setEnabled(True)
        self._update_enabled()
        self._export.worker.submit(job)
        return True

    def cancel_export(self) -> None:
        if self._exporting and self._export is not None:
            self._export.worker.cancel()
            self.export_cancel_button.setEnabled(False)

    def _export_done(self) -> None:
        self._exporting = False
        self.export_progress.hide()
        self.export_cancel_button.hide()
        self._update_enabled()

    def _on_export_progress(self, token: int, done: int, total: int) -> None:
        if token != self._export_token:
            return
        self.export_progress.setRange(0, total)
        self.export_progress.setValue(done)
        self.exportProgressed.emit(done, total)

    def _on_export_finished(self, token: int, path: str) -> None:
        if token != self._export_token:
            return
        self._export_done()
        self.banner.show_message(f"Exported {Path(path).name}.", "info")
        self.exportFinished.emit(path)

    def _on_export_cancelled(self, token: int) -> None:
        if token != self._export_token:
            return
        self._export_done()
        self.exportCancelled.emit()

    def _on_export_failed(self, token: int, message: str) -> None:
        if token != self._export_token:
            return
        self._export_done()
        self.banner.show_message(message, "error")
        self.exportFailed.emit(message)

    # ================================================================ drag and drop of face PNGs
    @staticmethod
    def _png_paths(event) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile().lower().endswith(".png")]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._png_paths(event) and self.bundle is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = self._png_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        for path in paths:
            if not self.add_face_png(path):
                break

    # ================================================================ closing
    def shutdown(self) -> None:
        """Stop playback, cancel any export and join both threads; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self._morph.close()
        if self._export is not None:
            self._export.close()
            self._export = None
        self._exporting = False

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
