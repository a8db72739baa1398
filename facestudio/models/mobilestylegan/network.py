"""Native PyTorch MobileStyleGAN (arXiv 2104.04767), written from the paper and the IR graph.

MobileStyleGAN replaces StyleGAN2's upsampling convolutions with wavelets: each block
predicts Haar wavelet coefficients (a low band and three high bands per channel) and
an inverse discrete wavelet transform (IDWT) doubles the resolution; its convolutions
are modulated depthwise-separable ones whose demodulation is a fixed per-channel
constant (so it is folded into the 1x1 weights at conversion). The last block predicts
the wavelet coefficients of the RGB image, and one more IDWT gives 1024 px.

Styles: the IR takes one 512-d style for every layer; we accept one style per layer
(`num_ws` = 16) so that style mixing works: ws[0] drives the 4x4 convolution, block i
uses ws[1 + 2i] for its wavelet upsampling and first convolution and ws[2 + 2i] for
its second, and ws[15] the RGB (wavelet) head.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from facestudio.models.mobilestylegan.haar import haar_idwt

LRELU_SLOPE = 0.2


def _modulation(module: nn.Module, w: torch.Tensor) -> torch.Tensor:
    """Per-sample, per-input-channel scale from a style: (N, w_dim) -> (N, C)."""
    return torch.addmm(module.mod_bias, w, module.mod_weight.t())


class StyledConv(nn.Module):
    """Modulated conv (+ fixed noise map, + bias, leaky ReLU).

    Depthwise-separable form (`weight_dw` given): the style scales the input channels,
    which commutes with the depthwise 3x3, so it is applied to the 1x1 weights instead
    (a (Cout, Cin) multiply per sample rather than a pass over the activations).
    """

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
        s = _modulation(self, w)
        n, _, h, wd = x.shape
        if self.depthwise:
            x = F.conv2d(x, self.weight_dw, padding=1, groups=x.shape[1])
            pw = self.weight[:, :, 0, 0].unsqueeze(0) * s.unsqueeze(1)  # (N, Cout, Cin)
            y = torch.bmm(pw, x.reshape(n, x.shape[1], h * wd)).view(n, -1, h, wd)
        else:
            y = F.conv2d(x * s[:, :, None, None], self.weight, padding=1)
        y = y + self._noise(noise_mode, y) + self.bias.view(1, -1, 1, 1)
        return F.leaky_relu(y, LRELU_SLOPE, inplace=True)

    def _noise(self, noise_mode: str, y: torch.Tensor) -> torch.Tensor | float:
        if noise_mode == "const":
            return self.noise
        if noise_mode == "none":
            return 0.0
        if noise_mode == "random":
            # The IR folded noise strength into one sampled map: strength * N(0, 1). Its RMS
            # estimates |strength|, and the sign does not matter for zero-mean noise.
            strength = self.noise.square().mean().sqrt()
            return torch.randn(y.shape[0], 1, *y.shape[2:], dtype=y.dtype, device=y.device) * strength
        raise ValueError(f"noise_mode must be 'const', 'random' or 'none', not {noise_mode!r}")


class WaveletUp(nn.Module):
    """Style-scaled channels read as Haar coefficients (C low, then 3C high) -> IDWT (2x size)."""

    def __init__(self, c_in: int, w_dim: int) -> None:
        super().__init__()
        self.mod_weight = nn.Parameter(torch.zeros(c_in, w_dim))
        self.mod_bias = nn.Parameter(torch.ones(c_in))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x = x * _modulation(self, w)[:, :, None, None]
        return wavelets_to_image(x)


def wavelets_to_image(x: torch.Tensor) -> torch.Tensor:
    """(N, 4C, h, w) coefficients laid out [C low | C x 3 high] -> (N, C, 2h, 2w)."""
    n, c4, h, w = x.shape
    c = c4 // 4
    return haar_idwt(x[:, :c], x[:, c:].reshape(n, c, 3, h, w))


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
    """Modulated 1x1 conv (no demodulation) to 12 channels: Haar coefficients of RGB."""

    def __init__(self, c_in: int, w_dim: int, img_channels: int = 3) -> None:
        super().__init__()
        self.mod_weight = nn.Parameter(torch.zeros(c_in, w_dim))
        self.mod_bias = nn.Parameter(torch.ones(c_in))
        self.weight = nn.Parameter(torch.zeros(4 * img_channels, c_in, 1, 1))
        self.bias = nn.Parameter(torch.zeros(4 * img_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        n, c, h, wd = x.shape
        k = self.weight[:, :, 0, 0].unsqueeze(0) * _modulation(self, w).unsqueeze(1)
        y = torch.baddbmm(self.bias.view(1, -1, 1), k, x.reshape(n, c, h * wd))
        return y.view(n, -1, h, wd)


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

    def features(self, ws: torch.Tensor, n_blocks: int, noise_mode: str) -> torch.Tensor:
        """Activations after the first `n_blocks` blocks (resolution 4 * 2**n_blocks)."""
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.conv0(x, ws[:, 0], noise_mode)
        for i, block in enumerate(self.blocks[:n_blocks]):
            x = block(x, ws[:, 1 + 2 * i], ws[:, 2 + 2 * i], noise_mode)
        return x

    def forward(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x = self.features(ws, len(self.blocks), noise_mode)
        return wavelets_to_image(self.to_img(x, ws[:, -1]))


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
