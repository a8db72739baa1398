"""The Morph Studio panel's widgets: keyframe list and buttons, path settings, preview,
scrubber, filmstrip, playback and export controls (built once).

A part of MorphPanel (facestudio/ui/morph/morph_panel.py), which mixes it in.
"""

from __future__ import annotations


from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QLabel, QListView, QListWidget, QProgressBar, QPushButton, QSlider, QSpinBox, QStyle, QToolButton, QVBoxLayout,
)

from facestudio.latent.interpolation import EASINGS
from facestudio.sessions.morph.morph_session import FRAMES_PER_SEGMENT
from facestudio.render.export import mp4_installed
from facestudio.render.output_files import DEFAULT_FACE_SIZE
from facestudio.ui.widgets.face_view import FaceView
from facestudio.ui.widgets.message_banner import MessageBanner
from facestudio.ui.morph.morph_export import EXPORT_FORMATS

FPS_RANGE = (1, 60)
DEFAULT_FPS = 24
PLAYBACK_MODES = {"loop": "Loop", "pingpong": "Ping-pong", "once": "Once"}
INTERPOLATION_NAMES = {"slerp": "Spherical", "lerp": "Linear"}
EXPORT_SIZES = (0, 256, 512, 1024)  # 0 = the model's own size
THUMB = 56


class MorphPanelLayout:
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
        self.key_list.model().rowsMoved.connect(lambda *_: self.morph.reorder(self._listed_key_ids()))
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
        self.frames_spin.setValue(self.morph.settings.frames_per_segment)
        self.frames_spin.setToolTip("Frames from one keyframe to the next")
        self.closed_check = QCheckBox("Back to the first face")
        self.closed_check.setToolTip("Close the path: the morph returns to the first keyframe, for seamless loops")
        self.mode_combo.currentIndexChanged.connect(lambda _i: self.morph.set_settings(interpolation=self.mode_combo.currentData()))
        self.easing_combo.currentIndexChanged.connect(lambda _i: self.morph.set_settings(easing=self.easing_combo.currentData()))
        self.frames_spin.valueChanged.connect(lambda v: self.morph.set_settings(frames_per_segment=int(v)))
        self.closed_check.toggled.connect(lambda on: self.morph.set_settings(loop=bool(on)))
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
