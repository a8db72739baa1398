"""Projection for style-based generators: optimise w, then W+ (called by `projection.project`).

Like the StyleGAN2 projector, with the DCGAN projector's screening of starts:

1. screen `candidates` mapped random z (and w_avg) and keep the `restarts` closest;
2. optimise one w per start for the first part of the steps (faces stay on the model's
   manifold: every layer shares the w);
3. copy that w to every layer and optimise W+ for the rest (`w_plus_fraction`): each
   layer may now move, which matches details W alone cannot, held near the shared w by
   a layer-spread penalty so edits and morphs of the result still behave.

Loss, at `settings.resolution` at most (the generator's cheap preview output when it
has one at that size, else the full image pooled down): the pixel pyramid of
`projection._Loss`, plus perceptual features:

- "discriminator": the model's StyleGAN2 discriminator activations after each block
  (channel-normalised, as LPIPS does), when the file has one and the loss runs at full
  resolution;
- "gradients": otherwise, image gradients (finite differences) at every pyramid level,
  which make edges and features count beside flat colour.

A prior keeps w inside the shell where the model's w live (distance from w_avg beyond
the typical distance is penalised). Gradients go to the latents only; the networks are
never written.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from facestudio.latent.projection import (ProjectionProgress, ProjectionResult, ProjectionSettings, _learning_rate,
                                          _Loss, _target_tensor)
from facestudio.pixels import tensor_to_uint8
from facestudio.models.bundle import ModelBundle


def discriminator_features(disc: torch.nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """A StyleGAN2 discriminator's activations after each block (not its epilogue)."""
    x, img = None, images.to(torch.float32)
    feats = []
    for res in disc.block_resolutions:
        x, img = getattr(disc, f"b{res}")(x, img)
        feats.append(x)
    return feats


def gradient_features(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Horizontal and vertical differences at `levels` scales (pixel-level "perceptual" features)."""
    feats, x = [], images
    for _ in range(levels):
        feats.append((x[..., :, 1:] - x[..., :, :-1]).flatten(2))
        feats.append((x[..., 1:, :] - x[..., :-1, :]).flatten(2))
        if min(x.shape[-2:]) < 8:
            break
        x = F.avg_pool2d(x, 2)
    return feats


class _StyleLoss:
    """Per-sample loss (N,) of images at the loss resolution against one target."""

    def __init__(self, bundle: ModelBundle, target: np.ndarray, settings: ProjectionSettings, resolution: int) -> None:
        g = bundle.viewing_generator
        self.settings, self.resolution = settings, resolution
        self.target = _target_tensor(target, resolution, g.img_channels)
        scales = max(1, min(settings.pixel_scales, int(np.log2(resolution)) - 1))
        self.pyramid = _Loss._pyramid(self.target, scales)
        disc = bundle.discriminator
        use_disc = disc is not None and hasattr(disc, "block_resolutions") and resolution == g.img_resolution
        self.kind = "discriminator" if use_disc else "gradients"
        self.disc = disc if use_disc else None
        with torch.no_grad():
            self.target_feats = [self._norm(f) for f in self._features(self.target)]
        w_avg = g.w_avg
        self.w_avg = w_avg.detach().float() if w_avg is not None else torch.zeros(g.w_dim)

    def _features(self, images: torch.Tensor) -> list[torch.Tensor]:
        if self.disc is not None:
            return discriminator_features(self.disc, images)
        return gradient_features(images, len(self.pyramid))

    def _norm(self, f: torch.Tensor) -> torch.Tensor:
        return _Loss._unit(f) if self.disc is not None else f

    def image_loss(self, images: torch.Tensor) -> torch.Tensor:
        s = self.settings
        levels = _Loss._pyramid(images, len(self.pyramid))
        total = images.new_zeros(images.shape[0])
        for x, t in zip(levels, self.pyramid):
            d = (x - t).abs() if s.pixel_loss == "l1" else (x - t).pow(2)
            total = total + d.flatten(1).mean(1)
        total = total / len(levels)
        if s.perceptual_weight > 0:
            feats = self._features(images)
            perc = sum((self._norm(f) - t).pow(2).flatten(1).mean(1) for f, t in zip(feats, self.target_feats))
            total = total + s.perceptual_weight * perc / len(feats)
        return total

    def prior(self, ws: torch.Tensor, typical: float) -> torch.Tensor:
        """Shell prior on each layer's w plus the spread of the layers around their mean (N,)."""
        d2 = (ws - self.w_avg).pow(2).sum(-1) / typical**2  # (N, L)
        shell = F.relu(d2 - 1.0).mean(-1)
        spread = (ws - ws.mean(1, keepdim=True)).pow(2).sum(-1).mean(-1) / typical**2
        return shell + spread

    def pixel_mse(self, images: torch.Tensor) -> torch.Tensor:
        return ((images.clamp(-1, 1) - self.target) / 2.0).pow(2).flatten(1).mean(1)


def _draw(g: torch.nn.Module, ws: torch.Tensor, resolution: int) -> torch.Tensor:
    if resolution == g.img_resolution:
        return g.synthesis(ws)
    if resolution in g.preview_resolutions:
        return g.synthesis_preview(ws, resolution)
    return F.adaptive_avg_pool2d(g.synthesis(ws), resolution)


def loss_resolution(g: torch.nn.Module, limit: int) -> int:
    """The largest preview (or the full size) at most `limit`; the full size pooled down if none fits."""
    sizes = [r for r in (*g.preview_resolutions, g.img_resolution) if r <= limit]
    return max(sizes) if sizes else min(limit, g.img_resolution)


def project_style(bundle: ModelBundle, target: np.ndarray, settings: ProjectionSettings,
                  progress: Callable[[ProjectionProgress], None] | None,
                  should_cancel: Callable[[], bool]) -> ProjectionResult:
    """See the module docstring; returns a w+ latent (num_ws, w_dim)."""
    g = bundle.viewing_generator
    res = loss_resolution(g, settings.resolution)
    loss_fn = _StyleLoss(bundle, target, settings, res)
    gen = torch.Generator().manual_seed(settings.seed)
    num_ws = g.num_ws
    with torch.no_grad():
        z = torch.randn(settings.candidates, g.z_dim, generator=gen)
        w = torch.cat([g.mapping(part)[:, 0] for part in z.split(256)])
        typical = float((w - loss_fn.w_avg).pow(2).sum(1).mean().sqrt()) or 1.0
        w = torch.cat([loss_fn.w_avg[None], w[:-1]]) if settings.candidates > 1 else loss_fn.w_avg[None]
        # Score starts by the same total the optimiser minimises, so "best so far" compares like with like.
        scores = torch.cat([loss_fn.image_loss(_draw(g, ws, res)) + settings.style_prior_weight * loss_fn.prior(ws, typical)
                            for ws in (part[:, None].expand(-1, num_ws, -1) for part in w.split(16))])
    best = torch.argsort(scores)[: settings.restarts]
    starts = w[best].clone()
    best_ws = starts[0][None].expand(num_ws, -1).clone()
    best_loss = float(scores[best[0]])
    with torch.no_grad():
        best_image = _draw(g, best_ws[None], res)
    start_mse = best_mse = float(loss_fn.pixel_mse(best_image)[0])
    start_loss, losses = best_loss, []
    w_steps = max(1, int(round(settings.steps * (1.0 - settings.w_plus_fraction)))) if settings.w_plus_fraction < 1 else 0
    steps = settings.steps

    def report(step: int) -> None:
        if progress is not None:
            progress(ProjectionProgress(step, steps, best_loss, best_mse, tensor_to_uint8(best_image)[0]))

    report(0)
    param = starts.clone().requires_grad_(True)  # (R, w_dim) in W; (R, L, w_dim) in W+
    optimiser = torch.optim.Adam([param], lr=settings.style_learning_rate, betas=(0.9, 0.999))
    cancelled, step = False, 0
    best_w_stage: torch.Tensor | None = None
    with torch.enable_grad():
        for step in range(1, steps + 1):
            if should_cancel():
                cancelled, step = True, step - 1
                break
            if step == w_steps + 1 and param.dim() == 2:  # W -> W+: every layer starts at its w
                best_w_stage = best_ws.clone()
                param = param.detach()[:, None].expand(-1, num_ws, -1).clone().requires_grad_(True)
                optimiser = torch.optim.Adam([param], lr=settings.style_learning_rate * 0.5, betas=(0.9, 0.999))
            stage_t = (step - 1) / max(w_steps, 1) if step <= w_steps else (step - 1 - w_steps) / max(steps - w_steps, 1)
            for group in optimiser.param_groups:
                group["lr"] = _learning_rate(settings.style_learning_rate if param.dim() == 2 else settings.style_learning_rate * 0.5, stage_t)
            noise = settings.noise * typical * max(0.0, 1.0 - stage_t / 0.75) ** 2 if param.dim() == 2 else 0.0
            p = param + noise * torch.randn(param.shape, generator=gen) if noise > 0 else param
            ws = p[:, None].expand(-1, num_ws, -1) if p.dim() == 2 else p
            images = _draw(g, ws, res)
            per_sample = loss_fn.image_loss(images)
            total = per_sample + settings.style_prior_weight * loss_fn.prior(ws, typical)
            (grad,) = torch.autograd.grad(total.sum(), [param])
            with torch.no_grad():
                i = int(torch.argmin(total))
                if float(total[i]) < best_loss:
                    best_loss, best_ws = float(total[i]), ws[i].detach().clone()
                    best_image = images[i:i + 1].detach().clone()
                    best_mse = float(loss_fn.pixel_mse(best_image)[0])
            losses.append(best_loss)
            param.grad = grad
            optimiser.step()
            if step % settings.report_every == 0 and step < steps:
                report(step)
    # The loss may look at a fitted preview output, which W+ can fool: draw the W-stage and
    # final bests with the full network and keep the one that really matches better.
    with torch.no_grad():
        full = g.synthesis(best_ws[None])
        if best_w_stage is not None and res != g.img_resolution:
            full_w = g.synthesis(best_w_stage[None])
            pooled = [F.adaptive_avg_pool2d(x, res) for x in (full, full_w)]
            if float(loss_fn.image_loss(pooled[1])[0]) < float(loss_fn.image_loss(pooled[0])[0]):
                best_ws, full, best_image = best_w_stage, full_w, pooled[1]
                best_mse = float(loss_fn.pixel_mse(pooled[1])[0])
    report(step)
    return ProjectionResult(
        latent=best_ws.float().numpy().copy(), image=tensor_to_uint8(full)[0], loss=best_loss, start_loss=start_loss,
        pixel_mse=best_mse, start_pixel_mse=start_mse, steps_done=step, cancelled=cancelled,
        perceptual=loss_fn.kind == "discriminator", losses=losses, space="w+", features=loss_fn.kind)
