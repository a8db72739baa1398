"""A network read from a StyleGAN pickle, as plain data: class name, settings, tensors.

`NetworkRecord.from_persistent` walks the nested persistent objects the safe unpickler
produced and flattens their `_parameters` and `_buffers` into state-dict names
("synthesis.b4.conv1.weight"), which our native networks use too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from facestudio.errors import ModelFileError
from facestudio.models.stylegan.safe_pickle import EasyDictData, PersistentObject

MAX_DEPTH = 12


@dataclass
class NetworkRecord:
    class_name: str
    init_kwargs: dict[str, Any]
    tensors: dict[str, torch.Tensor]

    @classmethod
    def from_persistent(cls, obj: Any, what: str, label: str) -> "NetworkRecord":
        if not isinstance(obj, PersistentObject):
            raise ModelFileError(f"{label}: {what} is not a network (found {type(obj).__name__}); the file is not a StyleGAN network pickle.")
        tensors: dict[str, torch.Tensor] = {}
        _collect(obj, "", tensors, label, 0)
        kwargs = obj.state.get("_init_kwargs", {})
        args = obj.state.get("_init_args", ())
        if not isinstance(kwargs, dict) or args not in ((), []):
            raise ModelFileError(f"{label}: {what} has unreadable architecture settings.")
        return cls(obj.class_name, plain_json(kwargs, label), tensors)


def _collect(obj: PersistentObject, prefix: str, out: dict[str, torch.Tensor], label: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ModelFileError(f"{label}: networks are nested too deeply; the file is not a StyleGAN network pickle.")
    state = obj.state
    for group in ("_parameters", "_buffers"):
        entries = state.get(group, {})
        if not isinstance(entries, dict):
            raise ModelFileError(f"{label}: {prefix or 'the network'} has a malformed {group.strip('_')} table.")
        for name, value in entries.items():
            if value is None:
                continue
            if not isinstance(name, str) or not isinstance(value, torch.Tensor):
                raise ModelFileError(f"{label}: {prefix}{name} is not a tensor; the file is damaged.")
            out[prefix + name] = value
    modules = state.get("_modules", {})
    if not isinstance(modules, dict):
        raise ModelFileError(f"{label}: {prefix or 'the network'} has a malformed list of layers.")
    for name, sub in modules.items():
        if sub is None:
            continue
        if not isinstance(sub, PersistentObject) or not isinstance(name, str):
            raise ModelFileError(f"{label}: layer {prefix}{name} is of an unexpected kind; FaceStudio reads only the published StyleGAN networks.")
        _collect(sub, f"{prefix}{name}.", out, label, depth + 1)


def plain_json(value: Any, label: str) -> Any:
    """Settings as JSON-able values (dicts, lists, numbers, text); anything else is refused."""
    if isinstance(value, (EasyDictData, dict)):
        if not all(isinstance(k, str) for k in value):
            raise ModelFileError(f"{label}: architecture settings have non-text names.")
        return {k: plain_json(v, label) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v, label) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.tolist()
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ModelFileError(f"{label}: an architecture setting holds a {type(value).__name__}, which FaceStudio does not read.")
