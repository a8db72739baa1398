"""The training room's figures: metric records into the charts (in slices, so a long history
never stalls the window), status line, health verdict and chart exports.

A part of TrainingPanel (facestudio/ui/training/training_panel.py), which mixes it in.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QFileDialog

from facestudio.errors import FaceStudioError
from facestudio.sessions.training.health_report import describe_health
from facestudio.sessions.training.room_state import RoomState
from facestudio.sessions.training.run_progress import RunProgress, format_duration

REFRESH_HZ = 5
#: Records added to the curves per turn of the event loop when a long history arrives
#: (a resumed or followed run): a few milliseconds each, so the window never stalls.
HISTORY_SLICE = 2000
#: Steps over which skipped (NaN) updates count as "recent" in the health verdict.
RECENT_STEPS = 300


class TrainingFigures:
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
