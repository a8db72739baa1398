"""`Trainer`: the DCGAN training loop, with hooks, EMA, DiffAugment, health checks and exact resume.

    trainer = Trainer(TrainConfig(max_steps=2000), runs_dir="runs")   # or Trainer.resume("runs/00003-dcgan")
    trainer.add_callback("metrics", print)                           # plain dicts, on the training thread
    result = trainer.run()

One step is the DCGAN tutorial's: G makes one fake batch; D learns from the real batch and
the detached fakes; G learns from D's (updated) verdict on the same fakes. What it adds is
kept out of the loop's way: the EMA generator, DiffAugment, NaN/Inf guards with rollback,
metrics/sample/checkpoint files, and DistributedDataParallel when torchrun launched us.

Everything random in a step comes from a generator seeded from (seed, rank, step), and the
data order from a permutation seeded from (seed + epoch), so a run resumed from a checkpoint
takes exactly the steps an uninterrupted run would have taken.

Beside the loop: the networks and optimisers with saving, loading and rollback snapshots
(trainer/gan_pair.py), the run folder's files (trainer/run_writer.py), eval hooks
(trainer/eval_hooks.py), health counts (trainer/health.py) and checkpoint state
(trainer/train_state.py). This file says what happens in a step and when the rest is due.

Thread use: `run()` runs on one thread (a Qt worker, the CLI's main thread). Other threads
may call `request_stop()`, `request_pause()`, `resume_training()`, `ema_state_dict()` and
`snapshot_bundle()`; callbacks receive plain dicts and copied numpy arrays.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as tdist
from torch import nn
from torch.nn.utils import get_total_norm

from facestudio.data import FaceDataSet, load_dataset, to_float
from facestudio.errors import ConfigError, DataSetError
from facestudio.models import run_folder as rf
from facestudio.models.bundle import ModelBundle
from facestudio.models.checkpoint import load_safetensors_model
from trainer.config import TrainConfig
from trainer.diffaugment import diff_augment
from trainer.budget import SessionControl, StopReason, stop_reason
from trainer.checkpoints import Checkpoints, continue_from
from trainer.distributed import Distributed, init_distributed, pick_device, set_threads, shutdown_distributed, wrap_for_processes
from trainer.eval_hooks import EvalContext, EvalHooks, quality_hook
from trainer.gan_pair import GanPair
from trainer.health import ROLLBACK, HealthMonitor
from trainer.losses import GanLoss
from trainer.run_writer import RunWriter, newest_checkpoint, read_run_config
from trainer.sample_grid import make_grid, pixel_diversity
from trainer.train_state import Progress, SavedState, parse_state

__all__ = ["EvalContext", "StopReason", "TrainResult", "Trainer", "read_run_config", "step_seed"]

EVENTS = ("metrics", "samples", "checkpoint", "warning", "status", "end")
#: Steps between in-memory rollback snapshots when checkpoints are off (checkpoint_every=0).
SNAPSHOT_EVERY = 500
#: Measured choice (tests/bench/bench_train.py): memory layout on the CPU.
CPU_CHANNELS_LAST = True


@dataclass
class TrainResult:
    """How a `run()` ended."""

    run_dir: Path | None
    step: int
    reason: StopReason
    model_path: Path | None
    checkpoint_path: Path | None
    warnings: list[str] = field(default_factory=list)


def step_seed(seed: int, rank: int, step: int) -> int:
    """A well-mixed 63-bit seed for one process's randomness at one step."""
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1, np.uint64)[0] >> np.uint64(1))


class Trainer:
    """Trains a DCGAN generator/discriminator pair on an in-memory uint8 data set."""

    def __init__(
        self,
        config: TrainConfig,
        data: FaceDataSet | None = None,
        *,
        runs_dir: str | Path | None = None,
        prepare_progress: Callable[[int, int], None] | None = None,
        _resume: tuple[Path, Path, tuple, SavedState, list[str]] | None = None,
    ) -> None:
        """`runs_dir` given: a new numbered run folder there; None: train without writing files.

        `prepare_progress(done, total)` reports the data set's preparation (faces rendered or
        images decoded) while the constructor loads it.
        """
        self.config = config
        self._callbacks: dict[str, list[Callable[[dict[str, Any]], None]]] = {e: [] for e in EVENTS}
        self._eval_hooks = EvalHooks()
        self.session = SessionControl()
        self._pending: list[str] = []
        self.eval_note: str | None = None  # what the quality figures are, when eval_every is on
        self.warnings: list[str] = []
        self.files = RunWriter(None, self.warn)  # the run folder's writer once the folder is known
        self._setup_processes()
        self._setup_data(data, prepare_progress)
        self._build_models()
        self.run_dir: Path | None = None
        self._resumed_from: Path | None = None
        if _resume is not None:
            run, ckpt, loaded, saved, notes = _resume
            continue_from(self, ckpt, loaded, saved)
            self._resumed_from, self.run_dir = ckpt, run
            for note in notes:
                self.warn(note)
        self.nets.set_lr_scale(self.health.state.lr_scale)
        self.checkpoints = Checkpoints(self, self._resumed_from)
        # DDP averages gradients; buffers (batch-norm statistics) follow rank 0 at each forward.
        self.g_train, self.d_train = wrap_for_processes(self.G, self.dist, self.device), wrap_for_processes(self.D, self.dist, self.device)
        self._setup_files(runs_dir)
        if config.eval_every:
            hook, self.eval_note = quality_hook(config)
            self.add_eval_hook(config.eval_every, hook, name="quality")
            self.files.log.write(self.eval_note)

    def _setup_processes(self) -> None:
        """Device, torchrun process group and thread count."""
        c = self.config
        want_cuda = c.device == "cuda" or (c.device == "auto" and torch.cuda.is_available())
        was_initialized = tdist.is_available() and tdist.is_initialized()
        self.dist: Distributed = init_distributed("cuda" if want_cuda else "cpu")
        self._owns_process_group = self.dist.enabled and not was_initialized
        self.device = pick_device(c.device, self.dist.local_rank)
        set_threads(c.threads, self.dist, self.device)
        self._amp_dtype = torch.bfloat16 if (c.amp and self.device.type == "cuda" and torch.cuda.is_bf16_supported()) else None
        self._channels_last = self.device.type == "cpu" and CPU_CHANNELS_LAST

    def _setup_data(self, data: FaceDataSet | None, progress: Callable[[int, int], None] | None = None) -> None:
        """uint8 images in memory: nothing is decoded during training, so nothing competes for the cores."""
        c = self.config
        self.data = data if data is not None else load_dataset(c.data, c.image_size, c.data_count, seed=0, flip=c.flip,
                                                                progress=progress)
        if tuple(self.data.images.shape[1:]) != (3, c.image_size, c.image_size) or self.data.images.dtype != torch.uint8:
            raise ConfigError(
                f"The data set holds images of shape {tuple(self.data.images.shape[1:])}; training needs uint8 (3, {c.image_size}, {c.image_size})."
            )
        self.n_images = len(self.data)
        self.global_batch = c.batch_size * self.dist.world_size
        if self.n_images < self.global_batch:
            raise DataSetError(
                f"The data set has {self.n_images} images, fewer than one batch of {self.global_batch}; use a smaller --batch or more images."
            )
        self.steps_per_epoch = self.n_images // self.global_batch
        self.images = self.data.images.to(self.device) if self.device.type == "cuda" else self.data.images
        # auto counts the images as given, before mirrored copies: 3,000 photos with --flip are still a small set
        self.augment_ops = c.augment_ops(self.n_images // 2 if c.flip else self.n_images)
        self._perm: tuple[int, torch.Tensor] | None = None

    def _build_models(self) -> None:
        """G, D (seeded), EMA, optimisers, loss, the fixed sample latents and fresh counters."""
        c = self.config
        self.nets = GanPair(c, self.device, self._channels_last)
        self.loss = GanLoss(c.loss, c.label_smoothing)
        self.fixed_z = torch.randn(c.sample_count, c.nz, generator=torch.Generator().manual_seed(c.seed + 7_777_777))
        self.progress = Progress()
        self.health = HealthMonitor(c)
        self._noise = torch.Generator()

    # The networks and optimisers, by the names the loop (and tests) use.
    G = property(lambda self: self.nets.G)
    D = property(lambda self: self.nets.D)
    ema = property(lambda self: self.nets.ema)
    opt_g = property(lambda self: self.nets.opt_g)
    opt_d = property(lambda self: self.nets.opt_d)
    model_config = property(lambda self: self.nets.model_config)

    def _setup_files(self, runs_dir: str | Path | None) -> None:
        """The run folder and its writer (metrics.jsonl, log.txt, ...); only rank 0 writes anything."""
        if not self.dist.is_main:
            self.run_dir = None
        elif self.run_dir is None and runs_dir is not None:
            self.run_dir = rf.create_run_dir(runs_dir, self.config.name)
        self.files = RunWriter(self.run_dir, self.warn)
        if self.run_dir is None:
            return
        for message in self.warnings:  # raised while loading, before the log was open
            self.files.log.write("WARNING: " + message)
        doc = {
            "config": self.config.to_dict(),
            "data": {"name": self.data.name, "images": self.n_images, "skipped": len(self.data.skipped)},
            "diffaugment_ops": list(self.augment_ops), "world_size": self.dist.world_size,
            "device": str(self.device), "threads": torch.get_num_threads(),
        }
        self.files.prepare(doc, self.fixed_z, self.progress.step if self._resumed_from is not None else None)

    # ================================================================== public API
    @classmethod
    def resume(cls, path: str | Path, dataset: FaceDataSet | None = None, *,
               prepare_progress: Callable[[int, int], None] | None = None, **changes: Any) -> "Trainer":
        """Continue a run (its folder, or one checkpoint in it) in the same folder.

        `dataset` is loaded from the saved config when None. `changes` are TrainConfig
        settings given again (e.g. max_steps=5000, data="/faces"): session
        settings may change, the others must equal the saved ones (else ConfigError).
        """
        run, chosen = rf.resolve_resume_target(path)
        notes: list[str] = []
        if chosen is None:
            chosen, loaded, notes = newest_checkpoint(run)
        else:
            loaded = load_safetensors_model(chosen)
        saved = parse_state(loaded[2], str(chosen))
        config = TrainConfig.from_dict(saved.config).merge_for_resume(changes)
        return cls(config, dataset, prepare_progress=prepare_progress, _resume=(run, chosen, loaded, saved, notes))

    def add_callback(self, event: str, fn: Callable[[dict[str, Any]], None]) -> None:
        """Call `fn(payload: dict)` on the training thread at each `event`.

        metrics: one record per step (the metrics.jsonl line). samples: step, path, grid
        (uint8 HxWx3 copy), diversity. checkpoint: step, path, good. warning: step, message.
        status: state ("running", "paused", "stopping"), step. end: the TrainResult as a dict.
        """
        if event not in self._callbacks:
            raise ValueError(f"unknown event {event!r}; use one of {', '.join(EVENTS)}")
        self._callbacks[event].append(fn)

    def add_eval_hook(self, every: int, fn: Callable[[EvalContext], dict[str, Any] | None], name: str = "eval") -> None:
        """Every `every` steps call `fn(EvalContext)`; its dict goes into that step's record under `name`.

        For quality metrics (facestudio.metrics) and the like. A hook that raises is reported
        as a warning and switched off; training goes on.
        """
        self._eval_hooks.add(every, fn, name)

    def request_stop(self) -> None:
        """Stop after the current step; `run()` then writes a checkpoint and the model. Any thread."""
        self.session.request_stop()

    def request_pause(self) -> None:
        """Pause between steps (paused time is not training time). Any thread."""
        self.session.request_pause()

    def resume_training(self) -> None:
        """Undo `request_pause()`. Any thread."""
        self.session.resume()

    @property
    def paused(self) -> bool:
        return self.session.paused

    @property
    def resumed_from(self) -> Path | None:
        """The checkpoint this session resumed from (None: a new run)."""
        return self._resumed_from

    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    @property
    def planned_steps(self) -> int | None:
        """Step at which the step or epoch budget ends (None when only minutes or nothing bound it)."""
        ends = []
        if self.config.max_steps is not None:
            ends.append(self.config.max_steps)
        if self.config.epochs is not None:
            ends.append(math.ceil(self.config.epochs * self.steps_per_epoch))
        return min(ends) if ends else None

    @property
    def epochs_done(self) -> float:
        p = self.progress
        return p.epoch + p.epoch_position / (self.steps_per_epoch * self.global_batch)

    @property
    def viewing_generator(self) -> nn.Module:
        return self.nets.viewing_generator

    def ema_state_dict(self) -> dict[str, torch.Tensor]:
        """CPU copy of the EMA (else the raw) generator's weights, consistent even mid-run."""
        return self.nets.ema_state_dict()

    def snapshot_bundle(self) -> ModelBundle:
        """The current EMA generator as an independent ModelBundle ("explore this snapshot")."""
        return self.nets.snapshot_bundle({"snapshot_step": str(self.progress.step), "data": self.data.name})

    def run(self) -> TrainResult:
        """Train until a budget is spent or a stop is requested. Call once.

        The whole loop: each step trains D and G on one batch (`_step`), then does what is
        due (`_periodic`: sample grid, eval hooks, the metrics record, checkpoint). The run
        folder's files are written by `self.files` (trainer/run_writer.py).
        """
        self._begin()
        finished = False
        try:
            while True:
                self._wait_while_paused()
                reason = self._stop_reason()
                if reason is not None:
                    break
                self._step()
            result = self._finish(reason)
            finished = True
            return result
        except BaseException as exc:
            self.files.abort(self.progress.step, exc)
            raise
        finally:
            if self._owns_process_group:
                shutdown_distributed(finished)

    # ================================================================== the loop
    def _train_step(self, real: torch.Tensor) -> tuple[torch.Tensor, bool, bool]:
        """One D update and one G update; returns (stats, D updated, G updated)."""
        c = self.config
        gen = self._noise.manual_seed(step_seed(c.seed, self.dist.rank, self.progress.step))
        z = torch.randn(real.shape[0], c.nz, 1, 1, generator=gen).to(self.device)
        aug = lambda x: diff_augment(x, self.augment_ops, gen)  # noqa: E731
        with self._autocast():
            fake = self.g_train(z)
            real_logits = self.d_train(aug(real))
            fake_logits = self.d_train(aug(fake.detach()))
            loss_d = self.loss.d(real_logits.float(), fake_logits.float())
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        d_ok, gnorm_d = self._update_if_finite(self.opt_d, self.D, loss_d)

        self.D.requires_grad_(False)  # the G step needs gradients through D, not for D's weights
        with self._autocast():
            loss_g = self.loss.g(self.D(aug(fake)).float())
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.D.requires_grad_(True)
        g_ok, gnorm_g = self._update_if_finite(self.opt_g, self.G, loss_g)
        if g_ok and self.ema is not None:
            with self.nets.lock:
                self.ema.update(self.G)
        probs = torch.stack([torch.sigmoid(real_logits.detach().float()).mean(), torch.sigmoid(fake_logits.detach().float()).mean()])
        stats = torch.stack([loss_d.detach().float(), loss_g.detach().float(), probs[0], probs[1], gnorm_d.float(), gnorm_g.float()])
        return stats, d_ok, g_ok

    def _step(self) -> None:
        """Train one step, then log it and do what is due (samples, eval hooks, checkpoint)."""
        p = self.progress
        t0 = time.perf_counter()
        stats, d_ok, g_ok = self._train_step(self._next_batch())
        p.step += 1
        p.images_seen += self.global_batch
        if self.dist.enabled:
            stats = self.dist.all_reduce(stats) / self.dist.world_size
        loss_d, loss_g, d_real, d_fake, gnorm_d, gnorm_g = stats.tolist()
        self._check_health(d_ok, g_ok, d_real, d_fake)
        dt = time.perf_counter() - t0
        self._rate = self.global_batch / dt if self._rate is None else 0.9 * self._rate + 0.1 * self.global_batch / dt
        p.seconds = self._seconds_before + self.session.seconds()
        record: dict[str, Any] = {
            "step": p.step, "epoch": round(self.epochs_done, 5), "seconds": round(p.seconds, 3),
            "images_per_s": round(self._rate, 2), "steps_per_s": round(self._rate / self.global_batch, 4),
            "loss_g": loss_g, "loss_d": loss_d, "d_real": d_real, "d_fake": d_fake,
            "lr_g": self.opt_g.param_groups[0]["lr"], "lr_d": self.opt_d.param_groups[0]["lr"],
            "grad_norm_g": gnorm_g, "grad_norm_d": gnorm_d, "d_win_streak": self.health.state.d_win_streak,
        }
        if not (d_ok and g_ok):
            record["skipped"] = [n for n, ok in (("D", d_ok), ("G", g_ok)) if not ok]
        self._periodic(record)

    def _check_health(self, d_ok: bool, g_ok: bool, d_real: float, d_fake: float) -> None:
        """Skipped updates count towards a rollback; NaN weights roll back at once."""
        if not (d_ok and g_ok):
            which = " and ".join(n for n, ok in (("discriminator", d_ok), ("generator", g_ok)) if not ok)
            self.warn(f"Step {self.progress.step} gave a NaN or infinite {which} loss or gradient; its update was skipped.")
            if self.health.bad_step() == ROLLBACK:
                self.checkpoints.roll_back(f"{self.health.state.bad_in_a_row} bad steps in a row")
        elif not self.nets.weights_finite():
            self.checkpoints.roll_back("the weights became NaN or infinite")
        else:
            self.health.good_step()
            for w in self.health.discriminator_scores(d_real, d_fake):
                self.warn(w)

    def _periodic(self, record: dict[str, Any]) -> None:
        c, step = self.config, self.progress.step
        sample_due = bool(c.sample_every) and step % c.sample_every == 0
        checkpoint_due = bool(c.checkpoint_every) and step % c.checkpoint_every == 0
        snapshot_due = not c.checkpoint_every and step % SNAPSHOT_EVERY == 0  # rollback target, memory only
        if sample_due and self.is_main:
            self._samples(record)
        if self.dist.enabled and (sample_due or checkpoint_due or snapshot_due):
            record["ddp_in_sync"] = self._processes_in_sync()
        if self.is_main:
            context = EvalContext(step, self.viewing_generator, c, self.device, self.run_dir)
            self._eval_hooks.run(context, record, self.warn)
        self._publish(record)
        if checkpoint_due:
            self._checkpoint()
        elif snapshot_due:
            self.checkpoints.take_snapshot()

    # ================================================================== pieces of a step
    def _next_batch(self) -> torch.Tensor:
        """This process's slice of the next global batch of the epoch's seeded permutation."""
        p, b = self.progress, self.config.batch_size
        if p.epoch_position + self.global_batch > self.n_images:  # drop the incomplete last batch
            p.epoch, p.epoch_position = p.epoch + 1, 0
        if self._perm is None or self._perm[0] != p.epoch:
            order = torch.randperm(self.n_images, generator=torch.Generator().manual_seed(self.config.seed + p.epoch))
            self._perm = (p.epoch, order.to(self.images.device))
        start = p.epoch_position + self.dist.rank * b
        p.epoch_position += self.global_batch
        real = to_float(self.images.index_select(0, self._perm[1][start : start + b]))
        return real.contiguous(memory_format=torch.channels_last) if self._channels_last else real

    def _update_if_finite(self, opt: torch.optim.Optimizer, net: nn.Module, loss: torch.Tensor) -> tuple[bool, torch.Tensor]:
        """Step `opt` unless the loss or a gradient is NaN/Inf (decided alike on every process)."""
        grads = [p.grad for p in net.parameters() if p.grad is not None]
        norm = get_total_norm(grads) if grads else torch.zeros((), device=loss.device)
        ok = torch.isfinite(loss.detach()) & torch.isfinite(norm)
        if self.dist.enabled:  # gradients are all-reduced, losses are not: agree on the verdict
            ok = self.dist.all_reduce(ok.float().reshape(1), "min")[0] > 0
        if bool(ok):
            opt.step()
            return True, norm.detach()
        return False, norm.detach()

    def _samples(self, record: dict[str, Any]) -> None:
        """Sample grid of the fixed latents, its diversity, samples/step_NNNNNNN.png."""
        images = self.nets.generate(self.fixed_z, self.device)
        if self.health.data_diversity is None:
            pick = torch.randperm(self.n_images, generator=torch.Generator().manual_seed(self.config.seed + 99))[: self.config.sample_count]
            self.health.data_diversity = pixel_diversity(to_float(self.data.images[pick]))
        ratio, warnings = self.health.sample_diversity(pixel_diversity(images), self.progress.step)
        for w in warnings:
            self.warn(w)
        record["diversity"] = None if ratio is None else round(ratio, 4)
        grid = make_grid(images)
        path = self.files.write_samples(self.progress.step, grid)
        self._emit("samples", {"step": self.progress.step, "path": str(path) if path else None, "grid": grid, "diversity": ratio})

    def _processes_in_sync(self) -> bool:
        """Whether every process holds the same weights (they must: DDP all-reduces gradients)."""
        with torch.no_grad():
            total = torch.stack([p.detach().double().sum() for p in list(self.G.parameters()) + list(self.D.parameters())]).sum()
        pair = self.dist.all_reduce(torch.stack([total, -total]), "max")
        same = bool(pair[0] == -pair[1])
        if not same and self.is_main:
            self.warn("The training processes no longer hold the same weights; stop and resume the run from its last checkpoint.")
        return same

    def _publish(self, record: dict[str, Any]) -> None:
        record["warnings"], self._pending = self._pending, []
        if self.is_main:
            self.files.append_metrics(record)
        self._emit("metrics", record)

    # ================================================================== lifecycle
    def _checkpoint(self) -> Path | None:
        path = self.checkpoints.write()
        if path is not None:
            self._emit("checkpoint", {"step": self.progress.step, "path": str(path), "good": self.health.good})
        return path

    def _begin(self) -> None:
        self._rate: float | None = None
        self._seconds_before = self.progress.seconds
        self.session.start()
        if self.run_dir is not None:
            c = self.config
            what = f"resumed from {self._resumed_from.name} at step {self.progress.step}" if self._resumed_from else "started"
            self.files.log.write(
                f"{what}: {self.data.name} ({self.n_images} images), {c.image_size} px, batch {c.batch_size} x {self.dist.world_size}, "
                f"loss {c.loss}, DiffAugment {','.join(self.augment_ops) or 'off'}, EMA {c.ema_decay}, device {self.device}, "
                f"{torch.get_num_threads()} threads"
            )
        self._emit("status", {"state": "running", "step": self.progress.step})
        if self.progress.step == 0 and self.is_main and self.config.sample_every:
            self._samples({})  # step 0: the starting point the later grids are compared with

    def _stop_reason(self) -> StopReason | None:
        """The first budget spent (or a stop request), agreed by every process."""
        reason = stop_reason(self.config, self.progress, self.epochs_done, self.session)
        if self.dist.enabled:  # every process stops at the same step, for the most urgent reason any has
            reasons = list(StopReason)
            code = 0 if reason is None else reasons.index(reason) + 1
            code = int(self.dist.all_reduce(torch.tensor([code]), "max")[0])
            reason = reasons[code - 1] if code else None
        return reason

    def _wait_while_paused(self) -> None:
        self.session.wait_while_paused(lambda state: self._emit("status", {"state": state, "step": self.progress.step}))

    def _finish(self, reason: StopReason) -> TrainResult:
        self._emit("status", {"state": "stopping", "step": self.progress.step})
        every = self.config.sample_every
        if self.is_main and (not every or self.progress.step % every):
            record: dict[str, Any] = {}
            self._samples(record)  # the final look, whatever the sampling interval
        checkpoint = self.checkpoints.last_path
        if self.checkpoints.last_step != self.progress.step:
            checkpoint = self._checkpoint() or checkpoint
        model = self.checkpoints.export()
        self.files.finish(self.progress.step, reason, model)
        self.dist.barrier()
        result = TrainResult(self.run_dir, self.progress.step, reason, model, checkpoint, list(self.warnings))
        self._emit("end", {"run_dir": str(self.run_dir) if self.run_dir else None, "step": result.step, "reason": str(reason),
                           "model_path": str(model) if model else None, "checkpoint_path": str(checkpoint) if checkpoint else None,
                           "warnings": list(self.warnings)})
        return result

    # ================================================================== small helpers
    def _autocast(self):
        # Mixed precision only on CUDA (bf16): on CPU it is slower and loses precision.
        return torch.autocast("cuda", dtype=self._amp_dtype) if self._amp_dtype is not None else contextlib.nullcontext()

    def warn(self, message: str) -> None:
        """Report `message`: in TrainResult.warnings, the step's record, log.txt and the "warning" callbacks."""
        self.warnings.append(message)
        self._pending.append(message)
        if self.is_main:
            self.files.log.write("WARNING: " + message)
            self._emit("warning", {"step": self.progress.step, "message": message})

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        for fn in self._callbacks[event]:
            fn(dict(payload))
