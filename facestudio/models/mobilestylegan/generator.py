"""MobileStyleGAN as a two-stage generator (mapping z -> ws, synthesis ws -> image)."""

from __future__ import annotations

import torch
from torch import nn

from facestudio.models.mobilestylegan.network import MobileMapping, MobileSynthesis, wavelets_to_image


class MobileStyleGAN(nn.Module):
    """z (N, 512) -> ws (N, num_ws, 512) -> image (N, 3, 1024, 1024) in about [-1, 1].

    `w_avg` is not part of the exported IR (the reference kept its mean style outside
    the networks), so it is estimated once from 10,000 seeded z at conversion and saved
    in the cached file; truncation pulls towards it.
    """

    def __init__(self, channels: list[int], z_dim: int = 512, mapping_layers: int = 8) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.c_dim = 0
        self.w_dim = z_dim
        self.img_channels = 3
        self.mapping_net = MobileMapping(z_dim, mapping_layers)
        self.synthesis_net = MobileSynthesis(z_dim, channels)
        self.num_ws = self.synthesis_net.num_ws
        self.img_resolution = self.synthesis_net.img_resolution
        self.register_buffer("w_avg", torch.zeros(z_dim))
        # Each block's last activations, read as Haar coefficients' low band, give a
        # cheap image? No: only the final head exists in the IR. The cheap previews are
        # the final wavelet coefficients' levels; see synthesis_preview.
        self.preview_resolutions: tuple[int, ...] = (self.img_resolution // 2,)

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        w = self.mapping_net(z.to(torch.float32))
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation_psi != 1.0:
            cut = self.num_ws if truncation_cutoff is None else truncation_cutoff
            ws[:, :cut] = self.w_avg.lerp(ws[:, :cut], truncation_psi)
        return ws

    def _check_ws(self, ws: torch.Tensor) -> torch.Tensor:
        if ws.ndim == 2:
            ws = ws.unsqueeze(1).expand(-1, self.num_ws, -1)
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must have shape (N, {self.num_ws}, {self.w_dim}), not {tuple(ws.shape)}")
        return ws.to(torch.float32)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis_net(self._check_ws(ws), noise_mode)

    def synthesis_preview(self, ws: torch.Tensor, resolution: int, noise_mode: str = "const") -> torch.Tensor:
        """A half-resolution image: the low band of the final Haar coefficients (no last IDWT)."""
        if resolution not in self.preview_resolutions:
            raise ValueError(f"preview resolution must be one of {self.preview_resolutions}, not {resolution}")
        ws = self._check_ws(ws)
        x = self.synthesis_net.features(ws, len(self.synthesis_net.blocks), noise_mode)
        coeffs = self.synthesis_net.to_img(x, ws[:, -1])
        return coeffs[:, : self.img_channels] * 0.5  # orthonormal Haar: LL = 2 x the 2x2 mean

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis(self.mapping(z, c, truncation_psi, truncation_cutoff), noise_mode)


__all__ = ["MobileStyleGAN", "wavelets_to_image"]
