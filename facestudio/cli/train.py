"""`facestudio train`: headless training into a numbered run folder, resumable.

    facestudio train --minutes 30                      # built-in synthetic faces, 64 px
    facestudio train --data ~/faces --size 64 --max-steps 20000 --name myfaces
    facestudio train --resume runs/00003-myfaces --max-steps 40000
    torchrun --nproc_per_node 2 -m facestudio train --threads 1 ...   # data parallel

The settings' flags, help and defaults come from TrainConfig (trainer/config_flags.py);
every value is checked before any work starts.
Ctrl-C stops after the current step and saves a checkpoint; a second Ctrl-C quits at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from facestudio.app_folders import default_runs_dir
from facestudio.errors import ConfigError
from trainer.config_flags import add_setting_arguments, given_settings

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = (
        "Files: RUNS_DIR/NNNNN-NAME/ holds config.json, metrics.jsonl (one JSON record per step), log.txt,\n"
        "samples/step_NNNNNNN.png (faces of fixed latents), checkpoints/ckpt_NNNNNNN.safetensors (the last\n"
        "--keep ones, plus latest_good.safetensors) and, at the end, model.safetensors for `facestudio open`.\n"
        "Data parallel: torchrun --nproc_per_node N -m facestudio train ... (see trainer/README.md)."
    )
    groups = add_setting_arguments(p)
    r = groups["files"]
    r.add_argument("--runs-dir", metavar="DIR", help="where new run folders are made (default: the FaceStudio data folder's runs/, "
                   f"here {default_runs_dir()}; the app's Training Room uses the same)")
    r.add_argument("--resume", metavar="RUN_DIR|CHECKPOINT", help="continue a run in its folder from its newest checkpoint (or the one given); settings come from the run")
    groups["hardware"].add_argument("--quiet", action="store_true", help="no progress bar")


def build_trainer(args: argparse.Namespace):
    """The Trainer the flags ask for (new run or resume); raises ConfigError for bad combinations."""
    from trainer.trainer import Trainer

    given, config = checked_settings(args)
    report = None if getattr(args, "quiet", False) else PreparationReport()
    if args.resume:
        return Trainer.resume(args.resume, prepare_progress=report, **given)
    return Trainer(config, runs_dir=args.runs_dir or default_runs_dir(), prepare_progress=report)


class PreparationReport:
    """`prepare_progress` for the terminal: "preparing the data: 2,500 of 10,000 images (25%)".

    Updated in place on a terminal (at most 4 times a second); in a log, one line per quarter.
    """

    def __init__(self, stream=None) -> None:
        import time

        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._clock = time.monotonic
        self._last = -1.0
        self._quarter = -1

    def __call__(self, done: int, total: int) -> None:
        now, quarter = self._clock(), (4 * done) // max(total, 1)
        line = f"preparing the data: {done:,} of {total:,} images ({done / max(total, 1):.0%})"
        if self.tty:
            if now - self._last >= 0.25 or done >= total:
                self._last = now
                self.stream.write("\r" + line + ("\n" if done >= total else ""))
                self.stream.flush()
        elif quarter != self._quarter:
            self._quarter = quarter
            print(line, file=self.stream, flush=True)


def checked_settings(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    """Every option checked before any work starts -> (given settings, the new run's TrainConfig or None on resume)."""
    from trainer.config import TrainConfig

    given = given_settings(args)
    if args.resume:
        if args.runs_dir is not None:
            raise ConfigError("--runs-dir does not go with --resume: a resumed run continues in its own folder.")
        return given, None
    return given, TrainConfig(**given)


def run(args: argparse.Namespace) -> int:
    from trainer.progress_bar import ProgressBar

    checked_settings(args)  # a bad value is refused now, not after the data set was prepared
    if not args.resume and (args.data is None or args.data == "synthetic"):
        print("facestudio train: preparing the built-in synthetic faces (cached after the first time).", file=sys.stderr)
    trainer = build_trainer(args)
    bar = ProgressBar(trainer.planned_steps)
    say = bar.message if trainer.is_main else (lambda text: None)
    if trainer.is_main:
        c = trainer.config
        say(f"Run folder: {trainer.run_dir}  (continue later with: facestudio train --resume {trainer.run_dir})")
        if trainer.resumed_from is not None:
            say(f"Resumed from step {trainer.progress.step} ({trainer.resumed_from.name}).")
        say(f"{trainer.data.name}: {trainer.n_images} images at {c.image_size} px; DiffAugment {'+'.join(trainer.augment_ops) or 'off'}; "
            f"{trainer.device}, {trainer.dist.world_size} process(es)")
        if trainer.eval_note:
            say(trainer.eval_note)
        if c.max_steps is None and c.minutes is None and c.epochs is None:
            say("No budget given (--max-steps, --minutes, --epochs): training until Ctrl-C.")
        trainer.add_callback("warning", lambda w: bar.message(f"warning: {w['message']}"))
    if trainer.is_main and not args.quiet:
        trainer.add_callback("metrics", bar.update)
        trainer.add_callback("checkpoint", lambda e: say(f"checkpoint: step {e['step']} -> {e['path']}"))

    interrupts = 0

    def on_signal(signum, frame):  # noqa: ARG001
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            raise KeyboardInterrupt
        say("Stopping after this step and saving a checkpoint (Ctrl-C again quits at once)...")
        trainer.request_stop()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = trainer.run()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        bar.close()
    if trainer.is_main:
        say(f"Finished at step {result.step} ({result.reason}).")
        if result.model_path:
            say(f"Model: {result.model_path}  (open it with: facestudio open {result.run_dir})")
        elif result.run_dir is not None:
            say("The model could not be exported; see the warnings above. The checkpoints are intact.")
            return 1
    return 0
