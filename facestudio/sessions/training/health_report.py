"""How a run is doing, in plain words: what the live curves say, and what to try.

The trainer's own warnings (`trainer.health`) fire once, when a threshold is crossed.
The training room also wants a standing verdict it can show beside the curves and
refresh a few times a second: this module turns the latest smoothed figures into a
short list of notes, each a sentence an artist can act on without GAN lore. Qt-free
and cheap (a handful of comparisons), so it can run on every refresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OK, WATCH, PROBLEM = "ok", "watch", "problem"
LEVELS = (OK, WATCH, PROBLEM)
#: Smoothed D(x) above this with D(G(z)) below `D_WIN_FAKE`: the discriminator wins outright.
D_WIN_REAL, D_WIN_FAKE = 0.95, 0.05
#: Smoothed D(G(z)) above this: the discriminator no longer tells fakes apart.
D_FOOLED = 0.85
#: Sample diversity (share of the data's) below this deserves a look, below `collapse` is a problem.
LOW_DIVERSITY = 0.5
#: Steps after which a discriminator win is a concern (early on it always leads).
SETTLING_STEPS = 200
#: D(x) - D(G(z)) above this: the discriminator is clearly ahead (not yet a problem).
AHEAD_GAP = 0.6


@dataclass(frozen=True)
class HealthNote:
    level: str  # "ok", "watch" or "problem"
    topic: str  # "stability", "contest" or "variety"
    text: str


def _finite(x: float | None) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def describe_health(
    *,
    step: int,
    d_real: float | None,
    d_fake: float | None,
    diversity: float | None,
    skipped_steps: int = 0,
    recent_skips: int = 0,
    collapse_threshold: float = 0.2,
    collapse_warmup: int = 500,
    d_win_streak: int = 0,
    d_win_steps: int = 100,
) -> list[HealthNote]:
    """Notes on stability (NaN steps), the G/D contest and sample variety, worst first.

    `d_real`/`d_fake` are smoothed mean D(x)/D(G(z)) probabilities; `diversity` the last
    sample grid's diversity as a share of the training images' (None: not measured yet);
    `skipped_steps` updates skipped for NaN/Inf over the run, `recent_skips` in the last
    few hundred steps; `d_win_streak` the trainer's count of steps in a row with D(G(z))
    near 0 (an outright win once it reaches `d_win_steps`, at any step). Before `collapse_warmup` steps low variety is expected (an
    untrained generator draws near-identical blobs) and is only worth watching.
    """
    notes: list[HealthNote] = []
    if recent_skips:
        notes.append(HealthNote(PROBLEM, "stability",
                                f"{recent_skips} recent step(s) produced NaN or infinite values and were skipped. FaceStudio "
                                "rolls back and lowers the learning rates if it continues; if warnings keep coming, stop and "
                                "start again with lower learning rates or the hinge loss."))
    elif skipped_steps:
        notes.append(HealthNote(WATCH, "stability",
                                f"{skipped_steps} step(s) earlier in the run were skipped for NaN or infinite values; "
                                "training has been stable since."))
    else:
        notes.append(HealthNote(OK, "stability", "Stable: no NaN or infinite values so far."))

    if not (_finite(d_real) and _finite(d_fake)):
        notes.append(HealthNote(OK, "contest", "The discriminator's verdicts appear after the first steps."))
    elif d_win_streak >= d_win_steps:
        notes.append(HealthNote(PROBLEM, "contest",
                                f"The discriminator is winning outright: for {d_win_streak:,} steps it has called every "
                                f"generated face fake (D(G(z)) {d_fake:.2f}), so the generator learns almost nothing and the "
                                "samples will stay noise. Stop and start again with the default settings (32 px, hinge "
                                "loss, spectral-norm discriminator), or switch DiffAugment on."))
    elif d_real > D_WIN_REAL and d_fake < D_WIN_FAKE and step >= SETTLING_STEPS:
        notes.append(HealthNote(WATCH, "contest",
                                f"The discriminator is winning easily (D(x) {d_real:.2f}, D(G(z)) {d_fake:.2f}): it tells "
                                "photos from generated faces almost perfectly, so the generator learns little. Try "
                                "DiffAugment on, a lower discriminator learning rate or label smoothing."))
    elif d_fake > D_FOOLED and step >= SETTLING_STEPS:
        notes.append(HealthNote(WATCH, "contest",
                                f"The discriminator is fooled almost every time (D(G(z)) {d_fake:.2f}): it has stopped "
                                "teaching the generator. If the faces stop improving, raise the discriminator's learning "
                                "rate or lower the generator's."))
    elif d_real - d_fake > AHEAD_GAP:
        early = step < SETTLING_STEPS
        notes.append(HealthNote(OK, "contest",
                                f"The discriminator is ahead: it rates photos {d_real:.2f} and generated faces {d_fake:.2f} "
                                "(1 = surely real). " + ("That is usual in the first few hundred steps; the generator "
                                "catches up as it learns." if early else "Common in a GAN; worth watching if the gap keeps widening.")))
    else:
        notes.append(HealthNote(OK, "contest",
                                f"A fair contest: the discriminator rates photos {d_real:.2f} and generated faces "
                                f"{d_fake:.2f} (1 = surely real). Both sides are still learning."))

    if diversity is None or not _finite(diversity):
        notes.append(HealthNote(OK, "variety", "Variety is measured each time a sample grid is drawn."))
    elif diversity < collapse_threshold and step >= collapse_warmup:
        notes.append(HealthNote(PROBLEM, "variety",
                                f"The samples look very much alike ({diversity:.0%} of the training images' variety): the "
                                "generator may be collapsing onto a few faces. Go back to the last healthy checkpoint "
                                "and train with lower learning rates or DiffAugment on."))
    elif diversity < LOW_DIVERSITY:
        early = "This early in a run it is normal" if step < collapse_warmup else "Early in a run this is normal"
        notes.append(HealthNote(WATCH, "variety",
                                f"The samples vary less than the training images ({diversity:.0%} of their variety). "
                                f"{early}; if it keeps falling, the generator may be collapsing."))
    else:
        notes.append(HealthNote(OK, "variety", f"Varied samples: {diversity:.0%} of the training images' variety."))
    notes.sort(key=lambda n: -LEVELS.index(n.level))
    return notes


def overall_level(notes: list[HealthNote]) -> str:
    """The worst level among `notes` ("ok" when there are none)."""
    return max((n.level for n in notes), key=LEVELS.index, default=OK)
