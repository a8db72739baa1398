"""Hostile and broken StyleGAN pickles: refused with a clear, typed error, and nothing runs."""

import collections
import os
import pickle
import subprocess
import sys
import types
import warnings

import pytest
import torch

from facestudio.errors import ModelFileError
from facestudio.models import load_model
from facestudio.models.stylegan.safe_pickle import PersistentObject, UnsafePickleError, safe_unpickle
from tests.stylegan_fixtures import fixture

warnings.filterwarnings("ignore", message="TypedStorage is deprecated")


class _Reduce:
    """Pickles as `fn(*args)`: how a hostile file asks the unpickler to call something."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


@pytest.fixture
def fake_persistence(monkeypatch):
    """A stand-in `torch_utils.persistence` so pickle can name the official reconstructor."""
    pkg = types.ModuleType("torch_utils")
    mod = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # never called: only its name is pickled
        raise AssertionError("not for calling")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    mod._reconstruct_persistent_obj = _reconstruct_persistent_obj
    pkg.persistence = mod
    monkeypatch.setitem(sys.modules, "torch_utils", pkg)
    monkeypatch.setitem(sys.modules, "torch_utils.persistence", mod)
    return mod


def _payload(marker) -> str:
    return f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')\n"


def test_os_system_reduce_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran.txt"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": _Reduce(os.system, f"touch {marker}")}))
    with pytest.raises(UnsafePickleError) as info:
        load_model(path)
    assert info.value.global_name in ("posix.system", "nt.system")
    assert "could run code" in str(info.value) and str(path) in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("fn", [eval, exec, getattr, __import__, torch.load, subprocess.call])
def test_other_globals_are_refused_by_name(tmp_path, fn):
    with pytest.raises(UnsafePickleError) as info:
        safe_unpickle(pickle.dumps(_Reduce(fn, "1")), "x.pkl")
    assert info.value.global_name.endswith(fn.__name__)


def _persistent_snapshot(fake, module_src: str, state: dict) -> bytes:
    meta = {"type": "class", "version": 6, "module_src": module_src, "class_name": "Generator", "state": state}
    return pickle.dumps({"G_ema": _Reduce(fake._reconstruct_persistent_obj, meta)}, protocol=4)


def _plain_state(obj):
    """A PersistentObject tree back to the nested dicts the official writer pickles."""
    state = dict(obj.state)
    state["_modules"] = collections.OrderedDict((k, _plain_state(v)) for k, v in state["_modules"].items())
    return state


def test_module_src_is_never_executed(tmp_path, fake_persistence):
    marker = tmp_path / "ran.txt"
    src = _payload(marker)
    # The payload does work when executed: this is the test's own control, in a child process.
    subprocess.run([sys.executable, "-c", src], check=True)
    assert marker.exists()
    marker.unlink()
    # A valid network whose embedded module source carries the payload (the official loader execs it).
    snapshot = safe_unpickle(fixture("sg3_t_32.pkl").read_bytes(), "fixture")
    g = snapshot["G_ema"]
    assert isinstance(g, PersistentObject)

    def rebuild(obj):
        state = dict(obj.state)
        state["_modules"] = collections.OrderedDict((k, rebuild(v)) for k, v in state["_modules"].items())
        meta = {"type": "class", "version": 6, "module_src": src, "class_name": obj.class_name, "state": state}
        return _Reduce(fake_persistence._reconstruct_persistent_obj, meta)

    path = tmp_path / "network.pkl"
    path.write_bytes(pickle.dumps({"G_ema": rebuild(g)}, protocol=4))
    bundle = load_model(path)
    assert bundle.family == "stylegan3" and bundle.generator.img_resolution == 32
    assert not marker.exists()


def test_storage_bytes_holding_code_are_refused(tmp_path, fake_persistence):
    marker = tmp_path / "ran.txt"
    inner = pickle.dumps(_Reduce(os.system, f"touch {marker}"))
    evil = _Reduce(torch.storage._load_from_bytes, inner)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": evil}))
    with pytest.raises(ModelFileError, match="cannot be read safely|could run code"):
        load_model(path)
    assert not marker.exists()


def test_truncated_pickle_gets_a_clear_message(tmp_path):
    data = fixture("sg2_skip_32.pkl").read_bytes()
    path = tmp_path / "cut.pkl"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated|damaged"):
        load_model(path)


@pytest.mark.parametrize("data", [b"", b"\x80\x04garbage" * 50, os.urandom(4096), b"GIF89a" + bytes(100)])
def test_garbage_gets_a_clear_message(tmp_path, data):
    path = tmp_path / "junk.pkl"
    path.write_bytes(data)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_tensor_reaching_past_its_storage_is_refused(tmp_path):
    storage = torch.storage.TypedStorage(4, dtype=torch.float32, _internal=True)
    lying = _Reduce(torch._utils._rebuild_tensor_v2, storage, 0, (1000, 1000), (1000, 1), False, collections.OrderedDict())
    with pytest.raises(ModelFileError, match="claims shape"):
        safe_unpickle(pickle.dumps({"x": lying}), "lie.pkl")


def test_weights_that_disagree_with_settings_are_refused(tmp_path, fake_persistence):
    snapshot = safe_unpickle(fixture("sg3_t_32.pkl").read_bytes(), "fixture")
    state = _plain_state(snapshot["G_ema"])
    state["_init_kwargs"] = dict(state["_init_kwargs"], z_dim=32)  # the tensors are for z_dim=64

    def wrap(st, cls="Generator"):
        mods = collections.OrderedDict()
        for k, v in st["_modules"].items():
            mods[k] = wrap(v, "Layer")
        meta = {"type": "class", "version": 6, "module_src": "", "class_name": cls, "state": dict(st, _modules=mods)}
        return _Reduce(fake_persistence._reconstruct_persistent_obj, meta)

    path = tmp_path / "lying.pkl"
    path.write_bytes(pickle.dumps({"G_ema": wrap(state)}, protocol=4))
    with pytest.raises(ModelFileError, match=r"has shape .* settings need"):
        load_model(path)


def test_absurd_settings_are_refused_before_allocating(tmp_path, fake_persistence):
    state = {"_parameters": {}, "_buffers": {}, "_modules": {},
             "_init_kwargs": {"z_dim": 512, "c_dim": 0, "w_dim": 512, "img_resolution": 1024, "img_channels": 3,
                              "synthesis_kwargs": {"channel_base": 2**24, "channel_max": 65536}}}
    # family detection needs the StyleGAN2 constant's name
    state["_parameters"] = {"synthesis.b4.const": torch.zeros(1)}
    path = tmp_path / "huge.pkl"
    path.write_bytes(_persistent_snapshot(fake_persistence, "", state))
    with pytest.raises(ModelFileError, match="million weights"):
        load_model(path)


def test_not_a_snapshot(tmp_path):
    path = tmp_path / "list.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ModelFileError, match="not a StyleGAN"):
        load_model(path)


class _ReduceWithState(_Reduce):
    def __init__(self, fn, args, state):
        super().__init__(fn, *args)
        self.state = state

    def __reduce__(self):
        return self.fn, self.args, self.state


def test_setting_a_tensors_state_is_refused():
    """BUILD would call Tensor.__setstate__, which can re-point a tensor at other memory."""
    storage = torch.storage.TypedStorage(4, dtype=torch.float32, _internal=True)
    args = (storage, 0, (4,), (1,), False, collections.OrderedDict())
    evil = _ReduceWithState(torch._utils._rebuild_tensor_v2, args, (storage, 0, (1000,), (1,)))
    with pytest.raises(UnsafePickleError, match="__setstate__"):
        safe_unpickle(pickle.dumps({"x": evil}), "state.pkl")
