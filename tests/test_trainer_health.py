"""Training health: NaN/Inf steps are skipped and rolled back, collapse is reported, a full disk is survived."""

from __future__ import annotations

import errno
import os
import types

import pytest
import torch

import facestudio.atomic_file
from facestudio.data import FaceDataSet, to_float
from facestudio.errors import TrainingError
from facestudio.models.checkpoint import load_safetensors_model
from trainer import TrainConfig, Trainer, read_metrics
from trainer.losses import GanLoss

TINY = dict(image_size=32, nz=16, ngf=8, ndf=8, batch_size=8, sample_count=16, threads=1)


@pytest.fixture
def data():
    images = torch.randint(0, 256, (48, 3, 32, 32), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    return FaceDataSet(images, None, [], "noise")


class NanLossAt(GanLoss):
    """The real loss, except NaN for D (and optionally G) while the trainer is at the given steps."""

    def __init__(self, trainer, steps, g_too=False):
        super().__init__("bce")
        object.__setattr__(self, "trainer", trainer)
        object.__setattr__(self, "steps", set(steps))
        object.__setattr__(self, "g_too", g_too)

    def _poison(self, loss):
        return loss * float("nan") if self.trainer.progress.step in self.steps else loss

    def d(self, real, fake):
        return self._poison(super().d(real, fake))

    def g(self, fake):
        return self._poison(super().g(fake)) if self.g_too else super().g(fake)


def test_nan_losses_are_skipped_then_rolled_back_with_lower_learning_rates(tmp_path, data):
    trainer = Trainer(TrainConfig(**TINY, max_steps=10, checkpoint_every=4, nan_patience=3), data, runs_dir=tmp_path)
    trainer.loss = NanLossAt(trainer, steps={4, 5, 6})  # records of steps 5, 6, 7
    states = {}
    trainer.add_callback("metrics", lambda r: states.__setitem__(r["step"], {k: v.clone() for k, v in trainer.G.state_dict().items()}))
    result = trainer.run()
    records = {r["step"]: r for r in read_metrics(result.run_dir / "metrics.jsonl")}
    assert [records[s].get("skipped") for s in (4, 5, 6, 7, 8)] == [None, ["D"], ["D"], ["D"], None]
    assert records[5]["loss_d"] is None and records[5]["loss_g"] is not None  # NaN is logged as null
    assert any("Step 5 gave a NaN or infinite discriminator loss or gradient; its update was skipped." in w for w in records[5]["warnings"])
    (rollback,) = [w for w in records[7]["warnings"] if "unstable" in w]
    assert "3 bad steps in a row" in rollback and "went back to the weights of step 4" in rollback and "0.0001 (G) and 0.0001 (D)" in rollback
    assert records[6]["lr_d"] == 2e-4 and records[8]["lr_d"] == 1e-4 and records[8]["lr_g"] == 1e-4
    for k, v in states[4].items():  # G moved on at steps 5-6 (its loss was fine), then went back to step 4
        assert torch.equal(states[7][k], v), k
    assert not torch.equal(states[6]["main.0.weight"], states[4]["main.0.weight"])
    assert result.step == 10 and "WARNING: Training became unstable at step 7" in (result.run_dir / "log.txt").read_text()
    _, _, meta = load_safetensors_model(result.checkpoint_path)
    assert '"lr_scale": 0.5' in meta["train_state"] and '"rollbacks": 1' in meta["train_state"]


def test_without_checkpoints_rollbacks_use_memory_snapshots_and_no_file_is_written_before_the_end(tmp_path, data, monkeypatch):
    import trainer.trainer

    monkeypatch.setattr(trainer.trainer, "SNAPSHOT_EVERY", 3)
    t = Trainer(TrainConfig(**TINY, max_steps=9, checkpoint_every=0, sample_every=0, nan_patience=2), data, runs_dir=tmp_path)
    t.loss = NanLossAt(t, steps={4, 5})  # records of steps 5 and 6
    written = []
    t.add_callback("checkpoint", lambda e: written.append(e["step"]))
    result = t.run()
    records = {r["step"]: r for r in read_metrics(result.run_dir / "metrics.jsonl")}
    assert "went back to the weights of step 3" in " ".join(records[6]["warnings"])
    assert written == [9]
    assert sorted(p.name for p in (result.run_dir / "checkpoints").iterdir()) == ["ckpt_0000009.safetensors", "latest_good.safetensors"]


def test_nan_weights_roll_back_at_once(data):
    trainer = Trainer(TrainConfig(**TINY, max_steps=6, checkpoint_every=2), data)
    real_step = trainer.opt_g.step

    def poisoned_step(*a, **k):
        out = real_step(*a, **k)
        if trainer.progress.step == 4:  # during step 5
            with torch.no_grad():
                trainer.G.main[0].weight[0, 0, 0, 0] = float("inf")
        return out

    trainer.opt_g.step = poisoned_step
    records = []
    trainer.add_callback("metrics", records.append)
    trainer.run()
    assert "the weights became NaN or infinite" in " ".join(records[4]["warnings"])
    assert all(torch.isfinite(p).all() for p in trainer.G.parameters())


def test_training_that_stays_unstable_stops_with_a_clear_error(tmp_path, data):
    trainer = Trainer(TrainConfig(**TINY, max_steps=30, checkpoint_every=2, nan_patience=2, max_rollbacks=1), data, runs_dir=tmp_path)
    trainer.loss = NanLossAt(trainer, steps=range(3, 30), g_too=True)
    with pytest.raises(TrainingError, match=r"diverged at step 7 .* after 1 rollbacks .*latest_good\.safetensors \(step 2\)"):
        trainer.run()
    records = read_metrics(trainer.run_dir / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(1, 7))  # the failing step 7 is not logged
    assert "went back to the weights of step 2" in " ".join(records[4]["warnings"])  # not to the failing step 4
    assert "stopped at step 7 by an error: Training diverged" in (trainer.run_dir / "log.txt").read_text()
    good = trainer.run_dir / "checkpoints" / "latest_good.safetensors"
    assert os.path.samefile(good, trainer.run_dir / "checkpoints" / "ckpt_0000002.safetensors")


def test_a_collapsed_generator_is_reported_and_not_marked_good(tmp_path, data):
    trainer = Trainer(TrainConfig(**TINY, max_steps=10, sample_every=5, checkpoint_every=5, collapse_warmup=0), data, runs_dir=tmp_path)
    varied = to_float(data.images[:16])
    trainer.ema.module.forward = lambda z: varied[: z.shape[0]]  # as varied as the data
    trainer.add_callback(  # from step 7 on, every latent gives the same face
        "metrics", lambda r: r["step"] == 7 and setattr(trainer.ema.module, "forward", lambda z: torch.zeros(z.shape[0], 3, 32, 32)))
    result = trainer.run()
    records = {r["step"]: r for r in read_metrics(result.run_dir / "metrics.jsonl")}
    assert records[5]["diversity"] > 0.5 and records[5]["warnings"] == []
    assert records[10]["diversity"] == 0.0
    (warning,) = records[10]["warnings"]
    assert "The samples look very much alike (their diversity is 0% of the training images')" in warning
    good = result.run_dir / "checkpoints" / "latest_good.safetensors"
    assert os.path.samefile(good, result.run_dir / "checkpoints" / "ckpt_0000005.safetensors")
    assert '"good": false' in load_safetensors_model(result.checkpoint_path)[2]["train_state"]


def test_a_full_disk_while_checkpointing_is_a_warning_and_training_goes_on(tmp_path, data, monkeypatch):
    disk_full = {"on": False}

    def fsync(fd):
        if disk_full["on"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.fsync(fd)

    fake_os = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    fake_os.fsync = fsync
    monkeypatch.setattr(facestudio.atomic_file, "os", fake_os)
    trainer = Trainer(TrainConfig(**TINY, max_steps=15, checkpoint_every=5, sample_every=0), data, runs_dir=tmp_path)
    trainer.add_callback("metrics", lambda r: disk_full.__setitem__("on", r["step"] == 10))
    first = trainer.run_dir / "checkpoints" / "ckpt_0000005.safetensors"
    before = {}
    trainer.add_callback("checkpoint", lambda e: e["step"] == 5 and before.setdefault("bytes", first.read_bytes()))
    result = trainer.run()
    ckpts = sorted(p.name for p in (result.run_dir / "checkpoints").iterdir())
    assert ckpts == ["ckpt_0000005.safetensors", "ckpt_0000015.safetensors", "latest_good.safetensors"]  # no temp file left
    assert first.read_bytes() == before["bytes"]
    records = {r["step"]: r for r in read_metrics(result.run_dir / "metrics.jsonl")}
    (warning,) = records[11]["warnings"]
    assert warning.startswith("Could not write the checkpoint of step 10: The disk is full")
    assert "Training goes on; the previous checkpoint, ckpt_0000005.safetensors, is intact." in warning
    assert result.step == 15 and result.model_path.is_file()
    for path in (result.run_dir / "checkpoints").glob("*.safetensors"):
        load_safetensors_model(path)
