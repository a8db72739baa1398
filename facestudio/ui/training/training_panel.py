"""The training room: set up a run, train it live, watch it learn, send snapshots to the explorer.

What runs where:

- the run itself: `trainer.Trainer` on the training QThread (`training_worker`), which
  sends plain data (metric records in batches at <= 20 Hz, copied sample grids, copied
  EMA weights) and is controlled through flags (pause, resume, stop: cooperative, between
  steps);
- a run started elsewhere (`facestudio train` in a terminal): followed from its folder by
  `RunWatcher`, a 2 Hz poll reading only what is new;
- this widget: keeps the figures in `MetricSeries` (preallocated growing numpy columns),
  and redraws curves, status and health at most `REFRESH_HZ` times a second, however
  fast records arrive.

Closing stops the run at the next step boundary, saves a checkpoint and the model and
joins the thread. When "Keep training after closing" is ticked, the run is then handed
to a detached `facestudio train --resume RUN` process that continues from that very
checkpoint (resume is exact), and the person is told its process id and how to follow
or stop it: a thread cannot outlive the app, so the UI says plainly what happens.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QApplication, QCheckBox, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMenu, QProgressBar, QPushButton,
    QScrollArea, QSplitter, QStyle, QToolButton, QVBoxLayout, QWidget,
)

from facestudio.errors import ConfigError, FaceStudioError
from facestudio.models import run_folder as rf
from facestudio.ui.widgets.message_banner import MessageBanner
from facestudio.app_folders import default_runs_dir
from facestudio.ui.training.run_watcher import RunWatcher
from facestudio.ui.training.sample_timeline import SampleTimeline
from facestudio.ui.training.training_health import HealthView
from facestudio.ui.training.training_plots import TrainingPlots
from facestudio.ui.training.training_setup import TrainingSetup
from facestudio.ui.workers.training_worker import TrainingRequest, TrainingThread, bundle_from_snapshot
from facestudio.sessions.training.health_report import describe_health
from facestudio.sessions.training.metric_series import MetricSeries
from facestudio.sessions.training.room_state import RoomState
from facestudio.sessions.training.run_progress import RunProgress, format_duration, plan_of_run

REFRESH_HZ = 5
#: Records added to the curves per turn of the event loop when a long history arrives
#: (a resumed or followed run): a few milliseconds each, so the window never stalls.
HISTORY_SLICE = 2000
#: Steps over which skipped (NaN) updates count as "recent" in the health verdict.
RECENT_STEPS = 300
END_REASONS = {
    "max_steps": "it reached its step budget", "epochs": "it reached its epoch budget",
    "minutes": "its time budget ran out", "stopped": "you stopped it",
}


class TrainingPanel(QWidget):
    """Set-up form on the left; controls, live curves, samples and health on the right."""

    snapshotBundle = Signal(object, str)  # ModelBundle (independent of training), label: "Explore this snapshot"
    stateChanged = Signal(str)  # idle, preparing, running, paused, stopping, following, finished
    runFinished = Signal(dict)  # the worker's `finished` payload
    handedOff = Signal(str)  # sentence: the run goes on in a background process

    def __init__(self, parent: QWidget | None = None, *, runs_dir: str | Path | None = None,
                 threads: int | None = None) -> None:
        super().__init__(parent)
        self.series = MetricSeries()
        self.progress = RunProgress()
        self._state = RoomState.IDLE
        self._mode: str | None = None  # "app" (trained here) or "follow" (a run folder written elsewhere)
        self._run_dir: Path | None = None
        self._watcher: RunWatcher | None = None
        self._skipped_steps: list[int] = []
        self._diversity: float | None = None
        self._collapse = (0.2, 500)  # the run's collapse_threshold and collapse_warmup
        self._d_win_steps = 100  # the run's d_win_steps: D(G(z)) < 0.02 this long is an outright win
        self._pending_start = False
        self._closed = False
        self._latest: dict[str, Any] = {}

        self.training = TrainingThread(threads)
        w = self.training.worker
        w.preparing.connect(self._on_preparing)
        w.prepareProgress.connect(self._on_prepare_progress)
        w.started.connect(self._on_started)
        w.metrics.connect(self._on_metrics)
        w.samples.connect(self._on_samples)
        w.status.connect(self._on_status)
        w.warned.connect(self._on_warned)
        w.checkpointed.connect(self._on_checkpointed)
        w.snapshotReady.connect(self._on_snapshot)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.dataChecked.connect(self._on_data_checked)
        w.dataCheckFailed.connect(self._on_data_check_failed)

        self._build(Path(runs_dir) if runs_dir else default_runs_dir())
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(1000 // REFRESH_HZ)
        self._refresh_timer.timeout.connect(self.refresh)
        self._backlog: list[dict] = []  # records of a long history not added yet
        self._backlog_timer = QTimer(self)
        self._backlog_timer.setSingleShot(True)
        self._backlog_timer.setInterval(0)
        self._backlog_timer.timeout.connect(self._drain_backlog)
        self._set_state(RoomState.IDLE)
        self.setup.request_check()

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

    # ================================================================ state
    @property
    def state(self) -> RoomState:
        return self._state

    @property
    def run_dir(self) -> Path | None:
        return self._run_dir

    def _set_state(self, state: RoomState | str) -> None:
        state = RoomState(state)
        self._state = state
        self.state_label.setText(f"<span style='color:{state.color}'>\u25cf</span> <b>{state.label}</b>")
        self.start_button.setEnabled(state.can_start)
        self.pause_button.setEnabled(state.can_pause)
        paused = state is RoomState.PAUSED
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))
        self.stop_button.setEnabled(state.can_stop)
        self.stop_button.setText("Stop following" if state is RoomState.FOLLOWING else "Stop")
        self.resume_button.setEnabled(state.can_start)
        self.follow_button.setEnabled(state.can_start)
        self.explore_button.setEnabled(state.has_snapshot or (state is RoomState.FINISHED and self._run_dir is not None))
        self.setup.set_locked(state.trains_here)
        self.stateChanged.emit(state.value)

    def show_message(self, text: str, level: str = "info", *, sticky: bool = False) -> None:
        self.banner.show_message(text, level, sticky=sticky)

    # ================================================================ starting
    def start(self) -> bool:
        """Start a new run from the form (after the data check when it is still going)."""
        if not self._state.can_start:
            return False
        try:
            config = self.setup.config()
        except ConfigError as exc:
            self.show_message(str(exc), "error")
            return False
        if not self.setup.data_ready():
            if self.setup.checking():
                self._pending_start = True
                self.show_message("Checking the images first; training starts as soon as the check is done.", "info")
                return True
            self.show_message("Choose a folder with usable images first (the check lists what is wrong), "
                              "or train on the built-in faces.", "error")
            return False
        return self.submit(TrainingRequest(config=config, runs_dir=self.setup.runs_dir()))

    def submit(self, request: TrainingRequest) -> bool:
        """Run `request` on the training thread (the form's Start and Resume end up here)."""
        if not self._state.can_start or self.training.worker.busy:
            return False
        self.stop_following()
        self._pending_start = False
        self._reset_views()
        self._mode = "app"
        self._run_dir = None
        self.run_label.setText("Preparing...")
        self.banner.dismiss()
        self._set_state(RoomState.PREPARING)
        self.training.worker.submit(request)
        return True

    def choose_resume(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Resume a training run", self.setup.runs_dir())
        if folder:
            self.resume_run(folder)

    def resume_run(self, run: str | Path) -> bool:
        """Continue `run` from its newest checkpoint for the budget set in the form."""
        from trainer import read_run_config

        try:
            folder, _ = rf.resolve_resume_target(run)  # says so when it is no run folder at all
            if not rf.has_checkpoint(run):
                raise ConfigError(f"{run} holds no checkpoint yet (training stopped before its first one); start a new run.")
            read_run_config(folder)
        except FaceStudioError as exc:
            self.show_message(str(exc), "error")
            return False
        kind, amount = self.setup.budget()
        if kind == "steps":
            request = TrainingRequest(resume=str(run), changes={"minutes": None}, extra_steps=int(amount))
        else:
            request = TrainingRequest(resume=str(run), changes={"minutes": float(amount), "max_steps": None})
        return self.submit(request)

    # ================================================================ controls
    def toggle_pause(self) -> None:
        if self._state is RoomState.RUNNING:
            self.pause()
        elif self._state is RoomState.PAUSED:
            self.resume_training()

    def pause(self) -> None:
        self.training.worker.pause()

    def resume_training(self) -> None:
        self.training.worker.resume()

    def stop(self) -> None:
        """Stop the run here (it saves a checkpoint and the model), or stop following a folder."""
        if self._state is RoomState.FOLLOWING:
            self.stop_following()
            self._set_state(RoomState.IDLE)
            return
        if self._state in (RoomState.PREPARING, RoomState.RUNNING, RoomState.PAUSED):
            self.training.worker.stop()
            self._set_state(RoomState.STOPPING)
            self.left_label.setText("saving a checkpoint...")

    def explore_snapshot(self) -> bool:
        """Send the current generator to the explorer (`snapshotBundle`) without stopping training."""
        if self._mode == "app" and self._state is RoomState.PAUSED:
            payload = self.training.worker.snapshot_now()  # paused: the weights stand still
            if payload is not None:
                self._on_snapshot(payload)
            return payload is not None
        if self._mode == "app" and self._state is RoomState.RUNNING:
            if self.training.worker.request_snapshot():
                self.left_label.setText("copying the weights...")
                return True
            return False
        if self._run_dir is None:
            return False
        path = rf.newest_model_file(self._run_dir)
        if path is None:
            self.show_message(f"{self._run_dir.name} has no checkpoint yet; the first one appears after "
                              f"{'the first checkpoint interval' if self._mode == 'follow' else 'a few steps'}.", "info")
            return False
        from facestudio.models import load_model

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            bundle = load_model(path)
        except FaceStudioError as exc:
            self.show_message(str(exc), "error")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        step = bundle.config.info.get("steps") or _checkpoint_step_label(path)
        self.snapshotBundle.emit(bundle, f"{self._run_dir.name} at step {step}" if step else f"{self._run_dir.name} ({path.name})")
        return True

    # ================================================================ following a run folder
    def choose_follow(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Follow a training run", self.setup.runs_dir())
        if folder:
            self.follow_run(folder)

    def follow_run(self, run: str | Path) -> bool:
        """Show a run another process is writing (or wrote), live from its folder."""
        if not self._state.can_start:
            self.show_message("Stop the run training in this window before following another one.", "error")
            return False
        try:
            watcher = RunWatcher(run, self)
        except FaceStudioError as exc:
            self.show_message(str(exc), "error")
            return False
        self.stop_following()
        self._reset_views()
        self._mode = "follow"
        self._run_dir = watcher.run
        self.progress = plan_of_run(watcher.run)
        self.plots.set_planned_steps(self.progress.planned_steps)
        self._collapse = _collapse_settings(watcher.run)
        self.plots.set_collapse_threshold(self._collapse[0])
        self._show_run_dir(f"Following {watcher.run.name}", watcher.run)
        watcher.reset.connect(self._on_follow_reset)
        watcher.metrics.connect(self._on_follow_metrics)
        watcher.samples.connect(self._on_follow_samples)
        watcher.ended.connect(self._on_follow_ended)
        self._watcher = watcher
        self.banner.dismiss()
        self._set_state(RoomState.FOLLOWING)
        watcher.start()
        return True

    def stop_following(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher.deleteLater()
            self._watcher = None

    @Slot()
    def _on_follow_reset(self) -> None:
        self._reset_views()

    @Slot(list)
    def _on_follow_metrics(self, records: list) -> None:
        for r in records:
            for message in r.get("warnings") or ():
                if isinstance(message, str):
                    self.health.add_warning(r.get("step"), message)
        self._take_records(records)

    @Slot(list)
    def _on_follow_samples(self, samples: list) -> None:
        self.timeline.extend(samples)

    @Slot(str)
    def _on_follow_ended(self, last_line: str) -> None:
        if last_line:
            self.left_label.setText("run ended")
            self.run_label.setText(f"{self._run_dir.name}: {last_line.split('  ', 1)[-1]}")
        else:
            self._show_run_dir(f"Following {self._run_dir.name}", self._run_dir)

    # ================================================================ worker signals
    @Slot(str)
    def _on_preparing(self, text: str) -> None:
        if not self._closed:
            self.run_label.setText(text)

    @Slot(int, int)
    def _on_prepare_progress(self, done: int, total: int) -> None:
        """The data set's real progress on the bar while preparing (the run's own progress replaces it)."""
        if self._closed or self._state is not RoomState.PREPARING or total <= 0:
            return
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(int(1000 * min(done, total) / total))
        self.left_label.setText(f"{done:,} of {total:,} images ready")

    @Slot(dict)
    def _on_started(self, info: dict) -> None:
        if self._closed:
            return
        self._run_dir = Path(info["run_dir"]) if info.get("run_dir") else None
        self.progress = RunProgress.from_started(info)
        self.plots.set_planned_steps(self.progress.planned_steps)
        config = info.get("config") or {}
        self._collapse = (float(config.get("collapse_threshold", 0.2)), int(config.get("collapse_warmup", 500)))
        self._d_win_steps = int(config.get("d_win_steps", 100))
        self.plots.set_collapse_threshold(self._collapse[0])
        history = info.get("history") or []
        if history:
            self._take_records(history)
        self.timeline.extend(info.get("samples") or [])
        augment = "+".join(info.get("augment") or []) or "off"
        what = f"{info.get('data')} ({info.get('n_images', 0):,} images), DiffAugment {augment}, {info.get('threads')} threads"
        if self._run_dir is not None:
            self._show_run_dir(f"{self._run_dir.name}: {what}", self._run_dir)
        else:
            self.run_label.setText(f"Not saved to disk: {what}")
        if self._state is RoomState.PREPARING:
            self._set_state(RoomState.RUNNING)
        self.refresh()

    @Slot(list)
    def _on_metrics(self, records: list) -> None:
        if not self._closed:
            self._take_records(records)

    @Slot(dict)
    def _on_samples(self, payload: dict) -> None:
        if self._closed:
            return
        self.timeline.add(int(payload["step"]), grid=payload.get("grid"), path=payload.get("path"))
        if payload.get("diversity") is not None:
            self._diversity = float(payload["diversity"])
            self._schedule_refresh()

    @Slot(str, int)
    def _on_status(self, state: str, step: int) -> None:
        if self._closed or self._mode != "app":
            return
        if state in (RoomState.RUNNING, RoomState.PAUSED) and self._state is not RoomState.STOPPING:
            self._set_state(state)
        elif state == RoomState.STOPPING:
            self._set_state(RoomState.STOPPING)

    @Slot(dict)
    def _on_warned(self, payload: dict) -> None:
        if not self._closed:
            self.health.add_warning(payload.get("step"), str(payload.get("message", "")))

    @Slot(dict)
    def _on_checkpointed(self, payload: dict) -> None:
        if not self._closed:
            self.left_label.setToolTip(f"Last checkpoint: step {payload.get('step'):,} ({Path(str(payload.get('path'))).name})")

    @Slot(dict)
    def _on_snapshot(self, payload: dict) -> None:
        if self._closed:
            return
        try:
            bundle = bundle_from_snapshot(payload)
        except (FaceStudioError, RuntimeError, ValueError) as exc:
            self.show_message(f"The snapshot could not be opened: {exc}", "error")
            return
        self.snapshotBundle.emit(bundle, str(payload.get("label", "training snapshot")))
        self._update_status()

    @Slot(dict)
    def _on_finished(self, info: dict) -> None:
        if self._closed:
            return
        self._run_dir = Path(info["run_dir"]) if info.get("run_dir") else self._run_dir
        self.refresh()
        why = END_REASONS.get(info.get("reason"), info.get("reason"))
        text = f"Training ended at step {info.get('step', 0):,} because {why}."
        if info.get("model_path"):
            text += f" The model is saved as {info['model_path']}; 'Explore this snapshot' opens it."
        if info.get("reason") == "stopped" and self._run_dir is not None:
            text += " 'Resume a run...' continues it from where it stopped."
        self._set_state(RoomState.FINISHED)
        self.left_label.setText("")
        self.show_message(text, "info", sticky=True)
        self.runFinished.emit(info)

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        if self._closed:
            return
        self._pending_start = False
        self.refresh()
        self._set_state(RoomState.FINISHED if self._run_dir is not None else RoomState.IDLE)
        self.left_label.setText("")
        self.show_message(text, "error")

    @Slot(dict)
    def _on_data_checked(self, result: dict) -> None:
        if self._closed:
            return
        self.setup.set_check_result(result)
        if self._pending_start and not self.setup.checking():
            self._pending_start = False
            if self.setup.data_ready():
                self.start()

    @Slot(str, str)
    def _on_data_check_failed(self, root: str, text: str) -> None:
        if self._closed:
            return
        self.setup.set_check_failed(root, text)
        if self._pending_start:
            self._pending_start = False
            self.show_message(text, "error")

    # ================================================================ figures
    def _take_records(self, records: list) -> None:
        """Add records to the figures; a long history goes in slices, between which the window breathes."""
        if self._backlog or len(records) > HISTORY_SLICE:
            self._backlog.extend(records)
            if not self._backlog_timer.isActive():
                self._backlog_timer.start()
            return
        self._add_records(records)

    def _drain_backlog(self) -> None:
        chunk, self._backlog = self._backlog[:HISTORY_SLICE], self._backlog[HISTORY_SLICE:]
        self._add_records(chunk)
        if self._backlog:
            self._backlog_timer.start()

    def _add_records(self, records: list) -> None:
        self.series.extend(records)
        for r in records:
            if r.get("skipped"):
                self._skipped_steps.append(int(r.get("step", 0)))
            if r.get("diversity") is not None:
                self._diversity = r["diversity"]
        if records:
            self._latest = records[-1]
            self.progress.update(records[-1])
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh(self) -> None:
        """Redraw curves, status and health from the figures received so far."""
        self.plots.refresh()
        self._update_status()
        self._update_health()

    def _update_status(self) -> None:
        p = self.progress
        total = f" of {p.planned_steps:,}" if p.planned_steps else ""
        self.step_label.setText(f"Step {p.step:,}{total}")
        fraction = p.fraction
        top = 1000 if fraction is not None else 0  # 0: a busy bar, for runs without a budget
        if self.progress_bar.maximum() != top:
            self.progress_bar.setRange(0, top)
        if fraction is not None and self.progress_bar.value() != int(fraction * 1000):
            self.progress_bar.setValue(int(fraction * 1000))
        rate = self._latest.get("images_per_s")
        self.speed_label.setText(f"{rate:,.0f} images/s" if isinstance(rate, (int, float)) else "")
        if self._state in (RoomState.RUNNING, RoomState.FOLLOWING):
            left = p.seconds_left
            self.left_label.setText(f"about {format_duration(left)} left" if left is not None else
                                    ("until stopped" if fraction is None else ""))
        elif self._state is RoomState.PAUSED:
            self.left_label.setText("paused")

    def _update_health(self) -> None:
        if not len(self.series):
            self.health.set_notes([])
            return
        n = len(self.series)
        d_real, d_fake = self.series.smoothed("d_real")[n - 1], self.series.smoothed("d_fake")[n - 1]
        step = int(self.series.last_step or 0)
        recent = sum(1 for s in self._skipped_steps if s > step - RECENT_STEPS)
        self.health.set_notes(describe_health(
            step=step, d_real=float(d_real), d_fake=float(d_fake), diversity=self._diversity,
            skipped_steps=len(self._skipped_steps), recent_skips=recent,
            collapse_threshold=self._collapse[0], collapse_warmup=self._collapse[1],
            d_win_streak=int(self._latest.get("d_win_streak") or 0), d_win_steps=self._d_win_steps))

    def _reset_views(self) -> None:
        self._backlog = []
        self.plots.clear()
        self.timeline.clear()
        self.health.clear()
        self.progress = RunProgress()
        self._skipped_steps = []
        self._diversity = None
        self._latest = {}
        self.speed_label.setText("")
        self.left_label.setText("")
        self.refresh()

    def _show_run_dir(self, text: str, run: Path) -> None:
        url = QUrl.fromLocalFile(str(run)).toString()
        self.run_label.setText(f"{html.escape(text, quote=False)} &nbsp; <a href='{url}' style='color:#7fb0e6'>open folder</a>")
        self.run_label.setTextFormat(Qt.TextFormat.RichText)
        self.run_label.setToolTip(str(run))

    # ================================================================ export
    def choose_export(self, kind: str) -> None:
        if not len(self.series):
            self.show_message("There are no figures to export yet.", "info")
            return
        base = (self._run_dir.name if self._run_dir else "training") + ("-curves.png" if kind == "png" else "-metrics.csv")
        start = str((self._run_dir or Path(self.setup.runs_dir())) / base)
        filt = "PNG images (*.png)" if kind == "png" else "CSV files (*.csv)"
        path, _ = QFileDialog.getSaveFileName(self, "Export", start, filt)
        if path:
            self.export(path, kind)

    def export(self, path: str | Path, kind: str | None = None) -> bool:
        """Write the plots (PNG) or the figures (CSV) to `path`, atomically; kind from the suffix when None."""
        kind = kind or ("csv" if str(path).lower().endswith(".csv") else "png")
        try:
            if kind == "csv":
                self.plots.export_csv(path)
            else:
                self.plots.export_png(path)
        except (FaceStudioError, ValueError) as exc:
            self.show_message(str(exc), "error")
            return False
        self.show_message(f"Saved {path}.", "info")
        return True

    # ================================================================ closing
    @property
    def is_shut_down(self) -> bool:
        return self._closed

    def shutdown(self) -> str | None:
        """Stop (a checkpoint is saved) and join the training thread; hand off if asked. Safe to call twice.

        Returns the sentence about the background process when the run was handed off.
        """
        if self._closed:
            return None
        hand_off = self.keep_going.isChecked() and self._mode == "app" and self._state in (RoomState.PREPARING, RoomState.RUNNING, RoomState.PAUSED)
        minutes_left = self.progress.minutes_left
        self._closed = True
        self._refresh_timer.stop()
        self.stop_following()
        self.training.close()  # the trainer finishes its step, saves a checkpoint and the model
        if not hand_off:
            return None
        result = self.training.worker.last_result or {}
        run = result.get("run_dir")
        if not run or result.get("reason") != "stopped":
            return None  # it failed, or its budget ran out just as the window closed: nothing left to do
        from facestudio.sessions.training.background_run import continue_in_background

        try:
            proc = continue_in_background(run, minutes_left)
        except (FaceStudioError, OSError) as exc:
            message = (f"The run was stopped and saved at step {result.get('step', 0):,}, but the background process could "
                       f"not be started ({exc}). Resume it from the training room or with: facestudio train --resume {run}")
        else:
            message = (f"Training of {Path(run).name} goes on in the background (process {proc.pid}), from the checkpoint "
                       f"saved at step {result.get('step', 0):,}. Watch it with Train > Open Training Room > Follow a run; "
                       f"to stop it, end process {proc.pid} (it saves a checkpoint first).")
        print(f"facestudio: {message}", file=sys.stderr)  # the window is closing: say it where it lasts too
        self.handedOff.emit(message)
        return message


class TrainingWindow(QMainWindow):
    """The training room as its own window; closing it stops (and saves) or hands off the run."""

    snapshotBundle = Signal(object, str)
    handedOff = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, runs_dir: str | Path | None = None, threads: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Training Room \u2014 FaceStudio")
        self.panel = TrainingPanel(runs_dir=runs_dir, threads=threads)
        self.panel.snapshotBundle.connect(self.snapshotBundle)
        self.panel.handedOff.connect(self.handedOff)
        self.setCentralWidget(self.panel)
        self.resize(1560, 960)

    @property
    def is_shut_down(self) -> bool:
        return self.panel.is_shut_down

    def shutdown(self) -> str | None:
        return self.panel.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.panel.shutdown()
        super().closeEvent(event)


# ---------------------------------------------------------------------- run folder helpers (Qt-free)
def _checkpoint_step_label(path: Path) -> str:
    step = rf.checkpoint_step(path)
    return f"{step:,}" if step is not None else ""


def _collapse_settings(run: Path) -> tuple[float, int]:
    try:
        from trainer import read_run_config

        config = read_run_config(run)
        return float(config.collapse_threshold), int(config.collapse_warmup)
    except FaceStudioError:
        return 0.2, 500
