"""The training room panel's widgets: the settings form, run controls, charts, sample timeline,
health and status (built once).

A part of TrainingPanel (facestudio/ui/training/training_panel.py), which mixes it in.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton, QScrollArea, QSplitter, QStyle, QToolButton, QVBoxLayout, QWidget,
)

from facestudio.ui.widgets.message_banner import MessageBanner
from facestudio.ui.training.sample_timeline import SampleTimeline
from facestudio.ui.training.training_health import HealthView
from facestudio.ui.training.training_plots import TrainingPlots
from facestudio.ui.training.training_setup import TrainingSetup


class TrainingPanelLayout:
    # ================================================================ building
    def _build(self, runs_dir: Path) -> None:
        self.setup = TrainingSetup(runs_dir)
        self.setup.checkRequested.connect(self.training.worker.check_data)
        scroll = QScrollArea()
        scroll.setWidget(self.setup)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMinimumWidth(360)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        SP = QStyle.StandardPixmap
        self.banner = MessageBanner()
        self.start_button = self._button("Start", SP.SP_MediaPlay, "Start a new run with these settings", self.start)
        self.start_button.setObjectName("PrimaryButton")
        self.pause_button = self._button("Pause", SP.SP_MediaPause, "Pause between two steps (paused time does not count)",
                                         self.toggle_pause)
        self.stop_button = self._button("Stop", SP.SP_MediaStop, "Stop after this step; a checkpoint and the model are saved",
                                        self.stop)
        self.resume_button = self._button("Resume a run...", SP.SP_BrowserReload,
                                          "Continue an earlier run from its newest checkpoint, for the budget set on the left",
                                          self.choose_resume)
        self.follow_button = self._button("Follow a run...", SP.SP_FileDialogContentsView,
                                          "Watch a run started with `facestudio train` in a terminal, live from its folder",
                                          self.choose_follow)
        self.explore_button = self._button("Explore this snapshot", SP.SP_ArrowRight,
                                           "Open the current generator (its moving average) in the explorer; training goes on",
                                           self.explore_snapshot)
        self.keep_going = QCheckBox("Keep training after closing")
        self.keep_going.setToolTip(
            "Closing this window always stops the run at the next step and saves a checkpoint.\n"
            "With this ticked, a separate background process (facestudio train --resume RUN) then continues the run "
            "from that checkpoint to the end of its budget, even after FaceStudio quits. You are told its process id; "
            "watch it later with 'Follow a run...'.")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setIcon(self.style().standardIcon(SP.SP_DialogSaveButton))
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Plots as PNG...", lambda: self.choose_export("png"))
        menu.addAction("Figures as CSV...", lambda: self.choose_export("csv"))
        self.export_button.setMenu(menu)
        self.export_button.setToolTip("Save the curves as a picture, or every step's figures as CSV")

        controls = QHBoxLayout()
        controls.setSpacing(6)
        for b in (self.start_button, self.pause_button, self.stop_button):
            controls.addWidget(b)
        controls.addSpacing(12)
        controls.addWidget(self.resume_button)
        controls.addWidget(self.follow_button)
        controls.addSpacing(12)
        controls.addWidget(self.explore_button)
        controls.addStretch(1)
        controls.addWidget(self.keep_going)
        controls.addWidget(self.export_button)

        self.state_label = QLabel()
        self.state_label.setMinimumWidth(110)
        self.step_label = QLabel("Step 0")
        self.step_label.setMinimumWidth(150)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(10)
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(110)
        self.left_label = QLabel()
        self.left_label.setMinimumWidth(130)
        self.run_label = QLabel("No run yet")
        self.run_label.setObjectName("Hint")
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.run_label.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))
        status = QHBoxLayout()
        status.setSpacing(12)
        status.addWidget(self.state_label)
        status.addWidget(self.step_label)
        status.addWidget(self.progress_bar, 1)
        status.addWidget(self.speed_label)
        status.addWidget(self.left_label)

        self.timeline = SampleTimeline()
        self.plots = TrainingPlots(self.series)
        self.health = HealthView()
        samples_title = QLabel("Samples (the same latents at every step)")
        samples_title.setObjectName("SectionTitle")
        samples_box = QWidget()
        sv = QVBoxLayout(samples_box)
        sv.setContentsMargins(0, 0, 0, 0)
        sv.addWidget(samples_title)
        sv.addWidget(self.timeline, 1)
        live = QSplitter(Qt.Orientation.Horizontal)
        live.addWidget(samples_box)
        live.addWidget(self.plots)
        live.setStretchFactor(0, 4)
        live.setStretchFactor(1, 5)
        live.setSizes([500, 620])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(live)
        body.addWidget(self.health)
        body.setStretchFactor(0, 5)
        body.setStretchFactor(1, 1)
        body.setSizes([720, 170])

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(6, 0, 0, 0)
        rv.setSpacing(8)
        rv.addWidget(self.banner)
        rv.addLayout(controls)
        rv.addLayout(status)
        rv.addWidget(self.run_label)
        rv.addWidget(body, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([390, 1200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(split)

    def _button(self, text: str, icon: QStyle.StandardPixmap, tip: str, slot) -> QPushButton:
        b = QPushButton(self.style().standardIcon(icon), text)
        b.setToolTip(tip)
        b.clicked.connect(lambda _checked=False: slot())
        return b
