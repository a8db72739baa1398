"""Following a run another process writes (facestudio train in a terminal, or a run handed to
the background): its metrics and samples drawn as they arrive.

A part of TrainingPanel (facestudio/ui/training/training_panel.py), which mixes it in.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from facestudio.errors import FaceStudioError
from facestudio.ui.training.run_watcher import RunWatcher
from facestudio.sessions.training.room_state import RoomState
from facestudio.sessions.training.run_progress import plan_of_run


def _collapse_settings(run: Path) -> tuple[float, int]:
    """The collapse warning's threshold and warm-up a followed run was started with (defaults when unreadable)."""
    try:
        from trainer import read_run_config

        config = read_run_config(run)
        return float(config.collapse_threshold), int(config.collapse_warmup)
    except FaceStudioError:
        return 0.2, 500


class RunFollowing:
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
