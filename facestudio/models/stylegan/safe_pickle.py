"""Read StyleGAN2-ADA / StyleGAN3 network pickles without running anything in them.

Those `.pkl` files are plain pickles whose networks are "persistent objects": each
carries the full source of its Python module (`module_src`), which the official loader
executes. Here a `pickle.Unpickler` subclass resolves only an allow-list of globals,
each to a function or class of ours that just builds data:

| global in the file                               | what we build instead                        |
| ------------------------------------------------ | -------------------------------------------- |
| torch_utils.persistence._reconstruct_persistent_obj | `PersistentObject` (class name, state; the source text is dropped unread) |
| torch._utils._rebuild_tensor_v2 / _rebuild_parameter | a plain tensor view, bounds-checked against its storage |
| torch.storage._load_from_bytes                   | `torch.load(..., weights_only=True)` of the bytes, which must give a storage |
| dnnlib.util.EasyDict, collections.OrderedDict    | a plain dict subclass / OrderedDict            |
| numpy scalar, dtype, ndarray reconstruction      | `np.frombuffer` of numeric (never object) dtypes |

Any other global is refused with `UnsafePickleError` naming it, before anything is
called. `module_src` is never imported, compiled or executed; nothing in this module
calls `exec`, `eval`, `compile` or `pickle.load`.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from facestudio.errors import ModelFileError


class UnsafePickleError(ModelFileError):
    """The pickle asks for a Python global outside the allow-list (it could run code)."""

    def __init__(self, global_name: str, label: str) -> None:
        self.global_name = global_name
        super().__init__(
            f"{label} was refused: it asks Python to load {global_name!r}, which could run code; "
            "FaceStudio opens only StyleGAN2-ADA / StyleGAN3 network pickles and never runs code from a file."
        )


@dataclass
class PersistentObject:
    """One network (or sub-network) of the file, as data: its class name and saved state."""

    class_name: str
    version: int
    state: dict[str, Any] = field(default_factory=dict)


class EasyDictData(dict):
    """Stands in for `dnnlib.util.EasyDict` (a dict with attribute access; we only need the dict)."""


class _NumpyDType:
    """Stands in for `numpy.dtype(...)` until its BUILD state gives the byte order."""

    _ALLOWED = {"b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"}

    def __init__(self, spec: Any, align: Any = False, copy: Any = False) -> None:
        if not isinstance(spec, str) or spec not in self._ALLOWED:
            raise ModelFileError(f"numpy dtype {spec!r} is not a plain number type")
        self.spec = spec
        self.order = "<"

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.order = "<" if state[1] in ("|", "=") else state[1]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.order + self.spec)


def _numpy_scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, _NumpyDType) or not isinstance(data, bytes) or len(data) != dtype.dtype.itemsize:
        raise ModelFileError("a numpy number in the file is malformed")
    return np.frombuffer(data, dtype.dtype)[0].item()


class _NumpyArray:
    """Stands in for `numpy.core.multiarray._reconstruct(ndarray, ...)`; BUILD fills it."""

    def __init__(self, *_args: Any) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 5):
            raise ModelFileError("a numpy array in the file is malformed")
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _NumpyDType) or not isinstance(raw, bytes) or not isinstance(shape, tuple):
            raise ModelFileError("a numpy array in the file is not a plain numeric array")
        if not all(isinstance(s, int) and s >= 0 for s in shape) or math.prod(shape) * dtype.dtype.itemsize != len(raw):
            raise ModelFileError("a numpy array in the file does not hold the data its shape claims")
        self.array = np.frombuffer(raw, dtype.dtype).reshape(shape, order="F" if fortran else "C").copy()


class _NDArrayType:
    """Stands in for the `numpy.ndarray` class argument of `_reconstruct`."""


def _reconstruct_persistent_obj(meta: Any) -> PersistentObject:
    if not isinstance(meta, dict) or meta.get("type") != "class" or not isinstance(meta.get("class_name"), str):
        raise ModelFileError("a network in the file has malformed metadata")
    state = meta.get("state")
    if not isinstance(state, dict):
        raise ModelFileError(f"network {meta['class_name']!r} in the file has no readable state")
    version = meta.get("version", 0)
    # meta["module_src"] is deliberately left unread: it is the code the official loader runs.
    return PersistentObject(meta["class_name"], version if isinstance(version, int) else 0, state)


def _load_storage(data: Any) -> Any:
    if not isinstance(data, bytes):
        raise ModelFileError("a tensor storage in the file is malformed")
    try:
        storage = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelFileError(f"a tensor storage in the file cannot be read safely ({type(exc).__name__})") from None
    if not isinstance(storage, (torch.TypedStorage, torch.UntypedStorage)):
        raise ModelFileError("a tensor storage in the file holds something other than numbers")
    return storage


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_rest: Any) -> torch.Tensor:
    """A tensor view of `storage`, refusing views that reach outside it (shape-lying files)."""
    if not isinstance(storage, torch.TypedStorage):
        raise ModelFileError("a tensor in the file does not point to a storage")
    ok = (
        isinstance(offset, int) and offset >= 0
        and isinstance(size, (tuple, torch.Size)) and isinstance(stride, tuple) and len(size) == len(stride)
        and all(isinstance(v, int) and v >= 0 for v in (*size, *stride))
    )
    if not ok:
        raise ModelFileError("a tensor in the file has a malformed shape")
    numel = storage._untyped_storage.nbytes() // storage.dtype.itemsize
    reach = offset + sum((s - 1) * st for s, st in zip(size, stride)) if math.prod(size) else offset
    if math.prod(size) and reach >= numel:
        raise ModelFileError(f"a tensor in the file claims shape {tuple(size)} but its data holds only {numel} values (forged or damaged file)")
    out = torch.empty(0, dtype=storage.dtype)
    out.set_(storage._untyped_storage, offset, tuple(size), tuple(stride))
    return out


def _rebuild_parameter(data: Any, requires_grad: Any = False, hooks: Any = None, *_rest: Any) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise ModelFileError("a parameter in the file holds no tensor")
    return data


ALLOWED_GLOBALS: dict[tuple[str, str], Callable[..., Any] | type] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("dnnlib.util", "EasyDict"): EasyDictData,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "dtype"): _NumpyDType,
    ("numpy.core.multiarray", "_reconstruct"): _NumpyArray,
    ("numpy._core.multiarray", "_reconstruct"): _NumpyArray,
    ("numpy", "ndarray"): _NDArrayType,
}


class _RestrictedUnpickler(pickle._Unpickler):  # the Python implementation: its opcodes can be overridden
    """Resolves only `ALLOWED_GLOBALS`; BUILD (set an object's state) only on our stand-ins.

    BUILD on anything else would call that object's own `__setstate__` (a tensor's can
    re-point it at another storage), so it is refused like an unknown global.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, stream: io.BytesIO, label: str) -> None:
        super().__init__(stream)
        self.label = label

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, EasyDictData) and isinstance(state, dict):
            return  # an EasyDict's attribute dict: its items came through SETITEMS already
        if not isinstance(inst, (_NumpyDType, _NumpyArray)):
            raise UnsafePickleError(f"{type(inst).__name__}.__setstate__", self.label)
        inst.__setstate__(state)

    dispatch[pickle.BUILD[0]] = load_build

    def find_class(self, module: str, name: str) -> Any:
        found = ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise UnsafePickleError(f"{module}.{name}", self.label)
        return found

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("persistent id " + repr(pid)[:60], self.label)


def _plain(value: Any) -> Any:
    """Replace the numpy stand-ins by real values, recursively (lists, tuples, dicts, states)."""
    if isinstance(value, _NumpyArray):
        if value.array is None:
            raise ModelFileError("a numpy array in the file has no data")
        return value.array
    if isinstance(value, _NumpyDType):
        return value.dtype
    if isinstance(value, PersistentObject):
        value.state = _plain(value.state)
        return value
    if isinstance(value, collections.OrderedDict):
        return collections.OrderedDict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, EasyDictData):
        return EasyDictData((k, _plain(v)) for k, v in value.items())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def safe_unpickle(data: bytes, label: str) -> Any:
    """Unpickle `data` with the allow-list; damaged input becomes a ModelFileError naming `label`."""
    try:
        return _plain(_RestrictedUnpickler(io.BytesIO(data), label).load())
    except ModelFileError as exc:
        if isinstance(exc, UnsafePickleError) or str(exc).startswith(label):
            raise
        raise ModelFileError(f"{label} cannot be opened: {exc}.") from None
    except (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, MemoryError, RecursionError, UnicodeDecodeError, RuntimeError) as exc:
        why = "it ends early (truncated download?)" if isinstance(exc, EOFError) else f"it is damaged or not a network pickle ({type(exc).__name__})"
        raise ModelFileError(f"{label} cannot be opened as a StyleGAN network pickle: {why}.") from None
