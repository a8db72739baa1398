"""Inverse Haar (db1) wavelet transform, one level: MobileStyleGAN's upsampling.

With synthesis filters g0 = [1, 1] / sqrt 2 (low) and g1 = [1, -1] / sqrt 2 (high),
applied first along rows then columns (zero padding never matters for a 2-tap filter
at stride 2), each 2x2 output cell is a signed half-sum of the four bands at one
position. Written as elementwise sums plus one interleave, so it costs a few passes
over memory rather than six strided transposed convolutions.
"""

from __future__ import annotations

import torch


def haar_idwt(low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """low (N, C, h, w), high (N, C, 3, h, w) bands (LH, HL, HH) -> (N, C, 2h, 2w)."""
    n, c, h, w = low.shape
    lh, hl, hh = high.unbind(2)
    rows_even, rows_odd = low + lh, low - lh  # g0[a] * low + g1[a] * lh for a = 0, 1
    cols_even, cols_odd = hl + hh, hl - hh
    out = torch.stack(
        (rows_even + cols_even, rows_even - cols_even, rows_odd + cols_odd, rows_odd - cols_odd), dim=-1
    ).mul_(0.5)  # (N, C, h, w, 4): [a=0 b=0, a=0 b=1, a=1 b=0, a=1 b=1]
    return out.view(n, c, h, w, 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * h, 2 * w)
