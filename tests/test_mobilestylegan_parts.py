"""MobileStyleGAN parts that need no installed package: IR reader, Haar transform, network contract."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from facestudio.errors import ConfigError, ModelFileError
from facestudio.models import TwoStage
from facestudio.models.mobilestylegan import ir_reader
from facestudio.models.mobilestylegan.convert import build_generator
from facestudio.models.mobilestylegan.generator import MobileStyleGAN
from facestudio.models.mobilestylegan.haar import haar_dwt_nhwc, haar_idwt_nhwc
from facestudio.models.mobilestylegan.preview_fit import fit_preview_heads
from facestudio.models.style_config import StyleModelConfig

XML = """<?xml version="1.0" ?>
<net name="t" version="10">
  <layers>
    <layer id="0" name="x" type="Parameter" version="opset1"><data shape="1, 2" element_type="f32"/>
      <output><port id="0" precision="FP32"><dim>1</dim><dim>2</dim></port></output></layer>
    <layer id="1" name="w" type="Const" version="opset1"><data element_type="f32" shape="2, 2" offset="{offset}" size="{size}"/>
      <output><port id="0" precision="FP32"><dim>2</dim><dim>2</dim></port></output></layer>
    <layer id="2" name="mm" type="MatMul" version="opset1"><data transpose_a="false" transpose_b="true"/>
      <output><port id="2" precision="FP32"><dim>1</dim><dim>2</dim></port></output></layer>
  </layers>
  <edges><edge from-layer="0" from-port="0" to-layer="2" to-port="0"/><edge from-layer="1" from-port="0" to-layer="2" to-port="1"/></edges>
</net>
"""


def write_ir(tmp_path, values=(1.0, 2.0, 3.0, 4.0), offset=0, size=16, xml=XML):
    (tmp_path / "m.bin").write_bytes(np.asarray(values, "<f4").tobytes())
    (tmp_path / "m.xml").write_text(xml.format(offset=offset, size=size))
    return tmp_path / "m.xml"


def test_reader_reads_layers_edges_and_checked_constants(tmp_path):
    graph = ir_reader.read_ir(write_ir(tmp_path))
    mm = graph.named("mm")
    assert graph.input_layer(mm, 0).type == "Parameter"
    assert graph.const_input(mm) is graph.named("w")
    assert np.array_equal(graph.const(graph.named("w")), [[1, 2], [3, 4]])
    assert [c.name for c in graph.consumers(graph.named("w"))] == ["mm"]
    assert graph.by_type("MatMul") == [mm] and mm.output_shapes == [(1, 2)]


@pytest.mark.parametrize("kwargs, message", [
    (dict(offset=8), "past the end"),
    (dict(size=12), "claims 12 bytes"),
    (dict(values=(1.0, float("nan"), 3.0, 4.0)), "NaN or infinite"),
])
def test_reader_refuses_damaged_constants(tmp_path, kwargs, message):
    graph = ir_reader.read_ir(write_ir(tmp_path, **kwargs))
    with pytest.raises(ModelFileError, match=message):
        graph.const(graph.named("w"))


def test_reader_refuses_entities_oversize_and_garbage(tmp_path, monkeypatch):
    bomb = '<?xml version="1.0"?>\n<!DOCTYPE net [<!ENTITY a "aaaa">]>\n<net version="10"><layers/><edges/></net>'
    with pytest.raises(ModelFileError, match="DOCTYPE"):
        ir_reader.read_ir(write_ir(tmp_path, xml=bomb))
    with pytest.raises(ModelFileError, match="not valid XML"):
        ir_reader.read_ir(write_ir(tmp_path, xml="<net version='10'><layers>"))
    with pytest.raises(ModelFileError, match="version 10 or 11"):
        ir_reader.read_ir(write_ir(tmp_path, xml="<net version='7'><layers/><edges/></net>"))
    monkeypatch.setattr(ir_reader, "MAX_XML_BYTES", 100)
    with pytest.raises(ModelFileError, match="more than the 100"):
        ir_reader.read_ir(write_ir(tmp_path))
    with pytest.raises(ModelFileError, match="could not be read"):
        ir_reader.read_ir(tmp_path / "missing.xml")


def test_haar_inverse_matches_the_transposed_convolutions_of_the_graph():
    """The exporter's IDWT: rows then columns, g0 = [c, c], g1 = [c, -c], stride-2 transposed convs."""
    gen = torch.Generator().manual_seed(0)
    c, h, w = 5, 3, 4
    low, high = torch.randn(2, c, h, w, generator=gen), torch.randn(2, c, 3, h, w, generator=gen)
    k = 1 / math.sqrt(2)
    g0, g1 = torch.tensor([k, k]), torch.tensor([k, -k])

    def up(x, taps, dim):
        shape = (c, 1, 2, 1) if dim == 2 else (c, 1, 1, 2)
        stride = (2, 1) if dim == 2 else (1, 2)
        return F.conv_transpose2d(x, taps.view(1, 1, *shape[2:]).repeat(c, 1, 1, 1), stride=stride, groups=c)

    lo = up(low, g0, 2) + up(high[:, :, 0], g1, 2)
    hi = up(high[:, :, 1], g0, 2) + up(high[:, :, 2], g1, 2)
    expected = up(lo, g0, 3) + up(hi, g1, 3)
    coeffs = torch.cat((low, high.flatten(1, 2)), 1).permute(0, 2, 3, 1)
    got = haar_idwt_nhwc(coeffs).permute(0, 3, 1, 2)
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(haar_dwt_nhwc(haar_idwt_nhwc(coeffs)), coeffs, atol=1e-6)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    net = MobileStyleGAN([32, 16, 16, 8], z_dim=24, mapping_layers=2)
    with torch.no_grad():
        for name, p in net.named_parameters():  # weights that keep activations near unit scale
            fan_in = p[0].numel() if p.ndim > 1 else 1
            p.copy_(torch.randn_like(p) / math.sqrt(fan_in) + (1.0 if name.endswith("mod_bias") else 0.0))
    net.eval().requires_grad_(False)
    net.estimate_w_avg(2000)
    return net


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal up to float32 rounding (random weights give images far outside [-1, 1])."""
    return bool((a - b).abs().max() <= 1e-5 * b.abs().max())


def test_tiny_network_follows_the_two_stage_contract(tiny):
    assert isinstance(tiny, TwoStage)
    assert (tiny.z_dim, tiny.w_dim, tiny.c_dim, tiny.num_ws, tiny.img_resolution) == (24, 24, 0, 8, 64)
    z = torch.randn(3, 24, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ws = tiny.mapping(z)
        assert ws.shape == (3, 8, 24) and torch.equal(ws[:, 0], ws[:, 7])
        img = tiny.synthesis(ws)
        assert img.shape == (3, 3, 64, 64) and torch.isfinite(img).all()
        assert close(tiny(z), img)
        assert torch.allclose(tiny.mapping(z, truncation_psi=0.0), tiny.w_avg.expand(3, 8, -1), atol=1e-6)
        # batched per-sample styles = each sample alone
        assert close(tiny.synthesis(ws[1:2]), img[1:2])
        assert not torch.allclose(tiny.synthesis(ws, noise_mode="none"), img, atol=1e-4)
        assert tiny.synthesis(ws, noise_mode="random").shape == img.shape
        with pytest.raises(ValueError, match="noise_mode"):
            tiny.synthesis(ws, noise_mode="loud")
        with pytest.raises(ValueError, match=r"\(N, 8, 24\)"):
            tiny.synthesis(ws[:, :3])


def test_each_style_index_drives_its_layers(tiny):
    """Style mixing: changing one of the num_ws styles changes the image (no index is dead)."""
    z = torch.randn(2, 24, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        ws = tiny.mapping(z)
        base = tiny.synthesis(ws[:1])
        for i in range(tiny.num_ws):
            mixed = ws[:1].clone()
            mixed[:, i] = ws[1, i]
            assert (tiny.synthesis(mixed) - base).abs().max() > 1e-4, f"style {i} changed nothing"


def test_preview_heads_are_fitted_and_cheap(tiny):
    net = MobileStyleGAN([32, 16, 16, 8], z_dim=24, mapping_layers=2)
    net.load_state_dict(tiny.state_dict())
    net.eval().requires_grad_(False)
    assert net.preview_resolutions == ()
    with pytest.raises(ValueError, match="no cheap 32 px"):
        net.synthesis_preview(torch.zeros(1, 8, 24), 32)
    fit_preview_heads(net, resolutions=(16, 32), samples=4)
    assert net.preview_resolutions == (16, 32)
    ws = net.mapping(torch.randn(2, 24, generator=torch.Generator().manual_seed(3)))
    last = net.synthesis_net.blocks[-1]
    last.forward = lambda *a: pytest.fail("a 32 px preview must not run the 64 px block")
    with torch.inference_mode():
        preview = net.synthesis_preview(ws, 32)
    assert preview.shape == (2, 3, 32, 32) and torch.isfinite(preview).all()
    assert net.preview_heads["32"].weight.abs().sum() > 0  # fitted, not left at zeros


def test_settings_from_a_file_are_bounded():
    def config(**kwargs):
        base = {"channels": [32, 16, 16, 8], "mapping_layers": 2, "preview_resolutions": []}
        return StyleModelConfig(family="mobilestylegan", z_dim=24, img_resolution=64, generator_kwargs={**base, **kwargs})

    assert build_generator(config()).img_resolution == 64
    for bad in (dict(channels=[32, 16, 16, 9]), dict(channels=[4096] * 4), dict(mapping_layers=0),
                dict(channels=[32, 16, 16]), dict(preview_resolutions=[24]), dict(preview_resolutions="x")):
        with pytest.raises(ConfigError):
            build_generator(config(**bad))


def test_gradients_flow_through_synthesis_for_projection(tiny):
    """Find-face-from-photo optimises ws through the network: the autograd path must equal the fast one."""
    ws = tiny.mapping(torch.randn(1, 24, generator=torch.Generator().manual_seed(4))).clone().requires_grad_(True)
    img = tiny.synthesis(ws)
    with torch.inference_mode():
        fast = tiny.synthesis(ws.detach())
    assert close(img.detach(), fast)
    img.square().mean().backward()
    assert ws.grad is not None and torch.isfinite(ws.grad).all() and ws.grad.abs().sum() > 0


def test_large_batches_are_drawn_in_chunks_with_the_same_result(tiny, monkeypatch):
    import facestudio.models.mobilestylegan.generator as generator

    ws = tiny.mapping(torch.randn(5, 24, generator=torch.Generator().manual_seed(5)))
    with torch.inference_mode():
        monkeypatch.setattr(generator, "SYNTHESIS_CHUNK", 100)
        whole = tiny.synthesis(ws)
        monkeypatch.setattr(generator, "SYNTHESIS_CHUNK", 2)
        sizes = []
        real = tiny.synthesis_net.forward
        monkeypatch.setattr(tiny.synthesis_net, "forward", lambda w, n: sizes.append(w.shape[0]) or real(w, n))
        chunked = tiny.synthesis(ws)
    assert sizes == [2, 2, 1] and close(chunked, whole)
