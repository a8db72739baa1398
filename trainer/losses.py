"""GAN losses on discriminator logits: non-saturating BCE (default) and hinge.

Both work on raw logits (the discriminator has no final sigmoid): `*_with_logits` is the
numerically stable form of the DCGAN tutorial's Sigmoid + BCELoss, the same maths
without log(0) once D becomes confident.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class GanLoss:
    """A pair of losses: `d(real_logits, fake_logits)` and `g(fake_logits)`."""

    kind: str = "bce"
    label_smoothing: float = 0.0

    def d(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        if self.kind == "hinge":
            return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
        # One-sided smoothing (Salimans et al. 2016): only real targets are softened,
        # which keeps D from pushing fakes towards an overconfident decision boundary.
        real_target = torch.full_like(real, 1.0 - self.label_smoothing)
        return F.binary_cross_entropy_with_logits(real, real_target) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))

    def g(self, fake: torch.Tensor) -> torch.Tensor:
        if self.kind == "hinge":
            return -fake.mean()
        # Non-saturating: maximise log D(G(z)) rather than minimise log(1 - D(G(z))),
        # which gives G strong gradients exactly when D rejects its samples.
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
