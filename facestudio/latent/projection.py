"""Photo -> latent: find the latent whose generated face best matches a picture.

GAN inversion by optimisation, since a DCGAN has no encoder: screen a batch of random
latents and keep the few closest to the picture (a random start decides which face
"basin" the optimiser ends in, so several starts are worth far more than more steps on
one), then refine those starts together with Adam, one batch, gradients on the latents
only. The loss is

- a pixel loss (L1 or L2) at full size and at 1/2 and 1/4 size, so that the coarse
  layout (face shape, hair mass, colours) counts as much as pixel detail;
- a perceptual loss from the model's own discriminator: LPIPS-style distances between
  channel-normalised activations after each LeakyReLU. The discriminator was trained to
  tell faces apart from non-faces, so its features see eyes, mouths and outlines where
  a pixel loss sees only colours. Files without a discriminator get pixel loss only
  (`ProjectionResult.perceptual` says which);
- a prior that keeps |z|^2 near nz, where N(0, I) latents live: without it the
  optimiser finds far-out latents that match the picture but break apart under
  interpolation or direction edits.

Like the StyleGAN projector, the learning rate ramps up briefly and down at the end, and
a little noise is added to the latents early on to shake them out of poor basins. The
generator is the viewing generator, in eval mode, untouched: gradients are taken with
`torch.autograd.grad` on the latents only, so the networks' weights are never written.

Style-based generators (StyleGAN2/3, MobileStyleGAN) are projected into W and then W+
by `facestudio.latent.style_projection` through the same `project` call, settings,
progress reports and result (whose `space` says which kind of latent it holds).

Qt-free; progress goes to a callback, cancellation is a callable polled every step.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from facestudio.errors import ConfigError, ImageFileError
from facestudio.models.bundle import ModelBundle
from facestudio.pixels import tensor_to_uint8, to_float

PIXEL_LOSSES = ("l1", "l2")
# Screen candidates in chunks of this many so memory stays flat for big models.
_SCREEN_CHUNK = 64


@dataclass(frozen=True)
class ProjectionSettings:
    """How hard to look. The defaults suit a 64 px DCGAN on a laptop CPU (tens of seconds)."""

    steps: int = 200
    restarts: int = 4  # starts optimised together (the best of `candidates` random latents)
    candidates: int = 256
    learning_rate: float = 0.08
    pixel_loss: str = "l1"
    pixel_scales: int = 3  # full size, then halved (scales - 1) times
    perceptual_weight: float = 0.5
    prior_weight: float = 0.5
    noise: float = 0.05  # latent noise at the start, fading to 0 at 3/4 of the steps
    seed: int = 0
    report_every: int = 5  # steps between progress reports
    resolution: int = 256  # style models: largest image side the loss looks at (a preview output when there is one)
    w_plus_fraction: float = 0.2  # style models: share of the steps spent in W+ after W
    # Style models (W, then W+ at half the rate): a gentler step and a stronger pull towards typical
    # faces than z needs keep the face on the face manifold, so the full network draws it as found
    # (tests/bench/bench_style_projection.py, 11 photos: full-image MSE ratio to the nearest random face
    # mean 0.62 -> 0.455 and none worse (was 2 of 11) with these values; 0.05 / 2.0 / 0.3 gave 0.495).
    style_learning_rate: float = 0.04
    style_prior_weight: float = 4.0
    latent_space: str = "auto"  # "auto": z for DCGAN, W then W+ for style models; "z": optimise z for any model

    def __post_init__(self) -> None:
        def _int(name: str, lo: int, hi: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ConfigError(f"Projection setting {name}={value!r} is out of range; use a whole number from {lo} to {hi}.")

        def _float(name: str, lo: float, hi: float) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not lo <= value <= hi:
                raise ConfigError(f"Projection setting {name}={value!r} is out of range; use a number from {lo:g} to {hi:g}.")

        _int("steps", 1, 100_000)
        _int("restarts", 1, 256)
        _int("candidates", 1, 100_000)
        _int("pixel_scales", 1, 6)
        _int("seed", 0, 2**63 - 1)
        _int("report_every", 1, 100_000)
        _float("learning_rate", 1e-6, 10.0)
        _float("perceptual_weight", 0.0, 1e3)
        _float("prior_weight", 0.0, 1e3)
        _float("noise", 0.0, 10.0)
        _int("resolution", 8, 4096)
        _float("w_plus_fraction", 0.0, 1.0)
        _float("style_learning_rate", 1e-6, 10.0)
        _float("style_prior_weight", 0.0, 1e3)
        if self.latent_space not in ("auto", "z"):
            raise ConfigError(f"Projection space {self.latent_space!r} is unknown; use 'auto' or 'z'.")
        if self.pixel_loss not in PIXEL_LOSSES:
            raise ConfigError(f"Pixel loss {self.pixel_loss!r} is unknown; use one of {', '.join(PIXEL_LOSSES)}.")
        if self.candidates < self.restarts:
            raise ConfigError(
                f"{self.restarts} restarts need at least as many random candidates to pick them from, not {self.candidates}."
            )


@dataclass(frozen=True)
class ProjectionProgress:
    """One progress report (plain data, safe to send across threads)."""

    step: int  # steps done so far (0 = the chosen starts, before any update)
    steps: int
    loss: float  # best total loss so far
    pixel_mse: float  # of the best image so far, on [0, 1] pixels
    image: np.ndarray  # the best reconstruction so far, uint8 (H, W, 3)


@dataclass
class ProjectionResult:
    """The best latent found, its picture and how good the match is."""

    latent: np.ndarray  # float32: (nz,) z for DCGAN, (num_ws, w_dim) w+ for style models (see `space`)
    image: np.ndarray  # uint8 (H, W, 3), the viewing generator's face of `latent`
    loss: float  # total loss of `latent`
    start_loss: float  # total loss of the best random start, before optimising
    pixel_mse: float  # mean squared error against the target on [0, 1] pixels
    start_pixel_mse: float
    steps_done: int
    cancelled: bool
    perceptual: bool  # False when the model has no discriminator (pixel loss only)
    losses: list[float] = field(default_factory=list)  # best total loss after each step
    space: str = "z"
    features: str = ""  # perceptual features used: "discriminator", "gradients" or "" (none)


def has_perceptual_loss(bundle: ModelBundle) -> bool:
    """Whether projection can use the discriminator's features (the file has a D)."""
    return bundle.discriminator is not None


def load_photo(path: str | os.PathLike, size: int, crop: tuple[int, int, int] | None = None) -> np.ndarray:
    """A user's picture, upright, cropped and resized: uint8 (size, size, 3).

    No face detector ships its weights inside a PyPI package that installs cleanly here
    (mediapipe's wheel carries no face model and pulls in the GUI build of OpenCV), so
    the face is framed by hand: `crop` = (left, top, side) in pixels of the upright
    picture, else the largest centred square. Models trained on aligned faces (FFHQ)
    match best when the face fills the square with eyes a little above the middle.
    Goes through the one safe image loader, so a bad file raises ImageFileError.
    """
    from facestudio.data.image_loader import center_crop_resize, load_image

    img = load_image(path, draft_size=None if crop else 2 * size)
    if crop is not None:
        left, top, side = (int(v) for v in crop)
        w, h = img.size
        if side < 8 or left < 0 or top < 0 or left + side > w or top + side > h:
            raise ImageFileError(f"The crop {left},{top},{side} does not fit inside the {w} x {h} picture; "
                                 "give left,top,side of a square inside it.")
        img = img.crop((left, top, left + side, top + side))
    return center_crop_resize(img, size)


def _target_tensor(target: np.ndarray, size: int, nc: int = 3) -> torch.Tensor:
    """uint8 (H, W, 3) -> (1, nc, size, size) float in [-1, 1], centre-cropped if needed.

    Models with other than 3 channels see the picture as they were trained to: grey for
    1, grey plus an opaque alpha for 2, RGB plus an opaque alpha for 4.
    """
    arr = np.asarray(target)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8 or min(arr.shape[:2]) < 1:
        raise ImageFileError(f"The picture to match must be an RGB image (H, W, 3) of 8-bit values, not {arr.dtype} {arr.shape}.")
    if arr.shape[:2] != (size, size):
        from PIL import Image

        from facestudio.data.image_loader import center_crop_resize

        arr = center_crop_resize(Image.fromarray(arr, "RGB"), size)
    t = to_float(torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)).unsqueeze(0)
    grey, opaque = t.mean(1, keepdim=True), torch.ones_like(t[:, :1])
    return {1: grey, 2: torch.cat([grey, opaque], 1), 3: t, 4: torch.cat([t, opaque], 1)}[nc]


class _Loss:
    """The projection loss against one fixed target, per sample (N,)."""

    def __init__(self, bundle: ModelBundle, target: torch.Tensor, settings: ProjectionSettings) -> None:
        self.settings = settings
        self.nz = bundle.config.nz
        self.disc = bundle.discriminator
        dtype = next(bundle.viewing_generator.parameters()).dtype
        self.target = target.to(dtype)
        scales = max(1, min(settings.pixel_scales, int(math.log2(target.shape[-1])) - 1))
        self.target_pyramid = self._pyramid(self.target, scales)
        self.target_feats: list[torch.Tensor] = []
        if self.disc is not None and settings.perceptual_weight > 0:
            with torch.no_grad():
                self.target_feats = [self._unit(f) for f in self._features(self.target)]

    def _features(self, images: torch.Tensor) -> list[torch.Tensor]:
        if hasattr(self.disc, "features"):  # DCGAN discriminator
            return self.disc.features(images)
        from facestudio.latent.style_projection import discriminator_features

        return discriminator_features(self.disc, images)

    @staticmethod
    def _pyramid(x: torch.Tensor, scales: int) -> list[torch.Tensor]:
        levels = [x]
        for _ in range(scales - 1):
            levels.append(F.avg_pool2d(levels[-1], 2))
        return levels

    @staticmethod
    def _unit(f: torch.Tensor) -> torch.Tensor:
        # LPIPS normalises each position's channel vector, so every layer weighs alike.
        return f / (f.pow(2).sum(dim=1, keepdim=True).add(1e-10).sqrt())

    def pixel(self, images: torch.Tensor) -> torch.Tensor:
        total = images.new_zeros(images.shape[0])
        levels = self._pyramid(images, len(self.target_pyramid))
        for x, t in zip(levels, self.target_pyramid):
            d = x - t
            d = d.abs() if self.settings.pixel_loss == "l1" else d.pow(2)
            total = total + d.flatten(1).mean(dim=1)
        return total / len(levels)

    def perceptual(self, images: torch.Tensor) -> torch.Tensor:
        if not self.target_feats:
            return images.new_zeros(images.shape[0])
        total = images.new_zeros(images.shape[0])
        for f, t in zip(self._features(images), self.target_feats):
            total = total + (self._unit(f) - t).pow(2).sum(dim=1).flatten(1).mean(dim=1)
        return total / len(self.target_feats)

    def prior(self, z: torch.Tensor) -> torch.Tensor:
        return (z.pow(2).sum(dim=1) / self.nz - 1.0).pow(2)

    def __call__(self, z: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        s = self.settings
        loss = self.pixel(images)
        if self.target_feats:
            loss = loss + s.perceptual_weight * self.perceptual(images)
        if s.prior_weight > 0:
            loss = loss + s.prior_weight * self.prior(z)
        return loss

    def pixel_mse(self, images: torch.Tensor) -> torch.Tensor:
        """Per-sample MSE on [0, 1] pixels (the figure people compare, loss-independent)."""
        return ((images.clamp(-1, 1) - self.target) / 2.0).pow(2).flatten(1).mean(dim=1)


def _learning_rate(base: float, t: float) -> float:
    """StyleGAN-projector schedule: 5% warm-up, cosine ramp-down over the last 25%."""
    ramp_down = min(1.0, (1.0 - t) / 0.25)
    ramp_down = 0.5 - 0.5 * math.cos(ramp_down * math.pi)
    ramp_up = min(1.0, t / 0.05)
    return base * ramp_down * ramp_up


def _screen(bundle: ModelBundle, loss_fn: _Loss, settings: ProjectionSettings, gen: torch.Generator,
            should_cancel: Callable[[], bool]) -> tuple[torch.Tensor, torch.Tensor]:
    """The `restarts` best of `candidates` random latents and their losses."""
    g = bundle.viewing_generator
    nz = bundle.config.nz
    latents = torch.randn(settings.candidates, nz, generator=gen)
    losses = torch.empty(settings.candidates)
    with torch.no_grad():
        for start in range(0, settings.candidates, _SCREEN_CHUNK):
            z = latents[start:start + _SCREEN_CHUNK]
            losses[start:start + len(z)] = loss_fn(z, g(z)).float()
            if should_cancel() and start + len(z) >= settings.restarts:
                losses[start + len(z):] = float("inf")
                break
    best = torch.argsort(losses)[: settings.restarts]
    return latents[best].clone(), losses[best].clone()


def project(
    bundle: ModelBundle,
    target: np.ndarray,
    settings: ProjectionSettings | None = None,
    *,
    progress: Callable[[ProjectionProgress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ProjectionResult:
    """Find the latent of `bundle`'s viewing generator whose face best matches `target`.

    `target`: uint8 (H, W, 3), centre-cropped and resized to the model's size if needed.
    `progress(report)` is called at the start, every `settings.report_every` steps and at
    the end; `should_cancel()` is polled every step, and when it returns True the best
    latent found so far is returned with `cancelled=True`.
    """
    settings = settings or ProjectionSettings()
    should_cancel = should_cancel or (lambda: False)
    if bundle.family != "dcgan" and settings.latent_space != "z":
        from facestudio.latent.style_projection import project_style

        return project_style(bundle, target, settings, progress, should_cancel)
    size = bundle.config.image_size
    g = bundle.viewing_generator
    loss_fn = _Loss(bundle, _target_tensor(target, size, bundle.config.nc), settings)
    gen = torch.Generator().manual_seed(settings.seed)

    starts, start_losses = _screen(bundle, loss_fn, settings, gen, should_cancel)
    z = starts.clone().requires_grad_(True)
    best_z = starts[0].clone()
    best_loss = float(start_losses[0])
    with torch.no_grad():
        best_image = g(best_z[None])
    start_mse = best_mse = float(loss_fn.pixel_mse(best_image)[0])
    start_loss = best_loss
    losses: list[float] = []

    def report(step: int) -> None:
        if progress is not None:
            progress(ProjectionProgress(step, settings.steps, best_loss, best_mse, tensor_to_uint8(best_image)[0]))

    report(0)
    optimiser = torch.optim.Adam([z], lr=settings.learning_rate, betas=(0.9, 0.999))
    cancelled = False
    step = 0
    with torch.enable_grad():
        for step in range(1, settings.steps + 1):
            if should_cancel():
                cancelled = True
                step -= 1
                break
            t = (step - 1) / settings.steps
            for group in optimiser.param_groups:
                group["lr"] = _learning_rate(settings.learning_rate, t)
            noise_scale = settings.noise * max(0.0, 1.0 - t / 0.75) ** 2
            zn = z + noise_scale * torch.randn(z.shape, generator=gen) if noise_scale > 0 else z
            images = g(zn)
            per_sample = loss_fn(zn, images)
            (grad,) = torch.autograd.grad(per_sample.sum(), [z])
            with torch.no_grad():
                i = int(torch.argmin(per_sample))
                if float(per_sample[i]) < best_loss:
                    best_loss = float(per_sample[i])
                    best_z = zn[i].detach().clone()
                    best_image = images[i:i + 1].detach().clone()
                    best_mse = float(loss_fn.pixel_mse(best_image)[0])
            losses.append(best_loss)
            z.grad = grad
            optimiser.step()
            if step % settings.report_every == 0 and step < settings.steps:
                report(step)

    # The final latents (after the last update) were never scored; score them once.
    if not cancelled:
        with torch.no_grad():
            images = g(z)
            per_sample = loss_fn(z, images)
            i = int(torch.argmin(per_sample))
            if float(per_sample[i]) < best_loss:
                best_loss = float(per_sample[i])
                best_z = z[i].detach().clone()
                best_image = images[i:i + 1].clone()
                best_mse = float(loss_fn.pixel_mse(best_image)[0])
                if losses:
                    losses[-1] = best_loss
    report(step)
    return ProjectionResult(
        latent=best_z.detach().float().numpy().copy(),
        image=tensor_to_uint8(best_image)[0],
        loss=best_loss,
        start_loss=start_loss,
        pixel_mse=best_mse,
        start_pixel_mse=start_mse,
        steps_done=step,
        cancelled=cancelled,
        perceptual=bool(loss_fn.target_feats),
        losses=losses,
        features="discriminator" if loss_fn.target_feats else "",
    )


def project_photo(
    bundle: ModelBundle,
    path: str | os.PathLike,
    settings: ProjectionSettings | None = None,
    *,
    progress: Callable[[ProjectionProgress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, ProjectionResult]:
    """Load `path` safely at the model's size and project it: (target uint8, result)."""
    target = load_photo(path, bundle.config.image_size)
    return target, project(bundle, target, settings, progress=progress, should_cancel=should_cancel)
