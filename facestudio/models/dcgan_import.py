"""Import of PyTorch DCGAN-tutorial checkpoints (`netG`/`netD` state dicts).

Foreign files are read with `torch.load(weights_only=True)` only: a pickle that wants
to run code is refused by PyTorch's restricted unpickler, and we never retry without it.
The architecture (nz, ngf, ndf, image size, batch norm or not) is inferred from the
tensor shapes; FaceStudio's networks keep the tutorial's module indices, so the
weights then load key-for-key and reproduce the original outputs exactly.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from pathlib import Path
from typing import Any

import torch

from facestudio.errors import ConfigError, ModelFileError
from facestudio.models.bundle import ModelBundle
from facestudio.models.config import IMAGE_SIZES, ModelConfig
from facestudio.models.model_file import read_model_file
from facestudio.models.networks import Discriminator, Generator

_G_KEYS = ("netG", "generator", "G", "netg", "state_dict_G", "modelG")
_D_KEYS = ("netD", "discriminator", "D", "netd", "state_dict_D", "modelD")


def _pickle_is_complete(data: bytes) -> bool:
    """Whether the pickles at the start of `data` run to their STOP opcodes.

    Tells a refused file from a truncated one: torch reports both as a forbidden
    global when a cut falls inside a class name. `pickletools.genops` only parses
    opcodes; it never builds an object, so it is safe on hostile bytes. A legacy
    torch.save file is four pickles (magic, protocol, system info, the object).
    """
    stream = io.BytesIO(data)
    try:
        for _ in range(4):
            for _op in pickletools.genops(stream):
                pass
            if stream.tell() >= len(data):
                break
    except Exception:  # pickletools raises ValueError and friends on a cut stream
        return False
    return True


def _read_weights_only(path: Path) -> tuple[Any, str]:
    """What a foreign checkpoint holds, and its sha256; never runs code from the file."""
    label = str(path)
    data, digest = read_model_file(path)
    if not data:
        raise ModelFileError(f"{label} is empty; it is not a PyTorch checkpoint.")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True), digest
    except pickle.UnpicklingError:
        # A zip archive was checked as a whole before unpickling began; a legacy pickle
        # that parses to the end is complete too: either way the refusal is real.
        if data[:4] == b"PK\x03\x04" or _pickle_is_complete(data):
            raise ModelFileError(
                f"{label} contains Python objects other than weights, so FaceStudio refuses to open it "
                "(it could run code). Save only the state_dict (torch.save(net.state_dict(), path)) and try again."
            ) from None
        raise ModelFileError(f"{label} is not a readable PyTorch checkpoint (it is truncated or damaged).") from None
    except Exception:  # zip, struct, EOF, index errors...: a damaged file raises anything
        raise ModelFileError(f"{label} is not a readable PyTorch checkpoint (it may be truncated or of another kind).") from None


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


def _is_generator(state: dict[str, torch.Tensor]) -> bool | None:
    """True for a tutorial G, False for a D, None when the weights chain like neither.

    ConvTranspose2d weights are (in, out, k, k) and Conv2d weights (out, in, k, k), so
    in a G each layer's dim 1 is the next layer's dim 0, in a D the other way round.
    Both can only hold when every width is equal, which no DCGAN has.
    """
    shapes = [state[f"main.{i}.weight"].shape for i in _conv_keys(state)]
    pairs = list(zip(shapes, shapes[1:]))
    if not pairs:
        return None
    g_chain = all(a[1] == b[0] for a, b in pairs)
    d_chain = all(a[0] == b[1] for a, b in pairs) and shapes[-1][0] == 1
    if g_chain != d_chain:
        return g_chain
    return None


def infer_config(
    g_state: dict[str, torch.Tensor] | None, d_state: dict[str, torch.Tensor] | None, name: str, label: str | None = None
) -> ModelConfig:
    """Architecture from tensor shapes; raises ModelFileError when it is not DCGAN-like.

    `name` becomes the model's name; `label` (the file) is what error messages cite.
    """
    label = label or name
    nz = ngf = ndf = None
    size = None
    nc = 3
    g_norm = d_norm = "batch"
    name = name[:200] or "imported"
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
            raise ModelFileError(f"{label}: the generator makes {size} px images but the discriminator expects {d_size} px; they do not belong together.")
        if g_state is not None and d_nc != nc:
            raise ModelFileError(f"{label}: the generator makes {nc}-channel images but the discriminator expects {d_nc} channels; they do not belong together.")
        size, nc = d_size, d_nc
        d_norm = "batch" if any(k.endswith("running_mean") for k in d_state) else "none"
    if size not in IMAGE_SIZES:
        raise ModelFileError(f"{label}: this network makes {size} px images; FaceStudio supports {', '.join(map(str, IMAGE_SIZES))} px DCGANs.")
    try:
        return ModelConfig(nz=int(nz or 100), ngf=int(ngf or 64), ndf=int(ndf or 64), image_size=int(size), nc=int(nc),
                           g_norm=g_norm, d_norm=d_norm, name=name, info={"imported_from": "pytorch-dcgan"})
    except ConfigError as exc:
        raise ModelFileError(f"{label}: FaceStudio cannot rebuild this network. {exc}") from None


def _load_into(net: torch.nn.Module, state: dict[str, torch.Tensor], label: str, what: str) -> None:
    want = net.state_dict()
    state = {k: v for k, v in state.items() if k in want or not k.endswith("num_batches_tracked")}
    missing = sorted(set(want) - set(state) - {k for k in want if k.endswith("num_batches_tracked")})
    extra = sorted(set(state) - set(want))
    bad = [k for k in want if k in state and tuple(state[k].shape) != tuple(want[k].shape)]
    if missing or extra or bad:
        raise ModelFileError(f"{label}: the {what} does not have the DCGAN-tutorial layout (missing {missing[:3]}, unexpected {extra[:3]}, wrong shapes {bad[:3]}).")
    for k, v in state.items():
        if want[k].is_floating_point() and not v.is_floating_point():
            raise ModelFileError(f"{label}: the {what} tensor {k} holds {v.dtype} values, not weights; the file is not a trained network.")
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise ModelFileError(f"{label}: the {what} weights contain NaN or infinite values; the network is broken (use an earlier checkpoint).")
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
        role = _is_generator(state)
        if role is None:
            raise ModelFileError(f"{label} has convolution weights, but they are laid out like neither a DCGAN-tutorial generator nor discriminator.")
        if role:
            g = state
        else:
            d = state
    for state in (g, d):
        if state is not None and not _conv_keys(state):
            raise ModelFileError(f"{label} has no DCGAN-tutorial weights (no 'main.N.weight' convolution tensors).")
    return g, d


def load_foreign_checkpoint(path: Path, discriminator_path: Path | None = None) -> ModelBundle:
    """Open a tutorial netG (and optionally netD) .pth as a `ModelBundle`."""
    path = Path(path)
    label = str(path)
    obj, digest = _read_weights_only(path)
    g_state, d_state = split_states(obj, label)
    if discriminator_path is not None:
        discriminator_path = Path(discriminator_path)
        _, d_state = split_states(_read_weights_only(discriminator_path)[0], str(discriminator_path))
        if d_state is None:
            raise ModelFileError(f"{discriminator_path} does not hold a discriminator.")
    if g_state is None:
        raise ModelFileError(f"{label} holds only a discriminator; open the matching netG file to explore faces.")
    try:
        config = infer_config(g_state, d_state, path.stem, label)
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
    return ModelBundle(config=config, generator=generator, discriminator=discriminator, source=path, sha256=digest)
