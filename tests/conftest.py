"""Test set-up: Qt offscreen, tiny models, and no thread left running."""

from __future__ import annotations

import gc
import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see facestudio/__init__.py
os.environ.setdefault("FACESTUDIO_SETTINGS_ORG", "FaceStudioTests")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from pathlib import Path  # noqa: E402
from PIL import Image  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep caches and app settings of tests away from the user's home."""
    cache = tmp_path_factory.getbasetemp() / "cache"
    monkeypatch.setenv("FACESTUDIO_CACHE", str(cache))
    monkeypatch.setenv("FACESTUDIO_HOME", str(tmp_path_factory.getbasetemp() / "home"))


@pytest.fixture(scope="session")
def photographic_model(tmp_path_factory):
    """`mobilestylegan-ffhq` converted once per session into the tests' shared cache (the path
    `_isolated_cache` points at), so every later load in the session opens the cache."""
    from facestudio.models.mobilestylegan import convert
    from facestudio.models.mobilestylegan.source import INSTALL_HINT, find_ir_source

    if find_ir_source() is None:
        pytest.skip(f"random-face is not installed ({INSTALL_HINT})")
    return convert.load_mobilestylegan(cache=tmp_path_factory.getbasetemp() / "cache" / "models" / f"{convert.MODEL_ID}.safetensors")


@pytest.fixture(autouse=True, scope="session")
def _collect_garbage_on_the_main_thread_only():
    """As the app does (facestudio.ui.gui_thread_gc): automatic gc off, collected here.

    Automatic collection would otherwise run in whichever worker thread allocates, and
    deleting a main-thread Qt object from there crashes the process.
    """
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _main_thread_gc():
    yield
    threshold, counts = gc.get_threshold(), gc.get_count()
    for generation in range(3):  # what automatic gc would have done, but on this thread
        if counts[generation] <= threshold[generation]:
            break
        gc.collect(generation)


@pytest.fixture(autouse=True)
def _keep_thread_count():
    """Trainer(threads=N) and the training worker set torch's process-wide thread count;
    every test starts with the same one."""
    import torch

    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture(autouse=True)
def _no_dangling_threads():
    """Fail a test that leaves a Python thread running (QThreads are checked in ui tests)."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    for t in leftover:
        t.join(timeout=10)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"threads left running: {still}"


@pytest.fixture
def tiny_config():
    from facestudio.models import ModelConfig

    return ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="tiny")


def _lively_bundle(*, with_discriminator: bool = True, seed: int = 1):
    """A tiny generator whose faces differ visibly (an untrained DCGAN draws flat grey)."""
    import torch
    from torch import nn

    from facestudio.models import ModelConfig, new_bundle

    bundle = new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32, name="lively"), seed=seed,
                        with_discriminator=with_discriminator)
    g = bundle.generator
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, nn.ConvTranspose2d):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 0.2)
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = None  # cumulative average over the calibration batch
                m.reset_running_stats()
        g.train()
        g(torch.randn(256, 16, generator=gen))
    g.eval()
    return bundle


@pytest.fixture(scope="session")
def lively_bundle():
    """Makes tiny lively generators: `lively_bundle(with_discriminator=True, seed=1)` -> ModelBundle."""
    return _lively_bundle


@pytest.fixture
def photo(tmp_path) -> Path:
    """A small noise JPEG, for commands that take a photo (its content does not matter)."""
    path = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 40, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def model_file(tmp_path) -> Path:
    """A tiny DCGAN model file (the explorer's UI tests open it)."""
    from explorer_helpers import save_tiny

    return save_tiny(tmp_path / "tiny.safetensors")


@pytest.fixture
def open_window(qtbot, tmp_path):
    """make(path=None, gallery=None) -> an ExplorerWindow shown with its first face; closed (threads finished) after the test."""
    from explorer_helpers import settle
    from facestudio.ui.explorer.explorer_window import ExplorerWindow

    windows = []

    def make(path=None, gallery=None):
        w = ExplorerWindow(path, gallery_folder=gallery or tmp_path / "gallery")
        qtbot.addWidget(w)
        w.resize(1200, 800)
        w.show()
        windows.append(w)
        settle(qtbot, w)
        return w

    yield make
    for w in windows:
        w.close()
        assert w._closed
        assert w._render.thread.isFinished() and w._directions.thread.isFinished()
