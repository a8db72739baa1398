"""The Style panel: what style-based models (StyleGAN2/3, MobileStyleGAN) add to the explorer.

- Directions in W on a layer range: the W principal components (GANSpace, each labelled with
  its share of the variance of W) or SeFa directions, moved on all layers or only the coarse
  (pose, face shape), middle (features) or fine (colour, texture) ones, or layers you list.
  They are unnamed ("PCA 3"): nothing independent has checked what each one does.
- Style mixing: take the coarse / middle / fine layers, or any single layers, from a donor face
  (a seed), as the StyleGAN3 visualizer's style-mix widget does.
- Truncation cutoff: truncation acts on the first N layers only.

The panel holds no face: it shows the session's `StyleChoice` (`show_choice`) and reports
gestures as signals; the window turns each into one session call (undoable like the rest).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QGridLayout, QGroupBox, QHBoxLayout, QInputDialog, QLabel, QLineEdit,
    QPushButton, QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget,
)

from facestudio.errors import FaceStudioError

from facestudio.latent.layers import group_layers, layer_resolutions, parse_layers
from facestudio.latent.style_directions import StyleDirection
from facestudio.render.direction_file import load_directions, save_directions
from facestudio.sessions.explorer.explorer_state import MAX_SEED, StyleChoice

SLIDER_STEPS = 100  # slider ticks per direction step
DIRECTION_RANGE = 5.0  # steps either way (a step: one standard deviation of W along the direction)
GROUPS = (("all", "All layers"), ("coarse", "Coarse: pose, face shape"), ("middle", "Middle: features"),
          ("fine", "Fine: colour, texture"), ("custom", "Custom layers..."))
BASES = (("pca", "W PCA (GANSpace)"), ("sefa", "SeFa"), ("user", "Your directions"))
GROUP_TIP = ("Which layers a direction moves: coarse layers change pose and face shape, middle ones features, "
             "fine ones colour and texture.")
UNCHECKED = ("Unnamed: nothing independent has checked what this direction does. Try it and see; "
             "name and save the ones you like.")


class StylePanel(QWidget):
    """Directions on layer ranges, style mixing and truncation cutoff for a style model."""

    amountDragged = Signal(str, str, object, float)  # kind, name, layers (tuple), amount
    amountReleased = Signal()
    styleChosen = Signal(object)  # a new StyleChoice (mixing, cutoff, reset): one undo step
    donorFileRequested = Signal()  # "a face PNG as donor": the window reads it
    donorGalleryRequested = Signal()  # "the selected gallery face as donor"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._generator = None
        self._model_name, self._model_sha256 = "", ""
        self._directions: dict[tuple[str, str], StyleDirection] = {}
        self._shares: dict[str, float] = {}
        self._choice = StyleChoice()
        self._rows: list[tuple[QLabel, QSlider, QLabel]] = []
        self._layer_buttons: list[QToolButton] = []
        self._build()
        # a taken layer must read as taken at a glance
        self.setStyleSheet("QToolButton:checked { background: #4f8fd6; color: white; border-radius: 3px; }")
        self.set_model(None)

    # ================================================================ building
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.status = QLabel()
        self.status.setObjectName("Hint")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        directions = QGroupBox("Directions in W")
        grid = QGridLayout(directions)
        self.basis_combo = QComboBox()
        for key, label in BASES:
            self.basis_combo.addItem(label, key)
        self.basis_combo.setToolTip("W PCA: the main axes along which this model's faces vary (GANSpace). "
                                    "SeFa: the directions the chosen layers' styles respond to most (closed form).")
        self.group_combo = QComboBox()
        for key, label in GROUPS:
            self.group_combo.addItem(label, key)
        self.group_combo.setToolTip(GROUP_TIP)
        self.custom_edit = QLineEdit()
        self.custom_edit.setPlaceholderText("layers, e.g. 0-3,6")
        self.custom_edit.setVisible(False)
        grid.addWidget(self.basis_combo, 0, 0, 1, 3)
        grid.addWidget(self.group_combo, 1, 0, 1, 3)
        grid.addWidget(self.custom_edit, 2, 0, 1, 3)
        for i in range(10):
            name = QLabel()
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(int(-DIRECTION_RANGE * SLIDER_STEPS), int(DIRECTION_RANGE * SLIDER_STEPS))
            slider.setMinimumWidth(150)
            slider.setToolTip(UNCHECKED)
            value = QLabel("0.00")
            value.setMinimumWidth(40)
            slider.valueChanged.connect(lambda v, row=i: self._on_slider(row, v))
            slider.sliderReleased.connect(self.amountReleased)
            grid.addWidget(name, 3 + i, 0)
            grid.addWidget(slider, 3 + i, 1)
            grid.addWidget(value, 3 + i, 2)
            self._rows.append((name, slider, value))
        self.reset_directions_button = QPushButton("Reset directions")
        self.reset_directions_button.clicked.connect(lambda: self.styleChosen.emit(replace(self._choice, amounts=())))
        grid.addWidget(self.reset_directions_button, 13, 0, 1, 3)
        files = QHBoxLayout()
        self.save_direction_button = QPushButton("Save as direction...")
        self.save_direction_button.setToolTip("Name the sliders' combination on these layers and save it as a direction "
                                              "file you can load again or share with people who use this model.")
        self.save_direction_button.clicked.connect(self.choose_save_direction)
        self.load_directions_button = QPushButton("Load directions...")
        self.load_directions_button.setToolTip("Load a direction file saved for this model (under Your directions).")
        self.load_directions_button.clicked.connect(self.choose_load_directions)
        files.addWidget(self.save_direction_button)
        files.addWidget(self.load_directions_button)
        grid.addLayout(files, 14, 0, 1, 3)
        self.basis_combo.currentIndexChanged.connect(lambda _i: self._show_rows())
        self.group_combo.currentIndexChanged.connect(self._on_group)
        self.custom_edit.editingFinished.connect(self._show_rows)
        layout.addWidget(directions)

        mixing = QGroupBox("Style mixing")
        mix = QVBoxLayout(mixing)
        donor_row = QHBoxLayout()
        donor_row.addWidget(QLabel("Donor seed"))
        self.donor_spin = QSpinBox()
        self.donor_spin.setRange(0, MAX_SEED)
        self.donor_spin.setValue(42)
        self.donor_spin.setToolTip("The face whose layers are taken")
        donor_row.addWidget(self.donor_spin, 1)
        mix.addLayout(donor_row)
        face_row = QHBoxLayout()
        from_png = QPushButton("Face PNG...")
        from_png.setToolTip("Take the layers from a face saved as a PNG (z, w or w+ face of this model)")
        from_png.clicked.connect(self.donorFileRequested)
        from_gallery = QPushButton("Gallery face")
        from_gallery.setToolTip("Take the layers from the face selected in the gallery")
        from_gallery.clicked.connect(self.donorGalleryRequested)
        face_row.addWidget(QLabel("or"))
        face_row.addWidget(from_png)
        face_row.addWidget(from_gallery)
        mix.addLayout(face_row)
        self.donor_label = QLabel()
        self.donor_label.setObjectName("Hint")
        mix.addWidget(self.donor_label)
        groups_row = QHBoxLayout()
        self.group_checks: dict[str, QCheckBox] = {}
        for key, label in (("coarse", "Coarse"), ("middle", "Middle"), ("fine", "Fine")):
            check = QCheckBox(label)
            check.setToolTip(f"Take the donor's {key} layers")
            check.toggled.connect(lambda on, k=key: self._on_group_check(k, on))
            groups_row.addWidget(check)
            self.group_checks[key] = check
        mix.addLayout(groups_row)
        self.layer_row = QHBoxLayout()
        self.layer_row.setSpacing(2)
        mix.addLayout(self.layer_row)
        self.donor_spin.valueChanged.connect(lambda _v: self._emit_mix(from_seed=True))
        clear_mix = QPushButton("No mixing")
        clear_mix.clicked.connect(lambda: self.styleChosen.emit(replace(self._choice, mix_layers=(), mix_face=None,
                                                                        mix_label="", mix_seed=None)))
        mix.addWidget(clear_mix)
        layout.addWidget(mixing)

        cutoff_row = QHBoxLayout()
        cutoff_row.addWidget(QLabel("Truncation on layers"))
        self.cutoff_spin = QSpinBox()
        self.cutoff_spin.setSpecialValueText("all")
        self.cutoff_spin.setToolTip("Truncation (the toolbar's psi) pulls only the first N layers towards the average "
                                    "face: coarse layers tame pose and shape while fine detail stays varied.")
        self.cutoff_spin.valueChanged.connect(self._on_cutoff)
        cutoff_row.addWidget(self.cutoff_spin, 1)
        layout.addLayout(cutoff_row)
        layout.addStretch(1)

    # ================================================================ model and directions
    def set_model(self, generator, model_name: str = "", model_sha256: str = "") -> None:
        """A style model's generator (layers, resolutions), or None for a DCGAN (the panel says why it is empty).
        The name and sha256 go into saved direction files (a file only loads for its model)."""
        self._generator = generator
        self._model_name, self._model_sha256 = model_name, model_sha256
        self._directions, self._shares = {}, {}
        for button in self._layer_buttons:
            self.layer_row.removeWidget(button)
            button.deleteLater()
        self._layer_buttons = []
        if generator is None:
            self.status.setText("This model is a DCGAN: its W is its Z, one layer. The latent sliders and directions "
                                "do everything here; open a StyleGAN or the photographic model for style edits.")
            self.setEnabled(False)
            return
        self.setEnabled(True)
        self.status.setText("Finding W PCA and SeFa directions...")
        resolutions = layer_resolutions(generator)
        for i, res in enumerate(resolutions):
            button = QToolButton()
            button.setText(str(i))
            button.setCheckable(True)
            button.setToolTip(f"Layer {i} ({res} px): take it from the donor")
            button.toggled.connect(lambda _on: self._emit_mix())
            self.layer_row.addWidget(button)
            self._layer_buttons.append(button)
        for key, check in self.group_checks.items():
            present = bool(group_layers(generator, key))
            check.setEnabled(present)
            check.setToolTip(f"Take the donor's {key} layers" if present else f"This model has no {key} layers.")
        with QSignalBlocker(self.cutoff_spin):
            self.cutoff_spin.setRange(0, generator.num_ws)
            self.cutoff_spin.setValue(0)
        self._show_rows()

    def set_directions(self, directions: list[StyleDirection], shares: dict[str, float]) -> None:
        self._directions = {(d.kind, d.name): d for d in directions}
        self._shares = dict(shares)
        self.status.setText(f"{len(directions)} directions, unnamed (nothing independent has checked what each does). "
                            "Choose the layers they move, then drag.")
        self._show_rows()

    def directions(self) -> dict[tuple[str, str], StyleDirection]:
        return dict(self._directions)

    # ================================================================ your own directions
    def user_direction(self, name: str) -> StyleDirection:
        """The sliders' combination of the shown basis on the chosen layers, as one direction
        (one step = the whole combination). ValueError when no slider is moved."""
        if not name.strip():
            raise ValueError("Give the direction a name.")
        vector = np.zeros(self._generator.w_dim, dtype=np.float64)
        layers: tuple[int, ...] = ()
        for d in self._row_directions():
            d_layers = self._layers_of(d)
            amount = self._choice.amount(d.kind, d.name, d_layers) if d_layers else 0.0
            if amount:
                vector += amount * d.scale * d.vector.astype(np.float64)
                layers = tuple(sorted(set(layers) | set(d_layers)))
        if not np.any(vector):
            raise ValueError("Move some direction sliders on these layers first: the saved direction is their combination.")
        return StyleDirection(name.strip(), "user", vector.astype(np.float32), layers, float(np.linalg.norm(vector)))

    def _layers_of(self, direction: StyleDirection) -> tuple[int, ...]:
        """Your own directions keep the layers they were saved with; the others move the chosen range."""
        return direction.layers if direction.kind == "user" else self.current_layers()

    def save_user_direction(self, name: str, path: str | Path) -> bool:
        """Save the combination as `name` in a direction file (also added under Your directions)."""
        try:
            direction = self.user_direction(name)
            save_directions(path, [direction], self._model_name, self._model_sha256, self._generator.num_ws)
        except (ValueError, FaceStudioError, OSError) as exc:
            self.status.setText(f"Not saved: {exc}")
            return False
        self._directions[("user", direction.name)] = direction
        self.status.setText(f"Saved “{direction.name}” to {Path(path).name}.")
        self._show_rows()
        return True

    def load_user_directions(self, path: str | Path) -> bool:
        """Add the directions of a file saved for this model (refused with a sentence for another)."""
        g = self._generator
        try:
            loaded = load_directions(path, self._model_name, self._model_sha256, g.w_dim, g.num_ws)
        except FaceStudioError as exc:
            self.status.setText(str(exc))
            return False
        for d in loaded:
            self._directions[("user", d.name)] = StyleDirection(d.name, "user", d.vector, d.layers, d.scale)
        self.basis_combo.setCurrentIndex(self.basis_combo.findData("user"))
        self.status.setText(f"Loaded {len(loaded)} direction(s) from {Path(path).name}: "
                            f"{', '.join(d.name for d in loaded[:5])}.")
        self._show_rows()
        return True

    def choose_save_direction(self) -> None:
        name, ok = QInputDialog.getText(self, "Save direction", "Name of the direction (e.g. what it does to a face):")
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save direction", f"{name.strip() or 'direction'}.json",
                                              "Direction files (*.json)")
        if path:
            self.save_user_direction(name, path if path.lower().endswith(".json") else path + ".json")

    def choose_load_directions(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load directions", "", "Direction files (*.json)")
        if path:
            self.load_user_directions(path)

    def set_failed(self, text: str) -> None:
        self.status.setText(text)

    # ================================================================ showing the session's choice
    def show_choice(self, choice: StyleChoice) -> None:
        """Make every control show `choice` (after undo, a new face, a new model)."""
        self._choice = choice
        self._show_rows()
        donor = set(choice.mix_layers) if choice.mixes else set()
        with QSignalBlocker(self.donor_spin):
            if choice.mix_seed is not None:
                self.donor_spin.setValue(choice.mix_seed)
        self.donor_label.setText(f"Donor: {choice.mix_label}" if choice.mix_face is not None
                                 else f"Donor: seed {self.donor_spin.value()}")
        for i, button in enumerate(self._layer_buttons):
            with QSignalBlocker(button):
                button.setChecked(i in donor)
        if self._generator is not None:
            for key, check in self.group_checks.items():
                with QSignalBlocker(check):
                    group = set(group_layers(self._generator, key))
                    check.setChecked(bool(group) and group <= donor)
        with QSignalBlocker(self.cutoff_spin):
            self.cutoff_spin.setValue(0 if choice.cutoff is None else choice.cutoff)

    def current_layers(self) -> tuple[int, ...]:
        """The layers the direction sliders move now (empty when the custom list is not valid)."""
        if self._generator is None:
            return ()
        key = self.group_combo.currentData()
        if key != "custom":
            return group_layers(self._generator, key)
        try:
            return parse_layers(self.custom_edit.text() or "all", self._generator.num_ws)
        except ValueError as exc:
            self.status.setText(str(exc))
            return ()

    def _row_directions(self) -> list[StyleDirection]:
        kind = self.basis_combo.currentData()
        return [d for (k, _n), d in self._directions.items() if k == kind][: len(self._rows)]

    def _show_rows(self) -> None:
        directions = self._row_directions()
        user = self.basis_combo.currentData() == "user"
        self.group_combo.setEnabled(not user)
        self.group_combo.setToolTip("Your directions move the layers they were saved with." if user else GROUP_TIP)
        if user and not directions:
            self.status.setText("No directions of your own yet: move sliders, then Save as direction..., or load a file.")
        for i, (name, slider, value) in enumerate(self._rows):
            visible = i < len(directions)
            for w in (name, slider, value):
                w.setVisible(visible)
            if not visible:
                continue
            d = directions[i]
            layers = self._layers_of(d)
            share = self._shares.get(d.name) if d.kind == "pca" else None
            name.setText(f"{d.name} \u00b7 {share:.1%}" if share is not None else d.name)
            if d.kind == "user":
                name.setToolTip(f"Your direction, on layers {', '.join(map(str, layers))}.")
            else:
                name.setToolTip(UNCHECKED + (f" Share of the variance of W: {share:.1%}." if share is not None else ""))
            amount = self._choice.amount(d.kind, d.name, layers) if layers else 0.0
            with QSignalBlocker(slider):
                slider.setValue(int(round(amount * SLIDER_STEPS)))
            value.setText(f"{amount:+.2f}")
            slider.setEnabled(bool(layers))

    # ================================================================ gestures
    def _on_slider(self, row: int, ticks: int) -> None:
        directions = self._row_directions()
        if row >= len(directions):
            return
        d = directions[row]
        layers = self._layers_of(d)
        if not layers:
            return
        amount = ticks / SLIDER_STEPS
        self._rows[row][2].setText(f"{amount:+.2f}")
        self.amountDragged.emit(d.kind, d.name, layers, amount)
        if not self._rows[row][1].isSliderDown():  # keyboard or wheel: one step, recorded at once
            self.amountReleased.emit()

    def _on_group(self, _index: int) -> None:
        self.custom_edit.setVisible(self.group_combo.currentData() == "custom")
        self._show_rows()

    def _on_group_check(self, key: str, on: bool) -> None:
        if self._generator is None:
            return
        for i in group_layers(self._generator, key):
            with QSignalBlocker(self._layer_buttons[i]):
                self._layer_buttons[i].setChecked(on)
        self._emit_mix()

    def _emit_mix(self, layers: tuple[int, ...] | None = None, from_seed: bool = False) -> None:
        """Ask for the layers ticked now (or `layers`) from the donor: the seed box's seed, or the donor
        face already chosen (`from_seed`: the seed box changed, so the seed is the donor again)."""
        if layers is None:
            layers = tuple(i for i, b in enumerate(self._layer_buttons) if b.isChecked())
        c = self._choice
        if from_seed or c.mix_face is None:
            c = replace(c, mix_face=None, mix_label="", mix_seed=self.donor_spin.value())
        self.styleChosen.emit(replace(c, mix_layers=tuple(layers)))

    def set_donor_face(self, styles, label: str) -> None:
        """A face (its final W+ styles) as the donor; the ticked layers (coarse when none) come from it."""
        layers = tuple(i for i, b in enumerate(self._layer_buttons) if b.isChecked())
        if not layers and self._generator is not None:
            layers = group_layers(self._generator, "coarse")
        self.styleChosen.emit(replace(self._choice, mix_face=styles, mix_label=label, mix_seed=None, mix_layers=layers))

    def _on_cutoff(self, value: int) -> None:
        self.styleChosen.emit(replace(self._choice, cutoff=None if value == 0 else int(value)))
