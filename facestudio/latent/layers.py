"""Which w of W+ drives which detail, layer groups, and style mixing.

The StyleGAN paper splits the per-layer styles by the resolution of the layer they
modulate: coarse (4-8 px: pose, face shape, hair length), middle (16-32 px: features,
eyes open or shut) and fine (64 px and up: colours, skin texture). `layer_resolutions`
gives each index of ws the resolution of the synthesis layer it modulates:

- StyleGAN2: block r uses ws[i : i + num_conv + 1]; ws[i] feeds the block's first conv,
  so the 4 px block's single conv is ws[0], ws[1] and ws[2] are the 8 px convs (ws[1]
  also draws the 4 px RGB), ws[3] and ws[4] the 16 px convs, and so on; the last index
  (the final RGB) counts as full resolution. So for 1024 px (18 ws): coarse 0-2, middle
  3-6, fine 7-17 (the paper's StyleGAN1 layout had two styles at 4 px, hence its 0-3).
- StyleGAN3 has no fixed resolution per layer: its layers' band limits (cutoff
  frequencies) grow geometrically from 2 cycles per image to img_resolution / 2 over
  num_layers - 2 layers (the published defaults). A layer is given the resolution that
  shows its band limit, 2 x cutoff, rounded to a power of two in log scale; the input
  (Fourier features) counts as 4 px.
- MobileStyleGAN: ws[0] drives the 4 px conv, block i (8 * 2^i px) uses ws[1 + 2i] and
  ws[2 + 2i], and the last w the RGB wavelet head (full resolution).
- DCGAN: one w (= z) feeding the 4 x 4 first layer: one coarse layer, no middle or fine.

`mix_styles` is the pure mixing step: rows of `base` where the mask is on are replaced by
the other face's rows.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from facestudio.models.two_stage import TwoStageGenerator

GROUPS = ("coarse", "middle", "fine")
_GROUP_RANGES = {"coarse": (0, 8), "middle": (16, 32), "fine": (64, 1 << 30)}


def _snap(px: float) -> int:
    return 1 << max(2, int(round(math.log2(max(px, 1.0)))))


def layer_resolutions(generator: TwoStageGenerator) -> tuple[int, ...]:
    """For each of the generator's ws, the resolution in pixels of the layer it modulates."""
    n, res = generator.num_ws, generator.img_resolution
    synthesis = getattr(generator, "_modules", {}).get("synthesis")
    if n == 1:
        return (4,)
    if synthesis is not None and hasattr(synthesis, "block_resolutions"):  # StyleGAN2
        return tuple(min(4 << ((i + 1) // 2), res) for i in range(n))
    if synthesis is not None and hasattr(synthesis, "layer_names"):  # StyleGAN3
        layers = len(synthesis.layer_names) - 1
        first, last = 2.0, res / 2
        cutoffs = [first * (last / first) ** min(i / max(layers - 2, 1), 1.0) for i in range(layers + 1)]
        return (4,) + tuple(min(_snap(2 * c), res) for c in cutoffs)
    net = getattr(generator, "synthesis_net", None)
    if net is not None and hasattr(net, "blocks"):  # MobileStyleGAN
        out = [4]
        for block in net.blocks:
            out += [int(block.resolution)] * 2
        return tuple(out + [res])
    # Unknown layout: spread the layers evenly over 4 px .. full resolution in log scale.
    top = math.log2(res)
    return tuple(_snap(2 ** (2 + (top - 2) * i / max(n - 1, 1))) for i in range(n))


def group_layers(generator: TwoStageGenerator, group: str) -> tuple[int, ...]:
    """Indices of ws in a group: 'coarse' (4-8 px), 'middle' (16-32 px), 'fine' (64 px+) or 'all'."""
    if group == "all":
        return tuple(range(generator.num_ws))
    if group not in _GROUP_RANGES:
        raise ValueError(f"Layer group {group!r} is unknown; use coarse, middle, fine or all, or list layers.")
    lo, hi = _GROUP_RANGES[group]
    return tuple(i for i, r in enumerate(layer_resolutions(generator)) if lo <= r <= hi)


def parse_layers(spec: str | Sequence[int], num_ws: int) -> tuple[int, ...]:
    """Layer indices from '3', '0-4', '0,2,5-7' or a list of ints; each must be in 0..num_ws-1."""
    if isinstance(spec, str):
        indices: list[int] = []
        for part in spec.replace(" ", "").split(","):
            lo, sep, hi = part.partition("-")
            if not lo.isdigit() or (sep and not hi.isdigit()):
                raise ValueError(f"Layers {spec!r} must read like '3', '0-4' or '0,2,5-7'.")
            a, b = int(lo), int(hi) if sep else int(lo)
            if b < a:
                raise ValueError(f"Layer range {part!r} runs backwards; write it low-high.")
            if b - a >= num_ws:
                raise ValueError(f"Layer range {part!r} is longer than this model's {num_ws} layers.")
            indices.extend(range(a, b + 1))
    else:
        indices = list(spec)
    for i in indices:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < num_ws:
            raise ValueError(f"Layer {i!r} does not exist; this model has layers 0 to {num_ws - 1}.")
    return tuple(sorted(set(int(i) for i in indices)))


def layer_mask(generator: TwoStageGenerator, spec: str | Sequence[int]) -> np.ndarray:
    """Boolean (num_ws,) mask from a group name ('coarse', 'middle', 'fine', 'all') or a layer list/range."""
    n = generator.num_ws
    if isinstance(spec, str) and spec in (*GROUPS, "all"):
        layers = group_layers(generator, spec)
    else:
        layers = parse_layers(spec, n)
    mask = np.zeros(n, dtype=bool)
    mask[list(layers)] = True
    return mask


def mix_styles(base: np.ndarray, other: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`base` W+ styles with the rows where `mask` is True taken from `other` (shapes (.., num_ws, w_dim))."""
    base, other = np.asarray(base, dtype=np.float32), np.asarray(other, dtype=np.float32)
    mask = np.asarray(mask)
    if base.ndim < 2 or base.shape[-2:] != other.shape[-2:]:
        raise ValueError(f"Style mixing needs two W+ faces of the same shape, got {base.shape} and {other.shape}.")
    if mask.dtype != np.bool_ or mask.shape != (base.shape[-2],):
        raise ValueError(f"The layer mask must be {base.shape[-2]} true/false values, got {mask.dtype} {mask.shape}.")
    out, other = np.broadcast_arrays(base, other)
    out = out.copy()
    out[..., mask, :] = other[..., mask, :]
    return out


def mix_faces(generator: TwoStageGenerator, base: "StyleLatent", other: "StyleLatent", spec: str | Sequence[int],
              psi: float = 1.0, cutoff: int | None = None) -> "StyleLatent":
    """A w+ face: `base` with the layers in `spec` taken from `other` (faces of any space, truncated alike)."""
    from facestudio.latent.spaces import StyleLatent, wplus_batch

    ws = wplus_batch(generator, [base, other], psi, cutoff)
    return StyleLatent("w+", mix_styles(ws[0], ws[1], layer_mask(generator, spec)))
