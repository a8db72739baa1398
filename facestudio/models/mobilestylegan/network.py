"""Native PyTorch MobileStyleGAN (arXiv 2104.04767), written from the paper and the IR graph.

MobileStyleGAN replaces StyleGAN2's upsampling convolutions with wavelets: each block
predicts Haar wavelet coefficients (a low band and three high bands per channel) and
an inverse discrete wavelet transform (IDWT) doubles the resolution; its convolutions
are modulated depthwise-separable ones whose demodulation is a fixed per-channel
constant (folded into the 1x1 weights by the exporter). The last block predicts the
wavelet coefficients of the RGB image, and one more IDWT gives 1024 px.

Styles: the IR takes one 512-d style for every layer; we accept one style per layer
(`num_ws` = 16) so that style mixing works: ws[0] drives the 4x4 convolution, block i
uses ws[1 + 2i] for its wavelet upsampling and first convolution and ws[2 + 2i] for
its second, and ws[15] the RGB (wavelet) head.

Speed: activations stay channels-last (N, H, W, C) between layers, where the CPU
depthwise convolution and the 1x1 matrix products are fastest; a style's per-channel
scale commutes with the depthwise 3x3, so it is applied to the small 1x1 weight matrix
rather than to the activations, and the IDWT's 1/2 is folded into the styles.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from facestudio.models.mobilestylegan.haar import haar_idwt_nhwc

LRELU_SLOPE = 0.2


def _modulation(module: nn.Module, w: torch.Tensor) -> torch.Tensor:
    """Per-sample, per-input-channel scale from a style: (N, w_dim) -> (N, C)."""
    return torch.addmm(module.mod_bias, w, module.mod_weight.t())


def _pointwise(x: torch.Tensor, weight: torch.Tensor, s: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """1x1 conv of NHWC `x` with weight (Cout, Cin) scaled per sample by s (N, Cin), + bias.

    Run as oneDNN 1x1 convolutions on the channels-last view: measured 1.1-3x faster than
    the same product through addmm here (most for few output channels, e.g. the RGB head).
    """
    xc = x.permute(0, 3, 1, 2)  # NCHW shape, channels-last memory
    outs = [F.conv2d(xc[i : i + 1], (weight * s[i])[:, :, None, None], bias) for i in range(x.shape[0])]
    y = outs[0] if len(outs) == 1 else torch.cat(outs).contiguous(memory_format=torch.channels_last)
    return y.permute(0, 2, 3, 1)


class StyledConv(nn.Module):
    """Modulated conv (3x3 dense, or 3x3 depthwise + 1x1), + fixed noise map, + bias, leaky ReLU."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, resolution: int, depthwise: bool) -> None:
        super().__init__()
        self.depthwise = depthwise
        self.mod_weight = nn.Parameter(torch.zeros(c_in, w_dim))
        self.mod_bias = nn.Parameter(torch.ones(c_in))
        if depthwise:
            self.weight_dw = nn.Parameter(torch.zeros(c_in, 1, 3, 3))
            self.weight = nn.Parameter(torch.zeros(c_out, c_in, 1, 1))
        else:
            self.weight = nn.Parameter(torch.zeros(c_out, c_in, 3, 3))
        self.noise = nn.Parameter(torch.zeros(1, 1, resolution, resolution))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
        """x (N, H, W, Cin) -> (N, H, W, Cout)."""
        s = _modulation(self, w)
        if self.depthwise:
            x = F.conv2d(x.permute(0, 3, 1, 2), self.weight_dw, padding=1, groups=x.shape[3])
            y = _pointwise(x.permute(0, 2, 3, 1), self.weight[:, :, 0, 0], s, self.bias)
        else:
            x = x.permute(0, 3, 1, 2) * s[:, :, None, None]
            y = F.conv2d(x, self.weight, self.bias, padding=1).permute(0, 2, 3, 1)
        noise = self._noise(noise_mode, y)
        if noise is not None:
            y.add_(noise)
        return F.leaky_relu(y, LRELU_SLOPE, inplace=True)

    def _noise(self, noise_mode: str, y: torch.Tensor) -> torch.Tensor | None:
        """The noise map to add, shaped (1 or N, H, W, 1) for NHWC `y`."""
        if noise_mode == "const":
            return self.noise[0, 0, :, :, None]
        if noise_mode == "none":
            return None
        if noise_mode == "random":
            # The exporter folded noise strength into one sampled map: strength * N(0, 1).
            # Its RMS estimates |strength|; the sign does not matter for zero-mean noise.
            strength = self.noise.square().mean().sqrt()
            return torch.randn(y.shape[0], y.shape[1], y.shape[2], 1, dtype=y.dtype, device=y.device) * strength
        raise ValueError(f"noise_mode must be 'const', 'random' or 'none', not {noise_mode!r}")


class WaveletUp(nn.Module):
    """Style-scaled channels read as Haar coefficients (C low, then C x 3 high) -> IDWT (2x size)."""

    def __init__(self, c_in: int, w_dim: int) -> None:
        super().__init__()
        self.mod_weight = nn.Parameter(torch.zeros(c_in, w_dim))
        self.mod_bias = nn.Parameter(torch.ones(c_in))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        scale = _modulation(self, w).mul_(0.5)  # the IDWT's 1/2, folded in
        return haar_idwt_nhwc(x * scale[:, None, None, :], halved=True)


class SynthesisBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, w_dim: int, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.up = WaveletUp(c_in, w_dim)
        self.conv1 = StyledConv(c_in // 4, c_out, w_dim, resolution, depthwise=True)
        self.conv2 = StyledConv(c_out, c_out, w_dim, resolution, depthwise=True)

    def forward(self, x: torch.Tensor, w_up: torch.Tensor, w_conv2: torch.Tensor, noise_mode: str) -> torch.Tensor:
        x = self.up(x, w_up)
        x = self.conv1(x, w_up, noise_mode)
        return self.conv2(x, w_conv2, noise_mode)


class ToWavelets(nn.Module):
    """Modulated 1x1 conv (no demodulation) to 4 x 3 channels: Haar coefficients of RGB."""

    def __init__(self, c_in: int, w_dim: int, img_channels: int = 3) -> None:
        super().__init__()
        self.mod_weight = nn.Parameter(torch.zeros(c_in, w_dim))
        self.mod_bias = nn.Parameter(torch.ones(c_in))
        self.weight = nn.Parameter(torch.zeros(4 * img_channels, c_in, 1, 1))
        self.bias = nn.Parameter(torch.zeros(4 * img_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, halved: bool = False) -> torch.Tensor:
        """x (N, H, W, C) -> coefficients (N, H, W, 12); `halved` folds in the IDWT's 1/2."""
        s = _modulation(self, w)
        if halved:
            return _pointwise(x, self.weight[:, :, 0, 0] * 0.5, s, self.bias * 0.5)
        return _pointwise(x, self.weight[:, :, 0, 0], s, self.bias)


class MobileSynthesis(nn.Module):
    def __init__(self, w_dim: int, channels: list[int]) -> None:
        super().__init__()
        self.channels = list(channels)
        self.const = nn.Parameter(torch.zeros(1, channels[0], 4, 4))
        self.conv0 = StyledConv(channels[0], channels[0], w_dim, 4, depthwise=False)
        self.blocks = nn.ModuleList(
            SynthesisBlock(c_in, c_out, w_dim, 8 * 2**i) for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:]))
        )
        self.to_img = ToWavelets(channels[-1], w_dim)
        self.num_ws = 2 + 2 * len(self.blocks)
        self.img_resolution = 2 * self.blocks[-1].resolution

    def iter_features(self, ws: torch.Tensor, noise_mode: str) -> Iterator[tuple[int, torch.Tensor]]:
        """(blocks run, NHWC activations) after the 4x4 layer (0) and after each block."""
        x = self.const.permute(0, 2, 3, 1).expand(ws.shape[0], -1, -1, -1)
        x = self.conv0(x, ws[:, 0], noise_mode)
        yield 0, x
        for i, block in enumerate(self.blocks):
            x = block(x, ws[:, 1 + 2 * i], ws[:, 2 + 2 * i], noise_mode)
            yield i + 1, x

    def features(self, ws: torch.Tensor, n_blocks: int, noise_mode: str) -> torch.Tensor:
        """NHWC activations after the first `n_blocks` blocks (resolution 4 * 2**n_blocks)."""
        for done, x in self.iter_features(ws, noise_mode):
            if done == n_blocks:
                return x
        raise ValueError(f"the network has {len(self.blocks)} blocks, not {n_blocks}")

    def image(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Last block's activations -> image (N, 3, H, W), channels-last in memory."""
        return haar_idwt_nhwc(self.to_img(x, w, halved=True), halved=True).permute(0, 3, 1, 2)

    def forward(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """ws (N, num_ws, w_dim) -> image (N, 3, H, W), channels-last in memory."""
        return self.image(self.features(ws, len(self.blocks), noise_mode), ws[:, -1])


class MobileMapping(nn.Module):
    """PixelNorm, then `layers` x (linear + bias, leaky ReLU(0.2) * sqrt 2); gains pre-folded."""

    def __init__(self, dim: int, layers: int) -> None:
        super().__init__()
        self.fc = nn.ModuleList(nn.Linear(dim, dim) for _ in range(layers))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        for fc in self.fc:
            x = F.leaky_relu(fc(x), LRELU_SLOPE) * (2.0**0.5)
        return x
