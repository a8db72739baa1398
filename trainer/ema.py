"""Exponential moving average of the generator's weights.

Averaging G over the last few thousand steps removes most of the step-to-step jitter
of GAN training, so the EMA generator gives smoother, better faces; it is what sample
grids show and what exported models carry. A warm-up keeps the average from being
dominated by the random initial weights: the decay used at update n is
min(decay, (1 + n) / (10 + n)), the schedule of TensorFlow's ExponentialMovingAverage.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class GeneratorEMA:
    """A frozen copy of a generator that follows it with `update()`."""

    def __init__(self, generator: nn.Module, decay: float) -> None:
        self.decay = float(decay)
        self.updates = 0
        self.module = copy.deepcopy(generator).eval().requires_grad_(False)

    def current_decay(self) -> float:
        return min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        d = self.current_decay()
        ema_params = list(self.module.parameters())
        torch._foreach_lerp_(ema_params, [p.detach() for p in generator.parameters()], 1.0 - d)
        # Batch-norm running statistics are not learnt but measured: take G's as they are.
        for mine, theirs in zip(self.module.buffers(), generator.buffers()):
            mine.copy_(theirs)
        self.updates += 1
