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

import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QStyle, QWidget

from facestudio.errors import ConfigError, FaceStudioError
from facestudio.models import run_folder as rf
from facestudio.app_folders import default_runs_dir
from facestudio.ui.training.run_watcher import RunWatcher
from facestudio.ui.workers.training_worker import TrainingRequest, TrainingThread, bundle_from_snapshot
from facestudio.sessions.training.metric_series import MetricSeries
from facestudio.sessions.training.room_state import RoomChange, RoomState, TrainingRoom
from facestudio.sessions.training.run_progress import RunProgress
from facestudio.ui.training.run_following import RunFollowing
from facestudio.ui.training.training_figures import REFRESH_HZ, TrainingFigures
from facestudio.ui.training.training_panel_layout import TrainingPanelLayout

END_REASONS = {
    "max_steps": "it reached its step budget", "epochs": "it reached its epoch budget",
    "minutes": "its time budget ran out", "stopped": "you stopped it",
}


class TrainingPanel(TrainingPanelLayout, RunFollowing, TrainingFigures, QWidget):
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
        self.room = TrainingRoom()  # state and run shown, Qt-free; the view follows its changes
        self.room.subscribe(self._on_room_changed)
        self._mode: str | None = None  # "app" (trained here) or "follow" (a run folder written elsewhere)
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

    # ================================================================ state
    @property
    def state(self) -> RoomState:
        return self.room.state

    @property
    def run_dir(self) -> Path | None:
        return self.room.run_dir

    @property
    def _state(self) -> RoomState:
        return self.room.state

    @property
    def _run_dir(self) -> Path | None:
        return self.room.run_dir

    @_run_dir.setter
    def _run_dir(self, run_dir: Path | None) -> None:
        self.room.set_run(run_dir)

    def _set_state(self, state: RoomState | str) -> None:
        self.room.set_state(state)

    def _on_room_changed(self, change: RoomChange) -> None:
        """The one place the controls follow the room's state."""
        if change is not RoomChange.STATE:
            return
        state = self.room.state
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
