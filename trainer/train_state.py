"""What a checkpoint holds besides the networks, as safetensors tensors and JSON (no pickle).

Tensors (all under `train.`):
  train.opt_g.<param>.exp_avg / .exp_avg_sq / .step   Adam state of every generator weight
  train.opt_d.<param>.*                               same for the discriminator
  train.rng.torch_cpu, train.rng.cuda.<i>             torch RNG states (uint8)
  train.fixed_z                                       the latent batch of the sample grids
Metadata `train_state` (JSON): format version, step, epoch, data position, images seen,
training seconds, the TrainConfig, health counters, EMA update count, world size, the
data set's name and size, numpy's and Python's RNG states, and whether training looked
healthy when it was taken.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from facestudio.errors import ModelFileError

STATE_VERSION = 1
ADAM_KEYS = ("exp_avg", "exp_avg_sq", "step")


@dataclass
class Progress:
    """Where training is: counts that advance every step, and the data position."""

    step: int = 0
    epoch: int = 0
    epoch_position: int = 0  # images of this epoch's permutation already used (all processes)
    images_seen: int = 0
    seconds: float = 0.0  # training time over all sessions (pauses excluded)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "epoch_position": self.epoch_position,
                "images_seen": self.images_seen, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, d: dict[str, Any], label: str) -> "Progress":
        try:
            p = cls(int(d["step"]), int(d["epoch"]), int(d["epoch_position"]), int(d["images_seen"]), float(d["seconds"]))
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(f"{label} has a damaged training position; resume from an earlier checkpoint.") from None
        if min(p.step, p.epoch, p.epoch_position, p.images_seen) < 0 or not p.seconds >= 0:
            raise ModelFileError(f"{label} has a damaged training position; resume from an earlier checkpoint.")
        return p


# ---------------------------------------------------------------- optimisers
def optimizer_tensors(prefix: str, module: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Adam state of each named parameter as `train.<prefix>.<param>.<key>` CPU copies."""
    out = {}
    for name, param in module.named_parameters():
        state = optimizer.state.get(param, {})
        for key in ADAM_KEYS:
            if key in state:
                value = state[key]
                value = value if isinstance(value, torch.Tensor) else torch.tensor(float(value))
                out[f"train.{prefix}.{name}.{key}"] = value.detach().to("cpu", copy=True).contiguous()
    return out


def load_optimizer_tensors(prefix: str, module: torch.nn.Module, optimizer: torch.optim.Optimizer,
                           tensors: dict[str, torch.Tensor], label: str) -> None:
    """Put saved Adam state back; shapes are checked (the file is not trusted)."""
    named = dict(module.named_parameters())
    found = {k for k in tensors if k.startswith(f"train.{prefix}.")}
    if not found:
        return  # saved before the first step: Adam has no state yet
    for name, param in named.items():
        keys = {key: f"train.{prefix}.{name}.{key}" for key in ADAM_KEYS}
        if not all(k in tensors for k in keys.values()):
            raise ModelFileError(f"{label} lacks the optimiser state of {name}; it cannot be resumed exactly.")
        st = {}
        for key, k in keys.items():
            t = tensors[k]
            want = () if key == "step" else tuple(param.shape)
            if tuple(t.shape) != want or not t.is_floating_point() or not torch.isfinite(t).all():
                raise ModelFileError(f"{label} has a damaged optimiser state for {name}; resume from an earlier checkpoint.")
            st[key] = t.to(torch.float32)
        found -= set(keys.values())
        optimizer.state[param] = {
            "step": st["step"].to(param.device) if _on_device_step(optimizer) else st["step"].clone(),
            # empty_like keeps the parameter's device and memory format (channels_last).
            "exp_avg": torch.empty_like(param).copy_(st["exp_avg"]),
            "exp_avg_sq": torch.empty_like(param).copy_(st["exp_avg_sq"]),
        }
    if found:
        raise ModelFileError(f"{label} holds optimiser state for weights this network does not have; it does not fit the saved configuration.")


def _on_device_step(optimizer: torch.optim.Optimizer) -> bool:
    g = optimizer.param_groups[0]
    return bool(g.get("fused") or g.get("capturable"))


# ---------------------------------------------------------------- in-memory snapshots (rollback)
Optimizers = dict[str, tuple[torch.nn.Module, torch.optim.Optimizer]]


def capture_state(networks: dict[str, torch.nn.Module], optimizers: Optimizers, step: int, ema_updates: int) -> dict[str, Any]:
    """A CPU copy of everything a rollback restores: the networks' weights and the optimisers' state."""
    tensors = {}
    for prefix, net in networks.items():
        for k, v in net.state_dict().items():
            tensors[f"{prefix}.{k}"] = v.detach().to("cpu", copy=True)
    for prefix, (module, optimizer) in optimizers.items():
        tensors.update(optimizer_tensors(prefix, module, optimizer))
    return {"step": step, "ema_updates": ema_updates, "tensors": tensors}


def restore_state(snapshot: dict[str, Any], networks: dict[str, torch.nn.Module], optimizers: Optimizers) -> None:
    """Put a `capture_state` snapshot back (the caller restores the EMA update count)."""
    t = snapshot["tensors"]
    for prefix, net in networks.items():
        net.load_state_dict({k.split(".", 1)[1]: v for k, v in t.items() if k.startswith(prefix + ".")})
    for prefix, (module, optimizer) in optimizers.items():
        optimizer.state.clear()
        load_optimizer_tensors(prefix, module, optimizer, t, "the in-memory snapshot")


# ---------------------------------------------------------------- RNG
def rng_tensors() -> dict[str, torch.Tensor]:
    out = {"train.rng.torch_cpu": torch.get_rng_state().clone()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            out[f"train.rng.cuda.{i}"] = state.clone()
    return out


def rng_json() -> dict[str, Any]:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "numpy": {"kind": kind, "keys": [int(k) for k in keys], "pos": int(pos), "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": {"version": version, "state": list(internal), "gauss_next": gauss_next},
    }


def restore_rng(tensors: dict[str, torch.Tensor], saved: dict[str, Any], label: str) -> None:
    """Restore global RNG states (the trainer's own noise is seeded per step and needs none)."""
    try:
        cpu = tensors.get("train.rng.torch_cpu")
        if cpu is not None:
            torch.set_rng_state(cpu.to(torch.uint8))
        cuda = [tensors[f"train.rng.cuda.{i}"] for i in range(torch.cuda.device_count()) if f"train.rng.cuda.{i}" in tensors]
        if cuda and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([c.to(torch.uint8) for c in cuda])
        np_state = saved.get("numpy")
        if np_state:
            np.random.set_state((np_state["kind"], np.asarray(np_state["keys"], dtype=np.uint32), int(np_state["pos"]),
                                 int(np_state["has_gauss"]), float(np_state["gauss"])))
        py = saved.get("python")
        if py:
            random.setstate((int(py["version"]), tuple(int(v) for v in py["state"]), py["gauss_next"]))
    except (KeyError, TypeError, ValueError, RuntimeError):
        raise ModelFileError(f"{label} has damaged random-number states; resume from an earlier checkpoint.") from None


# ---------------------------------------------------------------- metadata
@dataclass
class SavedState:
    """The parsed `train_state` of a checkpoint."""

    progress: Progress
    config: dict[str, Any]
    health: dict[str, Any]
    ema_updates: int
    world_size: int
    data: dict[str, Any]
    rng: dict[str, Any] = field(default_factory=dict)
    good: bool = True


def state_json(state: SavedState) -> str:
    return json.dumps({
        "version": STATE_VERSION, **state.progress.to_dict(), "config": state.config, "health": state.health,
        "ema_updates": state.ema_updates, "world_size": state.world_size, "data": state.data,
        "rng": state.rng, "good": state.good,
    })


def parse_state(metadata: dict[str, str], label: str) -> SavedState:
    raw = metadata.get("train_state")
    if raw is None:
        raise ModelFileError(f"{label} is a model, not a training checkpoint; it has no training state to resume from.")
    try:
        d = json.loads(raw)
    except (ValueError, RecursionError):
        d = None
    if not isinstance(d, dict) or not isinstance(d.get("version"), int):
        raise ModelFileError(f"{label} has an unreadable training state; resume from an earlier checkpoint.")
    if d["version"] > STATE_VERSION:
        raise ModelFileError(f"{label} was written by a newer FaceStudio; update FaceStudio to resume it.")
    progress = Progress.from_dict(d, label)
    try:
        ema_updates, world_size = int(d.get("ema_updates", 0)), int(d.get("world_size", 1))
    except (TypeError, ValueError):
        raise ModelFileError(f"{label} has an unreadable training state; resume from an earlier checkpoint.") from None
    parts = [d.get(k, {}) for k in ("config", "health", "data", "rng")]
    if not all(isinstance(p, dict) for p in parts) or ema_updates < 0 or world_size < 1:
        raise ModelFileError(f"{label} has an unreadable training state; resume from an earlier checkpoint.")
    return SavedState(progress=progress, config=parts[0], health=parts[1], ema_updates=ema_updates,
                      world_size=world_size, data=parts[2], rng=parts[3], good=bool(d.get("good", True)))
