"""The networks a run trains and what keeps them: G, D, the EMA generator, both Adam
optimisers, and the lock that keeps readers on other threads (the app's "explore this
snapshot") from seeing EMA weights half-updated.

Saving, loading and the in-memory rollback snapshots live here too, so the loop in
trainer/trainer.py only says *when* they happen.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils import get_total_norm

from facestudio.errors import ModelFileError
from facestudio.models.bundle import ModelBundle
from facestudio.models.checkpoint import save_model
from facestudio.models.networks import Generator, build_discriminator, build_generator
from trainer.config import TrainConfig
from trainer.ema import GeneratorEMA
from trainer.train_state import capture_state, load_optimizer_tensors, restore_state

#: Measured choice (tests/bench/bench_train.py): the Adam kernel on the CPU.
FUSED_ADAM = False


class GanPair:
    """G and D (seeded from config.seed), the EMA of G and their optimisers, on `device`."""

    def __init__(self, config: TrainConfig, device: torch.device, channels_last: bool) -> None:
        self.config = config
        self.model_config = config.model_config()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.G = build_generator(self.model_config).to(device)
            self.D = build_discriminator(self.model_config).to(device)
        if channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.ema = GeneratorEMA(self.G, config.ema_decay) if config.ema_decay > 0 else None
        self.opt_g = self._adam(self.G, config.lr_g)
        self.opt_d = self._adam(self.D, config.lr_d)
        self.lock = threading.Lock()  # guards the EMA weights against readers on other threads

    def _adam(self, net: nn.Module, lr: float) -> torch.optim.Adam:
        return torch.optim.Adam(net.parameters(), lr=lr, betas=(self.config.beta1, self.config.beta2), fused=FUSED_ADAM or None)

    @property
    def viewing_generator(self) -> nn.Module:
        """The generator samples and exports show: the EMA one, else G itself."""
        return self.ema.module if self.ema is not None else self.G

    def networks(self) -> dict[str, nn.Module]:
        nets = {"generator": self.G, "discriminator": self.D}
        if self.ema is not None:
            nets["ema_generator"] = self.ema.module
        return nets

    def optimizers(self) -> dict[str, tuple[nn.Module, torch.optim.Optimizer]]:
        return {"opt_g": (self.G, self.opt_g), "opt_d": (self.D, self.opt_d)}

    def set_lr_scale(self, scale: float) -> None:
        """Learning rates at `scale` times the configured ones (each rollback lowers the scale)."""
        for group in self.opt_g.param_groups:
            group["lr"] = self.config.lr_g * scale
        for group in self.opt_d.param_groups:
            group["lr"] = self.config.lr_d * scale

    def weights_finite(self) -> bool:
        return bool(torch.isfinite(get_total_norm(list(self.G.parameters()) + list(self.D.parameters()))))

    # ------------------------------------------------------------------ rollback snapshots
    def capture(self, step: int) -> dict[str, Any]:
        """A CPU copy of everything a rollback restores (weights, EMA, Adam state)."""
        return capture_state(self.networks(), self.optimizers(), step, self.ema.updates if self.ema else 0)

    def restore(self, snapshot: dict[str, Any]) -> None:
        with self.lock:
            restore_state(snapshot, self.networks(), self.optimizers())
        if self.ema is not None:
            self.ema.updates = snapshot["ema_updates"]

    # ------------------------------------------------------------------ reading from other threads
    @torch.no_grad()
    def generate(self, z: torch.Tensor, device: torch.device) -> torch.Tensor:
        """Faces of the viewing generator in eval mode, as float32 on the CPU."""
        net = self.viewing_generator
        was_training = net.training
        net.eval()
        try:
            with self.lock:
                return net(z.to(device)).float().cpu()
        finally:
            net.train(was_training)

    def ema_state_dict(self) -> dict[str, torch.Tensor]:
        """CPU copy of the EMA (else the raw) generator's weights, consistent even mid-run."""
        with self.lock:
            return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in self.viewing_generator.state_dict().items()}

    def snapshot_bundle(self, info: dict[str, str]) -> ModelBundle:
        """The current EMA generator as an independent ModelBundle."""
        state = self.ema_state_dict()
        with torch.device("meta"):
            g = Generator(self.model_config)
        g.load_state_dict(state, assign=True)
        return ModelBundle(config=self.model_config.replace(info=info), generator=g)

    # ------------------------------------------------------------------ files
    def save(self, path: Path, info: dict[str, str] | None = None, **extra: Any) -> None:
        """G, D and EMA into one model file (`extra`: save_model's extra tensors and metadata)."""
        with self.lock, self._live_bundle(info) as bundle:
            save_model(bundle, path, **extra)

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

    def load(self, bundle: ModelBundle, tensors: dict[str, torch.Tensor], ema_updates: int, label: str) -> None:
        """Weights and optimiser state of a training checkpoint (already opened and checked by load_safetensors_model)."""
        if bundle.discriminator is None:
            raise ModelFileError(f"{label} holds no discriminator; it is a model, not a training checkpoint.")
        self.G.load_state_dict(bundle.generator.state_dict())
        self.D.load_state_dict(bundle.discriminator.state_dict())
        if self.ema is not None:
            source = bundle.ema_generator if bundle.ema_generator is not None else bundle.generator
            self.ema.module.load_state_dict(source.state_dict())
            self.ema.updates = ema_updates
        load_optimizer_tensors("opt_g", self.G, self.opt_g, tensors, label)
        load_optimizer_tensors("opt_d", self.D, self.opt_d, tensors, label)
