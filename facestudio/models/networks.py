"""DCGAN-family generator and discriminator.

The layer layout is the PyTorch DCGAN tutorial's (`self.main` Sequential, transposed
convolutions 4/2/1 with batch norm and ReLU; strided convolutions with LeakyReLU(0.2)),
grown or shrunk by one block per doubling of the image size. Keeping the tutorial's
module indices means tutorial checkpoints load key-for-key (see `dcgan_import`).

The discriminator returns logits (no final sigmoid): losses use the numerically stable
`*_with_logits` forms and the realism meter applies the sigmoid itself.
"""

from __future__ import annotations

import torch
from torch import nn

from facestudio.models.config import ModelConfig
from facestudio.models.two_stage import TwoStageGenerator, check_noise_mode, check_ws, truncate_ws


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN paper initialisation: N(0, 0.02) convolutions, N(1, 0.02) norm scales."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            spectral = hasattr(m, "parametrizations")
            weight = m.parametrizations.weight.original if spectral else m.weight
            nn.init.normal_(weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
            if spectral:
                _restart_power_iteration(m)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _restart_power_iteration(conv: nn.Module) -> None:
    """Re-estimate the spectral norm's singular vectors for freshly drawn weights.

    `spectral_norm` estimates u/v when it wraps the layer, i.e. for the default init we
    just replaced; without this an eval-mode forward would divide by a stale sigma.
    """
    original = conv.parametrizations.weight.original
    with torch.no_grad():
        for param in conv.parametrizations.weight:
            if hasattr(param, "_power_method") and hasattr(param, "_reshape_weight_to_matrix"):
                param._power_method(param._reshape_weight_to_matrix(original), 15)


class Generator(TwoStageGenerator):
    """z (N, nz) or (N, nz, 1, 1) -> image (N, nc, S, S) in [-1, 1].

    Two-stage like every app generator: mapping is the identity (truncation pulls z
    towards 0, the mean of its Gaussian prior), one w of size nz, no class labels.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        nz, ngf, nc, blocks = config.nz, config.ngf, config.nc, config.n_blocks
        self.z_dim = self.w_dim = nz
        self.num_ws = 1
        self.img_resolution = config.image_size
        self.img_channels = nc
        use_bn = config.g_norm == "batch"
        width = ngf * 2 ** (blocks - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=not use_bn)]
        layers += [nn.BatchNorm2d(width)] if use_bn else []
        layers.append(nn.ReLU(True))
        for _ in range(blocks - 1):
            layers.append(nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=not use_bn))
            layers += [nn.BatchNorm2d(width // 2)] if use_bn else []
            layers.append(nn.ReLU(True))
            width //= 2
        layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def _check_z(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        if z.dim() != 4 or z.shape[1] != self.config.nz or z.shape[2:] != (1, 1):
            raise ValueError(f"expected latents of shape (N, {self.config.nz}) or (N, {self.config.nz}, 1, 1), got {tuple(z.shape)}")
        if not z.is_floating_point():
            raise ValueError(f"expected floating-point latents, got {z.dtype}")
        return z

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        """ws (N, 1, nz): z itself, pulled towards 0 by `truncation_psi`."""
        z = self._check_z(z)[:, :, 0, 0].to(torch.float32)
        return truncate_ws(z[:, None, :], None, truncation_psi, truncation_cutoff)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        check_noise_mode(noise_mode)
        ws = check_ws(ws, 1, self.config.nz)
        return self.main(ws[:, 0, :, None, None].to(self.main[0].weight.dtype))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const") -> torch.Tensor:
        z = self._check_z(z)
        if float(truncation_psi) != 1.0:
            z = z * float(truncation_psi)
        # Latents often arrive as float64 from numpy; match the weights instead of failing.
        return self.main(z.to(self.main[0].weight.dtype))


class Discriminator(nn.Module):
    """image (N, nc, S, S) -> realism logit (N,)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        ndf, nc, blocks = config.ndf, config.nc, config.n_blocks
        spectral = config.d_norm == "spectral"
        use_bn = config.d_norm == "batch"

        def conv(cin: int, cout: int, k: int, s: int, p: int) -> nn.Module:
            layer = nn.Conv2d(cin, cout, k, s, p, bias=not use_bn)
            return nn.utils.parametrizations.spectral_norm(layer) if spectral else layer

        layers: list[nn.Module] = [conv(nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for _ in range(blocks - 1):
            layers.append(conv(width, width * 2, 4, 2, 1))
            layers += [nn.BatchNorm2d(width * 2)] if use_bn else []
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            width *= 2
        final = nn.Conv2d(width, 1, 4, 1, 0, bias=False)
        layers.append(nn.utils.parametrizations.spectral_norm(final) if spectral else final)
        self.main = nn.Sequential(*layers)

    def _check_images(self, x: torch.Tensor) -> None:
        # A wrong size would not fail by itself: the last 4x4 convolution would just
        # return several logits per image and silently misalign with the batch.
        c, s = self.config.nc, self.config.image_size
        if x.dim() != 4 or x.shape[1:] != (c, s, s):
            raise ValueError(f"expected images of shape (N, {c}, {s}, {s}), got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_images(x)
        return self.main(x).flatten()

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations after each LeakyReLU (for perceptual losses in projection)."""
        self._check_images(x)
        feats = []
        for layer in self.main:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                feats.append(x)
        return feats


def build_generator(config: ModelConfig) -> Generator:
    g = Generator(config)
    init_dcgan_weights(g)
    return g


def build_discriminator(config: ModelConfig) -> Discriminator:
    d = Discriminator(config)
    init_dcgan_weights(d)
    return d
