"""MobileStyleGAN as a two-stage generator (mapping z -> ws, synthesis ws -> image)."""

from __future__ import annotations

import math

import torch
from torch import nn

from facestudio.models.mobilestylegan.haar import haar_idwt_nhwc
from facestudio.models.mobilestylegan.network import MobileMapping, MobileSynthesis
from facestudio.models.two_stage import TwoStageGenerator, check_latents, check_noise_mode, check_ws, truncate_ws

SYNTHESIS_CHUNK = 2


class MobileStyleGAN(TwoStageGenerator):
    """z (N, 512) -> ws (N, num_ws, 512) -> image (N, 3, 1024, 1024) in about [-1, 1].

    The mean style is not part of the exported IR (the reference implementation kept it
    outside the networks), so `w_avg` is estimated once from 10,000 seeded z when the
    model is converted, saved with it, and truncation pulls towards it.

    Previews: the IR keeps only the last block's RGB head (the exporter pruned the
    others, which the final image does not use), so the lower-resolution outputs come
    from linear read-out heads FaceStudio fits at conversion (`preview_fit`): block
    activations -> Haar coefficients of the downscaled final image. They are
    approximations (about 24 dB PSNR against the downscaled full image), meant for
    progressive rendering, and cost only the blocks up to their resolution.
    """

    def __init__(self, channels: list[int], z_dim: int = 512, mapping_layers: int = 8,
                 preview_resolutions: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.z_dim = self.w_dim = z_dim
        self.c_dim = 0
        self.img_channels = 3
        self.mapping_net = MobileMapping(z_dim, mapping_layers)
        self.synthesis_net = MobileSynthesis(z_dim, channels)
        self.num_ws = self.synthesis_net.num_ws
        self.img_resolution = self.synthesis_net.img_resolution
        self.register_buffer("mean_w", torch.zeros(z_dim))
        self.preview_heads = nn.ModuleDict()
        for res in preview_resolutions:
            self.add_preview_head(res)

    def add_preview_head(self, resolution: int) -> nn.Linear:
        """An (unfitted) read-out head for `resolution` px: activations of the block at half of it."""
        n_blocks = int(math.log2(resolution // 8)) if resolution >= 16 else -1
        if resolution != 8 * 2**n_blocks or not 1 <= n_blocks < len(self.synthesis_net.blocks):
            raise ValueError(f"no preview head possible at {resolution} px")
        head = nn.Linear(self.synthesis_net.channels[n_blocks], 4 * self.img_channels)
        self.preview_heads[str(resolution)] = head
        return head

    @property
    def preview_resolutions(self) -> tuple[int, ...]:
        return tuple(sorted(int(k) for k in self.preview_heads))

    def synthesis_preview(self, ws: torch.Tensor, resolution: int, noise_mode: str = "const") -> torch.Tensor:
        """(N, 3, r, r) from the first log2(r / 8) blocks and a fitted read-out head."""
        if resolution not in self.preview_resolutions:
            raise ValueError(f"This generator has no cheap {resolution} px preview (it offers {self.preview_resolutions or 'none'}).")
        check_noise_mode(noise_mode)
        ws = check_ws(ws, self.num_ws, self.w_dim)
        x = self.synthesis_net.features(ws, int(math.log2(resolution // 8)), noise_mode)
        return haar_idwt_nhwc(self.preview_heads[str(resolution)](x)).permute(0, 3, 1, 2)

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mean_w

    @torch.no_grad()
    def estimate_w_avg(self, samples: int = 10_000, seed: int = 0) -> torch.Tensor:
        """Mean of the mapping's output over `samples` seeded Gaussian z (stored in `mean_w`)."""
        gen = torch.Generator().manual_seed(seed)
        total = torch.zeros(self.w_dim, dtype=torch.float64)
        for start in range(0, samples, 1000):
            z = torch.randn(min(1000, samples - start), self.z_dim, generator=gen)
            total += self.mapping_net(z).sum(0, dtype=torch.float64)
        self.mean_w.copy_((total / samples).to(torch.float32))
        return self.mean_w

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        w = self.mapping_net(check_latents(z, self.z_dim))
        ws = w.unsqueeze(1).expand(-1, self.num_ws, -1)
        return truncate_ws(ws, self.mean_w, truncation_psi, truncation_cutoff).contiguous()

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """Images in chunks of SYNTHESIS_CHUNK: a 1024 px sample holds ~64 MB per activation
        tensor, and batching more saves no time, so a batch of 16 should not cost 4 GB."""
        check_noise_mode(noise_mode)
        ws = check_ws(ws, self.num_ws, self.w_dim)
        if ws.shape[0] <= SYNTHESIS_CHUNK:
            return self.synthesis_net(ws, noise_mode)
        return torch.cat([self.synthesis_net(part, noise_mode) for part in ws.split(SYNTHESIS_CHUNK)])
