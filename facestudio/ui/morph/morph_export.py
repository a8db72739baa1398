"""Exporting a morph (GIF, MP4, PNG frames, contact sheet) on the export thread, with progress
and Cancel.

A part of MorphPanel (facestudio/ui/morph/morph_panel.py), which mixes it in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog

from facestudio.render.export import mp4_available
from facestudio.ui.workers.morph_worker import ExportJob, ExportThread

EXPORT_FORMATS = {"gif": "GIF", "mp4": "MP4 video", "frames": "PNG frames", "sheet": "Contact sheet"}


def playing_order(count: int, mode: str) -> np.ndarray:
    """Frame indices of one pass as played (and exported): ping-pong adds the way back."""
    forward = np.arange(count, dtype=np.int64)
    if mode == "pingpong" and count > 2:
        return np.concatenate([forward, forward[-2:0:-1]])
    return forward


class MorphExport:
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
