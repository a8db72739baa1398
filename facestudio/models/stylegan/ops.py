"""Building blocks shared by the native StyleGAN2 and StyleGAN3 networks, in plain torch.

The published networks rely on two custom CUDA kernels: an FIR resampler ("upfirdn":
zero-insertion upsampling, padding, FIR filtering, decimation) and a fused
bias + activation + gain + clamp. Both are written here with ordinary torch ops, so the
same networks run on any device torch supports. Equalised learning rate (weights
scaled by 1/sqrt(fan_in) at run time) follows the papers.
"""

from __future__ import annotations

import contextlib
import math
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)
_reference = False


@contextlib.contextmanager
def reference_ops() -> Iterator[None]:
    """Compute like the published reference CPU path, for the benchmark's comparison.

    Per-sample modulated weights in grouped convolutions and FIR filters as full 2-D
    kernels on zero-inserted images: the same numbers, the slow way.
    """
    global _reference
    before, _reference = _reference, True
    try:
        yield
    finally:
        _reference = before


def reference_mode() -> bool:
    return _reference


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each row to unit root-mean-square (the mapping network's input normalisation)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def bias_act(x: torch.Tensor, bias: torch.Tensor | None, activation: str = "linear", gain: float | None = None,
             clamp: float | None = None) -> torch.Tensor:
    """x + bias (per channel, dim 1), then the activation, times `gain`, clamped to +-clamp.

    `gain` None means the activation's own gain: sqrt(2) after leaky ReLU, 1 otherwise.
    """
    if bias is not None:
        x = x + bias.reshape([1, -1] + [1] * (x.dim() - 2))
    if activation == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE)
        gain = LRELU_GAIN if gain is None else gain
    elif activation != "linear":
        raise ValueError(f"activation {activation!r} is not supported (only 'lrelu' and 'linear')")
    if gain is not None and gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


class FullyConnected(nn.Module):
    """Dense layer with equalised learning rate: `weight` is stored unscaled, scaled on use."""

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init: float | list[float] = 0.0, weight_init: float = 1.0) -> None:
        super().__init__()
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * (weight_init / lr_multiplier))
        init = np.broadcast_to(np.asarray(bias_init, dtype=np.float32), [out_features])
        self.bias = nn.Parameter(torch.from_numpy(init.copy()) / lr_multiplier) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias is not None else None
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, self.activation)


# ---------------------------------------------------------------- FIR resampling
def design_fir(taps: list[float] | None) -> torch.Tensor:
    """A normalised separable 2-D low-pass from 1-D taps (the outer product, summing to 1)."""
    f = np.asarray([1.0, 1.0] if taps is None else taps, dtype=np.float64)
    if f.ndim == 1:
        f = np.outer(f, f)  # numpy: torch's outer on the meta device would import the compiler
    return torch.tensor(f / f.sum(), dtype=torch.float32)


def _separable(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(column, row) 1-D factors of a rank-one 2-D filter, or None (e.g. a radial filter)."""
    if f.dim() == 1:
        return f, f
    row = f.sum(0)
    col = f.sum(1)
    total = f.sum()
    if total == 0:
        return None
    if torch.allclose(torch.outer(col, row) / total, f, rtol=1e-5, atol=1e-7):
        return col / total.sqrt(), row / total.sqrt()
    return None


def _depthwise(x: torch.Tensor, kernel: torch.Tensor, stride: int = 1) -> torch.Tensor:
    c = x.shape[1]
    k = kernel.to(x.dtype)[None, None].expand(c, 1, *kernel.shape)
    return F.conv2d(x, k, groups=c, stride=stride)


def fir_filter(x: torch.Tensor, f: torch.Tensor, pad: tuple[int, int, int, int] = (0, 0, 0, 0), gain: float = 1.0,
               down: int = 1) -> torch.Tensor:
    """Pad (x0, x1, y0, y1; negative crops), convolve with FIR `f` (1-D = separable) times gain, decimate.

    Separable filters run as two 1-D passes; only the kept output samples are computed
    when decimating (the last pass is strided).
    """
    x = F.pad(x, list(pad))
    if _reference:
        f2 = f.outer(f) if f.dim() == 1 else f
        return _depthwise(x, f2.flip([0, 1]) * gain)[:, :, ::down, ::down]
    sep = _separable(f)
    if sep is None:
        return _depthwise(x, f.flip([0, 1]) * gain, down)
    col, row = sep
    scale = math.sqrt(gain)
    c = x.shape[1]
    kr = (row.flip(0) * scale).to(x.dtype)[None, None, None, :].expand(c, 1, 1, -1)
    kc = (col.flip(0) * scale).to(x.dtype)[None, None, :, None].expand(c, 1, -1, 1)
    x = F.conv2d(x, kr, groups=c, stride=(1, down))
    return F.conv2d(x, kc, groups=c, stride=(down, 1))


def zero_upsample(x: torch.Tensor, up: int) -> torch.Tensor:
    """Insert up-1 zeros after every sample in both directions: (H, W) -> (H*up, W*up)."""
    if up == 1:
        return x
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, h, up, w, up)
    out[:, :, :, 0, :, 0] = x
    return out.reshape(n, c, h * up, w * up)


def upfirdn2d(x: torch.Tensor, f: torch.Tensor, up: int = 1, down: int = 1,
              pad: tuple[int, int, int, int] = (0, 0, 0, 0), gain: float = 1.0) -> torch.Tensor:
    """Upsample by zero insertion, pad, FIR-filter (times gain), downsample: the resampling primitive.

    Upsampling with a 1-D (separable) filter runs as two depthwise transposed
    convolutions, which skip the inserted zeros (polyphase filtering; about half the
    work of filtering the zero-inserted image).
    """
    if up > 1 and f.dim() == 1 and down == 1 and not _reference:
        return _upsample_separable(x, f, up, pad, gain)
    return fir_filter(zero_upsample(x, up), f, pad, gain, down)


def _upsample_separable(x: torch.Tensor, f: torch.Tensor, up: int, pad: tuple[int, int, int, int], gain: float) -> torch.Tensor:
    c, k = x.shape[1], f.numel()
    taps = (f * math.sqrt(gain)).to(x.dtype)
    y = F.conv_transpose2d(x, taps.view(1, 1, 1, k).expand(c, 1, 1, k), stride=(1, up), groups=c)
    y = F.conv_transpose2d(y, taps.view(1, 1, k, 1).expand(c, 1, k, 1), stride=(up, 1), groups=c)
    # The transposed convolution's output starts k-1 samples before the padded, filtered
    # zero-inserted signal and ends up-k after it: crop or zero-pad to the same window.
    x0, x1, y0, y1 = pad
    return F.pad(y, [x0 - (k - 1), up + x1 - k, y0 - (k - 1), up + y1 - k])


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2) -> torch.Tensor:
    """Upsample by `up` with FIR `f` (gain up**2 keeps the mean), output exactly up*size."""
    fw = f.shape[-1]
    p0, p1 = (fw + up - 1) // 2, (fw - up) // 2
    return upfirdn2d(x, f, up=up, pad=(p0, p1, p0, p1), gain=up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor, down: int = 2) -> torch.Tensor:
    """Low-pass with FIR `f`, keep every `down`-th sample: output exactly size/down."""
    fw = f.shape[-1]
    p0, p1 = (fw - down + 1) // 2, (fw - down) // 2
    return fir_filter(x, f, (p0, p1, p0, p1), 1.0, down)


def conv_up2(x: torch.Tensor, weight: torch.Tensor | None, f: torch.Tensor, padding: int,
             transposed: torch.Tensor | None = None, groups: int = 1) -> torch.Tensor:
    """Upsample 2x then convolve, as a stride-2 transposed convolution followed by the FIR.

    The transposed convolution applies `weight` (out, in, k, k) as a true convolution
    (kernel not flipped), which is how the published up-sampling layers were trained;
    the FIR (4x gain) removes the zero-insertion images. Output size 2*size for
    padding = k // 2. `transposed` (in, out/groups, k, k) may be given instead of `weight`
    (cached, or per-sample modulated weights with one group per sample).
    """
    k = (weight if weight is not None else transposed).shape[-1]
    fw = f.shape[-1]
    if k == 1:
        return upsample2d(F.conv2d(x, weight), f)
    y = F.conv_transpose2d(x, weight.transpose(0, 1) if transposed is None else transposed, stride=2, groups=groups)
    p0 = padding + (fw + 1) // 2 - (k - 1)
    p1 = padding + (fw - 2) // 2 - (k - 2)
    return fir_filter(y, f, (p0, p1, p0, p1), 4.0)


def conv_down2(x: torch.Tensor, weight: torch.Tensor, f: torch.Tensor, padding: int) -> torch.Tensor:
    """Low-pass with the FIR then a stride-2 convolution: output size/2 for padding = k // 2."""
    k = weight.shape[-1]
    fw = f.shape[-1]
    if k == 1:
        return F.conv2d(downsample2d(x, f), weight)
    p0 = padding + (fw - 1) // 2
    p1 = padding + (fw - 2) // 2
    return F.conv2d(fir_filter(x, f, (p0, p1, p0, p1)), weight, stride=2)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool = True,
                     up: bool = False, padding: int = 0, resample_filter: torch.Tensor | None = None) -> torch.Tensor:
    """StyleGAN2's weight modulation/demodulation, computed by scaling activations.

    Modulating the weights per sample (w'_oik = s_i w_oik, then dividing each output by
    ||w'_o||) equals scaling the input channels by s, running one shared convolution
    for the whole batch, and scaling the outputs by the demodulation coefficients: the
    form that runs fastest on CPUs, with no per-sample weight tensors.
    """
    n = x.shape[0]
    if _reference:
        return _grouped_modulated_conv2d(x, weight, styles, demodulate, up, padding, resample_filter)
    x = x * styles.to(x.dtype).reshape(n, -1, 1, 1)
    if up:
        x = conv_up2(x, weight, resample_filter, padding)
    else:
        x = F.conv2d(x, weight.to(x.dtype), padding=padding)
    if demodulate:
        wsq = weight.square().sum(dim=[2, 3])  # (out, in)
        d = (styles.square().matmul(wsq.t()) + 1e-8).rsqrt()  # (N, out)
        x = x * d.to(x.dtype).reshape(n, -1, 1, 1)
    return x


def _grouped_modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool, up: bool,
                              padding: int, resample_filter: torch.Tensor | None) -> torch.Tensor:
    """Reference formulation: one modulated weight tensor per sample, one group per sample."""
    n, cin, h, w = x.shape
    cout, _, k, _ = weight.shape
    wm = weight.unsqueeze(0) * styles.reshape(n, 1, cin, 1, 1)
    if demodulate:
        wm = wm * (wm.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt().reshape(n, cout, 1, 1, 1)
    xg = x.reshape(1, n * cin, h, w)
    if up:
        fw = resample_filter.shape[-1]
        y = F.conv_transpose2d(xg, wm.transpose(1, 2).reshape(n * cin, cout, k, k), stride=2, groups=n)
        y = y.reshape(n, cout, *y.shape[2:])
        p0 = padding + (fw + 1) // 2 - (k - 1)
        p1 = padding + (fw - 2) // 2 - (k - 2)
        return fir_filter(y, resample_filter, (p0, p1, p0, p1), 4.0)
    y = F.conv2d(xg, wm.reshape(n * cout, cin, k, k), padding=padding, groups=n)
    return y.reshape(n, cout, *y.shape[2:])
