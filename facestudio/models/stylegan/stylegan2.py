"""Native StyleGAN2(-ADA) generator (Karras et al. 2020, "Analyzing and Improving the Image
Quality of StyleGAN"; ADA variant's layout and settings).

Synthesis is a stack of blocks, one per resolution 4, 8, ... R. Each block has two
modulated 3x3 convolutions (the first upsampling 2x with a [1,3,3,1] FIR), per-pixel
noise scaled by a learned strength, bias + leaky ReLU (gain sqrt 2) clamped to
+-conv_clamp, and a ToRGB (1x1 modulated, not demodulated). Architectures: `skip` sums
upsampled RGB outputs of every block, `resnet` adds a 1x1 upsampling skip path with
1/sqrt(2) gains and only the last block draws RGB, `orig` neither.

Sub-module and tensor names follow the published files, so a file's tensors load by
name; the fp16 settings of a file are recorded but everything runs in float32.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from facestudio.models.stylegan import ops
from facestudio.models.stylegan.mapping import MappingNetwork
from facestudio.models.stylegan.ops import FullyConnected, bias_act, conv_up2, design_fir, modulated_conv2d, upsample2d
from facestudio.models.two_stage import TwoStageGenerator, check_noise_mode, check_ws, module_property

ARCHITECTURES = ("orig", "skip", "resnet")
SQRT_HALF = math.sqrt(0.5)


class SynthesisLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, kernel_size: int = 3,
                 up: int = 1, use_noise: bool = True, activation: str = "lrelu", resample_filter: list[float] | None = None,
                 conv_clamp: float | None = None, **_ignored: object) -> None:
        super().__init__()
        self.resolution, self.up, self.use_noise, self.activation = resolution, up, use_noise, activation
        self.conv_clamp, self.padding = conv_clamp, kernel_size // 2
        self.register_buffer("resample_filter", design_fir(resample_filter or [1, 3, 3, 1]))
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        if use_noise:
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const", gain: float = 1.0) -> torch.Tensor:
        styles = self.affine(w)
        n = x.shape[0]
        noise = None
        if self.use_noise and noise_mode != "none":
            if noise_mode == "random":
                noise = torch.randn(n, 1, self.resolution, self.resolution, device=x.device, dtype=x.dtype)
            else:
                noise = self.noise_const.to(x.dtype)
            noise = noise * self.noise_strength
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        act_gain = (math.sqrt(2.0) if self.activation == "lrelu" else 1.0) * gain
        if ops.reference_mode():
            x = modulated_conv2d(x, self.weight, styles, up=self.up == 2, padding=self.padding, resample_filter=self.resample_filter)
            x = x + noise if noise is not None else x
            return bias_act(x, self.bias, self.activation, gain=act_gain, clamp=clamp)
        # Fast path: demodulation, noise, bias and gain in one pass (lrelu(g*v) = g*lrelu(v)
        # for g > 0), then lrelu and clamp in place.
        demod = (styles.square().matmul(weight_norms(self).t()) + 1e-8).rsqrt() * act_gain
        x, scale = fast_modulated_conv(self, x, styles, demod, self.up == 2)
        offset = self.bias.reshape(1, -1, 1, 1) if noise is None else self.bias.reshape(1, -1, 1, 1) + noise
        if scale is None:
            x = x + offset * act_gain if x.requires_grad else x.add_(offset * act_gain)
        else:
            x = torch.addcmul(offset * act_gain, x, scale.reshape(n, -1, 1, 1))
        if x.requires_grad:  # e.g. projection: keep autograd's saved tensors intact
            x = F.leaky_relu(x, ops.LRELU_SLOPE) if self.activation == "lrelu" else x
            return x.clamp(-clamp, clamp) if clamp is not None else x
        if self.activation == "lrelu":
            x = F.leaky_relu_(x, ops.LRELU_SLOPE)
        return x.clamp_(-clamp, clamp) if clamp is not None else x


def fast_modulated_conv(layer: nn.Module, x: torch.Tensor, styles: torch.Tensor, out_scale: torch.Tensor | None,
                        up: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Modulated convolution in whichever form moves less data; returns (y, scale still to apply).

    Scaling the inputs costs a pass over N*Cin*H*W activations; modulating the weights
    costs N*Cout*Cin*k*k multiplies and a grouped convolution. At high resolutions the
    weights are far smaller than the activations, and the output scale (demodulation
    and gain) folds into them too, so nothing is left to apply (scale None).
    """
    weight = layer.weight
    n, cin, h, w = x.shape
    cout, _, k, _ = weight.shape
    if cout * k * k < h * w:
        wm = weight.unsqueeze(0) * styles.reshape(n, 1, cin, 1, 1)
        if out_scale is not None:
            wm = wm * out_scale.reshape(n, cout, 1, 1, 1)
        xg = x.reshape(1, n * cin, h, w)
        if up:
            y = ops.conv_up2(xg, None, layer.resample_filter, layer.padding,
                             wm.transpose(1, 2).reshape(n * cin, cout, k, k), groups=n)
        else:
            y = F.conv2d(xg, wm.reshape(n * cout, cin, k, k), padding=layer.padding, groups=n)
        return y.reshape(n, cout, *y.shape[2:]), None
    x = x * styles.reshape(n, -1, 1, 1)
    if up:
        x = ops.conv_up2(x, weight, layer.resample_filter, layer.padding, cached_transpose(layer))
    else:
        x = F.conv2d(x, weight, padding=layer.padding)
    return x, out_scale


def weight_norms(layer: nn.Module) -> torch.Tensor:
    """Per (out, in) sum of squared kernel taps, cached while the weights stay unchanged."""
    weight = layer.weight
    key = (weight.data_ptr(), weight._version, weight.requires_grad)
    if weight.requires_grad or getattr(layer, "_norms_key", None) != key:
        norms = weight.square().sum(dim=[2, 3])
        if weight.requires_grad:
            return norms
        layer._norms, layer._norms_key = norms, key
    return layer._norms


def cached_transpose(layer: nn.Module) -> torch.Tensor:
    """The (in, out, k, k) contiguous weight a transposed convolution wants, cached likewise."""
    weight = layer.weight
    key = (weight.data_ptr(), weight._version)
    if weight.requires_grad:
        return weight.transpose(0, 1)
    if getattr(layer, "_transposed_key", None) != key:
        layer._transposed, layer._transposed_key = weight.transpose(0, 1).contiguous(), key
    return layer._transposed


class ToRGBLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, kernel_size: int = 1,
                 conv_clamp: float | None = None, **_ignored: object) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        if ops.reference_mode():
            x = modulated_conv2d(x, self.weight, styles, demodulate=False)
        else:
            x, _ = fast_modulated_conv(self, x, styles, None, False)
        return bias_act(x, self.bias, clamp=self.conv_clamp)


class SkipConv(nn.Module):
    """The resnet block's 1x1 upsampling shortcut (no bias, linear)."""

    def __init__(self, in_channels: int, out_channels: int, resample_filter: list[float] | None) -> None:
        super().__init__()
        self.register_buffer("resample_filter", design_fir(resample_filter or [1, 3, 3, 1]))
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        return conv_up2(x, self.weight * (self.weight_gain * gain), self.resample_filter, 0)


class SynthesisBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int, is_last: bool,
                 architecture: str = "skip", resample_filter: list[float] | None = None, conv_clamp: float | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__()
        self.in_channels, self.resolution, self.is_last, self.architecture = in_channels, resolution, is_last, architecture
        self.register_buffer("resample_filter", design_fir(resample_filter or [1, 3, 3, 1]))
        self.num_conv = 1 if in_channels == 0 else 2
        self.num_torgb = 1 if is_last or architecture == "skip" else 0
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=2, resample_filter=resample_filter,
                                        conv_clamp=conv_clamp, **layer_kwargs)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, conv_clamp=conv_clamp, **layer_kwargs)
        if self.num_torgb:
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
        if in_channels != 0 and architecture == "resnet":
            self.skip = SkipConv(in_channels, out_channels, resample_filter)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor, noise_mode: str,
                draw_rgb: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        w = iter(ws.unbind(dim=1))
        if self.in_channels == 0:
            # Channels-last activations let oneDNN convolve without reordering them each layer.
            x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1).contiguous(memory_format=torch.channels_last)
            x = self.conv1(x, next(w), noise_mode)
        elif self.architecture == "resnet":
            y = self.skip(x, gain=SQRT_HALF)
            x = self.conv0(x, next(w), noise_mode)
            x = y + self.conv1(x, next(w), noise_mode, gain=SQRT_HALF)
        else:
            x = self.conv0(x, next(w), noise_mode)
            x = self.conv1(x, next(w), noise_mode)
        if not draw_rgb:
            return x, img
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        if self.num_torgb:
            y = self.torgb(x, next(w))
            img = img + y if img is not None else y
        return x, img


class SynthesisNetwork(nn.Module):
    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, num_fp16_res: int = 0, **block_kwargs: Any) -> None:
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        log2 = int(math.log2(img_resolution))
        self.block_resolutions = [2**i for i in range(2, log2 + 1)]
        channels = {r: min(channel_base // r, channel_max) for r in self.block_resolutions}
        self.num_ws = 0
        for res in self.block_resolutions:
            block = SynthesisBlock(channels[res // 2] if res > 4 else 0, channels[res], w_dim, res, img_channels,
                                   is_last=res == img_resolution, **block_kwargs)
            self.num_ws += block.num_conv + (block.num_torgb if res == img_resolution else 0)
            setattr(self, f"b{res}", block)

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", up_to: int | None = None) -> torch.Tensor:
        """Images (N, C, R, R) from ws (N, num_ws, w_dim); `up_to` stops at that block's RGB."""
        check_noise_mode(noise_mode)
        ws = check_ws(ws, self.num_ws, self.w_dim)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            x, img = block(x, img, ws[:, w_idx : w_idx + block.num_conv + block.num_torgb], noise_mode)
            w_idx += block.num_conv
            if res == up_to:
                break
        return img


class StyleGAN2Generator(TwoStageGenerator):
    """G(z, c) = synthesis(mapping(z, c)); constructor arguments are the published `G_kwargs`.

    `mapping` and `synthesis` are sub-modules (as in the published files, so tensor names
    match) that are called like the interface's methods.
    """

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, img_resolution: int, img_channels: int = 3,
                 mapping_kwargs: dict[str, Any] | None = None, synthesis_kwargs: dict[str, Any] | None = None,
                 **more_synthesis_kwargs: Any) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, **(synthesis_kwargs or {}), **more_synthesis_kwargs)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws, **(mapping_kwargs or {}))

    mapping = module_property("mapping")  # type: ignore[assignment]
    synthesis = module_property("synthesis")  # type: ignore[assignment]

    @property
    def w_avg(self) -> torch.Tensor | None:
        return self.mapping.w_avg

    @property
    def preview_resolutions(self) -> tuple[int, ...]:
        net = self.synthesis
        if getattr(net, f"b{net.img_resolution}").architecture != "skip":
            return ()
        return tuple(r for r in net.block_resolutions if r < net.img_resolution)

    def synthesis_preview(self, ws: torch.Tensor, resolution: int, noise_mode: str = "const") -> torch.Tensor:
        if resolution == self.img_resolution:
            return self.synthesis(ws, noise_mode)
        if resolution not in self.preview_resolutions:
            return super().synthesis_preview(ws, resolution, noise_mode)
        return self.synthesis(ws, noise_mode, up_to=resolution)
