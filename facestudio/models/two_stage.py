"""The two-stage generator contract every model the app renders follows.

StyleGAN-family networks map a latent z to per-layer styles ws (mapping) and draw an
image from ws (synthesis); W-space editing, style mixing and progressive previews need
the two halves separately. DCGAN fits the same shape with an identity mapping and one
w, so the renderer, explorer and commands treat every model alike.

`TwoStageGenerator` is the base class (forward = synthesis(mapping(...))); code that only
calls the networks can type against the `TwoStage` protocol. `truncate_ws` is the one
truncation rule: lerp towards the tracked mean w for the first `cutoff` layers.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

NOISE_MODES = ("const", "random", "none")


@runtime_checkable
class TwoStage(Protocol):
    """What the app needs from a generator (see INTERFACE.md)."""

    z_dim: int
    c_dim: int
    w_dim: int
    num_ws: int
    img_resolution: int
    img_channels: int

    @property
    def w_avg(self) -> torch.Tensor | None: ...

    @property
    def preview_resolutions(self) -> tuple[int, ...]: ...

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor: ...

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor: ...

    def synthesis_preview(self, ws: torch.Tensor, resolution: int, noise_mode: str = "const") -> torch.Tensor: ...


def check_noise_mode(noise_mode: str) -> str:
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, not {noise_mode!r}.")
    return noise_mode


def truncate_ws(ws: torch.Tensor, w_avg: torch.Tensor | None, psi: float, cutoff: int | None = None) -> torch.Tensor:
    """Truncation trick in W: `w_avg + psi * (w - w_avg)` on layers [0, cutoff) (all if None).

    `w_avg` None means the mean is the origin (DCGAN's Gaussian z). psi = 1 returns `ws`
    untouched (no copy), so the common case costs nothing.
    """
    psi = float(psi)
    if psi == 1.0:
        return ws
    mean = torch.zeros((), dtype=ws.dtype, device=ws.device) if w_avg is None else w_avg.to(ws.dtype)
    if cutoff is None or cutoff < 0:
        return mean + (ws - mean) * psi
    out = ws.clone()
    out[:, :cutoff] = mean + (ws[:, :cutoff] - mean) * psi
    return out


def check_latents(z: torch.Tensor, z_dim: int) -> torch.Tensor:
    """(N, z_dim) float32 from z, or ValueError with the shapes when it cannot be one."""
    if z.dim() == 4 and z.shape[2:] == (1, 1):
        z = z[:, :, 0, 0]
    if z.dim() != 2 or z.shape[1] != z_dim:
        raise ValueError(f"expected latents of shape (N, {z_dim}), got {tuple(z.shape)}")
    if not z.is_floating_point():
        raise ValueError(f"expected floating-point latents, got {z.dtype}")
    return z.to(torch.float32)


def check_ws(ws: torch.Tensor, num_ws: int, w_dim: int) -> torch.Tensor:
    if ws.dim() != 3 or ws.shape[1:] != (num_ws, w_dim):
        raise ValueError(f"expected ws of shape (N, {num_ws}, {w_dim}), got {tuple(ws.shape)}")
    if not ws.is_floating_point():
        raise ValueError(f"expected floating-point ws, got {ws.dtype}")
    return ws.to(torch.float32)


def module_property(name: str) -> property:
    """Expose sub-module `name` under a name the base class defines as a method.

    StyleGAN files name their halves `mapping` and `synthesis`; keeping those as
    sub-modules keeps tensor names identical to the files, and calling them is the
    interface's mapping(...) / synthesis(...).
    """
    return property(lambda self: self._modules[name])


class TwoStageGenerator(nn.Module):
    """Base class: subclasses set the size attributes and define mapping and synthesis."""

    z_dim: int
    c_dim: int = 0
    w_dim: int
    num_ws: int
    img_resolution: int
    img_channels: int = 3

    @property
    def w_avg(self) -> torch.Tensor | None:  # overridden by networks that track one
        return None

    @property
    def preview_resolutions(self) -> tuple[int, ...]:
        return ()

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        raise NotImplementedError

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        raise NotImplementedError

    def synthesis_preview(self, ws: torch.Tensor, resolution: int, noise_mode: str = "const") -> torch.Tensor:
        """Lower-resolution image computing only the layers it needs; only for `preview_resolutions`."""
        raise ValueError(f"This generator has no cheap {resolution} px preview (it offers {self.preview_resolutions or 'none'}).")

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const") -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode)
