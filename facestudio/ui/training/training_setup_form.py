"""The training settings form's group boxes (data, training, budget, advanced, save); every
range and default comes from TrainConfig's field metadata (trainer/config_flags.py).

A part of TrainingSetup (facestudio/ui/training/training_setup.py), which mixes it in.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QCheckBox, QListWidget, QPushButton, QRadioButton, QSpinBox, QVBoxLayout,
)

from trainer.config import DEFAULT_SYNTHETIC_COUNT, TrainConfig



DEFAULT_SYNTHETIC = DEFAULT_SYNTHETIC_COUNT
#: The form needs a budget where the command line may have none: these start it.
DEFAULT_STEPS = 5000
DEFAULT_MINUTES = 30.0
#: Largest built-in data set the form offers (rendering more takes minutes).
MAX_SYNTHETIC = 200_000
#: Words beside the choices of some settings.
CHOICE_LABELS = {"bce": "bce (DCGAN tutorial)", "auto": "auto (on for small data sets)"}
PREVIEW_SIDE = 200
SYNTHETIC = "synthetic"

TIPS = {
    "image_size": "Pixels per side of the faces the model makes. 64 trains about 4x faster than 128; 32 is for quick tries.",
    "batch_size": "Images per training step. Bigger batches are smoother but each step takes longer.",
    "lr_g": "How big a step the generator takes when it learns. 0.0002 is the DCGAN classic.",
    "lr_d": "How big a step the discriminator takes when it learns. Lower it first if the discriminator wins outright.",
    "loss": "How the two networks are scored. bce is the DCGAN tutorial's; hinge can be steadier on small data sets.",
    "diffaugment": "Show the discriminator shifted, recoloured and cut-out copies so it cannot memorise a small data set.",
    "ema_decay": "The samples and the saved model use a moving average of the generator's weights: calmer, better faces. 0 turns it off.",
    "flip": "Also train on mirrored copies of every image: twice the data for free (faces are nearly symmetric).",
    "max_steps": "Training stops at this step (a step = one batch). For a resumed run: steps added to where it stopped.",
    "minutes": "Training stops after this many minutes of training in this session (paused time does not count).",
    "nz": "Latent size: how many numbers describe a face (the sliders of the explorer).",
    "width": "Network width (ngf = ndf): wider networks learn more detail but train slower.",
    "seed": "Seed of the starting weights, noise and data order: the same seed gives the same run.",
    "sample_every": "Steps between sample grids: each one becomes a frame of the timeline.",
    "checkpoint_every": "Steps between checkpoints; training can resume from each. Stopping always saves one.",
    "name": "Name of the run folder and of the model.",
    "runs_dir": "Each run gets its own numbered folder in here (config, metrics, samples, checkpoints, model).",
}


def _spin(name: str, spin: QSpinBox | QDoubleSpinBox | None = None, decimals: int = 0) -> QSpinBox | QDoubleSpinBox:
    """A spin box for TrainConfig field `name`: its valid range (as far as the box can hold) and its default."""
    spec, default = TrainConfig.setting(name), TrainConfig.default(name)
    if spin is None:
        spin = QDoubleSpinBox() if decimals else QSpinBox()
    if decimals:
        spin.setDecimals(decimals)
    step = 10.0**-decimals if decimals else 1
    lo = spec.lo + step if spec.lo_open else spec.lo
    hi = spec.hi if spec.hi is not None else 2**31 - 1
    if not decimals:
        lo, hi = int(lo), int(min(hi, 2**31 - 1))  # a QSpinBox holds 32-bit numbers
    spin.setRange(lo, hi)
    if default is not None:
        spin.setValue(default)
    return spin


def _choices(name: str) -> QComboBox:
    """A combo box of TrainConfig field `name`'s choices, on its default."""
    combo = QComboBox()
    for value in TrainConfig.setting(name).choices:
        combo.addItem(CHOICE_LABELS.get(value, f"{value} x {value} px" if name == "image_size" else str(value)), value)
    combo.setCurrentIndex(combo.findData(TrainConfig.default(name)))
    return combo


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
    form.setHorizontalSpacing(10)
    form.setVerticalSpacing(6)
    return form


class TrainingSetupForm:
    # ================================================================ building
    def _build_data(self) -> QGroupBox:
        box = QGroupBox("Faces to learn from")
        self.synthetic_radio = QRadioButton("Built-in synthetic faces")
        self.synthetic_radio.setToolTip("Drawn faces that come with FaceStudio: a quick way to see a GAN learn.")
        self.synthetic_count = QSpinBox()
        self.synthetic_count.setRange(int(TrainConfig.setting("data_count").lo), MAX_SYNTHETIC)
        self.synthetic_count.setSingleStep(1000)
        self.synthetic_count.setGroupSeparatorShown(True)
        self.synthetic_count.setValue(DEFAULT_SYNTHETIC)
        self.synthetic_count.setSuffix(" faces")
        self.synthetic_count.setToolTip("How many different built-in faces to train on (drawn once, then cached).")
        self.synthetic_count.valueChanged.connect(lambda _v: self._count_timer.start())
        self.folder_radio = QRadioButton("A folder of my own photos")
        self.folder_radio.setToolTip("Any folder of JPEG, PNG, WebP, BMP or TIFF images (searched with its subfolders). "
                                     "Faces should be roughly centred; each image is centre-cropped to a square.")
        group = QButtonGroup(self)
        group.addButton(self.synthetic_radio)
        group.addButton(self.folder_radio)
        self.synthetic_radio.setChecked(True)
        self.synthetic_radio.toggled.connect(self._on_source_toggled)
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("Choose a folder of face photos...")
        self.folder_edit.editingFinished.connect(self._on_folder_edited)
        self.browse_button = QPushButton("Browse...")
        self.browse_button.clicked.connect(self.choose_folder)
        self.recheck_button = QPushButton("Check again")
        self.recheck_button.setToolTip("Count the folder's usable images again (after adding or removing files)")
        self.recheck_button.clicked.connect(self.request_check)
        self.data_summary = QLabel()
        self.data_summary.setWordWrap(True)
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setObjectName("Hint")
        self.preview.setToolTip("The first images of the data set, as the model will see them (centre-cropped)")
        self.skipped_list = QListWidget()
        self.skipped_list.setMaximumHeight(110)
        self.skipped_list.setWordWrap(True)
        self.skipped_list.setToolTip("Files that will not be used, and why")
        self.skipped_list.hide()

        synth_row = QHBoxLayout()
        synth_row.addWidget(self.synthetic_radio)
        synth_row.addStretch(1)
        synth_row.addWidget(self.synthetic_count)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        folder_row.addWidget(self.recheck_button)
        preview_row = QHBoxLayout()
        preview_row.addStretch(1)
        preview_row.addWidget(self.preview)
        preview_row.addStretch(1)
        v = QVBoxLayout(box)
        v.setSpacing(6)
        v.addLayout(synth_row)
        v.addWidget(self.folder_radio)
        v.addLayout(folder_row)
        v.addWidget(self.data_summary)
        v.addLayout(preview_row)
        v.addWidget(self.skipped_list)
        return box

    def _build_training(self) -> QGroupBox:
        box = QGroupBox("Training")
        form = _form()
        self.size_combo = _choices("image_size")
        self.batch_spin = _spin("batch_size")
        self.lr_g_spin = self._lr_spin("lr_g")
        self.lr_d_spin = self._lr_spin("lr_d")
        self.loss_combo = _choices("loss")
        self.diffaugment_combo = _choices("diffaugment")
        self.ema_spin = _spin("ema_decay", decimals=5)
        self.ema_spin.setSingleStep(0.001)
        self.flip_check = QCheckBox("Also learn from mirrored copies")
        self.flip_check.setChecked(TrainConfig.default("flip"))
        lr_row = QHBoxLayout()
        lr_row.addWidget(QLabel("G"))
        lr_row.addWidget(self.lr_g_spin, 1)
        lr_row.addWidget(QLabel("D"))
        lr_row.addWidget(self.lr_d_spin, 1)
        form.addRow("Image size", self.size_combo)
        form.addRow("Batch", self.batch_spin)
        form.addRow("Learning rates", lr_row)
        form.addRow("Loss", self.loss_combo)
        form.addRow("DiffAugment", self.diffaugment_combo)
        form.addRow("EMA decay", self.ema_spin)
        form.addRow("", self.flip_check)
        box.setLayout(form)
        self._tip_widgets = {
            "image_size": self.size_combo, "batch_size": self.batch_spin, "lr_g": self.lr_g_spin, "lr_d": self.lr_d_spin,
            "loss": self.loss_combo, "diffaugment": self.diffaugment_combo, "ema_decay": self.ema_spin, "flip": self.flip_check,
        }
        return box

    def _build_budget(self) -> QGroupBox:
        box = QGroupBox("How long")
        self.steps_radio = QRadioButton("Steps")
        self.minutes_radio = QRadioButton("Minutes")
        group = QButtonGroup(self)
        group.addButton(self.steps_radio)
        group.addButton(self.minutes_radio)
        self.steps_radio.setChecked(True)
        self.steps_spin = _spin("max_steps")
        self.steps_spin.setGroupSeparatorShown(True)
        self.steps_spin.setSingleStep(500)
        self.steps_spin.setValue(DEFAULT_STEPS)
        self.minutes_spin = _spin("minutes", decimals=1)
        self.minutes_spin.setValue(DEFAULT_MINUTES)
        self.steps_radio.toggled.connect(self._on_budget_toggled)
        row = QHBoxLayout(box)
        row.addWidget(self.steps_radio)
        row.addWidget(self.steps_spin, 1)
        row.addSpacing(10)
        row.addWidget(self.minutes_radio)
        row.addWidget(self.minutes_spin, 1)
        self._tip_widgets.update({"max_steps": self.steps_spin, "minutes": self.minutes_spin})
        self._on_budget_toggled()
        return box

    def _build_advanced(self) -> QGroupBox:
        box = QGroupBox("Network and files")
        form = _form()
        self.nz_spin = _spin("nz")
        self.width_spin = _spin("ngf")  # one width for both networks (ngf = ndf)
        self.seed_spin = _spin("seed")
        self.sample_every_spin = _spin("sample_every")
        self.checkpoint_every_spin = _spin("checkpoint_every")
        for spin in (self.sample_every_spin, self.checkpoint_every_spin):
            spin.setSpecialValueText("only at the end")  # 0
        self.name_edit = QLineEdit(TrainConfig.default("name"))
        net_row = QHBoxLayout()
        net_row.addWidget(QLabel("latent"))
        net_row.addWidget(self.nz_spin, 1)
        net_row.addWidget(QLabel("width"))
        net_row.addWidget(self.width_spin, 1)
        every_row = QHBoxLayout()
        every_row.addWidget(QLabel("samples"))
        every_row.addWidget(self.sample_every_spin, 1)
        every_row.addWidget(QLabel("checkpoints"))
        every_row.addWidget(self.checkpoint_every_spin, 1)
        form.addRow("Network", net_row)
        form.addRow("Every", every_row)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Name", self.name_edit)
        box.setLayout(form)
        self._tip_widgets.update({"nz": self.nz_spin, "width": self.width_spin, "seed": self.seed_spin,
                                  "sample_every": self.sample_every_spin, "checkpoint_every": self.checkpoint_every_spin,
                                  "name": self.name_edit})
        return box

    def _build_save(self, runs_dir: str | Path) -> QGroupBox:
        box = QGroupBox("Save runs in")
        self.runs_edit = QLineEdit(str(runs_dir))
        self.runs_browse = QPushButton("Browse...")
        self.runs_browse.clicked.connect(self.choose_runs_dir)
        row = QHBoxLayout(box)
        row.addWidget(self.runs_edit, 1)
        row.addWidget(self.runs_browse)
        self._tip_widgets["runs_dir"] = self.runs_edit
        for key, widget in self._tip_widgets.items():
            widget.setToolTip(TIPS[key])
        return box

    @staticmethod
    def _lr_spin(name: str) -> QDoubleSpinBox:
        spin = _spin(name, decimals=5)
        spin.setSingleStep(0.00005)
        return spin
