"""Native StyleGAN2(-ADA) discriminator, used by the realism meter.

Blocks from R down to 8 px: (fromRGB,) two 3x3 convolutions, the second downsampling 2x
after a [1,3,3,1] FIR; `resnet` adds a 1x1 downsampling shortcut with 1/sqrt(2) gains,
`skip` feeds a downsampled image to every block, `orig` neither. The 4x4 epilogue
appends the minibatch standard deviation, convolves, and ends in two dense layers;
a conditional model projects the output onto an embedding of the class label.
Tensor names follow the published files.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from facestudio.models.stylegan.mapping import MappingNetwork
from facestudio.models.stylegan.ops import FullyConnected, bias_act, conv_down2, design_fir, downsample2d

SQRT_HALF = math.sqrt(0.5)


class Conv2dLayer(nn.Module):
    """Convolution with equalised learning rate, optional 2x FIR downsampling, bias + activation + clamp."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True, activation: str = "linear",
                 down: int = 1, resample_filter: list[float] | None = None, conv_clamp: float | None = None,
                 **_ignored: object) -> None:
        super().__init__()
        self.activation, self.down, self.conv_clamp = activation, down, conv_clamp
        self.padding = kernel_size // 2
        self.register_buffer("resample_filter", design_fir(resample_filter or [1, 3, 3, 1]))
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = self.weight * self.weight_gain
        if self.down == 2:
            x = conv_down2(x, w, self.resample_filter, self.padding)
        else:
            x = F.conv2d(x, w, padding=self.padding)
        act_gain = (math.sqrt(2.0) if self.activation == "lrelu" else 1.0) * gain
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, self.activation, gain=act_gain, clamp=clamp)


class DiscriminatorBlock(nn.Module):
    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int, resolution: int, img_channels: int,
                 architecture: str = "resnet", activation: str = "lrelu", resample_filter: list[float] | None = None,
                 conv_clamp: float | None = None, **_ignored: object) -> None:
        super().__init__()
        self.in_channels, self.architecture = in_channels, architecture
        self.register_buffer("resample_filter", design_fir(resample_filter or [1, 3, 3, 1]))
        if in_channels == 0 or architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation=activation, conv_clamp=conv_clamp)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation=activation, conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation=activation, down=2,
                                 resample_filter=resample_filter, conv_clamp=conv_clamp)
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, down=2, resample_filter=resample_filter)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.in_channels == 0 or self.architecture == "skip":
            y = self.fromrgb(img)
            x = x + y if x is not None else y
            img = downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        if self.architecture == "resnet":
            y = self.skip(x, gain=SQRT_HALF)
            x = y + self.conv1(self.conv0(x), gain=SQRT_HALF)
        else:
            x = self.conv1(self.conv0(x))
        return x, img


class MinibatchStdLayer(nn.Module):
    """Appends the standard deviation across groups of samples as extra feature maps.

    Groups of `group_size` samples (fewer when the batch does not divide: the largest
    divisor of N up to group_size, so any batch size works at inference).
    """

    def __init__(self, group_size: int | None = 4, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n) if self.group_size else n
        while n % g:
            g -= 1
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0)
        y = (y + 1e-8).sqrt().mean(dim=[2, 3, 4])
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)


class DiscriminatorEpilogue(nn.Module):
    def __init__(self, in_channels: int, cmap_dim: int, resolution: int, img_channels: int, architecture: str = "resnet",
                 mbstd_group_size: int | None = 4, mbstd_num_channels: int = 1, activation: str = "lrelu",
                 conv_clamp: float | None = None) -> None:
        super().__init__()
        self.architecture, self.cmap_dim = architecture, cmap_dim
        if architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, in_channels, 1, activation=activation)
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, 3, activation=activation, conv_clamp=conv_clamp)
        self.fc = FullyConnected(in_channels * resolution**2, in_channels, activation=activation)
        self.out = FullyConnected(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(self, x: torch.Tensor, img: torch.Tensor | None, cmap: torch.Tensor | None) -> torch.Tensor:
        if self.architecture == "skip":
            x = x + self.fromrgb(img)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.out(self.fc(self.conv(x).flatten(1)))
        if self.cmap_dim > 0:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x


class StyleGAN2Discriminator(nn.Module):
    """image (N, C, R, R) [+ class labels (N, c_dim)] -> realism logit (N,); arguments are the published `D_kwargs`."""

    def __init__(self, c_dim: int, img_resolution: int, img_channels: int = 3, architecture: str = "resnet",
                 channel_base: int = 32768, channel_max: int = 512, num_fp16_res: int = 0, conv_clamp: float | None = None,
                 cmap_dim: int | None = None, block_kwargs: dict[str, Any] | None = None,
                 mapping_kwargs: dict[str, Any] | None = None, epilogue_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.c_dim, self.img_resolution, self.img_channels = c_dim, img_resolution, img_channels
        log2 = int(math.log2(img_resolution))
        self.block_resolutions = [2**i for i in range(log2, 2, -1)]
        channels = {r: min(channel_base // r, channel_max) for r in self.block_resolutions + [4]}
        if cmap_dim is None:
            cmap_dim = channels[4]
        if c_dim == 0:
            cmap_dim = 0
        common = dict(img_channels=img_channels, architecture=architecture, conv_clamp=conv_clamp)
        for res in self.block_resolutions:
            in_channels = channels[res] if res < img_resolution else 0
            setattr(self, f"b{res}", DiscriminatorBlock(in_channels, channels[res], channels[res // 2], res,
                                                        **(block_kwargs or {}), **common))
        if c_dim > 0:
            self.mapping = MappingNetwork(0, c_dim, cmap_dim, None, w_avg_beta=None, **(mapping_kwargs or {}))
        self.b4 = DiscriminatorEpilogue(channels[4], cmap_dim, 4, **(epilogue_kwargs or {}), **common)

    def _check(self, img: torch.Tensor) -> None:
        r, ch = self.img_resolution, self.img_channels
        if img.dim() != 4 or tuple(img.shape[1:]) != (ch, r, r):
            raise ValueError(f"expected images of shape (N, {ch}, {r}, {r}), got {tuple(img.shape)}")

    def features(self, img: torch.Tensor) -> list[torch.Tensor]:
        """Each block's output activations (the projection's perceptual loss compares these)."""
        self._check(img)
        img = img.to(torch.float32)
        x, feats = None, []
        for res in self.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img)
            feats.append(x)
        return feats

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        self._check(img)
        if self.c_dim > 0 and c is None:
            # The realism meter asks "real for any class?": without labels, average the classes.
            c = torch.full((img.shape[0], self.c_dim), 1.0 / self.c_dim, device=img.device)
        img = img.to(torch.float32)
        x = None
        for res in self.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img)
        cmap = self.mapping(None, c) if self.c_dim > 0 else None
        return self.b4(x, img, cmap).flatten()
