"""Train the factor encoder behind FaceStudio's quality metrics and ship it.

    python -m trainer.recipes.train_factor_encoder            # -> resources/factor_encoder.safetensors + .json

The encoder learns to read every labelled factor of the built-in synthetic faces (BCE
for binary, MSE on standardised values for continuous, cross-entropy for categorical
factors) from 20,000 faces of data-set seed 7001, and is scored on 2,000 faces of seed
7002 that it never saw. Its inner layers, standardised on 5,000 training faces, are the
feature space of the Frechet distance, precision/recall and diversity (see
facestudio.metrics), so the held-out figures here say how much that space knows about
faces. Deterministic for a given seed and thread count; about 5 minutes on two idle CPU
cores (10 on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from facestudio.atomic_file import atomic_write_text
from facestudio.metrics.factor_encoder import (
    EncoderArch,
    FactorEncoder,
    FactorHead,
    default_encoder_path,
    heads_for_synthetic_faces,
    prepare_images,
    save_encoder,
)
from facestudio.metrics.reference_stats import ENCODER_HELDOUT_SEED, ENCODER_TRAIN_SEED

SIZE = 64
OTHER_SIZES = (32, 128)  # also scored, since 32 and 128 px models are judged through this 64 px encoder
CALIBRATION_N = 5000  # training faces that set the metric features' standardisation
# Why --low-res-fraction defaults to 0: showing part of the training faces at 32 px makes
# the encoder read small faces better (32 px glasses accuracy 0.64 -> 0.97) but teaches
# it that blur does not matter, and catching blur is the metric's first job (GAN faces are
# often soft). Measured at n=1,000 with fraction 0.35: FD of blur radius 1 fell from 136
# to 53 and blur 0.5 came within 18% of real faces; pure noise scored better than a
# collapsed set. A 32 px model is compared with real faces rendered at 32 px, so its FD
# stays like-for-like; only its per-factor readings are less accurate (heldout_other_sizes
# in the card says how much).


@torch.inference_mode()
def heldout_loss(encoder: FactorEncoder, images: torch.Tensor, labels: torch.Tensor, batch: int = 500) -> tuple[float, dict[str, float]]:
    """Mean loss over the held-out set (eval mode), in total and per factor."""
    encoder.eval()
    total, parts, count = 0.0, {}, 0
    for s in range(0, images.shape[0], batch):
        loss, p = encoder.loss(encoder(images[s : s + batch]), labels[s : s + batch])
        k = images[s : s + batch].shape[0]
        total += float(loss) * k
        for name, v in p.items():
            parts[name] = parts.get(name, 0.0) + v * k
        count += k
    return total / count, {k: v / count for k, v in parts.items()}


def heldout_figures(encoder: FactorEncoder, images: torch.Tensor, labels: torch.Tensor) -> dict[str, dict[str, Any]]:
    """Per factor: accuracy (binary/categorical) or R^2 and MAE (continuous), with a baseline.

    The baseline is what a constant guess scores (majority class; R^2 = 0), so a reader
    can tell learnt from lucky. Factors with `given` are scored where that factor is 1.
    """
    _, _, readings = encoder.encode(images)
    index = {h.name: i for i, h in enumerate(encoder.specs)}
    out: dict[str, dict[str, Any]] = {}
    for i, head in enumerate(encoder.specs):
        pred, true = readings[:, i].double(), labels[:, i].double()
        if head.given:
            keep = labels[:, index[head.given]] > 0.5
            pred, true = pred[keep], true[keep]
        row: dict[str, Any] = {"kind": head.kind, "n": int(true.numel())}
        if head.given:
            row["given"] = head.given
        if head.kind == "continuous":
            ss_res = float(((pred - true) ** 2).sum())
            ss_tot = float(((true - true.mean()) ** 2).sum())
            row.update(r2=1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0, mae=float((pred - true).abs().mean()),
                       baseline_mae=float((true - true.median()).abs().mean()))
        else:
            guess = (pred > 0.5).double() if head.kind == "binary" else pred
            counts = torch.bincount(true.long())
            row.update(accuracy=float((guess == true).double().mean()), baseline=float(counts.max()) / max(int(true.numel()), 1))
        out[head.name] = row
    return out


def figures_table(figures: dict[str, dict[str, Any]]) -> str:
    """Markdown table of held-out figures."""
    lines = ["| factor | kind | held-out | baseline |", "|---|---|---:|---:|"]
    for name, row in figures.items():
        label = name + (f" (given {row['given']})" if "given" in row else "")
        if row["kind"] == "continuous":
            lines.append(f"| {label} | continuous | R² {row['r2']:.3f} (MAE {row['mae']:.3f}) | MAE {row['baseline_mae']:.3f} |")
        else:
            lines.append(f"| {label} | {row['kind']} | acc {row['accuracy']:.3f} | {row['baseline']:.3f} |")
    return "\n".join(lines)


def through_low_res(x: torch.Tensor) -> torch.Tensor:
    """64 px float faces as a 32 px model's faces reach the encoder (area down, bilinear up)."""
    small = F.interpolate(x, size=(SIZE // 2, SIZE // 2), mode="area")
    return F.interpolate(small, size=(SIZE, SIZE), mode="bilinear", align_corners=False)


def sizes_table(by_size: dict[int, dict[str, dict[str, Any]]]) -> str:
    """Markdown: one row per factor, its held-out score (accuracy or R²) at each image size."""
    sizes = sorted(by_size)
    lines = ["| factor | " + " | ".join(f"{s} px" for s in sizes) + " |", "|---|" + "---:|" * len(sizes)]
    for name in by_size[sizes[0]]:
        cells = []
        for s in sizes:
            row = by_size[s][name]
            cells.append(f"R² {row['r2']:.2f}" if row["kind"] == "continuous" else f"acc {row['accuracy']:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def train(args: argparse.Namespace) -> tuple[FactorEncoder, dict[str, Any]]:
    from facestudio.data.synthetic_faces import RENDERER_VERSION, synthetic_faces

    t0 = time.perf_counter()
    torch.manual_seed(args.seed)
    train_x, train_y = synthetic_faces(args.n_train, SIZE, ENCODER_TRAIN_SEED)
    held_x, held_y = synthetic_faces(args.n_heldout, SIZE, ENCODER_HELDOUT_SEED)
    train_y, held_y = torch.from_numpy(train_y), torch.from_numpy(held_y)
    data_seconds = time.perf_counter() - t0
    print(f"data: {args.n_train} training faces (seed {ENCODER_TRAIN_SEED}), {args.n_heldout} held out "
          f"(seed {ENCODER_HELDOUT_SEED}), {SIZE} px, ready in {data_seconds:.0f} s", flush=True)

    heads: list[FactorHead] = heads_for_synthetic_faces(train_y)
    encoder = FactorEncoder(heads, EncoderArch(width=args.width, feature_dim=args.feature_dim))
    opt = torch.optim.AdamW(encoder.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = math.ceil(args.n_train / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total_steps, pct_start=0.15)
    order_rng = torch.Generator().manual_seed(args.seed)
    aug_rng = torch.Generator().manual_seed(args.seed + 1)
    history = []
    for epoch in range(args.epochs):
        encoder.train()
        t_epoch = time.perf_counter()
        order = torch.randperm(args.n_train, generator=order_rng)
        running = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * args.batch_size : (step + 1) * args.batch_size]
            x = prepare_images(train_x[idx])
            # Part of each batch seen as a 32 px model shows it, so the encoder reads small faces too.
            low = torch.rand(x.shape[0], generator=aug_rng) < args.low_res_fraction
            if low.any():
                x[low] = through_low_res(x[low])
            loss, _ = encoder.loss(encoder(x), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item()
        encoder.eval()
        held_loss, held_parts = heldout_loss(encoder, held_x, held_y)
        history.append({"epoch": epoch + 1, "train_loss": running / steps_per_epoch, "heldout_loss": held_loss,
                        "seconds": time.perf_counter() - t_epoch})
        worst = sorted(held_parts.items(), key=lambda kv: -kv[1])[:3]
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {running / steps_per_epoch:.3f}, "
              f"held-out loss {held_loss:.3f} (hardest: {', '.join(f'{k} {v:.2f}' for k, v in worst)}; "
              f"{time.perf_counter() - t_epoch:.0f} s)", flush=True)

    encoder.eval()
    encoder.requires_grad_(False)
    encoder.calibrate_features(train_x[:CALIBRATION_N])
    figures = heldout_figures(encoder, held_x, held_y)
    by_size = {SIZE: figures}
    for size in OTHER_SIZES:
        x, y = synthetic_faces(args.n_heldout_other_sizes, size, ENCODER_HELDOUT_SEED)
        by_size[size] = heldout_figures(encoder, x, torch.from_numpy(y))
    card = {
        "format": "facestudio-factor-encoder-card",
        "recipe": "trainer/recipes/train_factor_encoder.py",
        "input_size": SIZE,
        "feature_dim": args.feature_dim,
        "metric_dim": encoder.metric_dim,
        "calibration": {"data_seed": ENCODER_TRAIN_SEED, "n": min(CALIBRATION_N, args.n_train)},
        "width": args.width,
        "parameters": sum(p.numel() for p in encoder.parameters()),
        "renderer_version": RENDERER_VERSION,
        "train": {"data": "synthetic", "data_seed": ENCODER_TRAIN_SEED, "n": args.n_train, "epochs": args.epochs,
                  "batch_size": args.batch_size, "lr": args.lr, "low_res_fraction": args.low_res_fraction, "seed": args.seed,
                  "threads": torch.get_num_threads()},
        "heldout": {"data": "synthetic", "data_seed": ENCODER_HELDOUT_SEED, "n": args.n_heldout, "factors": figures},
        "heldout_other_sizes": {
            str(size): {"data_seed": ENCODER_HELDOUT_SEED, "n": args.n_heldout_other_sizes, "factors": by_size[size]}
            for size in OTHER_SIZES
        },
        "history": history,
        "seconds": time.perf_counter() - t0,
    }
    return encoder, card


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train the factor encoder used by FaceStudio's quality metrics.")
    p.add_argument("--out", type=Path, default=default_encoder_path(), help="weights to write (.safetensors); the card goes beside it as .json")
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-heldout", type=int, default=2_000)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--feature-dim", type=int, default=192)
    p.add_argument("--low-res-fraction", type=float, default=0.0,
                   help="share of training faces shown as a 32 px model would show them (default 0: more makes "
                        "the metric blind to blur; see the note at the top of this file)")
    p.add_argument("--n-heldout-other-sizes", type=int, default=1_000, help="held-out faces scored at 32 and 128 px")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.n_train < args.batch_size or min(args.n_heldout, args.n_heldout_other_sizes) < 10 or args.epochs < 1 \
            or not 0 <= args.low_res_fraction <= 1:
        print("train_factor_encoder: need n-train >= batch-size, held-out sets >= 10, epochs >= 1 and "
              "a low-res fraction from 0 to 1", file=sys.stderr)
        return 2
    encoder, card = train(args)
    # The file carries the card too (without its own sha256, which depends on the bytes).
    digest = save_encoder(encoder, args.out, card={k: v for k, v in card.items() if k != "history"})
    card["encoder_sha256"] = digest
    card_path = args.out.with_suffix(".json")
    atomic_write_text(card_path, json.dumps(card, indent=2) + "\n")
    print(figures_table(card["heldout"]["factors"]))
    print()
    print(sizes_table({SIZE: card["heldout"]["factors"], **{int(k): v["factors"] for k, v in card["heldout_other_sizes"].items()}}))
    print(f"wrote {args.out} (sha256 {digest[:12]}) and {card_path} in {card['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
