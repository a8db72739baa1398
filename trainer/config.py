"""`TrainConfig`: every setting of a training run, as one dataclass.

The config is stored in the run folder's config.json and inside every checkpoint, so a
checkpoint alone says how it was trained and `--resume` needs no flags. Fields split in
two: settings that shape the maths (network, data, losses, optimiser, seed) and session
settings (budget, device, threads, how often files are written) that may change from one
session of a run to the next without changing what is learnt.
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
#: May differ between sessions of one run: they decide how long and where, not what.
SESSION_FIELDS = frozenset(
    {"max_steps", "minutes", "epochs", "device", "threads", "sample_every", "checkpoint_every", "keep", "eval_every", "eval_n", "amp"}
)


@dataclass
class TrainConfig:
    """How to train: data, networks, losses, optimiser, health checks and budget."""

    # data
    data: str = "synthetic"
    data_count: int | None = None  # synthetic: number of faces (default 10,000); folder: first N images
    flip: bool = False  # add mirrored copies of every image
    # networks (see ModelConfig)
    image_size: int = 64
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    g_norm: str = "batch"
    d_norm: str = "batch"
    name: str = "dcgan"
    # maths
    batch_size: int = 64  # per process; a DDP step sees batch_size * world_size images
    loss: str = "bce"  # non-saturating BCE-with-logits, or hinge
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - s (BCE only)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.999  # 0 turns the EMA generator off
    diffaugment: str = "auto"
    diffaugment_policy: str = "color,translation,cutout"
    seed: int = 0
    # health
    nan_patience: int = 3  # bad steps in a row before rolling back
    max_rollbacks: int = 5  # rollbacks before giving up with a TrainingError
    lr_backoff: float = 0.5  # learning rates are multiplied by this at each rollback
    collapse_threshold: float = 0.2  # sample diversity below this share of the data's warns
    collapse_warmup: int = 500  # steps before the diversity warning may fire
    d_win_steps: int = 200  # steps of D(x)>0.99 and D(G(z))<0.01 in a row before warning
    # session: budget, device, files
    max_steps: int | None = None
    minutes: float | None = None
    epochs: float | None = None
    device: str = "auto"
    threads: int | None = None
    amp: bool = True  # mixed precision on CUDA only (bf16); never on CPU
    sample_every: int = 500  # 0: no sample grids
    sample_count: int = 64
    checkpoint_every: int = 1000  # 0: only at the end
    keep: int = 3  # checkpoints kept besides checkpoints/latest_good.safetensors
    eval_every: int = 0  # steps between quality evaluations (0: off); synthetic data only
    eval_n: int = 1000  # faces per quality evaluation (facestudio.metrics FAST_N: a trend line)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Refuse values that cannot train, with a sentence naming the setting."""

        def whole(name: str, lo: int, hi: int | None = None, optional: bool = False) -> None:
            v = getattr(self, name)
            if optional and v is None:
                return
            if not isinstance(v, int) or isinstance(v, bool) or v < lo or (hi is not None and v > hi):
                bound = f"from {lo} to {hi}" if hi is not None else f"of at least {lo}"
                raise ConfigError(f"Training setting {name}={v!r} is not usable; it must be a whole number {bound}.")

        def number(name: str, lo: float, hi: float, optional: bool = False, lo_open: bool = False) -> None:
            v = getattr(self, name)
            if optional and v is None:
                return
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and lo <= v <= hi
            if ok and lo_open and v == lo:
                ok = False
            if not ok:
                raise ConfigError(f"Training setting {name}={v!r} is not usable; it must be a number {'above' if lo_open else 'from'} {lo} {'up to' if lo_open else 'to'} {hi}.")

        def choice(name: str, options: tuple[str, ...]) -> None:
            if getattr(self, name) not in options:
                raise ConfigError(f"Training setting {name}={getattr(self, name)!r} is unknown; use one of {', '.join(options)}.")

        if not isinstance(self.data, str) or not self.data.strip():
            raise ConfigError('The data setting must name a folder of images or "synthetic".')
        whole("data_count", 1, optional=True)
        if self.image_size not in IMAGE_SIZES:
            raise ConfigError(f"Image size {self.image_size!r} is not supported; use one of {', '.join(map(str, IMAGE_SIZES))}.")
        whole("nz", 1, 4096)
        whole("ngf", 1, 1024)
        whole("ndf", 1, 1024)
        choice("g_norm", G_NORMS)
        choice("d_norm", D_NORMS)
        if not isinstance(self.name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", self.name):
            raise ConfigError(
                f"Run name {self.name!r} is not usable; use 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit."
            )
        whole("batch_size", 2, 8192)  # batch norm needs two images to have a variance
        choice("loss", LOSSES)
        number("label_smoothing", 0.0, 0.5)
        if self.label_smoothing and self.loss != "bce":
            raise ConfigError("Label smoothing only applies to the bce loss; set it to 0 for the hinge loss.")
        number("lr_g", 0.0, 1.0, lo_open=True)
        number("lr_d", 0.0, 1.0, lo_open=True)
        number("beta1", 0.0, 0.9999)
        number("beta2", 0.0, 0.99999)
        number("ema_decay", 0.0, 0.99999)
        choice("diffaugment", DIFFAUGMENT_MODES)
        ops = [p.strip() for p in str(self.diffaugment_policy).split(",") if p.strip()]
        if not ops or any(op not in DIFFAUGMENT_OPS for op in ops):
            raise ConfigError(f"DiffAugment policy {self.diffaugment_policy!r} is not usable; list some of {', '.join(DIFFAUGMENT_OPS)} separated by commas.")
        whole("seed", 0, 2**63 - 1)
        whole("nan_patience", 1, 1000)
        whole("max_rollbacks", 0, 1000)
        number("lr_backoff", 0.0, 1.0, lo_open=True)
        number("collapse_threshold", 0.0, 1.0)
        whole("collapse_warmup", 0)
        whole("d_win_steps", 1)
        whole("max_steps", 0, optional=True)
        number("minutes", 0.0, 1e7, optional=True, lo_open=True)
        number("epochs", 0.0, 1e9, optional=True, lo_open=True)
        choice("device", DEVICES)
        whole("threads", 1, 1024, optional=True)
        if not isinstance(self.amp, bool):
            raise ConfigError("The amp setting must be true or false.")
        if not isinstance(self.flip, bool):
            raise ConfigError("The flip setting must be true or false.")
        whole("sample_every", 0)
        whole("sample_count", 2, 1024)
        whole("checkpoint_every", 0)
        whole("keep", 1, 10_000)
        whole("eval_every", 0)
        whole("eval_n", 8, 100_000)  # k-NN precision/recall needs a few more faces than neighbours
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
        """DiffAugment operations for a data set of `n_images` (empty: off)."""
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
        known = {f.name for f in dataclasses.fields(self)}
        conflicts = []
        changes = {}
        for key, value in given.items():
            if key not in known:
                raise ConfigError(f"Unknown training setting {key!r}.")
            if key in SESSION_FIELDS:
                changes[key] = value
            elif getattr(self, key) != value:
                conflicts.append(f"{key}={value!r} (the run was trained with {getattr(self, key)!r})")
        if conflicts:
            raise ConfigError(
                "Cannot resume with different training settings: " + "; ".join(conflicts)
                + ". Leave these flags out to continue as the run was trained, or start a new run."
            )
        return self.replace(**changes)
