"""The real MobileStyleGAN from random-face: exactness against OpenVINO, the cached conversion, the model id.

Needs `pip install --no-deps random-face==2021.7.21.1` (the README's install and test
commands include it) and, for the exactness tests, `openvino` (in the test extra).
"""

import shutil

import numpy as np
import pytest
import torch

from facestudio.errors import ModelFileError
from facestudio.models import load_model
from facestudio.models.mobilestylegan import convert
from facestudio.models.mobilestylegan.preview_fit import preview_psnr
from facestudio.models.mobilestylegan.source import INSTALL_HINT, find_ir_source

SOURCE = find_ir_source()
pytestmark = pytest.mark.skipif(SOURCE is None, reason=f"random-face is not installed ({INSTALL_HINT})")
SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="module")
def native():
    return convert.native_from_ir(SOURCE)


@pytest.fixture(scope="module")
def openvino_models():
    ov = pytest.importorskip("openvino", reason="openvino is not installed (it is in the test extra)")
    core = ov.Core()
    # f32: on CPUs with bf16 units OpenVINO would otherwise run in bfloat16 (about 1e-2 off).
    hint = {"INFERENCE_PRECISION_HINT": "f32"}
    return (core.compile_model(str(SOURCE.mapping_xml), "CPU", hint),
            core.compile_model(str(SOURCE.synthesis_xml), "CPU", hint))


@pytest.fixture
def converted(photographic_model, tmp_path):
    """A private copy of the session's converted file (tests here may damage it)."""
    path = tmp_path / "converted.safetensors"
    shutil.copyfile(photographic_model.source, path)
    return path


def install_cache(converted, monkeypatch, tmp_path):
    target = tmp_path / "cache" / "mobilestylegan-ffhq.safetensors"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(converted, target)
    monkeypatch.setattr(convert, "cache_path", lambda: target)
    return target


@pytest.mark.parametrize("seed", SEEDS)
def test_native_matches_openvino_on_mapping_and_1024px_image(native, openvino_models, seed):
    mapping_ir, synthesis_ir = openvino_models
    z = np.random.default_rng(seed).standard_normal((1, 512)).astype(np.float32)
    w_ref = mapping_ir(z)[0]
    img_ref = synthesis_ir(w_ref)[0]
    with torch.inference_mode():
        ws = native.mapping(torch.from_numpy(z))
        img = native.synthesis(torch.from_numpy(w_ref)[:, None].expand(-1, native.num_ws, -1))
    assert img.shape == img_ref.shape == (1, 3, 1024, 1024)
    assert np.abs(ws[:, 0].numpy() - w_ref).max() <= 1e-3
    assert np.abs(img.numpy() - img_ref).max() <= 1e-3
    assert img_ref.std() > 0.2  # a real picture, not a flat field that anything would match


def test_graph_facts(native):
    assert native.synthesis_net.channels == [512, 512, 512, 512, 512, 256, 128, 64]
    assert (native.num_ws, native.img_resolution, len(native.mapping_net.fc)) == (16, 1024, 8)


def test_model_id_converts_once_then_opens_the_cache(converted, monkeypatch, tmp_path):
    install_cache(converted, monkeypatch, tmp_path)
    monkeypatch.setattr(convert, "convert_ir", lambda source: pytest.fail("the valid cache was converted again"))
    bundle = load_model("mobilestylegan-ffhq")
    assert bundle.family == "mobilestylegan" and bundle.z_dim == 512 and bundle.img_resolution == 1024
    assert bundle.source == convert.cache_path() and len(bundle.sha256) == 64
    assert "CC BY-NC-SA 4.0" in bundle.card["licence"] and "commercial" in bundle.card["licence"]
    assert "FFHQ" in bundle.card["provenance"] and "StyleGAN2" in bundle.card["provenance"]
    g = bundle.viewing_generator
    assert g.preview_resolutions == (128, 256, 512)
    # the cache holds the estimated mean style: close to the mean of fresh samples
    with torch.inference_mode():
        fresh = g.mapping_net(torch.randn(2000, 512, generator=torch.Generator().manual_seed(9))).mean(0)
    assert (fresh - g.w_avg).norm() < 0.1 * g.w_avg.norm()
    assert load_model(str(convert.cache_path())).config == bundle.config  # the file opens as any model file


def test_cache_is_rebuilt_when_the_source_changes_or_the_file_is_damaged(converted, monkeypatch, tmp_path):
    calls = []
    real = convert.convert_ir
    install_cache(converted, monkeypatch, tmp_path)
    fit = convert.fit_preview_heads
    monkeypatch.setattr(convert, "W_AVG_SAMPLES", 500)  # conversions here only need to happen, not be good
    monkeypatch.setattr(convert, "fit_preview_heads", lambda net: fit(net, samples=1))
    monkeypatch.setattr(convert, "convert_ir", lambda source: calls.append(1) or real(source))
    monkeypatch.setattr(convert, "source_fingerprint", lambda source: "another installation")
    load_model("mobilestylegan-ffhq")
    assert len(calls) == 1
    load_model("mobilestylegan-ffhq")  # rewritten with the new fingerprint: no third conversion
    assert len(calls) == 1
    data = bytearray(convert.cache_path().read_bytes())
    data[-8:] = b"\xff" * 8  # NaN in the last tensor
    convert.cache_path().write_bytes(bytes(data))
    assert torch.isfinite(load_model("mobilestylegan-ffhq").viewing_generator.mean_w).all()
    assert len(calls) == 2


def test_without_random_face_the_id_says_how_to_install(monkeypatch):
    monkeypatch.setattr(convert, "require_ir_source", lambda: (_ for _ in ()).throw(ModelFileError(f"install {INSTALL_HINT}")))
    with pytest.raises(ModelFileError, match="--no-deps random-face"):
        load_model("mobilestylegan-ffhq")


def test_previews_resemble_the_downscaled_image(photographic_model):
    assert preview_psnr(photographic_model.viewing_generator, 256) > 21.0


def test_model_id_in_the_shared_test_cache_is_the_session_conversion(photographic_model):
    assert convert.cache_path() == photographic_model.source
