"""The explorer: the main window artists live in.

Thin on purpose: what a face is and how gestures change it lives in `ExplorerSession`
(Qt-free), favourites in `GalleryStore`, pixels come from the Qt-free `Renderer` on the
render thread. This class wires widgets to those and keeps the screen in step.

Every gesture follows one path: one session call -> the session says what changed
(`Change`) -> `_on_session_changed` asks for a render (newest wins) and refreshes what
that change touched -> the render thread sends pixels back -> show them. Drags change
the session live and commit one undo step on release.

The window is written in four files, one concern each, mixed into this class: this one
(session changes, rendering, gestures, shutdown), `window_layout.py` (widgets, docks,
actions, menus), `model_opening.py` (opening models, files, drops) and `face_actions.py`
(face PNGs, latents as text, gallery, Morph Studio, Find Face, training room).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QWidget

from facestudio.app_folders import gallery_dir
from facestudio.models.bundle import ModelBundle
from facestudio.latent.sampling import latent_for_seed
from facestudio.render.renderer import Renderer
from facestudio.render.style_face import StyleEdit, moves_from_amounts
from facestudio.ui.workers.directions_worker import DirectionsThread
from facestudio.sessions.explorer.explorer_state import Change, ExplorerSession
from facestudio.sessions.explorer.gallery_store import GalleryStore
from facestudio.ui.preferences import Preferences
from facestudio.ui.explorer.projection_dialog import ProjectionDialog
from facestudio.ui.workers.render_worker import FaceJob, RenderThread, VariationsJob
from facestudio.ui.explorer.face_actions import FaceActions
from facestudio.ui.explorer.model_opening import ModelOpening
from facestudio.ui.explorer.window_layout import VARIATION_COUNT, ExplorerLayout

VARIATION_DELAY_MS = 120
# Big style models (1024 px MobileStyleGAN: ~0.7-2 s a face) draw a preview output while a slider
# moves and the full image once the hand rests this long (render/progressive.py's policy).
PREVIEW_FROM_SIZE = 512
REST_MS = 150


class ExplorerWindow(ExplorerLayout, ModelOpening, FaceActions, QMainWindow):
    """Main window. `path`: a model, run folder or face PNG to open (None: the default model)."""

    faceShown = Signal(int)  # render token of the face now on screen
    variationsShown = Signal()
    realismShown = Signal(object)  # float | None
    directionsReady = Signal()  # the search for SeFa/PCA directions finished (found or failed)
    modelChanged = Signal(str)  # model name
    # Latents (float32 (nz,) copies) of the gallery faces picked for morphing, in order.
    # The morph studio connects to this.
    morphRequested = Signal(list)

    def __init__(self, path: str | Path | None = None, *, preferences: Preferences | None = None,
                 gallery_folder: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prefs = preferences or Preferences()
        self.bundle: ModelBundle | None = None
        self.renderer: Renderer | None = None
        self.session: ExplorerSession | None = None
        self._model_note = ""
        self._rng = np.random.default_rng()
        self._token = 0  # last face job sent
        self._last_request: tuple | None = None  # what that job draws (an identical request is not sent twice)
        self._model_floor = 0  # first token rendered with the current model
        self._shown_token = 0
        self._var_token = 0
        self._variation_bases: np.ndarray | None = None  # latents of the tiles on screen
        self._requested_variations: tuple[int, np.ndarray] | None = None
        self._shuffle = 0
        self._directions_token = 0
        self._pending_directions: tuple | None = None
        self._closed = False
        self._projection: ProjectionDialog | None = None
        self._training = None  # the training room window (facestudio.ui.training.training_panel), made on first use

        self._render = RenderThread()
        self._render.worker.faceRendered.connect(self._on_face_rendered)
        self._render.worker.realismMeasured.connect(self._on_realism)
        self._render.worker.variationsRendered.connect(self._on_variations)
        self._render.worker.failed.connect(self._on_render_failed)
        self._directions = DirectionsThread()
        self._directions.worker.computed.connect(self._on_directions)
        self._directions.worker.failed.connect(self._on_directions_failed)

        gallery_folder = Path(gallery_folder) if gallery_folder else gallery_dir()
        self.gallery = GalleryStore(gallery_folder)

        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self._build_status()
        self._restore_window()
        self.setAcceptDrops(True)
        self._rest_timer = QTimer(self)
        self._rest_timer.setSingleShot(True)
        self._rest_timer.timeout.connect(self._request_render)
        self._var_timer = QTimer(self)
        self._var_timer.setSingleShot(True)
        self._var_timer.timeout.connect(self._request_variations)
        if self.gallery.problems:
            self.show_message(" ".join(self.gallery.problems), "warning")
        self._open_initial(path)

    # ================================================================ messages
    def show_message(self, text: str, level: str = "info", *, sticky: bool = False) -> None:
        """A sentence for the person: banner for errors/warnings/notes, echoed in the status bar."""
        self.banner.show_message(text, level, sticky=sticky)
        if not sticky:
            self.statusBar().showMessage(text, 8000)

    def show_error(self, text: str) -> None:
        self.show_message(text, "error")

    @Slot(int, object)
    def _on_directions(self, token: int, sets: list) -> None:
        if token != self._directions_token or self.session is None:
            return
        if len(sets) == 1 and isinstance(sets[0], tuple):  # a style model's (directions, variance shares)
            self.style_panel.set_directions(*sets[0])
            if not self.session.state.style.is_empty:
                self._request_render()
        else:
            self.session.set_directions(sets)  # -> Change.DIRECTIONS
        self.directionsReady.emit()

    @Slot(int, str)
    def _on_directions_failed(self, token: int, text: str) -> None:
        if token == self._directions_token:
            self.directions_panel.set_busy(text, computing=False)
            self.statusBar().showMessage(text, 8000)
            self.directionsReady.emit()

    # ================================================================ rendering
    def _request_render(self, preview: bool = False) -> None:
        """Ask for the face (newest wins). `preview`: a hand is moving a slider, so a big style model
        draws its cheap preview output now and the full image once the hand rests (REST_MS)."""
        if self.renderer is None or self.session is None or self._closed:
            return
        resolution = self.renderer.preview_resolution(PREVIEW_FROM_SIZE) if preview else None
        if resolution is None:
            self._rest_timer.stop()
        else:
            self._rest_timer.start(REST_MS)
        latent = self.session.effective_latent()
        latent.setflags(write=False)
        state = self.session.state
        key = (id(self.renderer), latent.tobytes(), state.psi, state.style, resolution)
        if key == self._last_request:
            return  # the same face is already on its way (e.g. drawn at rest, then the hand lets go)
        self._last_request = key
        self._token += 1
        realism = self.renderer.has_realism_meter and resolution is None
        self._render.worker.submit_face(FaceJob(self.renderer, latent, self.session.state.psi, self._token,
                                                want_realism=realism, style=self._style_edit(), preview=resolution))
        if realism:
            self.realism.set_pending()

    @Slot(int, object)
    def _on_face_rendered(self, token: int, image: np.ndarray) -> None:
        if token < self._model_floor or token <= self._shown_token or self._closed:
            return
        self._shown_token = token
        self.face_view.set_image(image)
        self.faceShown.emit(token)
        if self._pending_directions is not None:
            token_d, bundle, missing = self._pending_directions
            self._pending_directions = None
            self._directions.worker.submit(token_d, bundle, missing)

    def _style_edit(self) -> StyleEdit | None:
        """The session's W+ edits as plain data for the render thread (None for DCGAN models or no edits)."""
        choice = self.session.state.style
        if self.bundle is None or self.bundle.family == "dcgan" or choice.is_empty:
            return None
        g = self.bundle.viewing_generator

        def this_model(ws: np.ndarray | None) -> np.ndarray | None:  # W+ faces of another model are dropped
            return ws if ws is not None and ws.shape == (g.num_ws, g.w_dim) else None

        fits = [(k, n, layers, a) for k, n, layers, a in choice.amounts if max(layers) < g.num_ws]
        donor = latent_for_seed(choice.mix_seed, g.z_dim) if choice.mix_seed is not None and choice.mix_face is None else None
        return StyleEdit.build(g.num_ws, g.w_dim, moves_from_amounts(self.style_panel.directions(), fits), donor=donor,
                               mix_layers=[i for i in choice.mix_layers if i < g.num_ws],
                               cutoff=choice.cutoff if choice.cutoff is None or choice.cutoff <= g.num_ws else None,
                               base_ws=this_model(choice.wplus), donor_ws=this_model(choice.mix_face))

    @Slot(int, object)
    def _on_realism(self, token: int, value: object) -> None:
        if token < self._model_floor or self._closed:
            return
        self.realism.set_value(value if value is None else float(value))
        self.realismShown.emit(value)

    @Slot(str)
    def _on_render_failed(self, text: str) -> None:
        self.show_error(text)

    def _schedule_variations(self) -> None:
        self.variations.set_stale(True)
        self._var_timer.start(VARIATION_DELAY_MS)

    def _request_variations(self) -> None:
        if self.renderer is None or self.session is None or self._closed:
            return
        seed = (zlib.crc32(self.session.state.base.tobytes()) + 7919 * self._shuffle) & 0x7FFFFFFF
        bases = self.session.variation_bases(VARIATION_COUNT, self.spread.value() / 100.0, seed)
        self._var_token += 1
        self._requested_variations = (self._var_token, bases)
        latents = (bases + self.session.direction_offset()[None, :]).astype(np.float32)
        edit = self._style_edit()
        if edit is not None and edit.base_ws is not None:
            edit = None  # a W+ face has no z to vary: its neighbours are those of the z under it
        self._render.worker.submit_variations(VariationsJob(self.renderer, latents, self.session.state.psi, self._var_token,
                                                            style=edit))

    @Slot(int, object)
    def _on_variations(self, token: int, images: np.ndarray) -> None:
        if token != self._var_token or self._closed:
            return
        self._variation_bases = self._requested_variations[1]  # what the tiles now show
        self.variations.set_images(images)
        self.variationsShown.emit()

    def shuffle_variations(self) -> None:
        self._shuffle += 1
        self._schedule_variations()

    def _on_spread_changed(self, value: int, schedule: bool = True) -> None:
        self.spread_label.setText(f"{value / 100:.2f}")
        self.prefs.variation_spread = value / 100.0
        if schedule:
            self._schedule_variations()

    def _on_variation_picked(self, index: int) -> None:
        if self.session is None or self._variation_bases is None or index >= len(self._variation_bases):
            return
        if self.variations.is_stale():
            self.statusBar().showMessage("The nearby faces are being updated; pick one in a moment.", 2000)
            return
        self.session.set_face(self._variation_bases[index], keep_amounts=True)
        self.statusBar().showMessage("Moved to a nearby face (Ctrl+Z goes back).", 3000)

    # ================================================================ keeping the screen in step
    def _on_session_changed(self, change: Change) -> None:
        """The one place that turns a session change into refreshes (see explorer_state.Change)."""
        if self._closed:
            return
        if change is Change.LIVE:
            self.variations.set_stale(True)
            self._request_render(preview=True)
        elif change is Change.COMMITTED:
            self._after_live_commit()
        elif change is Change.FACE:
            self._after_change()
        elif change is Change.LOCK:
            state = self.session.state
            self.latent_panel.update_summary(state.base, state.origin, self.session.locked)
            self._schedule_variations()
        elif change is Change.LOCKS_CLEARED:
            self._sync_controls()
            self._schedule_variations()
        elif change is Change.DIRECTIONS:
            self.directions_panel.set_directions(self.session.directions, self.session.state.amount_map())
            if self.session.state.amounts:
                self._request_render()

    def _after_change(self) -> None:
        """The session changed as a whole (not by a drag): refresh controls, render, new neighbours."""
        self._sync_controls()
        self._request_render()
        self._schedule_variations()

    def _after_live_commit(self) -> None:
        state = self.session.state
        self.latent_panel.update_summary(state.base, state.origin, self.session.locked)
        self.style_panel.show_choice(state.style)
        self._update_face_label()
        self._update_undo_actions()
        self._request_render()
        self._schedule_variations()

    def _sync_controls(self) -> None:
        s = self.session
        state = s.state
        self.latent_panel.set_latent(state.base, state.origin, s.locked)
        in_wplus = state.style.wplus is not None
        self.latent_panel.setEnabled(not in_wplus)
        self.latent_panel.setToolTip("This face lives in W+ (found from a photo or opened from a w/w+ face PNG): "
                                     "edit it in the Style tab; a seed or Randomise starts a new face." if in_wplus else "")
        self.directions_panel.set_amounts(state.amount_map())
        self.seed_box.show_seed(state.seed, s.last_seed)
        self.psi_slider.blockSignals(True)
        self.psi_slider.setValue(int(round(state.psi * 100)))
        self.psi_slider.blockSignals(False)
        self.psi_label.setText(f"{state.psi:.2f}")
        self.style_panel.show_choice(state.style)
        self._update_face_label()
        self._update_undo_actions()

    def _update_face_label(self) -> None:
        state = self.session.state
        origin = f"seed {state.seed}" if state.seed is not None else ("W+ face" if state.style.wplus is not None else "custom face")
        parts = [origin]
        if state.edited:
            parts.append("edited")
        if state.amounts:
            parts.append(f"{len(state.amounts)} direction(s)")
        if state.style.amounts or state.style.mix_layers or state.style.cutoff is not None:
            parts.append("style edits")
        parts.append(f"psi {state.psi:.2f}")
        self.face_label.setText("  |  ".join(parts) + "   ")

    def _update_undo_actions(self) -> None:
        h = self.session.history
        self.act_undo.setEnabled(h.can_undo or self.session.dirty)
        self.act_redo.setEnabled(h.can_redo and not self.session.dirty)

    # ================================================================ gestures (each one session call; the session says what changed)
    def _on_dim_dragged(self, row: int, value: float) -> None:
        self.session.set_dimension(row, value)

    def _on_dim_nudged(self, row: int, value: float) -> None:
        self.session.set_dimension(row, value)
        self.session.commit(merge_key=("dimension", row))

    def _on_released(self, _row: int) -> None:
        if self.session is not None:
            self.session.commit()

    def _on_dim_reset(self, row: int) -> None:
        self.session.reset_dimension(row)

    def _on_lock_toggled(self, row: int, locked: bool) -> None:
        self.session.set_locked(row, locked)

    def _on_dir_dragged(self, kind: str, name: str, value: float) -> None:
        self.session.set_amount(kind, name, value)

    def _on_dir_nudged(self, kind: str, name: str, value: float) -> None:
        self.session.set_amount(kind, name, value)
        self.session.commit(merge_key=("direction", kind, name))

    def _on_dir_reset(self, kind: str, name: str) -> None:
        self.session.reset_direction(kind, name)

    def _on_dir_reset_kind(self, kind: str | None) -> None:
        self.session.reset_directions(kind)

    def _on_style_dragged(self, kind: str, name: str, layers: tuple, value: float) -> None:
        self.session.set_style_amount(kind, name, tuple(layers), value)

    def _on_style_released(self) -> None:
        if self.session is not None:
            self.session.commit()

    def _on_style_chosen(self, choice) -> None:
        if self.session is not None and choice != self.session.state.style:
            self.session.set_style(choice)

    def _on_psi_changed(self, value: int) -> None:
        self.psi_label.setText(f"{value / 100:.2f}")
        self.session.set_psi(value / 100.0)
        if not self.psi_slider.isSliderDown():
            self.session.commit(merge_key="psi")
            self.morph_panel.set_truncation(value / 100.0)

    def go_to_seed(self, seed: int) -> None:
        if seed < 0:  # "custom" typed or stepped to: not a seed
            self._sync_controls()
            return
        self.session.go_to_seed(int(seed))

    def step_seed(self, delta: int) -> None:
        self.session.step_seed(delta)

    def _focus_seed(self) -> None:
        self.seed_box.setFocus()
        self.seed_box.selectAll()

    def randomise(self) -> None:
        self.session.randomise(self._rng)

    def reset_all(self) -> None:
        self.session.reset_all()

    def unlock_all(self) -> None:
        self.session.unlock_all()

    def undo(self) -> None:
        if self.session.undo() is not None:
            self.statusBar().showMessage("Undone.", 1500)

    def redo(self) -> None:
        if self.session.redo() is not None:
            self.statusBar().showMessage("Redone.", 1500)

    def set_smooth(self, smooth: bool) -> None:
        self.face_view.set_smooth(smooth)
        self.morph_panel.set_smooth(smooth)
        self.variations.set_smooth(smooth)
        self.act_smooth.setChecked(smooth)
        self.prefs.smooth_upscale = smooth

    # ================================================================ closing
    def shutdown(self) -> None:
        """Stop and join every thread and remember the window; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._var_timer.stop()
        self._rest_timer.stop()
        self._render.close()
        self._directions.close()
        self.morph_panel.shutdown()
        if self._projection is not None:
            self._projection.shutdown()
        if self._training is not None:
            self._training.shutdown()  # stops and saves (or hands off) a run, joins its thread
            self._training.close()
        self.prefs.geometry = self.saveGeometry()
        self.prefs.window_state = self.saveState()
        if self.morph_window.placed:  # never shown: nothing of the person's to remember
            self.prefs.morph_geometry = self.morph_window.saveGeometry()
        self.morph_window.close()
        self.prefs.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
