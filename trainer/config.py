"""`TrainConfig`: every setting of a training run, as one dataclass, and each setting's facts.

The config is stored in the run folder's config.json and inside every checkpoint, so a
checkpoint alone says how it was trained and `--resume` needs no flags. Fields split in
two: settings that shape the maths (network, data, losses, optimiser, seed) and session
settings (budget, device, threads, how often files are written) that may change from one
session of a run to the next without changing what is learnt.

Each field carries a `Setting` in its metadata (help, command-line flag, unit, valid range
or choices): the one place a setting is described. Validation, the `facestudio train`
flags and their help (`trainer.config_flags`) and the training room's form read it, so the
default, the range and the wording cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from facestudio.errors import ConfigError
from facestudio.models.config import D_NORMS, G_NORMS, IMAGE_SIZES, ModelConfig, config_from_json

LOSSES = ("bce", "hinge")
DIFFAUGMENT_MODES = ("auto", "on", "off")
DIFFAUGMENT_OPS = ("color", "translation", "cutout")
DEVICES = ("auto", "cpu", "cuda")
#: DiffAugment "auto" switches it on below this many training images (DiffAugment paper:
#: the benefit is large for a few thousand images and fades towards 10k+).
DIFFAUGMENT_AUTO_BELOW = 5000
#: Built-in synthetic faces rendered when `data_count` is not given.
DEFAULT_SYNTHETIC_COUNT = 10_000


@dataclass(frozen=True)
class Setting:
    """What one TrainConfig field means and which values it accepts.

    kind: "int", "float", "str", "bool" or "choice". lo/hi: the valid range (hi None: no
    upper bound; lo_open: lo itself excluded). optional: None is allowed (unset).
    flag: the `facestudio train` option without dashes (None: no flag); for a bool, the
    flag sets the value opposite to the default (`--flip`, `--no-amp`). default_text:
    says what an unset (None) default means in the help. session: may change on resume.
    """

    help: str
    kind: str
    group: str = ""
    flag: str | None = None
    unit: str | None = None
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    choices: tuple[Any, ...] = ()
    optional: bool = False
    default_text: str | None = None
    session: bool = False


def _field(default: Any, help: str, kind: str, **facts: Any) -> Any:
    return dataclasses.field(default=default, metadata={"setting": Setting(help=help, kind=kind, **facts)})


@dataclass
class TrainConfig:
    """How to train: data, networks, losses, optimiser, health checks and budget."""

    # data
    data: str = _field("synthetic", 'training images: a folder (searched recursively) or "synthetic", the built-in faces',
                       "str", group="data", flag="data", unit="DIR|synthetic")
    data_count: int | None = _field(None, "synthetic: how many faces to render; folder: use the first N images", "int",
                                    group="data", flag="data-count", unit="N", lo=1, optional=True,
                                    default_text=f"{DEFAULT_SYNTHETIC_COUNT} faces; all images of a folder")
    flip: bool = _field(False, "also train on mirrored copies of every image (doubles the data)", "bool", group="data", flag="flip")
    # networks (see ModelConfig)
    image_size: int = _field(32, "image size in pixels (32 shows faces within minutes on a 2-core laptop)", "choice", group="data", flag="size", choices=IMAGE_SIZES)
    nz: int = _field(100, "latent size: how many numbers describe a face", "int", group="model", flag="nz", unit="N", lo=1, hi=4096)
    ngf: int = _field(32, "generator width", "int", group="model", flag="ngf", unit="N", lo=1, hi=1024)
    ndf: int = _field(32, "discriminator width", "int", group="model", flag="ndf", unit="N", lo=1, hi=1024)
    g_norm: str = _field("batch", "generator normalisation", "choice", group="model", choices=G_NORMS)
    d_norm: str = _field("spectral", "discriminator normalisation", "choice", group="model", flag="d-norm", choices=D_NORMS)
    name: str = _field("dcgan", "run and model name", "str", group="model", flag="name")
    # maths
    batch_size: int = _field(64, "images per step and per process (a DDP step sees batch x processes)", "int", group="training",
                             flag="batch", unit="N", lo=2, hi=8192)  # batch norm needs two images to have a variance
    loss: str = _field("hinge", "hinge (as the shipped model); bce: non-saturating BCE-with-logits as in the DCGAN tutorial", "choice", group="training",
                       flag="loss", choices=LOSSES)
    label_smoothing: float = _field(0.0, "one-sided label smoothing: real targets 1-S, bce only", "float", group="training",
                                    flag="label-smoothing", unit="S", lo=0.0, hi=0.5)
    lr_g: float = _field(2e-4, "generator Adam learning rate", "float", group="training", flag="lr-g", unit="LR", lo=0.0, hi=1.0, lo_open=True)
    lr_d: float = _field(2e-4, "discriminator Adam learning rate", "float", group="training", flag="lr-d", unit="LR", lo=0.0, hi=1.0, lo_open=True)
    beta1: float = _field(0.5, "Adam beta1", "float", group="training", flag="beta1", unit="B", lo=0.0, hi=0.9999)
    beta2: float = _field(0.999, "Adam beta2", "float", group="training", flag="beta2", unit="B", lo=0.0, hi=0.99999)
    ema_decay: float = _field(0.999, "decay of the generator's moving average used for samples and the exported model; 0 = off",
                              "float", group="training", flag="ema", unit="DECAY", lo=0.0, hi=0.99999)
    diffaugment: str = _field("auto", f"differentiable augmentation of real and fake images; auto = on below {DIFFAUGMENT_AUTO_BELOW} images (before mirrored copies)",
                              "choice", group="training", flag="diffaugment", choices=DIFFAUGMENT_MODES)
    diffaugment_policy: str = _field("color,translation,cutout", "DiffAugment operations, separated by commas", "str", group="training")
    seed: int = _field(0, "seed of weights, noise and data order: same seed, same run", "int", group="training", flag="seed", unit="N",
                       lo=0, hi=2**63 - 1)
    # health
    nan_patience: int = _field(3, "bad steps in a row before rolling back", "int", group="health", lo=1, hi=1000)
    max_rollbacks: int = _field(5, "rollbacks before giving up with a TrainingError", "int", group="health", lo=0, hi=1000)
    lr_backoff: float = _field(0.5, "learning rates are multiplied by this at each rollback", "float", group="health",
                               lo=0.0, hi=1.0, lo_open=True)
    collapse_threshold: float = _field(0.2, "sample diversity below this share of the data's warns", "float", group="health", lo=0.0, hi=1.0)
    collapse_warmup: int = _field(500, "steps before the diversity warning may fire", "int", group="health", lo=0)
    d_win_steps: int = _field(100, "steps of D(G(z)) < 0.02 in a row (the discriminator winning outright) before warning", "int",
                              group="health", lo=1)
    # session: budget, device, files
    max_steps: int | None = _field(None, "stop at step N (counted over the whole run, so a resume continues to N)", "int",
                                   group="budget", flag="max-steps", unit="N", lo=1, optional=True, session=True)
    minutes: float | None = _field(None, "stop after this many minutes of this session", "float", group="budget", flag="minutes", unit="M",
                                   lo=0.0, hi=1e7, lo_open=True, optional=True, session=True)
    epochs: float | None = _field(None, "stop after this many passes over the data (counted over the whole run)", "float",
                                  group="budget", flag="epochs", unit="E", lo=0.0, hi=1e9, lo_open=True, optional=True, session=True)
    device: str = _field("auto", "auto = a CUDA GPU when there is one, else the CPU", "choice", group="hardware", flag="device",
                         choices=DEVICES, session=True)
    threads: int | None = _field(None, "CPU threads per process", "int", group="hardware", flag="threads", unit="N", lo=1, hi=1024,
                                 optional=True, default_text="PyTorch's choice; with torchrun, cores / processes", session=True)
    amp: bool = _field(True, "no bf16 mixed precision on CUDA (it is never used on the CPU)", "bool", group="hardware",
                       flag="no-amp", session=True)
    sample_every: int = _field(250, "write a grid of faces from fixed latents every N steps; 0 = only at the end", "int",
                               group="files", flag="sample-every", unit="N", lo=0, session=True)
    sample_count: int = _field(64, "faces in each sample grid", "int", group="files", flag="sample-count", unit="N", lo=2, hi=1024)
    checkpoint_every: int = _field(1000, "write a checkpoint every N steps; 0 = only at the end", "int", group="files",
                                   flag="checkpoint-every", unit="N", lo=0, session=True)
    keep: int = _field(3, "checkpoints to keep besides latest_good", "int", group="files", flag="keep", unit="K", lo=1, hi=10_000,
                       session=True)
    eval_every: int = _field(0, "every N steps, measure the EMA generator against the built-in faces (Frechet distance, precision, "
                                "recall, diversity; see `facestudio eval`) and log it in metrics.jsonl under \"quality\"; "
                                "--data synthetic only; 0 = off", "int", group="files", flag="eval-every", unit="N", lo=0, session=True)
    eval_n: int = _field(1000, "faces per quality measurement: more is steadier but slower (`facestudio eval` quotes 5000)", "int",
                         group="files", flag="eval-n", unit="N", lo=8, hi=100_000, session=True)  # k-NN needs a few more faces than neighbours

    def __post_init__(self) -> None:
        self.validate()

    @staticmethod
    def setting(name: str) -> Setting:
        """The facts of field `name` (help, flag, range, choices)."""
        return SETTINGS[name]

    @staticmethod
    def default(name: str) -> Any:
        """The default of field `name`: what the command line, the form and a bare TrainConfig() use."""
        return DEFAULTS[name]

    def validate(self) -> None:
        """Refuse values that cannot train, with a sentence naming the setting."""
        for name in SETTINGS:
            check_setting(name, getattr(self, name))
        if not self.data.strip():
            raise ConfigError('The data setting must name a folder of images or "synthetic".')
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", self.name):
            raise ConfigError(
                f"Run name {self.name!r} is not usable; use 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit."
            )
        if self.label_smoothing and self.loss != "bce":
            raise ConfigError("Label smoothing only applies to the bce loss; set it to 0 for the hinge loss.")
        ops = [p.strip() for p in self.diffaugment_policy.split(",") if p.strip()]
        if not ops or any(op not in DIFFAUGMENT_OPS for op in ops):
            raise ConfigError(f"DiffAugment policy {self.diffaugment_policy!r} is not usable; list some of {', '.join(DIFFAUGMENT_OPS)} separated by commas.")
        if self.eval_every and self.data.strip().lower() != "synthetic":
            raise ConfigError(
                "Quality figures (--eval-every) compare the faces with the built-in synthetic faces, so they only apply "
                'to runs on --data synthetic; leave --eval-every out when training on a folder of images.'
            )
        self.model_config()  # the network must be buildable too

    # ------------------------------------------------------------------ derived
    def model_config(self, info: dict[str, str] | None = None) -> ModelConfig:
        return ModelConfig(
            nz=self.nz, ngf=self.ngf, ndf=self.ndf, image_size=self.image_size,
            g_norm=self.g_norm, d_norm=self.d_norm, name=self.name, info=dict(info or {}),
        )

    def augment_ops(self, n_images: int) -> tuple[str, ...]:
        """DiffAugment operations for a data set of `n_images`, counted before mirrored copies (empty: off)."""
        on = self.diffaugment == "on" or (self.diffaugment == "auto" and n_images < DIFFAUGMENT_AUTO_BELOW)
        return tuple(p.strip() for p in self.diffaugment_policy.split(",") if p.strip()) if on else ()

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "TrainConfig":
        """Build from untrusted JSON (config.json, checkpoint metadata); unknown keys are an error."""
        return config_from_json(cls, data, "training configuration", "the run folder is damaged")

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def merge_for_resume(self, given: dict[str, Any]) -> "TrainConfig":
        """This (saved) config with `given` settings from a resume command applied.

        Session settings may change; a setting that shapes the maths may be repeated with
        the same value but not changed, since the checkpoint was trained with the saved one.
        """
        conflicts = []
        changes = {}
        for key, value in given.items():
            if key not in SETTINGS:
                raise ConfigError(f"Unknown training setting {key!r}.")
            if SETTINGS[key].session:
                changes[key] = value
            elif getattr(self, key) != value:
                conflicts.append(f"{key}={value!r} (the run was trained with {getattr(self, key)!r})")
        if conflicts:
            raise ConfigError(
                "Cannot resume with different training settings: " + "; ".join(conflicts)
                + ". Leave these flags out to continue as the run was trained, or start a new run."
            )
        return self.replace(**changes)


SETTINGS: dict[str, Setting] = {f.name: f.metadata["setting"] for f in dataclasses.fields(TrainConfig)}
DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
#: May differ between sessions of one run: they decide how long and where, not what.
SESSION_FIELDS = frozenset(name for name, spec in SETTINGS.items() if spec.session)


def describe_range(spec: Setting) -> str:
    """The values `spec` accepts, in words ("a whole number from 2 to 8192")."""
    if spec.kind == "choice":
        return "one of " + ", ".join(map(str, spec.choices))
    if spec.kind == "bool":
        return "true or false"
    if spec.kind == "str":
        return "text"
    noun = "a whole number" if spec.kind == "int" else "a number"
    lo = spec.lo if spec.kind == "float" else int(spec.lo)
    if spec.hi is None:
        return f"{noun} {'above' if spec.lo_open else 'of at least'} {lo}"
    hi = spec.hi if spec.kind == "float" else int(spec.hi)
    return f"{noun} {'above' if spec.lo_open else 'from'} {lo} {'up to' if spec.lo_open else 'to'} {hi}"


def check_setting(name: str, value: Any) -> None:
    """Raise ConfigError with a sentence when `value` is not valid for field `name` on its own."""
    spec = SETTINGS[name]
    if value is None and spec.optional:
        return
    flag = f" (--{spec.flag})" if spec.flag and spec.kind != "bool" else ""
    if spec.kind == "choice":
        if value not in spec.choices:
            if name == "image_size":
                raise ConfigError(f"Image size {value!r}{flag} is not supported; use {describe_range(spec)}.")
            raise ConfigError(f"Training setting {name}={value!r}{flag} is unknown; use {describe_range(spec)}.")
        return
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"The {name} setting must be true or false.")
        return
    if spec.kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"Training setting {name}={value!r} must be text.")
        return
    if spec.kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > spec.lo if spec.lo_open else value >= spec.lo) and (spec.hi is None or value <= spec.hi)
    if not ok:
        raise ConfigError(f"Training setting {name}={value!r}{flag} is not usable; it must be {describe_range(spec)}.")
