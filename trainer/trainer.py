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

Thread use: `run()` runs on one thread (a Qt worker, the CLI's main thread). Other threads
may call `request_stop()`, `request_pause()`, `resume()`, `ema_state_dict()` and
`snapshot_bundle()`; callbacks receive plain dicts and copied numpy arrays.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import threading
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

from facestudio.atomic_file import atomic_write_bytes, atomic_write_text
from facestudio.data import FaceDataSet, load_dataset, to_float
from facestudio.errors import ConfigError, DataSetError, DiskWriteError, FaceStudioError, ModelFileError, TrainingError
from facestudio.models.bundle import ModelBundle
from facestudio.models.checkpoint import load_safetensors_model, save_model
from facestudio.models.networks import Generator, build_discriminator, build_generator
from facestudio.models import run_folder as rd
from trainer.config import TrainConfig
from trainer.diffaugment import diff_augment
from trainer.distributed import Distributed, init_distributed, shutdown_distributed
from trainer.ema import GeneratorEMA
from trainer.health import ROLLBACK, HealthMonitor, HealthState
from trainer.losses import GanLoss
from trainer.metrics_log import MetricsLog
from trainer.run_log import RunLog
from trainer.sample_grid import make_grid, pixel_diversity, png_bytes
from trainer.train_state import (
    Progress, SavedState, load_optimizer_tensors, optimizer_tensors, parse_state, restore_rng, rng_json, rng_tensors, state_json,
)

EVENTS = ("metrics", "samples", "checkpoint", "warning", "status", "end")
#: Steps between in-memory rollback snapshots when checkpoints are off (checkpoint_every=0).
SNAPSHOT_EVERY = 500
RUN_FORMAT = "facestudio-run"
#: Measured choices (tests/bench/bench_train.py): memory layout and Adam kernel on the CPU.
CPU_CHANNELS_LAST = True
FUSED_ADAM = False


@dataclass
class TrainResult:
    """How a `run()` ended."""

    run_dir: Path | None
    step: int
    reason: str  # "max_steps", "epochs", "minutes" or "stopped"
    model_path: Path | None
    checkpoint_path: Path | None
    warnings: list[str] = field(default_factory=list)


@dataclass
class EvalContext:
    """What an eval hook gets: the EMA (viewing) generator in eval mode, on the training device.

    The hook runs on the training thread between steps; it must not modify the generator.
    """

    step: int
    generator: nn.Module
    config: TrainConfig
    device: torch.device
    run_dir: Path | None


def step_seed(seed: int, rank: int, step: int) -> int:
    """A well-mixed 63-bit seed for one process's randomness at one step."""
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for, but this PyTorch sees no CUDA GPU; use --device cpu or auto.")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def read_run_config(run: str | Path) -> TrainConfig:
    """The TrainConfig saved in a run folder's config.json."""
    path = Path(run) / rd.CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}); the run folder is damaged.") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise ConfigError(f"{path} is not a FaceStudio run configuration.")
    return TrainConfig.from_dict(data.get("config"))


def _newest_checkpoint(run: Path) -> tuple[Path, tuple[ModelBundle, dict[str, torch.Tensor], dict[str, str]], list[str]]:
    """The newest checkpoint of `run` that opens; damaged ones are skipped and named."""
    skipped = []
    for path in reversed(rd.list_checkpoints(run)):
        try:
            return path, load_safetensors_model(path), skipped
        except ModelFileError as exc:
            skipped.append(f"Skipped the damaged checkpoint {path.name}: {exc}")
    raise ConfigError(
        f"{run} holds no checkpoint to resume from (training stopped before its first checkpoint); start a new run."
    )


class Trainer:
    """Trains a DCGAN generator/discriminator pair on an in-memory uint8 data set."""

    def __init__(
        self,
        config: TrainConfig,
        data: FaceDataSet | None = None,
        *,
        runs_dir: str | Path | None = None,
        _resume: tuple[Path, Path, tuple, SavedState, list[str]] | None = None,
    ) -> None:
        """`runs_dir` given: a new numbered run folder there; None: train without writing files."""
        self.config = config
        self._callbacks: dict[str, list[Callable[[dict[str, Any]], None]]] = {e: [] for e in EVENTS}
        self._eval_hooks: list[tuple[int, str, Callable[[EvalContext], dict[str, Any] | None]]] = []
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()  # guards the EMA weights against readers on other threads
        self._pending: list[str] = []
        self.eval_note: str | None = None  # what the quality figures are, when eval_every is on
        self.warnings: list[str] = []
        self.run_log = RunLog(None)  # the real one once the run folder is known
        self._setup_processes()
        self._setup_data(data)
        self._build_models()
        self.run_dir: Path | None = None
        self._resumed_from: Path | None = None
        if _resume is not None:
            run, ckpt, loaded, saved, notes = _resume
            self._load(ckpt, loaded, saved)
            self._resumed_from, self.run_dir = ckpt, run
            for note in notes:
                self._warn(note)
        self._apply_lr()
        self._last_checkpoint_step = self.progress.step if _resume is not None else None
        self._last_checkpoint_path: Path | None = self._resumed_from
        self._last_good_step: int | None = None
        self._snapshot = self._capture()
        self._wrap_for_processes()
        self._setup_files(runs_dir)
        if config.eval_every:
            self._add_quality_hook()

    def _setup_processes(self) -> None:
        """Device, torchrun process group and thread count."""
        c = self.config
        want_cuda = c.device == "cuda" or (c.device == "auto" and torch.cuda.is_available())
        was_initialized = tdist.is_available() and tdist.is_initialized()
        self.dist: Distributed = init_distributed("cuda" if want_cuda else "cpu")
        self._owns_process_group = self.dist.enabled and not was_initialized
        self.device = pick_device(c.device, self.dist.local_rank)
        if c.threads:
            torch.set_num_threads(c.threads)
        elif self.dist.enabled and self.device.type == "cpu":  # processes on one machine share its cores
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.dist.local_world_size))
        self._amp_dtype = torch.bfloat16 if (c.amp and self.device.type == "cuda" and torch.cuda.is_bf16_supported()) else None
        self._channels_last = self.device.type == "cpu" and CPU_CHANNELS_LAST

    def _setup_data(self, data: FaceDataSet | None) -> None:
        """uint8 images in memory: nothing is decoded during training, so nothing competes for the cores."""
        c = self.config
        self.data = data if data is not None else load_dataset(c.data, c.image_size, c.data_count, seed=0, flip=c.flip)
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
        self.augment_ops = c.augment_ops(self.n_images)
        self._perm: tuple[int, torch.Tensor] | None = None

    def _build_models(self) -> None:
        """G, D (seeded), EMA, optimisers, loss, the fixed sample latents and fresh counters."""
        c = self.config
        self.model_config = c.model_config()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            self.G = build_generator(self.model_config).to(self.device)
            self.D = build_discriminator(self.model_config).to(self.device)
        if self._channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.ema = GeneratorEMA(self.G, c.ema_decay) if c.ema_decay > 0 else None
        self.opt_g = self._adam(self.G, c.lr_g)
        self.opt_d = self._adam(self.D, c.lr_d)
        self.loss = GanLoss(c.loss, c.label_smoothing)
        self.fixed_z = torch.randn(c.sample_count, c.nz, generator=torch.Generator().manual_seed(c.seed + 7_777_777))
        self.progress = Progress()
        self.health = HealthMonitor(c)
        self._noise = torch.Generator()

    def _wrap_for_processes(self) -> None:
        """DDP averages gradients; buffers (batch-norm statistics) follow rank 0 at each forward."""
        self.g_train: nn.Module = self.G
        self.d_train: nn.Module = self.D
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.g_train = DDP(self.G, device_ids=ids, forward_sync_buffers=True)
            self.d_train = DDP(self.D, device_ids=ids, forward_sync_buffers=True)

    def _add_quality_hook(self) -> None:
        """`eval_every`: Frechet distance, precision/recall and diversity into the step's record as "quality".

        The figures come from facestudio.metrics (the factor encoder, trained on the
        built-in faces; the config refuses other data). The encoder sees faces at 64 px,
        so 32 and 128 px models are resized on the way in and compare only with runs of
        their own size.
        """
        from facestudio.metrics import quality_hook

        c = self.config
        self.add_eval_hook(c.eval_every, quality_hook(n=c.eval_n), name="quality")
        resized = "" if c.image_size == 64 else (
            f" (the encoder judges faces at 64 px, so these {c.image_size} px faces are resized first: "
            f"compare the figures only with other {c.image_size} px runs)"
        )
        self.eval_note = (f"Quality figures of the EMA generator every {c.eval_every} steps from {c.eval_n} faces against "
                          f"the built-in faces{resized}; they are in metrics.jsonl under \"quality\".")
        self.run_log.write(self.eval_note)

    def _setup_files(self, runs_dir: str | Path | None) -> None:
        """The run folder, metrics log and log.txt; only rank 0 writes anything."""
        if not self.dist.is_main:
            self.run_dir = None
        elif self.run_dir is None and runs_dir is not None:
            self.run_dir = rd.create_run_dir(runs_dir, self.config.name)
        self.metrics = MetricsLog(self.run_dir / rd.METRICS_FILE if self.run_dir else None)
        if self.run_dir is not None:
            self.run_log = RunLog(self.run_dir / rd.LOG_FILE)
            for message in self.warnings:  # raised while loading, before the log was open
                self.run_log.write("WARNING: " + message)
            self._prepare_run_dir()

    # ================================================================== public API
    @classmethod
    def resume(cls, path: str | Path, dataset: FaceDataSet | None = None, **changes: Any) -> "Trainer":
        """Continue a run (its folder, or one checkpoint in it) in the same folder.

        `dataset` is loaded from the saved config when None. `changes` are TrainConfig
        settings given again (e.g. max_steps=5000, data="/faces"): session
        settings may change, the others must equal the saved ones (else ConfigError).
        """
        run, chosen = rd.resolve_resume_target(path)
        notes: list[str] = []
        if chosen is None:
            chosen, loaded, notes = _newest_checkpoint(run)
        else:
            loaded = load_safetensors_model(chosen)
        saved = parse_state(loaded[2], str(chosen))
        config = TrainConfig.from_dict(saved.config).merge_for_resume(changes)
        return cls(config, dataset, _resume=(run, chosen, loaded, saved, notes))

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
        if not isinstance(every, int) or every < 1:
            raise ValueError("every must be a positive whole number of steps")
        self._eval_hooks.append((every, name, fn))

    def request_stop(self) -> None:
        """Stop after the current step; `run()` then writes a checkpoint and the model. Any thread."""
        self._stop.set()
        self._running.set()

    def request_pause(self) -> None:
        """Pause between steps (paused time is not training time). Any thread."""
        self._running.clear()

    def resume_training(self) -> None:
        """Undo `request_pause()`. Any thread."""
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

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
        return self.ema.module if self.ema is not None else self.G

    def ema_state_dict(self) -> dict[str, torch.Tensor]:
        """CPU copy of the EMA (else the raw) generator's weights, consistent even mid-run."""
        with self._lock:
            return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in self.viewing_generator.state_dict().items()}

    def snapshot_bundle(self) -> ModelBundle:
        """The current EMA generator as an independent ModelBundle ("explore this snapshot")."""
        state = self.ema_state_dict()
        with torch.device("meta"):
            g = Generator(self.model_config)
        g.load_state_dict(state, assign=True)
        info = {"snapshot_step": str(self.progress.step), "data": self.data.name}
        return ModelBundle(config=self.model_config.replace(info=info), generator=g)

    def run(self) -> TrainResult:
        """Train until a budget is spent or a stop is requested. Call once."""
        self._begin()
        try:
            while True:
                self._wait_while_paused()
                reason = self._stop_reason()
                if reason:
                    break
                self._step()
            return self._finish(reason)
        except BaseException as exc:
            self._abort(exc)
            raise
        finally:
            if self._owns_process_group:
                shutdown_distributed()

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
            with self._lock:
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
        p.seconds = self._seconds_before + (time.monotonic() - self._session_start) - self._paused_seconds
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
            self._warn(f"Step {self.progress.step} gave a NaN or infinite {which} loss or gradient; its update was skipped.")
            if self.health.bad_step() == ROLLBACK:
                self._roll_back(f"{self.health.state.bad_in_a_row} bad steps in a row")
        elif not self._weights_finite():
            self._roll_back("the weights became NaN or infinite")
        else:
            self.health.good_step()
            for w in self.health.discriminator_scores(d_real, d_fake):
                self._warn(w)

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
            self._run_eval_hooks(record)
        self._publish(record)
        if checkpoint_due:
            self._checkpoint()
        elif snapshot_due:
            self._take_snapshot()

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

    def _weights_finite(self) -> bool:
        return bool(torch.isfinite(get_total_norm(list(self.G.parameters()) + list(self.D.parameters()))))

    def _roll_back(self, why: str) -> None:
        if self.health.out_of_rollbacks:
            where = (f" The last good checkpoint is checkpoints/{rd.LATEST_GOOD} (step {self._last_good_step})."
                     if self._last_good_step is not None else "")
            raise TrainingError(
                f"Training diverged at step {self.progress.step} ({why}) and stayed unstable after "
                f"{self.health.state.rollbacks} rollbacks with lower learning rates. Try lower learning rates "
                f"(--lr-g/--lr-d), the hinge loss or DiffAugment.{where}"
            )
        with self._lock:
            self._restore(self._snapshot)
        self.health.rolled_back()
        self._apply_lr()
        self._warn(
            f"Training became unstable at step {self.progress.step} ({why}); went back to the weights of step "
            f"{self._snapshot['step']} and lowered the learning rates to {self.opt_g.param_groups[0]['lr']:.3g} (G) "
            f"and {self.opt_d.param_groups[0]['lr']:.3g} (D)."
        )

    def _samples(self, record: dict[str, Any]) -> None:
        """Sample grid of the fixed latents, its diversity, samples/step_NNNNNNN.png."""
        images = self._generate(self.fixed_z)
        if self.health.data_diversity is None:
            pick = torch.randperm(self.n_images, generator=torch.Generator().manual_seed(self.config.seed + 99))[: self.config.sample_count]
            self.health.data_diversity = pixel_diversity(to_float(self.data.images[pick]))
        ratio, warnings = self.health.sample_diversity(pixel_diversity(images), self.progress.step)
        for w in warnings:
            self._warn(w)
        record["diversity"] = None if ratio is None else round(ratio, 4)
        grid = make_grid(images)
        path = None
        if self.run_dir is not None:
            path = rd.sample_path(self.run_dir, self.progress.step)
            try:
                atomic_write_bytes(path, png_bytes(grid))
            except DiskWriteError as exc:
                self._warn(f"Could not write the sample grid of step {self.progress.step}: {exc}")
                path = None
        self._emit("samples", {"step": self.progress.step, "path": str(path) if path else None, "grid": grid, "diversity": ratio})

    @torch.no_grad()
    def _generate(self, z: torch.Tensor) -> torch.Tensor:
        net = self.viewing_generator
        was_training = net.training
        net.eval()
        try:
            with self._lock:
                return net(z.to(self.device)).float().cpu()
        finally:
            net.train(was_training)

    def _processes_in_sync(self) -> bool:
        """Whether every process holds the same weights (they must: DDP all-reduces gradients)."""
        with torch.no_grad():
            total = torch.stack([p.detach().double().sum() for p in list(self.G.parameters()) + list(self.D.parameters())]).sum()
        pair = self.dist.all_reduce(torch.stack([total, -total]), "max")
        same = bool(pair[0] == -pair[1])
        if not same and self.is_main:
            self._warn("The training processes no longer hold the same weights; stop and resume the run from its last checkpoint.")
        return same

    def _run_eval_hooks(self, record: dict[str, Any]) -> None:
        for entry in list(self._eval_hooks):
            every, name, fn = entry
            if self.progress.step % every:
                continue
            net = self.viewing_generator
            was_training = net.training
            net.eval()
            try:
                with torch.no_grad():
                    result = fn(EvalContext(self.progress.step, net, self.config, self.device, self.run_dir))
                if result is not None:
                    record[name] = result
            except Exception as exc:  # a broken metric must not end a long training
                self._eval_hooks.remove(entry)
                self._warn(f"The {name} hook failed at step {self.progress.step} and was switched off: {exc}")
            finally:
                net.train(was_training)

    def _publish(self, record: dict[str, Any]) -> None:
        record["warnings"], self._pending = self._pending, []
        if self.is_main:
            try:
                self.metrics.append(record)
            except OSError as exc:
                self._warn_disk("metrics.jsonl", exc)
        self._emit("metrics", record)

    # ================================================================== checkpoints
    def _capture(self) -> dict[str, Any]:
        """A CPU copy of everything a rollback restores (weights, EMA, Adam state)."""
        tensors = {}
        for prefix, net in self._networks().items():
            for k, v in net.state_dict().items():
                tensors[f"{prefix}.{k}"] = v.detach().to("cpu", copy=True)
        tensors.update(optimizer_tensors("opt_g", self.G, self.opt_g))
        tensors.update(optimizer_tensors("opt_d", self.D, self.opt_d))
        return {"step": self.progress.step, "ema_updates": self.ema.updates if self.ema else 0, "tensors": tensors}

    def _take_snapshot(self) -> None:
        """Make the current state the one a rollback returns to, unless training is failing right now."""
        if self.health.state.bad_in_a_row == 0:
            self._snapshot = self._capture()

    def _restore(self, snapshot: dict[str, Any]) -> None:
        t = snapshot["tensors"]
        for prefix, net in self._networks().items():
            net.load_state_dict({k.split(".", 1)[1]: v for k, v in t.items() if k.startswith(prefix + ".")})
        self.opt_g.state.clear()
        self.opt_d.state.clear()
        load_optimizer_tensors("opt_g", self.G, self.opt_g, t, "the in-memory snapshot")
        load_optimizer_tensors("opt_d", self.D, self.opt_d, t, "the in-memory snapshot")
        if self.ema is not None:
            self.ema.updates = snapshot["ema_updates"]

    def _networks(self) -> dict[str, nn.Module]:
        nets = {"generator": self.G, "discriminator": self.D}
        if self.ema is not None:
            nets["ema_generator"] = self.ema.module
        return nets

    @contextlib.contextmanager
    def _live_bundle(self, info: dict[str, str] | None = None):
        """The training networks as a ModelBundle for saving (its constructor freezes them; undone after)."""
        try:
            yield ModelBundle(
                config=self.model_config.replace(info=info or {}), generator=self.G, discriminator=self.D,
                ema_generator=self.ema.module if self.ema is not None else None,
            )
        finally:
            self.G.train().requires_grad_(True)
            self.D.train().requires_grad_(True)

    def _checkpoint(self) -> Path | None:
        """Snapshot in memory (every process); rank 0 also writes checkpoints/ckpt_NNNNNNN.safetensors."""
        p = self.progress
        good = self.health.good
        self._take_snapshot()
        self._last_checkpoint_step = p.step
        if self.run_dir is None:
            return None
        try:
            self.metrics.flush(durable=True)  # the log on disk reaches at least this checkpoint
        except OSError as exc:
            self._warn_disk("metrics.jsonl", exc)
        saved = SavedState(
            progress=Progress(**p.to_dict()), config=self.config.to_dict(), health=self.health.state.to_dict(),
            ema_updates=self.ema.updates if self.ema else 0, world_size=self.dist.world_size,
            data={"name": self.data.name, "images": self.n_images}, rng=rng_json(), good=good,
        )
        extra = optimizer_tensors("opt_g", self.G, self.opt_g) | optimizer_tensors("opt_d", self.D, self.opt_d)
        extra.update(rng_tensors())
        extra["train.fixed_z"] = self.fixed_z
        path = rd.checkpoint_path(self.run_dir, p.step)
        try:
            with self._lock, self._live_bundle() as bundle:
                save_model(bundle, path, extra_tensors=extra, extra_metadata={"train_state": state_json(saved)})
        except (DiskWriteError, ModelFileError) as exc:
            previous = f" the previous checkpoint, {self._last_checkpoint_path.name}, is intact" if self._last_checkpoint_path else " no earlier checkpoint exists"
            self._warn(f"Could not write the checkpoint of step {p.step}: {exc} Training goes on;{previous}.")
            return None
        self._last_checkpoint_path = path
        if good:
            try:
                rd.publish_latest_good(path)
                self._last_good_step = p.step
            except (OSError, DiskWriteError) as exc:
                self._warn_disk(rd.LATEST_GOOD, exc)
        rd.rotate_checkpoints(self.run_dir, self.config.keep)
        self.run_log.write(f"checkpoint step {p.step}: {path.name}" + ("" if good else " (training looked unhealthy; latest_good not moved)"))
        self._emit("checkpoint", {"step": p.step, "path": str(path), "good": good})
        return path

    def _export(self) -> Path | None:
        """model.safetensors: G, D and EMA with the model config (what `load_model(run_dir)` opens)."""
        if self.run_dir is None:
            return None
        c = self.config
        info = {
            "trained_by": "facestudio train", "data": self.data.name, "images": str(self.n_images),
            "steps": str(self.progress.step), "loss": c.loss, "diffaugment": ",".join(self.augment_ops) or "off",
            "ema_decay": str(c.ema_decay), "run": self.run_dir.name,
        }
        path = self.run_dir / rd.MODEL_FILE
        try:
            with self._lock, self._live_bundle(info) as bundle:
                save_model(bundle, path)
        except (DiskWriteError, ModelFileError) as exc:
            self._warn(f"Could not export the model: {exc}")
            return None
        return path

    # ================================================================== lifecycle
    def _load(self, ckpt: Path, loaded: tuple, saved: SavedState) -> None:
        bundle, tensors, _ = loaded
        label = str(ckpt)
        if bundle.discriminator is None:
            raise ModelFileError(f"{label} holds no discriminator; it is a model, not a training checkpoint.")
        self.G.load_state_dict(bundle.generator.state_dict())
        self.D.load_state_dict(bundle.discriminator.state_dict())
        if self.ema is not None:
            source = bundle.ema_generator if bundle.ema_generator is not None else bundle.generator
            self.ema.module.load_state_dict(source.state_dict())
            self.ema.updates = saved.ema_updates
        load_optimizer_tensors("opt_g", self.G, self.opt_g, tensors, label)
        load_optimizer_tensors("opt_d", self.D, self.opt_d, tensors, label)
        fixed = tensors.get("train.fixed_z")
        if fixed is None or tuple(fixed.shape) != (self.config.sample_count, self.config.nz) or not torch.isfinite(fixed).all():
            raise ModelFileError(f"{label} has no usable sample latents; it is damaged. Resume from an earlier checkpoint.")
        self.fixed_z = fixed.to(torch.float32).clone()
        restore_rng(tensors, saved.rng, label)
        self.progress = saved.progress
        try:
            self.health = HealthMonitor(self.config, HealthState.from_dict(saved.health))
        except (TypeError, ValueError):
            raise ModelFileError(f"{label} has a damaged health record; resume from an earlier checkpoint.") from None
        if saved.data.get("images") not in (None, self.n_images) or saved.world_size != self.dist.world_size:
            self._warn(
                f"The data set now has {self.n_images} images on {self.dist.world_size} process(es) (the checkpoint saw "
                f"{saved.data.get('images')} on {saved.world_size}); training goes on, but not in the data order of the original run."
            )
            if self.progress.epoch_position + self.global_batch > self.n_images:
                self.progress.epoch_position = self.n_images  # start the next epoch

    def _prepare_run_dir(self) -> None:
        run = self.run_dir
        (run / rd.SAMPLES).mkdir(exist_ok=True)
        (run / rd.CHECKPOINTS).mkdir(exist_ok=True)
        if self._resumed_from is not None:
            rd.remove_stale_temporaries(run)
            moved = rd.abandon_after(run, self.progress.step)
            if moved:
                self._warn(f"Resuming from step {self.progress.step}: moved {len(moved)} newer checkpoint(s) to checkpoints/abandoned/.")
            self.metrics.truncate_after(self.progress.step)
        self._write_run_config()
        z_path = run / rd.SAMPLES / rd.FIXED_Z
        if not z_path.exists():
            buf = io.BytesIO()
            np.save(buf, self.fixed_z.numpy().astype(np.float32), allow_pickle=False)
            atomic_write_bytes(z_path, buf.getvalue())

    def _write_run_config(self) -> None:
        doc = {
            "format": RUN_FORMAT, "version": 1, "config": self.config.to_dict(),
            "data": {"name": self.data.name, "images": self.n_images, "skipped": len(self.data.skipped)},
            "diffaugment_ops": list(self.augment_ops), "world_size": self.dist.world_size,
            "device": str(self.device), "threads": torch.get_num_threads(),
        }
        atomic_write_text(self.run_dir / rd.CONFIG_FILE, json.dumps(doc, indent=2) + "\n")

    def _begin(self) -> None:
        self._rate: float | None = None
        self._seconds_before = self.progress.seconds
        self._session_start = time.monotonic()
        self._paused_seconds = 0.0
        if self.run_dir is not None:
            c = self.config
            what = f"resumed from {self._resumed_from.name} at step {self.progress.step}" if self._resumed_from else "started"
            self.run_log.write(
                f"{what}: {self.data.name} ({self.n_images} images), {c.image_size} px, batch {c.batch_size} x {self.dist.world_size}, "
                f"loss {c.loss}, DiffAugment {','.join(self.augment_ops) or 'off'}, EMA {c.ema_decay}, device {self.device}, "
                f"{torch.get_num_threads()} threads"
            )
        self._emit("status", {"state": "running", "step": self.progress.step})

    def _stop_reason(self) -> str | None:
        c, p = self.config, self.progress
        reasons = ("max_steps", "epochs", "minutes", "stopped")
        code = 0
        if self._stop.is_set():
            code = 4
        elif c.max_steps is not None and p.step >= c.max_steps:
            code = 1
        elif c.epochs is not None and self.epochs_done >= c.epochs - 1e-9:
            code = 2
        elif c.minutes is not None and time.monotonic() - self._session_start - self._paused_seconds >= c.minutes * 60:
            code = 3
        if self.dist.enabled:  # every process stops at the same step
            code = int(self.dist.all_reduce(torch.tensor([code]), "max")[0])
        return reasons[code - 1] if code else None

    def _wait_while_paused(self) -> None:
        if self._running.is_set():
            return
        t0 = time.monotonic()
        self._emit("status", {"state": "paused", "step": self.progress.step})
        while not self._running.wait(0.1) and not self._stop.is_set():
            pass
        self._paused_seconds += time.monotonic() - t0
        self._emit("status", {"state": "running", "step": self.progress.step})

    def _finish(self, reason: str) -> TrainResult:
        self._emit("status", {"state": "stopping", "step": self.progress.step})
        every = self.config.sample_every
        if self.is_main and (not every or self.progress.step % every):
            record: dict[str, Any] = {}
            self._samples(record)  # the final look, whatever the sampling interval
        checkpoint = self._last_checkpoint_path
        if self._last_checkpoint_step != self.progress.step:
            written = self._checkpoint()
            checkpoint = written or checkpoint
        model = self._export()
        if self.run_dir is not None:
            try:
                self.metrics.flush(durable=True)
            except OSError as exc:
                self._warn_disk("metrics.jsonl", exc)
            self.run_log.write(f"finished at step {self.progress.step} ({reason}); model: {model.name if model else 'not written'}")
        self.dist.barrier()
        result = TrainResult(self.run_dir, self.progress.step, reason, model, checkpoint, list(self.warnings))
        self._emit("end", {"run_dir": str(self.run_dir) if self.run_dir else None, "step": result.step, "reason": reason,
                           "model_path": str(model) if model else None, "checkpoint_path": str(checkpoint) if checkpoint else None,
                           "warnings": list(self.warnings)})
        return result

    def _abort(self, exc: BaseException) -> None:
        """Leave the logs readable when training ends with an error (the checkpoints are already safe)."""
        if self.run_dir is None:
            return
        with contextlib.suppress(OSError):
            self.metrics.flush(durable=True)
        reason = str(exc) if isinstance(exc, FaceStudioError) else f"{type(exc).__name__}: {exc}"
        self.run_log.write(f"stopped at step {self.progress.step} by an error: {reason}")

    # ================================================================== small helpers
    def _adam(self, net: nn.Module, lr: float) -> torch.optim.Adam:
        return torch.optim.Adam(net.parameters(), lr=lr, betas=(self.config.beta1, self.config.beta2), fused=FUSED_ADAM or None)

    def _apply_lr(self) -> None:
        scale = self.health.state.lr_scale
        for group in self.opt_g.param_groups:
            group["lr"] = self.config.lr_g * scale
        for group in self.opt_d.param_groups:
            group["lr"] = self.config.lr_d * scale

    def _autocast(self):
        # Mixed precision only on CUDA (bf16): on CPU it is slower and loses precision.
        return torch.autocast("cuda", dtype=self._amp_dtype) if self._amp_dtype is not None else contextlib.nullcontext()

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        self._pending.append(message)
        if self.is_main:
            self.run_log.write("WARNING: " + message)
            self._emit("warning", {"step": self.progress.step, "message": message})

    def _warn_disk(self, what: str, exc: BaseException) -> None:
        self._warn(f"Could not write {what}: {getattr(exc, 'strerror', None) or exc}. Training goes on.")

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        for fn in self._callbacks[event]:
            fn(dict(payload))
