"""FaceStudio model files: round trips, atomic writes, and hostile or broken files.

Every hostile file must raise a FaceStudioError (normally ModelFileError) whose message
names the file, and must be refused from the header alone, before safetensors or torch
allocate what the header claims.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import struct
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save as st_save

import facestudio.models.checkpoint as checkpoint
from facestudio.errors import DiskWriteError, FaceStudioError, ModelFileError
from facestudio.models import DirectionSet, ModelBundle, ModelConfig, load_model, new_bundle, save_model
from facestudio.models.checkpoint import bundle_metadata, bundle_tensors, load_safetensors_model


# ---------------------------------------------------------------- helpers
def _full_bundle(config: ModelConfig, seed: int = 0) -> ModelBundle:
    """G + D + EMA + two direction sets, with batch-norm statistics that are not the defaults."""
    torch.manual_seed(seed)
    base = new_bundle(config, seed=seed)
    ema = new_bundle(config, seed=seed + 1, with_discriminator=False).generator
    for net in (base.generator, base.discriminator, ema):
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(seed + 5)
    rng = np.random.default_rng(seed)
    directions = {
        "sefa": DirectionSet("sefa", ["d0", "d1", "d2"], rng.standard_normal((3, config.nz))),
        "attribute": DirectionSet("attribute", ["smile"], rng.standard_normal((1, config.nz))),
    }
    return ModelBundle(config=config, generator=base.generator, discriminator=base.discriminator, ema_generator=ema, directions=directions)


def _split(data: bytes) -> tuple[dict, bytes]:
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def _raw_file(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    return st_save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)


def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


@pytest.fixture
def valid_bytes(tiny_config, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("valid") / "m.safetensors"
    save_model(_full_bundle(tiny_config), path)
    return path.read_bytes()


def _refuses(path: Path, *words: str) -> ModelFileError:
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert path.name in message, message
    for word in words:
        assert word in message, message
    return info.value


# ---------------------------------------------------------------- round trips
def test_full_round_trip_keeps_every_network_and_output(tiny_config, tmp_path):
    bundle = _full_bundle(tiny_config)
    path = tmp_path / "full.safetensors"
    digest = save_model(bundle, path)
    loaded = load_model(path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest() == loaded.sha256
    assert loaded.config == tiny_config and loaded.source == path
    for name in ("generator", "discriminator", "ema_generator"):
        _same_state(getattr(bundle, name), getattr(loaded, name))
        assert not getattr(loaded, name).training
    z = torch.randn(4, tiny_config.nz)
    images = torch.rand(4, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(loaded.generator(z), bundle.generator(z))
        assert torch.equal(loaded.ema_generator(z), bundle.ema_generator(z))
        assert torch.equal(loaded.discriminator(images), bundle.discriminator(images))
        assert torch.equal(loaded.sample(z), bundle.ema_generator(z))  # the viewing generator is the EMA
    assert loaded.directions.keys() == bundle.directions.keys()
    for kind, dset in bundle.directions.items():
        assert loaded.directions[kind].kind == kind
        assert loaded.directions[kind].names == dset.names
        np.testing.assert_array_equal(loaded.directions[kind].vectors, dset.vectors)


def test_generator_only_file_holds_the_viewing_weights(tiny_config, tmp_path):
    bundle = _full_bundle(tiny_config)
    full, small = tmp_path / "full.safetensors", tmp_path / "small.safetensors"
    save_model(bundle, full)
    save_model(bundle, small, include_training=False)
    assert small.stat().st_size < full.stat().st_size / 2
    loaded = load_model(small)
    assert loaded.discriminator is None and loaded.ema_generator is None
    _same_state(loaded.generator, bundle.ema_generator)  # the EMA weights, under the generator's name
    assert loaded.directions.keys() == bundle.directions.keys()
    z = torch.randn(2, tiny_config.nz)
    with torch.no_grad():
        assert torch.equal(loaded.sample(z), bundle.sample(z))


def test_generator_only_bundle_round_trips(tiny_config, tmp_path):
    bundle = new_bundle(tiny_config, seed=3, with_discriminator=False)
    path = tmp_path / "g.safetensors"
    save_model(bundle, path)
    loaded = load_model(path)
    assert loaded.discriminator is None and loaded.ema_generator is None and loaded.directions == {}
    z = torch.randn(3, tiny_config.nz)
    with torch.no_grad():
        assert torch.equal(loaded.generator(z), bundle.generator(z))


@pytest.mark.parametrize("d_norm, g_norm", [("spectral", "batch"), ("none", "none")])
def test_round_trip_of_other_norms(tiny_config, tmp_path, d_norm, g_norm):
    config = tiny_config.replace(d_norm=d_norm, g_norm=g_norm)
    bundle = _full_bundle(config)
    path = tmp_path / "m.safetensors"
    save_model(bundle, path)
    loaded = load_model(path)
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.discriminator(images), bundle.discriminator(images))
        assert torch.equal(loaded.generator(torch.ones(1, 16)), bundle.generator(torch.ones(1, 16)))


def test_trainer_state_travels_beside_the_model(tiny_config, tmp_path):
    bundle = _full_bundle(tiny_config)
    path = tmp_path / "ckpt.safetensors"
    extra = {"train.step": torch.tensor([42]), "train.g_opt.exp_avg.0": torch.randn(5, 3)}
    save_model(bundle, path, extra_tensors=extra, extra_metadata={"train_config": '{"lr": 0.0002}'})
    loaded, others, metadata = load_safetensors_model(path)
    assert others.keys() == extra.keys()
    for k in extra:
        assert torch.equal(others[k], extra[k])
    assert metadata["train_config"] == '{"lr": 0.0002}'
    assert load_model(path).config == tiny_config  # any checkpoint opens as a model


def test_the_same_model_is_always_the_same_file(tiny_config, tmp_path):
    """safetensors writes metadata in hash-map order; the saved bytes (and sha256) must not vary."""
    bundle = _full_bundle(tiny_config)
    digests = {save_model(bundle, tmp_path / f"m{i}.safetensors") for i in range(8)}
    assert len(digests) == 1
    assert len({(tmp_path / f"m{i}.safetensors").read_bytes() for i in range(8)}) == 1
    data = (tmp_path / "m0.safetensors").read_bytes()
    assert (8 + struct.unpack("<Q", data[:8])[0]) % 8 == 0  # data section stays aligned
    resaved = tmp_path / "again.safetensors"
    assert save_model(load_model(tmp_path / "m0.safetensors"), resaved) == digests.pop()


def test_safetensors_saved_under_a_pth_name_still_opens(tiny_config, tmp_path):
    bundle = new_bundle(tiny_config, seed=1)
    path = tmp_path / "model.pth"
    save_model(bundle, path)
    _same_state(load_model(path).generator, bundle.generator)


def test_run_folder_opens_its_export_else_its_best_checkpoint(tiny_config, tmp_path):
    run = tmp_path / "run-001"
    (run / "checkpoints").mkdir(parents=True)
    for step in (9, 10, 2):  # step_10 is newest though it sorts first as text
        save_model(new_bundle(tiny_config.replace(name=f"step {step}"), seed=step), run / "checkpoints" / f"step_{step}.safetensors")
    assert load_model(run).name == "step 10"
    save_model(new_bundle(tiny_config.replace(name="good")), run / "checkpoints" / "latest_good.safetensors")
    assert load_model(run).name == "good"  # the trainer's last healthy checkpoint beats the newest
    save_model(new_bundle(tiny_config.replace(name="export")), run / "model.safetensors")
    assert load_model(run).name == "export"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelFileError, match="no model.safetensors and no checkpoints"):
        load_model(empty)


def test_missing_default_model_is_a_sentence(monkeypatch, tmp_path):
    monkeypatch.setattr(checkpoint, "default_model_path", lambda: tmp_path / "nothing.safetensors")
    with pytest.raises(ModelFileError, match="default model is missing"):
        load_model(None)


# ---------------------------------------------------------------- atomic writes
def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_save_leaves_no_temporary_files(tiny_config, tmp_path):
    for seed in range(3):
        save_model(new_bundle(tiny_config, seed=seed), tmp_path / "m.safetensors")
    assert _only(tmp_path) == ["m.safetensors"]


def test_failed_rename_keeps_the_previous_file(tiny_config, tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_model(new_bundle(tiny_config, seed=1), path)
    before = path.read_bytes()

    def no_rename(src, dst):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(DiskWriteError) as info:
        save_model(new_bundle(tiny_config, seed=2), path)
    monkeypatch.undo()
    assert "No permission to write" in str(info.value) and str(path) in str(info.value)
    assert path.read_bytes() == before
    assert _only(tmp_path) == ["m.safetensors"]
    load_model(path)


def test_full_disk_keeps_the_previous_file(tiny_config, tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_model(new_bundle(tiny_config, seed=1), path)
    before = path.read_bytes()
    real_fdopen = os.fdopen

    class FullDisk:
        """A file that takes a few bytes, then reports a full disk, like a real one."""

        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[:100])
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self):
            self.fh.flush()

        def fileno(self):
            return self.fh.fileno()

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r": FullDisk(real_fdopen(fd, mode)))
    with pytest.raises(DiskWriteError) as info:
        save_model(new_bundle(tiny_config, seed=2), path)
    monkeypatch.undo()
    message = str(info.value)
    assert "disk is full" in message and "previous version is intact" in message and str(path) in message
    assert path.read_bytes() == before
    assert _only(tmp_path) == ["m.safetensors"]


def test_failed_fsync_keeps_the_previous_file(tiny_config, tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_model(new_bundle(tiny_config, seed=1), path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(DiskWriteError, match="Input/output error"):
        save_model(new_bundle(tiny_config, seed=2), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _only(tmp_path) == ["m.safetensors"]


def test_diverged_weights_are_not_saved_over_a_good_file(tiny_config, tmp_path):
    path = tmp_path / "m.safetensors"
    save_model(new_bundle(tiny_config, seed=1), path)
    before = path.read_bytes()
    broken = new_bundle(tiny_config, seed=2)
    with torch.no_grad():
        broken.generator.main[0].weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(ModelFileError, match="NaN or infinite.*previous file, if any, is untouched"):
        save_model(broken, path)
    assert path.read_bytes() == before and _only(tmp_path) == ["m.safetensors"]


def test_save_refuses_networks_that_do_not_match_the_config(tiny_config, tmp_path):
    bundle = new_bundle(tiny_config)
    bundle.generator = new_bundle(tiny_config.replace(ngf=4)).generator
    with pytest.raises(ValueError, match="generator"):
        save_model(bundle, tmp_path / "m.safetensors")
    bundle = new_bundle(tiny_config)
    bundle.directions["pca"] = DirectionSet("pca", ["a"], np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="nz=16"):
        save_model(bundle, tmp_path / "m.safetensors")
    assert _only(tmp_path) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"extra_tensors": {"generator.main.0.weight": torch.zeros(1)}},
        {"extra_tensors": {"directions.pca": torch.zeros(1)}},
        {"extra_metadata": {"format": "other"}},
        {"extra_metadata": {"config": "{}"}},
        {"extra_metadata": {"step": 5}},
    ],
)
def test_save_refuses_extras_that_would_clash(tiny_config, tmp_path, kwargs):
    with pytest.raises(ValueError):
        save_model(new_bundle(tiny_config), tmp_path / "m.safetensors", **kwargs)
    assert _only(tmp_path) == []


# ---------------------------------------------------------------- hostile and broken files
@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "too short"),
        (b"\x01\x02\x03", "too short"),
        (b"GIF89a" + bytes(range(256)) * 4, "header is damaged"),
        (struct.pack("<Q", 2**63) + b"{}", "header is damaged"),
        (struct.pack("<Q", 100) + b'{"a": 1}', "header is damaged"),
        (struct.pack("<Q", 4) + b"\xff\xfe{}", "unreadable safetensors header"),
        (struct.pack("<Q", 2) + b"[]", "not an object"),
        (struct.pack("<Q", 2) + b"{}", "not a FaceStudio model"),
        (struct.pack("<Q", 8) + b'{"x": 1}', "malformed entry"),
    ],
)
def test_garbage_is_refused(tmp_path, content, words):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    _refuses(path, words)


def test_truncated_files_are_refused(valid_bytes, tmp_path):
    path = tmp_path / "cut.safetensors"
    n = struct.unpack("<Q", valid_bytes[:8])[0]
    cuts = [4, 8, 9, 8 + n // 2, 8 + n, 8 + n + 1, len(valid_bytes) // 2, len(valid_bytes) - 1]
    for cut in cuts:
        path.write_bytes(valid_bytes[:cut])
        _refuses(path)


def test_extra_trailing_bytes_are_refused(valid_bytes, tmp_path):
    path = tmp_path / "long.safetensors"
    path.write_bytes(valid_bytes + b"\0" * 64)
    _refuses(path, "64 bytes that belong to no tensor")


def _forge(valid_bytes: bytes, tmp_path: Path, edit) -> Path:
    header, body = _split(valid_bytes)
    body = edit(header, body) or body
    path = tmp_path / "forged.safetensors"
    path.write_bytes(_join(header, body))
    return path


G0 = "generator.main.0.weight"


def _claim_huge(header, body):
    header["train.huge"] = {"dtype": "F32", "shape": [2**38], "data_offsets": [len(body), len(body) + 4 * 2**38]}


def test_header_claiming_a_huge_tensor_allocates_nothing(valid_bytes, tmp_path, monkeypatch):
    path = _forge(valid_bytes, tmp_path, _claim_huge)
    reached = []
    monkeypatch.setattr(checkpoint, "st_load", lambda data: reached.append(1) or {})
    tracemalloc.start()
    try:
        _refuses(path, "train.huge", "claims 1099511627776 bytes")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reached == []  # refused from the header: safetensors never saw the file
    assert peak < 8 * len(valid_bytes) + 2**20  # a few copies of the small file at most


def test_header_claiming_a_huge_tensor_in_a_fresh_process(valid_bytes, tmp_path):
    """Peak memory of a fresh process stays flat, and even a 2 GB address-space cap is not hit."""
    path = _forge(valid_bytes, tmp_path, _claim_huge)
    code = textwrap.dedent(
        f"""
        import resource, sys
        from facestudio.models import load_model
        from facestudio.errors import ModelFileError
        import torch
        torch.zeros(1) + 1  # warm up torch's allocator and thread pool first
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as fh:
            virtual = int(fh.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (virtual + 2 * 1024**3, hard))
        try:
            load_model({str(path)!r})
        except ModelFileError as exc:
            print("refused:", exc)
        grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print("grown_kb:", grown_kb)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "refused:" in out.stdout and "claims 1099511627776 bytes" in out.stdout, out.stdout
    grown_kb = int(out.stdout.split("grown_kb:")[1])
    assert grown_kb < 64 * 1024, out.stdout


@pytest.mark.parametrize(
    "edit, words",
    [
        # byte ranges
        (lambda h, b: h[G0].__setitem__("data_offsets", [0, 2**40]), "claims"),
        (lambda h, b: h[G0].__setitem__("data_offsets", [-4, 0]), "claims"),
        (lambda h, b: h[G0].__setitem__("data_offsets", [len(b) + 8, len(b) + 8 + 4 * 16 * 32 * 16]), "claims"),
        (lambda h, b: h[G0].__setitem__("data_offsets", [h["generator.main.1.weight"]["data_offsets"][0]] * 2), "claims"),
        (lambda h, b: h["generator.main.1.weight"].__setitem__("data_offsets", h["generator.main.1.bias"]["data_offsets"]), "overlap or leave gaps"),
        (lambda h, b: h[G0].__setitem__("shape", [16, 32, 4, 5]), "claims"),
        (lambda h, b: h[G0].__setitem__("shape", [16, 32, 4, -4]), "malformed entry"),
        (lambda h, b: h[G0].__setitem__("shape", [16, 32, 4, 4.0]), "malformed entry"),
        (lambda h, b: h[G0].__setitem__("shape", "16,32,4,4"), "malformed entry"),
        (lambda h, b: h[G0].__setitem__("dtype", "F8_E4M3"), "malformed entry"),
        (lambda h, b: h[G0].__setitem__("data_offsets", [0, True]), "malformed entry"),
        (lambda h, b: h[G0].pop("dtype"), "malformed entry"),
        # contents that do not fit the config
        (lambda h, b: h[G0].__setitem__("shape", [32, 16, 4, 4]), "has shape (32, 16, 4, 4), expected (16, 32, 4, 4)"),
        (lambda h, b: h.__setitem__("generator.main.99.weight", h.pop("generator.main.0.weight")), "missing ['main.0.weight']"),
        (lambda h, b: h.__setitem__("generator.spare", h.pop("train.spare")), "unexpected ['spare']"),
        (lambda h, b: h.__setitem__("spare", h.pop("generator.main.0.weight")), "missing"),
        (lambda h, b: [h.__setitem__(k.replace("generator.", "other."), h.pop(k)) for k in [k for k in h if k.startswith("generator.")]], "no generator"),
        (lambda h, b: h["generator.main.0.weight"].__setitem__("dtype", "I32"), "stored as I32"),
        (lambda h, b: [h["generator.main.1.num_batches_tracked"].__setitem__("dtype", "F64")], "stored as F64"),
        # metadata and config
        (lambda h, b: h.pop("__metadata__"), "not a FaceStudio model"),
        (lambda h, b: h["__metadata__"].__setitem__("format", "other-model"), "not a FaceStudio model"),
        (lambda h, b: h["__metadata__"].__setitem__("format_version", "3"), "newer FaceStudio (format 3)"),
        (lambda h, b: h["__metadata__"].__setitem__("format_version", "0"), "unreadable format version"),
        (lambda h, b: h["__metadata__"].__setitem__("format_version", "1e9"), "unreadable format version"),
        (lambda h, b: h["__metadata__"].__setitem__("format_version", "٣"), "unreadable format version"),
        (lambda h, b: h.__setitem__("__metadata__", {"format": 1}), "malformed metadata"),
        (lambda h, b: h.__setitem__("__metadata__", ["format"]), "malformed metadata"),
        (lambda h, b: h["__metadata__"].__setitem__("config", "{"), "unreadable model configuration"),
        (lambda h, b: h["__metadata__"].__setitem__("config", '{"nz": 1' + "0" * 5000 + "}"), "unreadable model configuration"),
        (lambda h, b: h["__metadata__"].__setitem__("config", "[" * 100_000 + "]" * 100_000), "unreadable model configuration"),
        (lambda h, b: h["__metadata__"].__setitem__("config", "[]"), "not a JSON object"),
        (lambda h, b: _edit_config(h, nz=10**9), "nz=1000000000"),
        (lambda h, b: _edit_config(h, nz=17), "expected (17, 32, 4, 4)"),
        (lambda h, b: _edit_config(h, image_size=64), "missing"),
        (lambda h, b: _edit_config(h, ngf=1024, ndf=1024, nz=4096, image_size=128), "million weights"),
        (lambda h, b: _edit_config(h, colour="red"), "unknown settings ['colour']"),
        (lambda h, b: _edit_config(h, d_norm="spectral"), "discriminator weights do not match"),
        # directions
        (lambda h, b: h["__metadata__"].__setitem__("directions", '{"sefa": ["only one"]}'), "'sefa' directions do not match"),
        (lambda h, b: h["__metadata__"].__setitem__("directions", '{"pca": []}'), "'pca' directions do not match"),
        (lambda h, b: h["__metadata__"].__setitem__("directions", '{"sefa": [1, 2, 3]}'), "'sefa' directions do not match"),
        (lambda h, b: h["__metadata__"].__setitem__("directions", '["sefa"]'), "malformed direction names"),
        (lambda h, b: h["__metadata__"].__setitem__("directions", "{"), "unreadable list of direction names"),
    ],
)
def test_forged_headers_are_refused(valid_bytes, tmp_path, monkeypatch, edit, words):
    def edit_with_spare(header, body):
        # a spare tensor some edits rename; it sits at the end of the data section
        header["train.spare"] = {"dtype": "F32", "shape": [2], "data_offsets": [len(body), len(body) + 8]}
        body = body + b"\0" * 8
        edit(header, body)
        return body

    reached = []
    monkeypatch.setattr(checkpoint, "st_load", lambda data: reached.append(1) or {})
    path = _forge(valid_bytes, tmp_path, edit_with_spare)
    _refuses(path, words)
    assert reached == []


def _edit_config(header: dict, **changes) -> None:
    config = json.loads(header["__metadata__"]["config"])
    config.update(changes)
    header["__metadata__"]["config"] = json.dumps(config)


def _file_with(config: ModelConfig, edit_tensors) -> bytes:
    bundle = _full_bundle(config)
    tensors = bundle_tensors(bundle)
    edit_tensors(tensors)
    return _raw_file(tensors, bundle_metadata(bundle))


@pytest.mark.parametrize("target", ["generator.main.3.weight", "discriminator.main.2.weight", "ema_generator.main.1.running_var"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(tiny_config, tmp_path, target, value):
    def poison(tensors):
        tensors[target].view(-1)[3] = value

    path = tmp_path / "nan.safetensors"
    path.write_bytes(_file_with(tiny_config, poison))
    _refuses(path, "NaN or infinite", target.split(".")[0])


def test_non_finite_directions_are_refused(tiny_config, tmp_path):
    def poison(tensors):
        tensors["directions.sefa"][1, 2] = float("nan")

    path = tmp_path / "nan.safetensors"
    path.write_bytes(_file_with(tiny_config, poison))
    _refuses(path, "'sefa' directions contain NaN")


def test_half_precision_weights_open(tiny_config, tmp_path):
    """Weights stored as F16 are legitimate (a smaller file); they load into float32 nets."""
    bundle = _full_bundle(tiny_config)

    def to_half(tensors):
        for k, v in tensors.items():
            if k.startswith("generator.") and v.is_floating_point():
                tensors[k] = v.half()

    path = tmp_path / "half.safetensors"
    path.write_bytes(_file_with(tiny_config, to_half))
    loaded = load_model(path)
    assert loaded.generator.main[0].weight.dtype == torch.float32
    assert torch.allclose(loaded.generator.main[0].weight, bundle.generator.main[0].weight, atol=1e-3)


def _load_in_thread(path) -> tuple[threading.Thread, list]:
    result: list = []

    def target():
        try:
            load_model(path)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=20)
    return thread, result


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_a_pipe_is_refused_without_blocking(tmp_path, suffix):
    fifo = tmp_path / f"pipe{suffix}"
    os.mkfifo(fifo)
    thread, result = _load_in_thread(fifo)
    if thread.is_alive():  # opening a FIFO blocks until a writer comes: be that writer
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=10)
        pytest.fail("load_model blocked on a FIFO")
    assert len(result) == 1 and isinstance(result[0], ModelFileError), result
    assert "not a regular file" in str(result[0])


def test_paths_that_are_not_model_files(tmp_path):
    _refuses(tmp_path / "nowhere.safetensors", "does not exist")
    _refuses(tmp_path / "nowhere.pth", "does not exist")
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_model("/dev/zero")  # reading it would never end


def test_a_file_far_too_large_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as fh:
        fh.truncate(checkpoint.MAX_FILE_BYTES + 1)  # sparse: costs no disk space
    _refuses(path, "far larger than any DCGAN model")


# ---------------------------------------------------------------- fuzzing
def _load_only_typed_errors(data: bytes, folder: str) -> None:
    path = Path(folder) / "fuzz.safetensors"
    path.write_bytes(data)
    try:
        bundle = load_model(path)
    except FaceStudioError as exc:
        assert str(exc).strip(), "an error must carry a sentence"
        return
    # Whatever loaded must be a usable model.
    with torch.no_grad():
        out = bundle.generator(torch.zeros(1, bundle.config.nz))
    assert out.shape[-1] == bundle.config.image_size


@pytest.fixture(scope="module")
def fuzz_seed_file(tmp_path_factory) -> bytes:
    """A small file with every kind of content (G, D, EMA, directions) to mutate."""
    config = ModelConfig(nz=4, ngf=2, ndf=2, image_size=32, name="fuzz")
    path = tmp_path_factory.mktemp("fuzz") / "seed.safetensors"
    save_model(_full_bundle(config), path, extra_tensors={"train.step": torch.tensor([1])})
    return path.read_bytes()


_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@_FUZZ
@given(
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.none() | st.floats(0, 1),
    insert=st.none() | st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=16)),
)
def test_fuzzed_header_bytes_raise_only_typed_errors(fuzz_seed_file, tmp_path, edits, cut, insert):
    data = bytearray(fuzz_seed_file)
    header_end = 8 + struct.unpack("<Q", fuzz_seed_file[:8])[0]
    for where, byte in edits:  # mostly inside the length field and the JSON header
        data[int(where * header_end)] = byte
    if insert is not None:
        at = int(insert[0] * header_end)
        data[at:at] = insert[1]
    if cut is not None:
        data = data[: int(cut * len(data))]
    _load_only_typed_errors(bytes(data), str(tmp_path))


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)


@_FUZZ
@given(data=st.data())
def test_fuzzed_header_values_raise_only_typed_errors(fuzz_seed_file, tmp_path, data):
    """Replace one field anywhere in the parsed header with arbitrary JSON."""
    header, body = _split(fuzz_seed_file)
    meta = header["__metadata__"]
    target = data.draw(st.sampled_from(sorted(header)), label="entry")
    if target == "__metadata__":
        key = data.draw(st.sampled_from(sorted(meta) + ["config-field"]), label="metadata key")
        if key == "config-field":
            config = json.loads(meta["config"])
            config[data.draw(st.sampled_from(sorted(config) + ["extra"]))] = data.draw(_json_values)
            meta["config"] = json.dumps(config)
        else:
            value = data.draw(_json_values)
            meta[key] = value if data.draw(st.booleans()) else json.dumps(value)
    else:
        field = data.draw(st.sampled_from(["dtype", "shape", "data_offsets", "whole"]), label="field")
        value = data.draw(_json_values | st.lists(st.integers(-(2**64), 2**64), max_size=5), label="value")
        if field == "whole":
            header[target] = value
        else:
            header[target][field] = value
    _load_only_typed_errors(_join(header, body), str(tmp_path))


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("d_norm", ["batch", "spectral", "none"])
def test_expected_tensors_match_real_networks(size, d_norm):
    """The header check's idea of each network (built on meta, spectral keys derived) is the real one."""
    config = ModelConfig(nz=5, ngf=3, ndf=2, image_size=size, d_norm=d_norm)
    expected = checkpoint._expected_tensors(config)
    bundle = new_bundle(config)
    for name, net in (("generator", bundle.generator), ("discriminator", bundle.discriminator)):
        real = {k: (tuple(v.shape), v.is_floating_point()) for k, v in net.state_dict().items()}
        assert expected[name] == real
