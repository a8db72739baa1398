"""Pull MobileStyleGAN's weights out of random-face's two OpenVINO IR graphs.

The IR was exported from PyTorch through ONNX with the constant-folding of the Model
Optimizer, so it is not a plain parameter dump: the demodulation is folded into the
(pointwise) convolution weights, each layer's fixed noise map is folded with its noise
strength into one constant, and the intermediate `to_img` heads that only the final
image does not need were pruned. We therefore walk the graph from the constants that
kept their PyTorch names (`m.layers.3.conv2.bias`, ...) to the folded ones beside them,
checking each op on the way, and return tensors under FaceStudio's own names.
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch

from facestudio.errors import ModelFileError
from facestudio.models.mobilestylegan.ir_reader import IRGraph, IRLayer

LRELU_SLOPE = 0.2
HAAR = 1.0 / math.sqrt(2.0)


def _fail(graph: IRGraph, what: str) -> ModelFileError:
    return ModelFileError(f"{graph.xml_path.name}: {what}; it is not the MobileStyleGAN graph FaceStudio converts.")


def _other_input(graph: IRGraph, layer: IRLayer, known: IRLayer) -> IRLayer:
    others = [graph.layers[src] for src, _ in layer.inputs.values() if src != known.id]
    if len(others) != 1:
        raise _fail(graph, f"{layer.name} does not have exactly two inputs")
    return others[0]


def _check_slope(graph: IRGraph, prelu: IRLayer) -> None:
    slope = graph.scalar(graph.input_layer(prelu, 1))
    if abs(slope - LRELU_SLOPE) > 1e-6:
        raise _fail(graph, f"{prelu.name} has leaky slope {slope}, expected {LRELU_SLOPE}")


def _modulation(graph: IRGraph, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Affine style -> per-channel scale, with the constant gain after it folded in."""
    weight_const = graph.named(f"{prefix}.modulation.weight")
    matmul = graph.only_consumer(weight_const, "MatMul")
    if matmul.data.get("transpose_b") != "true" or matmul.data.get("transpose_a") != "false":
        raise _fail(graph, f"{matmul.name} is not x @ W^T")
    add = graph.only_consumer(matmul, "Add")
    bias = graph.const(graph.named(f"{prefix}.modulation.bias"))
    if graph.const_input(add) is not graph.named(f"{prefix}.modulation.bias"):
        raise _fail(graph, f"{add.name} does not add {prefix}.modulation.bias")
    weight = graph.const(weight_const)
    reshape = graph.only_consumer(add, "Reshape")
    gain = 1.0
    users = [u for u in graph.consumers(reshape) if u.type == "Multiply"]
    if len(users) == 1 and graph.const_input(users[0]) is not None:
        gain = graph.scalar(graph.const_input(users[0]))
    if weight.shape[0] != bias.size:
        raise _fail(graph, f"{prefix}.modulation has weight {weight.shape} and bias {bias.shape}")
    return weight * gain, bias.reshape(-1) * gain


def _styled_conv(graph: IRGraph, prefix: str) -> dict[str, np.ndarray]:
    """conv (3x3 dense, or 3x3 depthwise + 1x1), + noise map, + bias, leaky ReLU."""
    bias_const = graph.named(f"{prefix}.bias")
    add_bias = graph.only_consumer(bias_const, "Add")
    _check_slope(graph, graph.only_consumer(add_bias, "PReLU"))
    add_noise = _other_input(graph, add_bias, bias_const)
    noise_const = graph.const_input(add_noise)
    if add_noise.type != "Add" or noise_const is None:
        raise _fail(graph, f"{prefix} has no constant noise map before its bias")
    conv = _other_input(graph, add_noise, noise_const)
    if conv.type != "Convolution":
        raise _fail(graph, f"{prefix} is fed by {conv.type}, not a Convolution")
    out = {"bias": graph.const(bias_const).reshape(-1), "noise": graph.const(noise_const)}
    out["weight"] = graph.const(graph.input_layer(conv, 1))
    source = graph.input_layer(conv, 0)
    if source.type == "GroupConvolution":  # depthwise 3x3 then the 1x1 "permute" conv
        dw = graph.const(graph.named(f"{prefix}.conv.weight_dw"))
        if graph.input_layer(source, 1) is not graph.named(f"{prefix}.conv.weight_dw"):
            raise _fail(graph, f"{source.name} does not use {prefix}.conv.weight_dw")
        out["weight_dw"] = dw.reshape(dw.shape[0], 1, *dw.shape[-2:])
    out["mod_weight"], out["mod_bias"] = _modulation(graph, f"{prefix}.conv")
    return out


def _check_haar(graph: IRGraph) -> None:
    """Every transposed convolution is one of the two db1 (Haar) synthesis filters."""
    ups = graph.by_type("GroupConvolutionBackpropData")
    if not ups:
        raise _fail(graph, "no wavelet upsampling found")
    for layer in ups:
        if layer.data.get("strides") not in ("2, 1", "1, 2"):
            raise _fail(graph, f"{layer.name} has strides {layer.data.get('strides')}")
        taps = graph.const(graph.input_layer(layer, 1)).reshape(-1, 2)
        low, high = np.array([HAAR, HAAR]), np.array([HAAR, -HAAR])
        if not (np.allclose(taps, low, atol=1e-7) or np.allclose(taps, high, atol=1e-7)):
            raise _fail(graph, f"{layer.name} is not a Haar synthesis filter")


def _as_torch(d: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in d.items()}


def mapping_weights(graph: IRGraph) -> dict[str, torch.Tensor]:
    """PixelNorm, then n x (linear with equalised-lr gain folded in, + bias, leaky ReLU * sqrt 2)."""
    out: dict[str, np.ndarray] = {}
    matmuls = graph.by_type("MatMul")
    if not 1 <= len(matmuls) <= 16:
        raise _fail(graph, f"{len(matmuls)} linear layers")
    for i, mm in enumerate(matmuls):
        if mm.data.get("transpose_b") != "true":
            raise _fail(graph, f"{mm.name} is not x @ W^T")
        weight = graph.const(graph.input_layer(mm, 1))
        add = graph.only_consumer(mm, "Add")
        bias = graph.const(graph.input_layer(_other_input(graph, add, mm), 0))
        prelu = graph.only_consumer(add, "PReLU")
        _check_slope(graph, prelu)
        gain = graph.scalar(graph.const_input(graph.only_consumer(prelu, "Multiply")))
        if abs(gain - math.sqrt(2.0)) > 1e-6 or weight.shape != (bias.size, bias.size):
            raise _fail(graph, f"layer {i} has gain {gain} and weight {weight.shape}")
        out[f"mapping.fc.{i}.weight"], out[f"mapping.fc.{i}.bias"] = weight, bias
    first = graph.input_layer(matmuls[0], 0)
    if first.type != "Multiply":  # PixelNorm ends in x * rsqrt(mean(x^2) + eps)
        raise _fail(graph, "the mapping does not start with a pixel norm")
    return _as_torch(out)


def synthesis_weights(graph: IRGraph) -> tuple[dict[str, torch.Tensor], list[int]]:
    """Tensors of the synthesis network and its channel list (input channels, then each block's)."""
    _check_haar(graph)
    blocks = sorted({int(m.group(1)) for name in (l.name for l in graph.layers.values())
                     if (m := re.fullmatch(r"m\.layers\.(\d+)\.conv1\.bias", name))})
    if blocks != list(range(len(blocks))) or not blocks:
        raise _fail(graph, f"synthesis blocks numbered {blocks}")
    out: dict[str, np.ndarray] = {"synthesis.const": graph.const(graph.named("m.input.input"))}
    for k, v in _styled_conv(graph, "m.conv1").items():
        out[f"synthesis.conv0.{k}"] = v
    channels = [out["synthesis.const"].shape[1]]
    for i in blocks:
        p = f"synthesis.blocks.{i}"
        out[f"{p}.up.mod_weight"], out[f"{p}.up.mod_bias"] = _modulation(graph, f"m.layers.{i}.up")
        for j in (1, 2):
            for k, v in _styled_conv(graph, f"m.layers.{i}.conv{j}").items():
                out[f"{p}.conv{j}.{k}"] = v
        channels.append(out[f"{p}.conv2.bias"].size)
    last = blocks[-1]
    out["synthesis.to_img.weight"] = graph.const(graph.named(f"m.layers.{last}.to_img.conv.weight"))
    out["synthesis.to_img.bias"] = graph.const(graph.named(f"m.layers.{last}.to_img.bias")).reshape(-1)
    out["synthesis.to_img.mod_weight"], out["synthesis.to_img.mod_bias"] = _modulation(graph, f"m.layers.{last}.to_img.conv")
    return _as_torch(out), channels
