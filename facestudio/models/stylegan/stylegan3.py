"""Native StyleGAN3 generator, configs T and R (Karras et al. 2021, "Alias-Free Generative
Adversarial Networks").

The synthesis starts from Fourier features: sinusoids of fixed random frequencies in
the input's band, rotated and translated per sample by a transform predicted from the
first w (times the user-settable `transform` buffer), faded out near the band edge.
Each of the `num_layers` layers is a modulated convolution (3x3 for T, 1x1 for R) whose
input is divided by the root of a tracked mean square (`magnitude_ema`), followed by
a filtered leaky ReLU: upsample (zero insertion + low-pass), leaky ReLU at the higher
rate, low-pass + downsample. Cutoffs rise geometrically from the first to the last
critically sampled layers (appendix F's schedule); R uses radial (jinc) down filters
on the non-critical layers. The filters are buffers of the file; `design_lowpass`
rebuilds them for networks built here. Names follow the published files.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from facestudio.models.stylegan.mapping import MappingNetwork
from facestudio.models.stylegan.ops import FullyConnected, bias_act, fir_filter, upfirdn2d
from facestudio.models.two_stage import TwoStageGenerator, check_noise_mode, check_ws, module_property

LRELU_SLOPE = 0.2


def _kaiser_beta(numtaps: int, width_rel_nyquist: float) -> float:
    """Kaiser window beta for a transition band of this width (Kaiser's empirical formulas)."""
    atten = 2.285 * (numtaps - 1) * math.pi * width_rel_nyquist + 7.95
    if atten > 50:
        return 0.1102 * (atten - 8.7)
    if atten > 21:
        return 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
    return 0.0


def design_lowpass(numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False) -> torch.Tensor | None:
    """Kaiser-windowed sinc (separable, 1-D) or jinc (radial, 2-D) low-pass summing to 1; None for 1 tap."""
    if numtaps == 1:
        return None
    beta = _kaiser_beta(numtaps, width / (fs / 2))
    window = np.kaiser(numtaps, beta)
    t = np.arange(numtaps) - (numtaps - 1) / 2
    if not radial:
        c = 2 * cutoff / fs
        f = c * np.sinc(c * t) * window
        return torch.tensor(f / f.sum(), dtype=torch.float32)
    x = t / fs
    r = torch.from_numpy(np.hypot(*np.meshgrid(x, x)))
    arg = 2 * cutoff * math.pi * r
    jinc = torch.where(r > 0, torch.special.bessel_j1(arg) / (math.pi * r.clamp_min(1e-30)), torch.full_like(r, cutoff))
    f = jinc.numpy() * np.outer(window, window)
    return torch.tensor(f / f.sum(), dtype=torch.float32)


class SynthesisInput(nn.Module):
    def __init__(self, w_dim: int, channels: int, size: int, sampling_rate: float, bandwidth: float) -> None:
        super().__init__()
        self.channels, self.size, self.sampling_rate, self.bandwidth = channels, int(size), float(sampling_rate), float(bandwidth)
        freqs = torch.randn(channels, 2)
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * bandwidth
        self.weight = nn.Parameter(torch.randn(channels, channels))
        self.affine = FullyConnected(w_dim, 4, weight_init=0.0, bias_init=[1, 0, 0, 0])
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", freqs)
        self.register_buffer("phases", torch.rand(channels) - 0.5)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        n = w.shape[0]
        t = self.affine(w)  # (cos, sin, tx, ty) up to scale
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        rot = torch.eye(3, device=w.device).repeat(n, 1, 1)
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        shift = torch.eye(3, device=w.device).repeat(n, 1, 1)
        shift[:, 0, 2], shift[:, 1, 2] = -t[:, 2], -t[:, 3]
        m = rot @ shift @ self.transform.unsqueeze(0)
        # Transforming the coordinates is the same as transforming the frequencies and phases.
        phases = self.phases.unsqueeze(0) + (self.freqs.unsqueeze(0) @ m[:, :2, 2:]).squeeze(2)  # (N, C)
        freqs = self.freqs.unsqueeze(0) @ m[:, :2, :2]  # (N, C, 2)
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)
        # Pixel centres, in units of the input's own sampling period, centred on the canvas.
        coords = (torch.arange(self.size, device=w.device, dtype=torch.float32) + 0.5 - self.size / 2) / self.sampling_rate
        gx = coords.view(1, -1, 1).expand(self.size, -1, -1)
        gy = coords.view(-1, 1, 1).expand(-1, self.size, -1)
        grid = torch.cat([gx, gy], dim=2).reshape(1, -1, 2)  # (1, H*W, 2) as (x, y)
        x = grid @ freqs.transpose(1, 2) + phases.unsqueeze(1)  # (N, H*W, C)
        x = torch.sin(x * (2 * math.pi)) * amplitudes.unsqueeze(1)
        x = x @ (self.weight / math.sqrt(self.channels)).t()
        return x.transpose(1, 2).reshape(n, self.channels, self.size, self.size)


class SynthesisLayer(nn.Module):
    def __init__(self, w_dim: int, is_torgb: bool, is_critically_sampled: bool, in_channels: int, out_channels: int,
                 in_size: int, out_size: int, in_sampling_rate: float, out_sampling_rate: float, in_cutoff: float,
                 out_cutoff: float, in_half_width: float, out_half_width: float, conv_kernel: int = 3,
                 filter_size: int = 6, lrelu_upsampling: int = 2, use_radial_filters: bool = False,
                 conv_clamp: float | None = 256, **_ignored: object) -> None:
        super().__init__()
        self.is_torgb, self.in_channels, self.conv_clamp = is_torgb, in_channels, conv_clamp
        self.conv_kernel = 1 if is_torgb else conv_kernel
        tmp_rate = max(in_sampling_rate, out_sampling_rate) * (1 if is_torgb else lrelu_upsampling)
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, self.conv_kernel, self.conv_kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        self.up_factor = int(round(tmp_rate / in_sampling_rate))
        self.down_factor = int(round(tmp_rate / out_sampling_rate))
        up_taps = filter_size * self.up_factor if self.up_factor > 1 and not is_torgb else 1
        down_taps = filter_size * self.down_factor if self.down_factor > 1 and not is_torgb else 1
        self.register_buffer("up_filter", design_lowpass(up_taps, in_cutoff, in_half_width * 2, tmp_rate))
        radial = use_radial_filters and not is_critically_sampled
        self.register_buffer("down_filter", design_lowpass(down_taps, out_cutoff, out_half_width * 2, tmp_rate, radial))
        # Padding that makes the output exactly out_size, centred as in the paper's appendix C.3.
        total = (out_size - 1) * self.down_factor + 1 - (in_size + self.conv_kernel - 1) * self.up_factor + up_taps + down_taps - 2
        lo = (total + self.up_factor) // 2
        self.padding = (lo, total - lo, lo, total - lo)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)
        if self.is_torgb:
            styles = styles / math.sqrt(self.in_channels * self.conv_kernel**2)
        n = x.shape[0]
        x = x * (styles * self.magnitude_ema.rsqrt()).reshape(n, -1, 1, 1)
        x = torch.nn.functional.conv2d(x, self.weight, padding=self.conv_kernel - 1)
        if not self.is_torgb:
            # Demodulation: divide each output by the norm of its modulated weights.
            wsq = self.weight.square().sum(dim=[2, 3])
            x = x * (styles.square().matmul(wsq.t()) + 1e-8).rsqrt().reshape(n, -1, 1, 1)
        return self.filtered_lrelu(x)

    def filtered_lrelu(self, x: torch.Tensor) -> torch.Tensor:
        """bias, upsample + low-pass, leaky ReLU (gain sqrt 2) and clamp, low-pass + downsample."""
        x = x + self.bias.reshape(1, -1, 1, 1)
        if self.up_filter is not None or self.up_factor > 1 or any(self.padding):
            f = self.up_filter if self.up_filter is not None else torch.ones(1, device=x.device)
            x = upfirdn2d(x, f, up=self.up_factor, pad=self.padding, gain=self.up_factor**2)
        if x.requires_grad:
            x = bias_act(x, None, "linear" if self.is_torgb else "lrelu", clamp=self.conv_clamp)
        else:  # the same, in place
            if not self.is_torgb:
                x = torch.nn.functional.leaky_relu_(x, LRELU_SLOPE).mul_(math.sqrt(2.0))
            if self.conv_clamp is not None:
                x = x.clamp_(-self.conv_clamp, self.conv_clamp)
        if self.down_filter is not None:
            x = fir_filter(x, self.down_filter, down=self.down_factor)
        elif self.down_factor > 1:
            x = x[:, :, :: self.down_factor, :: self.down_factor]
        return x


class SynthesisNetwork(nn.Module):
    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768, channel_max: int = 512,
                 num_layers: int = 14, num_critical: int = 2, first_cutoff: float = 2, first_stopband: float = 2**2.1,
                 last_stopband_rel: float = 2**0.3, margin_size: int = 10, output_scale: float = 0.25,
                 num_fp16_res: int = 4, **layer_kwargs: Any) -> None:
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.num_ws = num_layers + 2
        self.output_scale = output_scale
        last_cutoff = img_resolution / 2
        last_stopband = last_cutoff * last_stopband_rel
        exponents = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
        cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents
        stopbands = first_stopband * (last_stopband / first_stopband) ** exponents
        rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, img_resolution))))
        half_widths = np.maximum(stopbands, rates / 2) - cutoffs
        sizes = rates + margin_size * 2
        sizes[-2:] = img_resolution
        channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
        channels[-1] = img_channels
        self.input = SynthesisInput(w_dim, int(channels[0]), int(sizes[0]), rates[0], cutoffs[0])
        self.layer_names = []
        for i in range(num_layers + 1):
            p = max(i - 1, 0)
            layer = SynthesisLayer(
                w_dim, i == num_layers, i >= num_layers - num_critical, int(channels[p]), int(channels[i]),
                int(sizes[p]), int(sizes[i]), int(rates[p]), int(rates[i]), float(cutoffs[p]), float(cutoffs[i]),
                float(half_widths[p]), float(half_widths[i]), **layer_kwargs)
            name = f"L{i}_{int(sizes[i])}_{int(channels[i])}"
            setattr(self, name, layer)
            self.layer_names.append(name)

    def forward(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """Images (N, C, R, R) from ws (N, num_layers + 2, w_dim); StyleGAN3 has no noise inputs."""
        check_noise_mode(noise_mode)
        ws = check_ws(ws, self.num_ws, self.w_dim).unbind(dim=1)
        x = self.input(ws[0])
        for name, w in zip(self.layer_names, ws[1:]):
            x = getattr(self, name)(x, w)
        return x * self.output_scale


class StyleGAN3Generator(TwoStageGenerator):
    """G(z, c) = synthesis(mapping(z, c)); constructor arguments are the published `G_kwargs`."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, img_resolution: int, img_channels: int = 3,
                 mapping_kwargs: dict[str, Any] | None = None, **synthesis_kwargs: Any) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, **synthesis_kwargs)
        self.num_ws = self.synthesis.num_ws
        mapping = dict(num_layers=2, w_avg_beta=0.998)
        mapping.update(mapping_kwargs or {})
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws, **mapping)

    mapping = module_property("mapping")  # type: ignore[assignment]
    synthesis = module_property("synthesis")  # type: ignore[assignment]

    @property
    def w_avg(self) -> torch.Tensor | None:
        return self.mapping.w_avg
