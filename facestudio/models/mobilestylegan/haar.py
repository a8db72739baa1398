"""Inverse Haar (db1) wavelet transform, one level: MobileStyleGAN's upsampling.

With synthesis filters g0 = [1, 1] / sqrt 2 (low) and g1 = [1, -1] / sqrt 2 (high),
applied first along rows then columns (zero padding never matters for a 2-tap filter
at stride 2), each 2x2 output cell is a signed half-sum of the four bands at one
position. Written as four sums written straight into the interleaved output, on
channels-last tensors (the layout the rest of the network runs in, since CPU
depthwise and 1x1 convolutions are fastest there).
"""

from __future__ import annotations

import torch


def haar_idwt_nhwc(coeffs: torch.Tensor, halved: bool = False) -> torch.Tensor:
    """(N, h, w, 4C) laid out [C low | C x (LH, HL, HH)] -> (N, 2h, 2w, C).

    `halved`: the caller already multiplied the coefficients by 1/2 (folded into a
    style scale or a weight), which saves a pass over the output.
    """
    n, h, w, c4 = coeffs.shape
    c = c4 // 4
    low = coeffs[..., :c]
    high = coeffs[..., c:].view(n, h, w, c, 3)
    lh, hl, hh = high[..., 0], high[..., 1], high[..., 2]
    rows_even, rows_odd = low + lh, low - lh  # g0[a] * low + g1[a] * LH, a = 0, 1
    cols_even, cols_odd = hl + hh, hl - hh
    if coeffs.requires_grad and torch.is_grad_enabled():  # projection: `out=` has no autograd
        even = torch.stack((rows_even + cols_even, rows_even - cols_even), dim=3)
        odd = torch.stack((rows_odd + cols_odd, rows_odd - cols_odd), dim=3)
        out = torch.stack((even, odd), dim=2).view(n, 2 * h, 2 * w, c)
        return out if halved else out * 0.5
    out = torch.empty(n, h, 2, w, 2, c, dtype=coeffs.dtype, device=coeffs.device)
    torch.add(rows_even, cols_even, out=out[:, :, 0, :, 0])
    torch.sub(rows_even, cols_even, out=out[:, :, 0, :, 1])
    torch.add(rows_odd, cols_odd, out=out[:, :, 1, :, 0])
    torch.sub(rows_odd, cols_odd, out=out[:, :, 1, :, 1])
    out = out.view(n, 2 * h, 2 * w, c)
    return out if halved else out.mul_(0.5)


def haar_dwt_nhwc(img: torch.Tensor) -> torch.Tensor:
    """The forward transform, (N, 2h, 2w, C) -> (N, h, w, 4C) in `haar_idwt_nhwc`'s layout.

    Used to fit the preview heads (their targets are the coefficients of the downscaled
    final image) and to test the inverse.
    """
    n, h2, w2, c = img.shape
    cells = img.view(n, h2 // 2, 2, w2 // 2, 2, c)
    a, b = cells[:, :, 0, :, 0], cells[:, :, 0, :, 1]
    d, e = cells[:, :, 1, :, 0], cells[:, :, 1, :, 1]
    low = (a + b + d + e) * 0.5
    lh, hl, hh = (a + b - d - e) * 0.5, (a - b + d - e) * 0.5, (a - b - d + e) * 0.5
    return torch.cat((low, torch.stack((lh, hl, hh), dim=-1).flatten(-2)), dim=-1)
