"""Starting settings for a data set of a given size, each with the reason for it.

The training room fills its form with these once the data check has counted the usable
images, and shows the reasons as tooltips: an artist should not need to know DCGAN lore
to get a first run that learns, but should be able to see why a number was picked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trainer.config import DIFFAUGMENT_AUTO_BELOW, TrainConfig


@dataclass
class SuggestedSettings:
    values: dict[str, Any] = field(default_factory=dict)  # TrainConfig field -> value
    reasons: dict[str, str] = field(default_factory=dict)  # TrainConfig field -> sentence


def suggest_settings(n_images: int, image_size: int = 64) -> SuggestedSettings:
    """Settings that suit `n_images` training images at `image_size` pixels."""
    n = max(1, int(n_images))
    s = SuggestedSettings()

    def put(name: str, value: Any, why: str) -> None:
        s.values[name] = value
        s.reasons[name] = why

    if n < 256:
        batch = max(2, min(16, n // 4 or 2))
    elif n < 2000:
        batch = 32
    else:
        batch = 64
    put("batch_size", batch,
        f"Images per step. 64 is the DCGAN classic; with {n:,} images a smaller batch gives more steps per pass "
        "over the data. Bigger batches are smoother but slower per step.")
    small = n < DIFFAUGMENT_AUTO_BELOW
    put("diffaugment", "auto",
        f"DiffAugment shows the discriminator shifted, recoloured and cut-out copies so it cannot memorise a small "
        f"data set. 'auto' switches it on below {DIFFAUGMENT_AUTO_BELOW:,} images"
        + (f" - so it will be on for your {n:,}." if small else f" - off for your {n:,}."))
    put("flip", small,
        "Also train on mirrored copies: doubles a small data set for free (faces are nearly symmetric). "
        + ("Suggested for fewer than 5,000 images." if small else "Less needed with this many images."))
    # 20 passes even for big sets: at 8 (1,200 steps for the 10,000 built-in faces) a 32 px run
    # ended after 45 s with blurry faces (FD 88.6); 3,100 steps take ~2 minutes on 2 cores.
    epochs = 40 if n < 2000 else 20
    steps = int(min(30_000, max(1_000, round(epochs * n / batch, -2))))
    put("max_steps", steps,
        f"About {epochs} passes over {n:,} images at batch {batch}. Faces usually show their shape after a "
        "few thousand steps; more steps sharpen them. Training can be stopped at any time and resumed later.")
    put("lr_g", TrainConfig.default("lr_g"), "Generator learning rate: 2e-4 with Adam beta1 0.5 is the DCGAN paper's setting and rarely needs changing. "
        "Lower it (1e-4) if the losses swing wildly or the samples flicker.")
    put("lr_d", TrainConfig.default("lr_d"), "Discriminator learning rate. If the discriminator wins outright (D(x) near 1, D(G(z)) near 0), "
        "lower this one first.")
    ema = TrainConfig.default("ema_decay")  # the command line's default too
    put("ema_decay", ema,
        "The samples and the exported model use a moving average of the generator's weights, which gives calmer, "
        f"better faces. {ema} averages over roughly the last {round(1 / (1 - ema))} steps; 0 turns it off.")
    put("loss", TrainConfig.default("loss"), "bce is the DCGAN tutorial's loss; hinge can be steadier on small data sets.")
    put("sample_every", max(20, steps // 40 // 10 * 10),
        "Steps between sample grids: about 40 pictures over the run for the timeline.")
    put("checkpoint_every", max(100, steps // 10 // 100 * 100),
        "Steps between checkpoints: training can resume from each, and closing the window saves one anyway.")
    put("image_size", image_size, "Pixels per side. 64 trains about 4x faster than 128; 32 is good for quick tests.")
    return s
