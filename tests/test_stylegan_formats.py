"""StyleGAN settings beyond the fixtures: conditional models, architectures, previews, transforms."""

import warnings

import pytest
import torch

from facestudio.models import load_model, save_model
from facestudio.models.bundle import ModelBundle
from facestudio.models.style_config import StyleModelConfig
from facestudio.models.stylegan.build import build_networks
from facestudio.models.stylegan.ops import reference_ops
from facestudio.models.stylegan.safe_pickle import safe_unpickle
from facestudio.models.stylegan.network_record import NetworkRecord
from tests.stylegan_fixtures import fixture

warnings.filterwarnings("ignore", message="TypedStorage is deprecated")


def _randomised(net, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(net.named_parameters()) + list(net.named_buffers()):
            if not any(k in name for k in ("filter", "transform", "freqs", "phases", "magnitude_ema")):
                t.add_(torch.randn(t.shape, generator=g) * 0.3)
    return net.eval()


def _sg2(arch="skip", c_dim=0, res=32, flat=False):
    synth = dict(channel_base=1024, channel_max=64, architecture=arch, conv_clamp=64, num_fp16_res=2)
    kw = dict(z_dim=32, c_dim=c_dim, w_dim=48, img_resolution=res, img_channels=3, mapping_kwargs=dict(num_layers=3))
    kw.update(synth if flat else {"synthesis_kwargs": synth})
    config = StyleModelConfig("stylegan2", 32, res, c_dim, 3, kw, dict(c_dim=c_dim, img_resolution=res, architecture=arch, channel_base=1024, channel_max=64))
    g, d = build_networks(config, "test")
    return config, _randomised(g), _randomised(d, 1)


@pytest.mark.parametrize("arch", ["skip", "resnet", "orig"])
def test_architectures_fast_path_equals_reference_formulation(arch):
    _, g, _ = _sg2(arch)
    ws = g.mapping(torch.randn(4, 32, generator=torch.Generator().manual_seed(2)))
    with torch.inference_mode():
        fast = g.synthesis(ws)
        with reference_ops():
            ref = g.synthesis(ws)
    assert fast.shape == (4, 3, 32, 32)
    assert (fast - ref).abs().max() < 1e-4 * max(1.0, float(ref.abs().max()))
    assert g.preview_resolutions == ((4, 8, 16) if arch == "skip" else ())


def test_flat_and_nested_synthesis_settings_build_the_same_network():
    _, nested, _ = _sg2(flat=False)
    _, flat, _ = _sg2(flat=True)
    assert nested.state_dict().keys() == flat.state_dict().keys()


def test_conditional_model_needs_and_uses_labels(tmp_path):
    config, g, d = _sg2(c_dim=5)
    z = torch.randn(2, 32)
    with pytest.raises(ValueError, match="classes"):
        g.mapping(z)
    c0, c1 = torch.eye(5)[[0, 0]], torch.eye(5)[[3, 3]]
    with torch.inference_mode():
        assert (g.mapping(z, c0) - g.mapping(z, c1)).abs().max() > 1e-3
        img = g(z, c0)
        assert d(img, c0).shape == (2,) and d(img).shape == (2,)  # without labels: averaged classes
    path = tmp_path / "cond.safetensors"
    save_model(ModelBundle(config=config, generator=g, discriminator=d), path)
    again = load_model(path)
    with torch.inference_mode():
        assert torch.allclose(again.generator(z, c1), g(z, c1), atol=1e-5)


def test_skip_preview_computes_a_lower_resolution():
    _, g, _ = _sg2("skip", res=32)
    ws = g.mapping(torch.randn(2, 32))
    with torch.inference_mode():
        assert g.synthesis_preview(ws, 16).shape == (2, 3, 16, 16)
        assert torch.equal(g.synthesis_preview(ws, 32), g.synthesis(ws))
    with pytest.raises(ValueError, match="preview"):
        g.synthesis_preview(ws, 12)


def test_stylegan3_input_transform_moves_the_image():
    bundle = load_model(fixture("sg3_t_32.pkl"))
    g = bundle.generator
    ws = g.mapping(torch.randn(1, 64, generator=torch.Generator().manual_seed(0)))
    with torch.inference_mode():
        before = g.synthesis(ws)
        g.synthesis.input.transform.copy_(torch.tensor([[1.0, 0, 0.25], [0, 1, 0], [0, 0, 1]]))
        moved = g.synthesis(ws)
    assert (before - moved).abs().max() > 1e-2


@pytest.mark.parametrize("name", ["sg3_t_32", "sg3_r_32"])
def test_designed_filters_equal_the_files_filters(name):
    """Networks built here (e.g. for the benchmark) get the same filters the training code designed."""
    snapshot = safe_unpickle(fixture(f"{name}.pkl").read_bytes(), name)
    record = NetworkRecord.from_persistent(snapshot["G_ema"], "G_ema", name)
    config = StyleModelConfig("stylegan3", 64, 32, 0, 3, record.init_kwargs)
    g, _ = build_networks(config, name)
    for key, value in g.state_dict().items():
        if key.endswith("_filter"):
            assert torch.allclose(value, record.tensors[key], atol=1e-6), key
