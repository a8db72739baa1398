"""`facestudio train`: headless training into a numbered run folder, resumable.

    facestudio train --minutes 30                      # built-in synthetic faces, 64 px
    facestudio train --data ~/faces --size 64 --max-steps 20000 --name myfaces
    facestudio train --resume runs/00003-myfaces --max-steps 40000
    torchrun --nproc_per_node 2 -m facestudio train --threads 1 ...   # data parallel

Every flag defaults to "unset", so a resume can tell a repeated flag (accepted when the
value is the same) from one that would change how the run trains (refused).
Ctrl-C stops after the current step and saves a checkpoint; a second Ctrl-C quits at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from facestudio.app_folders import default_runs_dir
from facestudio.errors import ConfigError

# flag dest -> TrainConfig field
_FIELDS = {
    "data": "data", "data_count": "data_count", "flip": "flip", "size": "image_size", "batch": "batch_size",
    "nz": "nz", "ngf": "ngf", "ndf": "ndf", "d_norm": "d_norm", "name": "name", "seed": "seed",
    "loss": "loss", "label_smoothing": "label_smoothing", "lr_g": "lr_g", "lr_d": "lr_d",
    "beta1": "beta1", "beta2": "beta2", "ema": "ema_decay", "diffaugment": "diffaugment",
    "max_steps": "max_steps", "minutes": "minutes", "epochs": "epochs", "device": "device", "threads": "threads",
    "amp": "amp", "sample_every": "sample_every", "sample_count": "sample_count",
    "checkpoint_every": "checkpoint_every", "keep": "keep", "eval_every": "eval_every",
    "eval_n": "eval_n",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = (
        "Files: RUNS_DIR/NNNNN-NAME/ holds config.json, metrics.jsonl (one JSON record per step), log.txt,\n"
        "samples/step_NNNNNNN.png (faces of fixed latents), checkpoints/ckpt_NNNNNNN.safetensors (the last\n"
        "--keep ones, plus latest_good.safetensors) and, at the end, model.safetensors for `facestudio open`.\n"
        "Data parallel: torchrun --nproc_per_node N -m facestudio train ... (see trainer/README.md)."
    )
    d = p.add_argument_group("data")
    d.add_argument("--data", metavar="DIR|synthetic", help='training images: a folder (searched recursively) or "synthetic", the built-in faces (default)')
    d.add_argument("--data-count", type=int, metavar="N", help="synthetic: how many faces to render (default 10000); folder: use the first N images")
    d.add_argument("--flip", action="store_const", const=True, help="also train on mirrored copies of every image (doubles the data)")
    d.add_argument("--size", type=int, choices=(32, 64, 128), help="image size in pixels (default 64)")
    m = p.add_argument_group("model")
    m.add_argument("--nz", type=int, help="latent size: how many numbers describe a face (default 100)")
    m.add_argument("--ngf", type=int, help="generator width (default 64)")
    m.add_argument("--ndf", type=int, help="discriminator width (default 64)")
    m.add_argument("--d-norm", choices=("batch", "spectral", "none"), help="discriminator normalisation (default batch)")
    m.add_argument("--name", help="run and model name (default dcgan)")
    t = p.add_argument_group("training")
    t.add_argument("--batch", type=int, help="images per step and per process (default 64)")
    t.add_argument("--loss", choices=("bce", "hinge"), help="bce: non-saturating BCE-with-logits as in the DCGAN tutorial (default); hinge")
    t.add_argument("--label-smoothing", type=float, metavar="S", help="one-sided label smoothing: real targets 1-S, bce only (default 0)")
    t.add_argument("--lr-g", type=float, metavar="LR", help="generator Adam learning rate (default 2e-4)")
    t.add_argument("--lr-d", type=float, metavar="LR", help="discriminator Adam learning rate (default 2e-4)")
    t.add_argument("--beta1", type=float, help="Adam beta1 (default 0.5)")
    t.add_argument("--beta2", type=float, help="Adam beta2 (default 0.999)")
    t.add_argument("--ema", type=float, metavar="DECAY", help="decay of the generator's moving average used for samples and the exported model; 0 = off (default 0.999)")
    t.add_argument("--diffaugment", choices=("auto", "on", "off"), help="differentiable augmentation of real and fake images; auto = on below 5000 images (default auto)")
    t.add_argument("--seed", type=int, help="seed of weights, noise and data order: same seed, same run (default 0)")
    b = p.add_argument_group("budget (training stops at the first one reached; none = until Ctrl-C)")
    b.add_argument("--max-steps", type=int, metavar="N", help="stop at step N (counted over the whole run, so a resume continues to N)")
    b.add_argument("--minutes", type=float, help="stop after this many minutes of this session")
    b.add_argument("--epochs", type=float, help="stop after this many passes over the data (counted over the whole run)")
    r = p.add_argument_group("run folder and resume")
    r.add_argument("--runs-dir", metavar="DIR", help="where new run folders are made (default: the FaceStudio data folder's runs/, "
                   f"here {default_runs_dir()}; the app's Training Room uses the same)")
    r.add_argument("--resume", metavar="RUN_DIR|CHECKPOINT", help="continue a run in its folder from its newest checkpoint (or the one given); settings come from the run")
    r.add_argument("--sample-every", type=int, metavar="N", help="write a grid of faces from fixed latents every N steps; 0 = only at the end (default 500)")
    r.add_argument("--sample-count", type=int, metavar="N", help="faces in each sample grid (default 64)")
    r.add_argument("--checkpoint-every", type=int, metavar="N", help="write a checkpoint every N steps; 0 = only at the end (default 1000)")
    r.add_argument("--keep", type=int, metavar="K", help="checkpoints to keep besides latest_good (default 3)")
    r.add_argument("--eval-every", type=int, metavar="N", help='every N steps, measure the EMA generator against the built-in faces (Frechet distance, precision, recall, diversity; see `facestudio eval`) and log it in metrics.jsonl under "quality"; --data synthetic only; 0 = off (default)')
    r.add_argument("--eval-n", type=int, metavar="N", help="faces per quality measurement: more is steadier but slower (default 1000; `facestudio eval` quotes 5000)")
    h = p.add_argument_group("hardware")
    h.add_argument("--device", choices=("auto", "cpu", "cuda"), help="auto = a CUDA GPU when there is one, else the CPU (default auto)")
    h.add_argument("--threads", type=int, help="CPU threads per process (default: PyTorch's choice; with torchrun, cores / processes)")
    h.add_argument("--no-amp", dest="amp", action="store_const", const=False, help="no bf16 mixed precision on CUDA (it is never used on the CPU)")
    h.add_argument("--quiet", action="store_true", help="no progress bar")


def _given(args: argparse.Namespace) -> dict[str, Any]:
    given = {field: getattr(args, dest) for dest, field in _FIELDS.items() if getattr(args, dest, None) is not None}
    if "data" in given:  # saved absolute, so a resume from another folder finds the images
        data = given["data"].strip()
        given["data"] = "synthetic" if data.lower() == "synthetic" else str(Path(data).expanduser().resolve())
    return given


def build_trainer(args: argparse.Namespace):
    """The Trainer the flags ask for (new run or resume); raises ConfigError for bad combinations."""
    from trainer.config import TrainConfig
    from trainer.trainer import Trainer

    given = _given(args)
    if args.resume:
        if args.runs_dir is not None:
            raise ConfigError("--runs-dir does not go with --resume: a resumed run continues in its own folder.")
        return Trainer.resume(args.resume, **given)
    return Trainer(TrainConfig(**given), runs_dir=args.runs_dir or default_runs_dir())


def run(args: argparse.Namespace) -> int:
    from trainer.progress_bar import ProgressBar

    if not args.resume and (args.data is None or args.data == "synthetic"):
        print("facestudio train: preparing the built-in synthetic faces (cached after the first time)...", file=sys.stderr)
    trainer = build_trainer(args)
    bar = ProgressBar(trainer.planned_steps)
    say = bar.message if trainer.is_main else (lambda text: None)
    if trainer.is_main:
        c = trainer.config
        say(f"Run folder: {trainer.run_dir}  (continue later with: facestudio train --resume {trainer.run_dir})")
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
