"""Fit MobileStyleGAN's preview heads: block activations -> coefficients of the final image.

For progressive rendering the app wants a cheap lower-resolution image before the
full one. MobileStyleGAN had an RGB head per block, but the exported IR only kept the
last one, so FaceStudio fits a linear 1x1 head per preview resolution by ridge least
squares: inputs are the activations after the block at half that resolution, targets
the Haar coefficients of the final 1024 px image box-downscaled to that resolution.
Seeded, so a conversion is reproducible; runs once, when the model is converted.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from facestudio.models.mobilestylegan.generator import MobileStyleGAN
from facestudio.models.mobilestylegan.haar import haar_dwt_nhwc

PREVIEW_RESOLUTIONS = (128, 256, 512)
FIT_SAMPLES = 8
PIXELS_PER_SAMPLE = 16_384
RIDGE = 1e-3


@torch.inference_mode()
def fit_preview_heads(net: MobileStyleGAN, resolutions: tuple[int, ...] = PREVIEW_RESOLUTIONS,
                      samples: int = FIT_SAMPLES, seed: int = 1) -> None:
    """Add and fit one head per resolution (in place); needs the network's weights and w_avg."""
    gen = torch.Generator().manual_seed(seed)
    heads = {res: net.add_preview_head(res).requires_grad_(False) for res in resolutions}
    gram: dict[int, torch.Tensor] = {}
    cross: dict[int, torch.Tensor] = {}
    for _ in range(samples):
        z = torch.randn(1, net.z_dim, generator=gen)
        psi = 0.5 + 0.5 * float(torch.rand((), generator=gen))  # the range the explorer uses most
        ws = net.mapping(z, truncation_psi=psi)
        acts = {}
        for done, x in net.synthesis_net.iter_features(ws, "const"):  # one pass gives every level
            acts[done] = x
        image = net.synthesis_net.image(acts[len(net.synthesis_net.blocks)], ws[:, -1])
        for res in resolutions:
            x = acts[int(math.log2(res // 8))]
            target = haar_dwt_nhwc(F.avg_pool2d(image, image.shape[-1] // res).permute(0, 2, 3, 1))
            rows = torch.randperm(x.shape[1] * x.shape[2], generator=gen)[:PIXELS_PER_SAMPLE]
            inputs = F.pad(x.reshape(-1, x.shape[-1])[rows], (0, 1), value=1.0).double()
            targets = target.reshape(-1, target.shape[-1])[rows].double()
            gram[res] = gram.get(res, 0) + inputs.T @ inputs
            cross[res] = cross.get(res, 0) + inputs.T @ targets
    for res, head in heads.items():
        eye = torch.eye(gram[res].shape[0], dtype=torch.float64)
        solution = torch.linalg.solve(gram[res] + RIDGE * gram[res].diagonal().mean() * eye, cross[res])
        head.weight.copy_(solution[:-1].T.float())
        head.bias.copy_(solution[-1].float())


@torch.inference_mode()
def preview_psnr(net: MobileStyleGAN, resolution: int, samples: int = 4, seed: int = 2) -> float:
    """PSNR (dB, images in [-1, 1]) of a preview against the box-downscaled full image."""
    gen = torch.Generator().manual_seed(seed)
    ws = net.mapping(torch.randn(samples, net.z_dim, generator=gen), truncation_psi=0.7)
    image = F.avg_pool2d(net.synthesis(ws), net.img_resolution // resolution).clamp(-1, 1)
    preview = net.synthesis_preview(ws, resolution).clamp(-1, 1)
    mse = float((preview - image).square().mean())
    return 10 * math.log10(4.0 / max(mse, 1e-12))
