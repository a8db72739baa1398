"""Import of PyTorch DCGAN-tutorial checkpoints (`netG`/`netD` state dicts).

Foreign files are read with `torch.load(weights_only=True)` only: a pickle that wants
to run code is refused by PyTorch's restricted unpickler, and we never retry without it.
The architecture (nz, ngf, ndf, image size, batch norm or not) is inferred from the
tensor shapes; FaceStudio's networks keep the tutorial's module indices, so the
weights then load key-for-key and reproduce the original outputs exactly.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import torch

from facestudio.errors import ModelFileError
from facestudio.models.bundle import ModelBundle
from facestudio.models.config import IMAGE_SIZES, ModelConfig
from facestudio.models.networks import Discriminator, Generator

_G_KEYS = ("netG", "generator", "G", "netg", "state_dict_G", "modelG")
_D_KEYS = ("netD", "discriminator", "D", "netd", "state_dict_D", "modelD")


def _read_weights_only(path: Path) -> Any:
    label = str(path)
    if not path.is_file():
        raise ModelFileError(f"{label} does not exist.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelFileError(
            f"{label} contains Python objects other than weights, so FaceStudio refuses to open it "
            "(it could run code). Save only the state_dict (torch.save(net.state_dict(), path)) and try again."
        ) from exc
    except (EOFError, RuntimeError, ValueError, OSError, KeyError, AttributeError, TypeError, IndexError, MemoryError) as exc:
        raise ModelFileError(f"{label} is not a readable PyTorch checkpoint (it may be truncated or of another kind).") from exc


def _conv_keys(state: dict[str, torch.Tensor]) -> list[int]:
    """Indices of 4-D weights in `main.N.weight`, in order."""
    idx = []
    for key, value in state.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "main" and parts[2] == "weight" and parts[1].isdigit() and value.dim() == 4:
            idx.append(int(parts[1]))
    return sorted(idx)


def _strip_prefix(state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Accept `module.main.0.weight` (DataParallel) as well as `main.0.weight`."""
    out = {}
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            continue
        out[key[len("module."):] if key.startswith("module.") else key] = value
    return out


def _is_generator(state: dict[str, torch.Tensor]) -> bool:
    """A tutorial G starts with ConvTranspose (nz, C, 4, 4) applied to a 1x1 input, ends with nc outputs."""
    convs = _conv_keys(state)
    last = state[f"main.{convs[-1]}.weight"]
    return last.shape[1] in (1, 3, 4) and last.shape[0] not in (1,)


def infer_config(g_state: dict[str, torch.Tensor] | None, d_state: dict[str, torch.Tensor] | None, name: str) -> ModelConfig:
    """Architecture from tensor shapes; raises ModelFileError when it is not DCGAN-like."""
    nz = ngf = ndf = None
    size = None
    nc = 3
    g_norm = d_norm = "batch"
    if g_state is not None:
        convs = _conv_keys(g_state)
        first, last = g_state[f"main.{convs[0]}.weight"], g_state[f"main.{convs[-1]}.weight"]
        nz, ngf, nc = first.shape[0], last.shape[0], last.shape[1]
        size = 2 ** (len(convs) + 1)
        g_norm = "batch" if f"main.{convs[0] + 1}.running_mean" in g_state else "none"
    if d_state is not None:
        convs = _conv_keys(d_state)
        first = d_state[f"main.{convs[0]}.weight"]
        ndf, d_nc = first.shape[0], first.shape[1]
        d_size = 2 ** (len(convs) + 1)
        if size is not None and d_size != size:
            raise ModelFileError(f"{name}: the generator makes {size} px images but the discriminator expects {d_size} px; they do not belong together.")
        size, nc = d_size, d_nc
        d_norm = "batch" if any(k.endswith("running_mean") for k in d_state) else "none"
    if size not in IMAGE_SIZES:
        raise ModelFileError(f"{name}: this network makes {size} px images; FaceStudio supports {', '.join(map(str, IMAGE_SIZES))} px DCGANs.")
    return ModelConfig(nz=int(nz or 100), ngf=int(ngf or 64), ndf=int(ndf or 64), image_size=int(size), nc=int(nc),
                       g_norm=g_norm, d_norm=d_norm, name=name, info={"imported_from": "pytorch-dcgan"})


def _load_into(net: torch.nn.Module, state: dict[str, torch.Tensor], label: str, what: str) -> None:
    want = net.state_dict()
    state = {k: v for k, v in state.items() if k in want or not k.endswith("num_batches_tracked")}
    missing = sorted(set(want) - set(state) - {k for k in want if k.endswith("num_batches_tracked")})
    extra = sorted(set(state) - set(want))
    bad = [k for k in want if k in state and tuple(state[k].shape) != tuple(want[k].shape)]
    if missing or extra or bad:
        raise ModelFileError(f"{label}: the {what} does not have the DCGAN-tutorial layout (missing {missing[:3]}, unexpected {extra[:3]}, wrong shapes {bad[:3]}).")
    for k, v in state.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise ModelFileError(f"{label}: the {what} weights contain NaN or infinite values.")
    net.load_state_dict({k: v.to(want[k].dtype) for k, v in state.items()}, strict=False)


def split_states(obj: Any, label: str) -> tuple[dict[str, torch.Tensor] | None, dict[str, torch.Tensor] | None]:
    """Find netG / netD state dicts in what a foreign file holds."""
    if not isinstance(obj, dict):
        raise ModelFileError(f"{label} holds a {type(obj).__name__}, not a state dict; save net.state_dict() instead.")
    g = d = None
    for key in _G_KEYS:
        if isinstance(obj.get(key), dict):
            g = _strip_prefix(obj[key])
    for key in _D_KEYS:
        if isinstance(obj.get(key), dict):
            d = _strip_prefix(obj[key])
    if g is None and d is None:
        state = _strip_prefix(obj)
        if not _conv_keys(state):
            raise ModelFileError(f"{label} has no DCGAN-tutorial weights (no 'main.N.weight' convolution tensors).")
        if _is_generator(state):
            g = state
        else:
            d = state
    for state in (g, d):
        if state is not None and not _conv_keys(state):
            raise ModelFileError(f"{label} has no DCGAN-tutorial weights (no 'main.N.weight' convolution tensors).")
    return g, d


def load_foreign_checkpoint(path: Path, discriminator_path: Path | None = None) -> ModelBundle:
    """Open a tutorial netG (and optionally netD) .pth as a `ModelBundle`."""
    label = str(path)
    g_state, d_state = split_states(_read_weights_only(path), label)
    if discriminator_path is not None:
        _, d_state = split_states(_read_weights_only(discriminator_path), str(discriminator_path))
        if d_state is None:
            raise ModelFileError(f"{discriminator_path} does not hold a discriminator.")
    if g_state is None:
        raise ModelFileError(f"{label} holds only a discriminator; open the matching netG file to explore faces.")
    try:
        config = infer_config(g_state, d_state, path.stem)
        generator = Generator(config)
        _load_into(generator, g_state, label, "generator")
        discriminator = None
        if d_state is not None:
            discriminator = Discriminator(config)
            _load_into(discriminator, d_state, str(discriminator_path or path), "discriminator")
    except ModelFileError:
        raise
    except Exception as exc:  # odd shapes that break inference
        raise ModelFileError(f"{label} does not look like a DCGAN-tutorial network ({exc}).") from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ModelBundle(config=config, generator=generator, discriminator=discriminator, source=path, sha256=digest)
