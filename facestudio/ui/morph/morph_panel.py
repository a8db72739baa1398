"""The Morph Studio: interpolate between faces, scrub and play the morph, export it.

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

The keyframes and path settings live in a Qt-free `MorphSession`
(facestudio/sessions/morph/morph_session.py); the panel shows them and rebuilds the path
when the session says they changed. The panel is written in four files mixed into this
class: this one (model, path, frames, playback, drops, shutdown), `morph_panel_layout.py`
(widgets), `morph_keyframes.py` (keyframe gestures) and `morph_export.py` (exports).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QIcon
from PySide6.QtWidgets import QListWidgetItem, QStyle, QWidget

from facestudio.latent.spaces import StyleLatent, to_wplus
from facestudio.latent.sampling import MAX_PSI
from facestudio.sessions.morph.morph_session import MorphSession
from facestudio.models.bundle import ModelBundle
from facestudio.render.renderer import Renderer
from facestudio.ui.workers.morph_worker import ExportThread, MorphThread, StripJob
from facestudio.ui.widgets.qt_images import qpixmap_from_rgb
from facestudio.ui.morph.morph_export import MorphExport
from facestudio.ui.morph.morph_keyframes import MorphKeyframes
from facestudio.ui.morph.morph_panel_layout import MorphPanelLayout





class MorphPanel(MorphPanelLayout, MorphKeyframes, MorphExport, QWidget):
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
        self.morph = MorphSession()  # keyframes and path settings; the widgets show them
        self.morph.subscribe(self._on_morph_changed)
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
        self.bundle = bundle
        self.renderer = renderer if renderer is not None else Renderer(bundle)
        size = bundle.config.image_size
        self.size_combo.setItemText(0, f"Model size ({size} px)")
        if bundle.family == "dcgan":
            self.morph.set_style_space(None, None)
        else:  # W+ keys: z keys join a W+ path mapped and truncated with the studio's psi
            g = bundle.viewing_generator
            self.morph.set_style_space((g.num_ws, g.w_dim), lambda z: to_wplus(g, StyleLatent("z", z), self.psi))
        if self.morph.set_latent_size(bundle.config.nz):
            self._rebuild_path()  # same keys, new network
        else:
            self.banner.show_message("The new model has another latent size, so the keyframes were removed.", "warning")

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

    # ================================================================ the path
    def interpolation(self) -> str:
        return self.morph.settings.interpolation

    def easing(self) -> str:
        return self.morph.settings.easing

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

    def _rebuild_path(self) -> None:
        """New path: drop the frames, render again from the playhead (newest request wins)."""
        if self._closed:
            return
        try:
            latents = self.morph.path() if self.renderer is not None else np.zeros((0, self.morph.nz or 0), np.float32)
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
        step = self.morph.settings.frames_per_segment
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
