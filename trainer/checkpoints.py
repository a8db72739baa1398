"""Checkpointing beside the loop: rollback snapshots in memory, checkpoint files with the
whole training state, the exported model, and picking a run up again from a checkpoint.

A checkpoint holds G, D, the EMA generator, both optimisers' state, the RNG states, the
sample latents, the position in the data and the health counters (trainer/train_state.py),
so a resumed run takes exactly the steps an uninterrupted one would have. The trainer
calls `write()` when a checkpoint is due; the files go through its RunWriter.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from facestudio.errors import ModelFileError, TrainingError
from facestudio.models import run_folder as rf
from trainer.health import HealthMonitor, HealthState
from trainer.train_state import Progress, SavedState, optimizer_tensors, restore_rng, rng_json, rng_tensors, state_json

if TYPE_CHECKING:
    from trainer.trainer import Trainer


class Checkpoints:
    """What a run has saved: the rollback snapshot, the newest checkpoint file and the newest healthy one."""

    def __init__(self, trainer: Trainer, resumed_from: Path | None) -> None:
        self.trainer = trainer
        self.last_step: int | None = trainer.progress.step if resumed_from is not None else None
        self.last_path: Path | None = resumed_from
        self.last_good_step: int | None = None
        self.snapshot = trainer.nets.capture(trainer.progress.step)

    def take_snapshot(self) -> None:
        """Make the current state the one a rollback returns to, unless training is failing right now."""
        t = self.trainer
        if t.health.state.bad_in_a_row == 0:
            self.snapshot = t.nets.capture(t.progress.step)

    def roll_back(self, why: str) -> None:
        """Back to the snapshot with lower learning rates; a TrainingError once the rollbacks are used up."""
        t = self.trainer
        if t.health.out_of_rollbacks:
            good = self.last_good_step
            where = f" The last good checkpoint is checkpoints/{rf.LATEST_GOOD} (step {good})." if good is not None else ""
            raise TrainingError(
                f"Training diverged at step {t.progress.step} ({why}) and stayed unstable after "
                f"{t.health.state.rollbacks} rollbacks with lower learning rates. Try lower learning rates "
                f"(--lr-g/--lr-d), the hinge loss or DiffAugment.{where}"
            )
        t.nets.restore(self.snapshot)
        t.health.rolled_back()
        t.nets.set_lr_scale(t.health.state.lr_scale)
        t.warn(
            f"Training became unstable at step {t.progress.step} ({why}); went back to the weights of step "
            f"{self.snapshot['step']} and lowered the learning rates to {t.opt_g.param_groups[0]['lr']:.3g} (G) "
            f"and {t.opt_d.param_groups[0]['lr']:.3g} (D)."
        )

    def write(self) -> Path | None:
        """Snapshot in memory (every process); rank 0 also writes checkpoints/ckpt_NNNNNNN.safetensors."""
        t = self.trainer
        p, good = t.progress, t.health.good
        self.take_snapshot()
        self.last_step = p.step
        if t.run_dir is None:
            return None
        t.files.flush_metrics()  # the log on disk reaches at least this checkpoint
        saved = SavedState(
            progress=Progress(**p.to_dict()), config=t.config.to_dict(), health=t.health.state.to_dict(),
            ema_updates=t.ema.updates if t.ema else 0, world_size=t.dist.world_size,
            data={"name": t.data.name, "images": t.n_images}, rng=rng_json(), good=good,
        )
        extra = optimizer_tensors("opt_g", t.G, t.opt_g) | optimizer_tensors("opt_d", t.D, t.opt_d)
        extra.update(rng_tensors())
        extra["train.fixed_z"] = t.fixed_z
        metadata = {"train_state": state_json(saved)}
        path, latest_good = t.files.write_checkpoint(
            p.step, lambda to: t.nets.save(to, extra_tensors=extra, extra_metadata=metadata),
            keep=t.config.keep, good=good, previous=self.last_path)
        if path is None:
            return None
        self.last_path = path
        if latest_good:
            self.last_good_step = p.step
        return path

    def export(self) -> Path | None:
        """model.safetensors: G, D and EMA with the model config (what `load_model(run_dir)` opens)."""
        t = self.trainer
        if t.run_dir is None:
            return None
        c = t.config
        info = {
            "trained_by": "facestudio train", "data": t.data.name, "images": str(t.n_images),
            "steps": str(t.progress.step), "loss": c.loss, "diffaugment": ",".join(t.augment_ops) or "off",
            "ema_decay": str(c.ema_decay), "run": t.run_dir.name,
        }
        return t.files.export(lambda to: t.nets.save(to, info=info))


def continue_from(trainer: Trainer, ckpt: Path, loaded: tuple, saved: SavedState) -> None:
    """Put `trainer` where checkpoint `ckpt` was: weights, optimisers, sample latents, RNG, position and health."""
    bundle, tensors, _ = loaded
    label = str(ckpt)
    t = trainer
    t.nets.load(bundle, tensors, saved.ema_updates, label)
    fixed = tensors.get("train.fixed_z")
    if fixed is None or tuple(fixed.shape) != (t.config.sample_count, t.config.nz) or not torch.isfinite(fixed).all():
        raise ModelFileError(f"{label} has no usable sample latents; it is damaged. Resume from an earlier checkpoint.")
    t.fixed_z = fixed.to(torch.float32).clone()
    restore_rng(tensors, saved.rng, label)
    t.progress = saved.progress
    try:
        t.health = HealthMonitor(t.config, HealthState.from_dict(saved.health))
    except (TypeError, ValueError):
        raise ModelFileError(f"{label} has a damaged health record; resume from an earlier checkpoint.") from None
    if saved.data.get("images") not in (None, t.n_images) or saved.world_size != t.dist.world_size:
        t.warn(
            f"The data set now has {t.n_images} images on {t.dist.world_size} process(es) (the checkpoint saw "
            f"{saved.data.get('images')} on {saved.world_size}); training goes on, but not in the data order of the original run."
        )
        if t.progress.epoch_position + t.global_batch > t.n_images:
            t.progress.epoch_position = t.n_images  # start the next epoch
