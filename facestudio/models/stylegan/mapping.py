"""The StyleGAN mapping network z (+ class c) -> w, broadcast to every synthesis layer.

z and the class embedding are each normalised to unit RMS and concatenated, then pass
an MLP of leaky-ReLU layers with a 100x lower learning rate (stored scaled, as the
papers train it). `w_avg` is the running mean of w kept during training; truncation
pulls ws towards it.
"""

from __future__ import annotations

import torch
from torch import nn

from facestudio.models.stylegan.ops import FullyConnected, normalize_2nd_moment
from facestudio.models.two_stage import check_latents, truncate_ws


class MappingNetwork(nn.Module):
    """Layer names follow the published files (`embed`, `fc0`... and the `w_avg` buffer)."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int | None, num_layers: int = 8,
                 embed_features: int | None = None, layer_features: int | None = None, activation: str = "lrelu",
                 lr_multiplier: float = 0.01, w_avg_beta: float | None = 0.995, **_ignored: object) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        embed_features = w_dim if embed_features is None else embed_features
        layer_features = w_dim if layer_features is None else layer_features
        if c_dim == 0:
            embed_features = 0
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnected(c_dim, embed_features)
        self.num_layers = num_layers
        for i in range(num_layers):
            self.add_module(f"fc{i}", FullyConnected(features[i], features[i + 1], activation=activation, lr_multiplier=lr_multiplier))
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros(w_dim))
        else:
            self.w_avg = None

    def forward(self, z: torch.Tensor | None, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        """ws (N, num_ws, w_dim) truncated towards `w_avg` on layers [0, cutoff); (N, w_dim) if num_ws is None."""
        if self.z_dim > 0:
            z = check_latents(z, self.z_dim)
        c = check_labels(c, self.c_dim, z.shape[0] if self.z_dim > 0 else (c.shape[0] if c is not None else 0))
        parts = []
        if self.z_dim > 0:
            parts.append(normalize_2nd_moment(z.to(torch.float32)))
        if self.c_dim > 0:
            parts.append(normalize_2nd_moment(self.embed(c.to(torch.float32))))
        x = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        if self.num_ws is None:
            return x
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        return truncate_ws(ws, self.w_avg, truncation_psi, truncation_cutoff)


def check_labels(c: torch.Tensor | None, c_dim: int, n: int) -> torch.Tensor | None:
    """Class labels (N, c_dim) for a conditional model; None for an unconditional one."""
    if c_dim == 0:
        return None
    if c is None:
        raise ValueError(f"This model draws one of {c_dim} classes; pass class labels c of shape (N, {c_dim}).")
    if c.dim() != 2 or tuple(c.shape) != (n, c_dim):
        raise ValueError(f"expected class labels of shape ({n}, {c_dim}), got {tuple(c.shape)}")
    return c.to(torch.float32)
