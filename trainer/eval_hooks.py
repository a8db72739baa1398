"""Eval hooks: measurements of the viewing generator every N steps, into that step's record.

For quality metrics (facestudio.metrics) and the like. A hook that raises is reported as
a warning and switched off: a broken metric must not end a long training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainer.config import TrainConfig


@dataclass
class EvalContext:
    """What an eval hook gets: the EMA (viewing) generator in eval mode, on the training device.

    The hook runs on the training thread between steps; it must not modify the generator.
    """

    step: int
    generator: nn.Module
    config: TrainConfig
    device: torch.device
    run_dir: Path | None


EvalHook = Callable[[EvalContext], "dict[str, Any] | None"]


class EvalHooks:
    """The hooks of one run, each with its interval and the record key of its figures."""

    def __init__(self) -> None:
        self._hooks: list[tuple[int, str, EvalHook]] = []

    def add(self, every: int, fn: EvalHook, name: str = "eval") -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError("every must be a positive whole number of steps")
        self._hooks.append((every, name, fn))

    def run(self, context: EvalContext, record: dict[str, Any], warn: Callable[[str], None]) -> None:
        """The hooks due at `context.step`; their dicts go into `record` under their names."""
        for entry in list(self._hooks):
            every, name, fn = entry
            if context.step % every:
                continue
            net = context.generator
            was_training = net.training
            net.eval()
            try:
                with torch.no_grad():
                    result = fn(context)
                if result is not None:
                    record[name] = result
            except Exception as exc:  # a broken metric must not end a long training
                self._hooks.remove(entry)
                warn(f"The {name} hook failed at step {context.step} and was switched off: {exc}")
            finally:
                net.train(was_training)


def quality_hook(config: TrainConfig) -> tuple[EvalHook, str]:
    """`eval_every`: Frechet distance, precision/recall and diversity as "quality", and a sentence saying what they are.

    The figures come from facestudio.metrics (the factor encoder, trained on the built-in
    faces; the config refuses other data). The encoder sees faces at 64 px, so 32 and
    128 px models are resized on the way in and compare only with runs of their own size.
    """
    from facestudio.metrics import quality_hook as make_hook

    c = config
    resized = "" if c.image_size == 64 else (
        f" (the encoder judges faces at 64 px, so these {c.image_size} px faces are resized first: "
        f"compare the figures only with other {c.image_size} px runs)"
    )
    note = (f"Quality figures of the EMA generator every {c.eval_every} steps from {c.eval_n} faces against "
            f"the built-in faces{resized}; they are in metrics.jsonl under \"quality\".")
    return make_hook(n=c.eval_n), note
