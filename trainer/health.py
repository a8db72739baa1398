"""Training health: bad (NaN/Inf) steps, discriminator dominance and mode collapse.

The monitor only keeps counts and turns them into plain sentences; the trainer acts
(skips an update, rolls back, lowers learning rates). Its state goes into every
checkpoint, so a resumed run remembers that it has already been rolled back twice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from trainer.config import TrainConfig

SKIP, ROLLBACK = "skip", "rollback"
#: D(G(z)) below this counts towards a "discriminator wins outright" streak.
D_WIN_FAKE = 0.02


@dataclass
class HealthState:
    bad_in_a_row: int = 0
    bad_total: int = 0
    rollbacks: int = 0
    lr_scale: float = 1.0
    d_win_streak: int = 0
    low_diversity: bool = False
    last_diversity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HealthState":
        known = {f.name for f in dataclasses.fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in known})
        ok = all(isinstance(getattr(state, k), int) and not isinstance(getattr(state, k), bool) and getattr(state, k) >= 0
                 for k in ("bad_in_a_row", "bad_total", "rollbacks", "d_win_streak"))
        ok = ok and isinstance(state.lr_scale, (int, float)) and 0 < state.lr_scale <= 1 and isinstance(state.low_diversity, bool)
        if not ok:
            raise ValueError("malformed health state")
        return state


class HealthMonitor:
    """Counts bad steps and dominance streaks; compares sample diversity with the data's."""

    def __init__(self, config: TrainConfig, state: HealthState | None = None) -> None:
        self.config = config
        self.state = state or HealthState()
        self.data_diversity: float | None = None

    @property
    def good(self) -> bool:
        """Whether a checkpoint taken now is one to fall back on (no collapse, D not winning, no bad steps)."""
        s = self.state
        return not s.low_diversity and s.d_win_streak < self.config.d_win_steps and s.bad_in_a_row == 0

    # ------------------------------------------------------------ NaN / Inf
    def bad_step(self) -> str:
        """Record a step whose update was skipped; says whether to roll back now."""
        s = self.state
        s.bad_in_a_row += 1
        s.bad_total += 1
        return ROLLBACK if s.bad_in_a_row >= self.config.nan_patience else SKIP

    def good_step(self) -> None:
        self.state.bad_in_a_row = 0

    def rolled_back(self) -> None:
        s = self.state
        s.rollbacks += 1
        s.bad_in_a_row = 0
        s.lr_scale *= self.config.lr_backoff

    @property
    def out_of_rollbacks(self) -> bool:
        return self.state.rollbacks >= self.config.max_rollbacks

    # ------------------------------------------------------------ D dominance
    def discriminator_scores(self, d_real: float, d_fake: float) -> list[str]:
        """D(x) and D(G(z)) as probabilities for this step; warns once per streak length.

        D wins outright when it calls the generated faces fake with near certainty
        (D(G(z)) < D_WIN_FAKE), whatever it says of real ones: the generator then gets
        almost no gradient (the command line's old 64 px defaults sat at D(G(z)) 0.00 with
        G loss 21 from the first steps).
        """
        s = self.state
        s.d_win_streak = s.d_win_streak + 1 if d_fake < D_WIN_FAKE else 0
        n = self.config.d_win_steps
        if s.d_win_streak and s.d_win_streak % n == 0:
            return [
                f"The discriminator is winning outright: for {s.d_win_streak} steps it has called nearly every generated "
                f"face fake (D(G(z)) {d_fake:.2f}), so the generator learns almost nothing and the samples will stay noise. "
                "Stop and start again with the default settings (32 px, hinge loss, spectral-norm discriminator), or try "
                "--diffaugment on, --loss hinge or a lower discriminator learning rate (--lr-d)."
            ]
        return []

    # ------------------------------------------------------------ collapse
    def sample_diversity(self, diversity: float, step: int) -> tuple[float | None, list[str]]:
        """Diversity of the fixed-latent samples -> (share of the data's diversity, warnings)."""
        if not self.data_diversity:
            return None, []
        ratio = diversity / self.data_diversity
        s = self.state
        s.last_diversity = ratio
        low = step >= self.config.collapse_warmup and ratio < self.config.collapse_threshold
        warnings = []
        if low and not s.low_diversity:
            warnings.append(
                f"The samples look very much alike (their diversity is {ratio:.0%} of the training images'): the generator "
                "may be collapsing onto a few faces. If this persists, go back with "
                "`facestudio train --resume RUN/checkpoints/latest_good.safetensors` and lower the learning rates or switch DiffAugment on."
            )
        s.low_diversity = low
        return ratio, warnings
