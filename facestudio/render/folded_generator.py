"""An inference-only twin of a DCGAN generator, rebuilt for speed on a laptop CPU.

Four rewrites, each exact up to float32 rounding (tests hold it to 1e-4 of the eval-mode
original; measured differences are ~1e-7):

1. Batch norm folded into the transposed convolutions. In eval mode BN is a per-channel
   affine map y = s * x + t with s = gamma / sqrt(var + eps), t = beta - s * mean; a
   ConvTranspose2d weight (Cin, Cout, kh, kw) is scaled along its *output-channel* axis
   (dim 1) by s and gains the bias t (plus s times any bias it had). Folding is done in
   float64 and rounded once.
2. The first layer, a ConvTranspose2d(nz, C, 4, 1, 0) on a 1x1 input, is exactly a
   matrix product z @ W.reshape(nz, C*16): one GEMM instead of a deconvolution.
3. The 4x4 -> 8x8 stage at batch 1-2 runs as GEMM + col2im (`F.fold`) instead of
   `conv_transpose2d`, whose CPU kernel is poorly blocked for 16-pixel inputs.
4. The last stage (few output channels: RGB) runs as one 2x2 convolution producing the
   four output phases (sub-pixel form of a stride-2 deconvolution) plus an interleave;
   every other stage runs `conv_transpose2d` on channels-last tensors (oneDNN's faster
   layout here).

Measured on this project's shared 2-core CPU box (torch 2.13 CPU), nz=100, ngf=64, 64 px,
1 thread, CPU time of the forward (robust to the other processes on the box), median ms:

    batch  eager  folded+channels-last  +GEMM 4x4 stage  +phase RGB stage (kept)
      1    11.4          10.2                 7.5                7.5
     16    76.5          69.7                69.0               66.3

Per stage: the 4x4 stage at batch 1 takes 4.1 ms as deconvolution vs 1.45 as GEMM+fold
(crossover near batch 4, hence the GEMM path while N*H*W <= 32); the RGB stage at batch
16 takes 6.0 vs 2.9 ms. The 64/128/256-channel stages already run near the kernel's
peak and were left as deconvolutions: phase convolutions (4 separate 2x2, or one 3x3
sub-pixel) and oneDNN's fused `_convolution_transpose_pointwise` were no faster there.
Tried and dropped for the whole network: `torch.jit.freeze` + `optimize_for_inference`
(no gain; slower at batch 1) and `torch.compile` (22 s to compile, 8.5 vs 8.2 ms: no
gain, and a desktop app cannot count on a C++ compiler being installed).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Use GEMM + col2im for a stride-2 stage while batch * input pixels stays this small.
GEMM_STAGE_MAX_POSITIONS = 32
# Run a 4/2/1 stage with this few output channels (the RGB layer) as a 2x2 phase convolution.
PHASE_STAGE_MAX_CHANNELS = 4
# For output row 2i + a, a ConvTranspose2d(k=4, s=2, p=1) reads input rows (i-1, i) with
# kernel rows (3, 1) when a = 0, and rows (i, i+1) with kernel rows (2, 0) when a = 1.
_PHASE_TAPS = ((3, 1), (2, 0))


class NotFoldableError(ValueError):
    """The generator's layers are not the DCGAN layout this rewrite understands."""


def _activation(module: nn.Module):
    if isinstance(module, nn.ReLU):
        return torch.relu_
    if isinstance(module, nn.Tanh):
        return torch.tanh_
    if isinstance(module, nn.LeakyReLU):
        slope = module.negative_slope
        return lambda x: F.leaky_relu_(x, slope)
    raise NotFoldableError(f"unsupported layer {type(module).__name__}")


def _fold(conv: nn.ConvTranspose2d, bn: nn.BatchNorm2d | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight (Cin, Cout, kh, kw) and bias (Cout,) with the eval-mode batch norm folded in."""
    w = conv.weight.detach().to(torch.float64)
    b = conv.bias.detach().to(torch.float64) if conv.bias is not None else torch.zeros(w.shape[1], dtype=torch.float64, device=w.device)
    if bn is not None:
        if bn.running_mean is None or bn.running_var is None:
            raise NotFoldableError("batch norm without running statistics cannot be folded")
        gamma = bn.weight.detach().to(torch.float64) if bn.weight is not None else torch.ones_like(b)
        beta = bn.bias.detach().to(torch.float64) if bn.bias is not None else torch.zeros_like(b)
        scale = gamma / torch.sqrt(bn.running_var.detach().to(torch.float64) + bn.eps)
        w = w * scale.view(1, -1, 1, 1)
        b = (b - bn.running_mean.detach().to(torch.float64)) * scale + beta
    return w.to(torch.float32).contiguous(), b.to(torch.float32).contiguous()


def _phase_weight(w: torch.Tensor) -> torch.Tensor:
    """(Cin, Cout, 4, 4) deconvolution weight -> (4*Cout, Cin, 2, 2) conv weight, phases (ah, aw) major."""
    phases = []
    for rows in _PHASE_TAPS:
        for cols in _PHASE_TAPS:
            phases.append(w[:, :, list(rows)][:, :, :, list(cols)].permute(1, 0, 2, 3))
    return torch.cat(phases).contiguous()


def _phase_deconvolution(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """ConvTranspose2d(k=4, s=2, p=1) as one 2x2 convolution over x padded by 1, then interleaving.

    Window r of the padded input covers rows (r-1, r): phase a = 0 of output row 2i reads
    window i, phase a = 1 of row 2i+1 reads window i+1, hence the offset slices below.
    """
    y = F.conv2d(F.pad(x, (1, 1, 1, 1)), weight, bias)  # (N, 4*C, H+1, W+1)
    n, _, hp, wp = y.shape
    c, h, w = y.shape[1] // 4, hp - 1, wp - 1
    y = y.view(n, 2, 2, c, hp, wp)
    out = torch.empty((n, c, h, 2, w, 2), dtype=y.dtype, device=y.device)
    for ah in (0, 1):
        for aw in (0, 1):
            out[:, :, :, ah, :, aw] = y[:, ah, aw, :, ah : ah + h, aw : aw + w]
    return out.view(n, c, 2 * h, 2 * w)


class FoldedGenerator(nn.Module):
    """z (N, nz) float32 -> images (N, nc, S, S) in [-1, 1], channels-last; inference only.

    Built from a DCGAN `Generator` (any size, with or without batch norm); raises
    `NotFoldableError` for layer layouts it does not know, so callers can fall back.
    Holds its own copies of the weights: later changes to the source network (training)
    do not leak in.
    """

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        main = getattr(generator, "main", None)
        if not isinstance(main, nn.Sequential):
            raise NotFoldableError("the generator has no `main` Sequential")
        layers = list(main)
        stages: list[tuple[nn.ConvTranspose2d, nn.BatchNorm2d | None, nn.Module]] = []
        i = 0
        while i < len(layers):
            conv = layers[i]
            if not isinstance(conv, nn.ConvTranspose2d):
                raise NotFoldableError(f"expected a ConvTranspose2d at layer {i}, found {type(conv).__name__}")
            if conv.groups != 1 or conv.dilation != (1, 1) or conv.output_padding != (0, 0) or conv.padding_mode != "zeros":
                raise NotFoldableError(f"layer {i} uses groups, dilation or output padding")
            bn = layers[i + 1] if i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm2d) else None
            i += 2 if bn is not None else 1
            if i >= len(layers):
                raise NotFoldableError("the generator does not end with an activation")
            stages.append((conv, bn, layers[i]))
            i += 1
        if len(stages) < 2:
            raise NotFoldableError("a DCGAN generator has at least two transposed convolutions")
        first, first_bn, first_act = stages[0]
        k = first.kernel_size[0]
        if first.kernel_size != (k, k) or first.stride != (1, 1) or first.padding != (0, 0):
            raise NotFoldableError("the first layer is not ConvTranspose2d(nz, C, k, 1, 0)")
        w0, b0 = _fold(first, first_bn)
        self.nz, self.start_channels, self.start_size = w0.shape[0], w0.shape[1], k
        # (C*k*k, nz) so that F.linear(z, W, b) is z @ W0.reshape(nz, C*k*k) + b.
        self.register_buffer("first_weight", w0.reshape(self.nz, -1).t().contiguous())
        self.register_buffer("first_bias", b0.repeat_interleave(k * k).contiguous())
        self._activations = [_activation(first_act)]
        self._geometry: list[tuple[int, int, int]] = []  # (kernel, stride, padding)
        for n, (conv, bn, act) in enumerate(stages[1:]):
            if conv.kernel_size[0] != conv.kernel_size[1] or conv.stride[0] != conv.stride[1] or conv.padding[0] != conv.padding[1]:
                raise NotFoldableError("non-square transposed convolutions are not supported")
            w, b = _fold(conv, bn)
            self.register_buffer(f"weight{n}", w)
            self.register_buffer(f"bias{n}", b)
            self.register_buffer(f"gemm_weight{n}", w.reshape(w.shape[0], -1))  # (Cin, Cout*k*k), a view
            if (conv.kernel_size[0], conv.stride[0], conv.padding[0]) == (4, 2, 1) and w.shape[1] <= PHASE_STAGE_MAX_CHANNELS:
                self.register_buffer(f"phase_weight{n}", _phase_weight(w))
                self.register_buffer(f"phase_bias{n}", b.repeat(4))
            self._geometry.append((conv.kernel_size[0], conv.stride[0], conv.padding[0]))
            self._activations.append(_activation(act))
        self.out_channels = int(getattr(self, f"weight{len(self._geometry) - 1}").shape[1])
        self.requires_grad_(False)
        self.eval()

    def _stage(self, n: int, x: torch.Tensor) -> torch.Tensor:
        k, s, p = self._geometry[n]
        w, b = getattr(self, f"weight{n}"), getattr(self, f"bias{n}")
        batch, _, h, wd = x.shape
        if batch * h * wd <= GEMM_STAGE_MAX_POSITIONS:
            cols = x.flatten(2).transpose(1, 2) @ getattr(self, f"gemm_weight{n}")  # (N, H*W, Cout*k*k)
            size = ((h - 1) * s - 2 * p + k, (wd - 1) * s - 2 * p + k)
            y = F.fold(cols.transpose(1, 2), size, k, padding=p, stride=s)
            return (y + b.view(1, -1, 1, 1)).contiguous(memory_format=torch.channels_last)
        phase_weight = getattr(self, f"phase_weight{n}", None)
        if phase_weight is not None:
            return _phase_deconvolution(x, phase_weight, getattr(self, f"phase_bias{n}"))
        return F.conv_transpose2d(x.contiguous(memory_format=torch.channels_last), w, b, s, p)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.nz:
            raise ValueError(f"expected latents of shape (N, {self.nz}), got {tuple(z.shape)}")
        x = F.linear(z.to(self.first_weight.dtype), self.first_weight, self.first_bias)
        x = self._activations[0](x.view(-1, self.start_channels, self.start_size, self.start_size))
        for n in range(len(self._geometry)):
            x = self._activations[n + 1](self._stage(n, x))
        return x
