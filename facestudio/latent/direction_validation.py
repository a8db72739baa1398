"""Do named directions do what their names say? A judge that had no part in finding them.

Attribute directions are fitted on the factor encoder's readings of generated faces, and
`attribute_directions.direction_effects` measures them with the same encoder: a circular
check. This module trains a separate *direction judge* and measures every named
direction with it:

- other data: synthetic faces of data seed JUDGE_SEED = 0 (the encoder trained on seed
  7001 and never saw them; the directions were fitted on the encoder's readings of
  generated faces), labelled with the renderer's true factors, not an encoder's readings;
  held-out accuracy on seed 7004;
- other rendering: each training face is degraded the way GAN output differs from the
  crisp drawings (random blur, shift, colour and contrast jitter, pixel noise), which the
  encoder never saw (`data.gan_degradation.degrade`);
- other architecture: a 3x3-conv / max-pool / global-average-pool network (`JudgeNet`),
  not the encoder's strided-conv + fully-connected trunk, trained from its own seed.

A direction passes (`verdict`) when the judge reads its attribute on held-out faces
(R^2 >= 0.5 or accuracy >= 0.75) and, stepping from -STEP to +STEP over n latents, the
judge's reading of the named attribute rises in rank order (Spearman >= MIN_SPEARMAN),
by at least MIN_CHANGE (data std for continuous factors, probability for binary ones),
and by more than any other attribute the judge reads changes. A direction whose
attribute the judge cannot read has not earned its name either. Directions that fail are
renamed to a plain numbered label ("Fitted 3"), like SeFa and PCA components, by
`honest_names`. Command line (writes the table, the JSON and one strip PNG per direction):

    python -m facestudio.latent.direction_validation --model M --out effects.json --strips DIR [--save-model OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from facestudio.data.gan_degradation import degrade

JUDGE_SEED = 0  # data-set seed of the judge's training faces (the encoder's are 7001)
JUDGE_HELDOUT_SEED = 7004
JUDGE_FACTORS = ("face_width", "skin_tone", "hair_darkness", "eye_size", "smile", "glasses", "beard", "yaw", "light",
                 "background_hue")
BINARY = ("glasses", "beard")
STEP = 4.5  # strips and measurements go from -STEP to +STEP (the explorer's sliders reach 6)
STEPS = tuple(np.linspace(-STEP, STEP, 7).round(2))
MIN_SPEARMAN = 0.5
MIN_CHANGE = 0.5
#: The judge must read the factor itself on held-out faces (R^2 for continuous factors,
#: accuracy for binary ones) before its verdict on a direction counts.
MIN_JUDGE_R2, MIN_JUDGE_ACCURACY = 0.5, 0.75
#: 6,000 faces x 5 epochs left the judge underfit (loss still falling 0.25 -> 0.23; held-out
#: R^2 of yaw 0.50, smile 0.00): it could not read attributes it was asked to check. With
#: 12,000 x 12 (loss 0.08) it reads every factor (yaw 0.94, smile 0.60, eye_size 0.50).
JUDGE_N, JUDGE_EPOCHS = 12_000, 12
EFFECT_SEED = 868_686  # latents of the check, unused by fitting (424242) and the old table (535353)
UNNAMED = "Fitted"


# ---------------------------------------------------------------- the judge
class JudgeNet(nn.Module):
    """64 px face -> one output per JUDGE_FACTORS (regression, or a logit for binary ones)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w = width

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.GroupNorm(4, cout), nn.SiLU())

        # A learned 5x5 stride-2 stem: a fixed 2x average pool blurred the mouth away (smile unreadable).
        self.stem = nn.Sequential(nn.Conv2d(3, w, 5, stride=2, padding=2, bias=False), nn.GroupNorm(4, w), nn.SiLU())  # 32 px
        self.body = nn.Sequential(block(w, w), nn.MaxPool2d(2), block(w, 2 * w), nn.MaxPool2d(2),  # 8 px
                                  block(2 * w, 2 * w), nn.MaxPool2d(2), block(2 * w, 3 * w))  # 4 px
        self.head = nn.Linear(3 * w, len(JUDGE_FACTORS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != 64:
            x = F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False, antialias=x.shape[-1] > 64)
        return self.head(self.body(self.stem(x)).mean(dim=(2, 3)))


def _targets(labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(targets standardised per continuous factor, mean, std) for JUDGE_FACTORS."""
    from facestudio.data.synthetic_faces import FACTOR_INDEX

    y = torch.from_numpy(labels[:, [FACTOR_INDEX[f] for f in JUDGE_FACTORS]].astype(np.float32))
    binary = torch.tensor([f in BINARY for f in JUDGE_FACTORS])
    mean = torch.where(binary, torch.zeros(len(JUDGE_FACTORS)), y.mean(0))
    std = torch.where(binary, torch.ones(len(JUDGE_FACTORS)), y.std(0).clamp_min(1e-6))
    return (y - mean) / std, mean, std


@dataclass
class Judge:
    net: JudgeNet
    mean: torch.Tensor  # per factor: data mean (0 for binary)
    std: torch.Tensor  # per factor: data std (1 for binary)
    heldout: dict[str, float]

    @torch.inference_mode()
    def read(self, images: torch.Tensor) -> torch.Tensor:
        """Readings (N, F): continuous factors in data std units, binary factors as probability."""
        self.net.eval()
        x = images.float() / 127.5 - 1 if images.dtype == torch.uint8 else images.float()
        out = torch.cat([self.net(x[i : i + 256]) for i in range(0, x.shape[0], 256)])
        binary = torch.tensor([f in BINARY for f in JUDGE_FACTORS])
        return torch.where(binary, torch.sigmoid(out), out)


def train_judge(n: int = JUDGE_N, epochs: int = JUDGE_EPOCHS, seed: int = 0, log: Callable[[str], Any] = print) -> Judge:
    """Train the judge on degraded synthetic faces of JUDGE_SEED; held-out figures on JUDGE_HELDOUT_SEED."""
    from facestudio.data.synthetic_faces import synthetic_faces

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    images, labels = synthetic_faces(n, 64, JUDGE_SEED)
    y, mean, std = _targets(labels)
    net = JudgeNet()
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * (n // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    binary = torch.tensor([f in BINARY for f in JUDGE_FACTORS])
    step = 0
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n - 63, 64):
            idx = order[start : start + 64]
            x = degrade(images[idx].float() / 127.5 - 1, gen)
            out = net(x)
            loss = torch.where(binary, F.binary_cross_entropy_with_logits(out, y[idx], reduction="none"),
                               F.smooth_l1_loss(out, y[idx], reduction="none")).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
        log(f"judge epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}")
    judge = Judge(net.eval(), mean, std, {})
    judge.heldout = judge_accuracy(judge)
    return judge


def judge_accuracy(judge: Judge, n: int = 1000) -> dict[str, float]:
    """Held-out R^2 (continuous) / accuracy (binary) per factor, on degraded faces of another seed."""
    from facestudio.data.synthetic_faces import synthetic_faces

    images, labels = synthetic_faces(n, 64, JUDGE_HELDOUT_SEED)
    y, _, _ = _targets(labels)
    gen = torch.Generator().manual_seed(1)
    reads = judge.read(degrade(images.float() / 127.5 - 1, gen))
    out = {}
    for i, f in enumerate(JUDGE_FACTORS):
        if f in BINARY:
            out[f] = float(((reads[:, i] > 0.5).float() == y[:, i]).float().mean())
        else:
            out[f] = float(1 - ((reads[:, i] - y[:, i]) ** 2).mean() / y[:, i].var())
    return out


# ---------------------------------------------------------------- measuring directions
def _spearman_rows(steps: torch.Tensor, series: torch.Tensor) -> torch.Tensor:
    rx = steps.argsort().argsort().double()
    ry = series.argsort(dim=1).argsort(dim=1).double()
    rx, ry = rx - rx.mean(), ry - ry.mean(1, keepdim=True)
    return (ry @ rx) / (rx.norm() * ry.norm(dim=1)).clamp_min(1e-12)


def measure(generator: nn.Module, judge: Judge, names: Sequence[str], vectors: np.ndarray, n: int = 100,
            seed: int = EFFECT_SEED) -> dict[str, dict[str, Any]]:
    """Per direction: the judge's target Spearman, target change, others' changes and verdict; plus a random baseline."""
    from facestudio.metrics.evaluation import generate_uint8

    nz = vectors.shape[1]
    z0 = torch.randn(n, nz, generator=torch.Generator().manual_seed(seed))
    r = torch.randn(nz, generator=torch.Generator().manual_seed(seed + 1))
    rows = list(zip(names, np.asarray(vectors, np.float32))) + [("random direction (baseline)", (r / r.norm()).numpy())]
    steps = torch.tensor(STEPS, dtype=torch.float32)
    out: dict[str, dict[str, Any]] = {}
    for name, vec in rows:
        v = torch.from_numpy(np.asarray(vec, np.float32))
        v = v / v.norm().clamp_min(1e-12)
        reads = torch.stack([judge.read(generate_uint8(generator, z0 + float(s) * v)) for s in steps])  # (S, n, F)
        change = (reads[-1] - reads[0]).mean(0)  # signed mean change per factor
        target = name.split("|", 1)[0]
        row: dict[str, Any] = {"changes": {f: round(float(c), 3) for f, c in zip(JUDGE_FACTORS, change)}}
        if target in JUDGE_FACTORS:
            t = JUDGE_FACTORS.index(target)
            row["target_spearman"] = float(_spearman_rows(steps, reads[:, :, t].T).mean())
            row["target_change"] = float(change[t])
            others = {f: abs(float(c)) for i, (f, c) in enumerate(zip(JUDGE_FACTORS, change)) if i != t}
            worst = max(others, key=others.get)
            row["most_changed_other"], row["most_changed_other_change"] = worst, others[worst]
            row["judge_reads"] = judge_reads(judge.heldout, target)
            row["passes"] = verdict(row)
        out[name] = row
    return out


def judge_reads(heldout: dict[str, float], factor: str) -> bool:
    """Whether the judge reads `factor` well enough on held-out faces for its verdict to count."""
    if factor not in heldout:
        return False
    return heldout[factor] >= (MIN_JUDGE_ACCURACY if factor in BINARY else MIN_JUDGE_R2)


def verdict(row: dict[str, Any]) -> bool:
    """The judge reads the attribute, and it rises steadily, clearly, more than anything else the judge reads."""
    return (row.get("judge_reads", True) and row["target_spearman"] >= MIN_SPEARMAN and row["target_change"] >= MIN_CHANGE
            and row["target_change"] > row["most_changed_other_change"])


def honest_names(names: Sequence[str], effects: dict[str, dict[str, Any]]) -> list[str]:
    """Names that passed stay; every other named direction becomes "Fitted k" (its position, 1-based)."""
    return [name if effects.get(name, {}).get("passes", False) else f"{UNNAMED} {i + 1}" for i, name in enumerate(names)]


def effects_table(effects: dict[str, dict[str, Any]]) -> str:
    lines = ["| direction | judge spearman | target change | most changed other | verdict |", "|---|---:|---:|---|---|"]
    for name, r in effects.items():
        label = name.replace("|", "\\|")
        if "target_change" not in r:
            big = max(r["changes"], key=lambda f: abs(r["changes"][f]))
            lines.append(f"| {label} | - | - | {big} ({abs(r['changes'][big]):.2f}) | - |")
            continue
        why = "pass" if r["passes"] else ("FAIL" if r.get("judge_reads", True) else "FAIL (judge cannot read it)")
        lines.append(f"| {label} | {r['target_spearman']:.2f} | {r['target_change']:+.2f} | "
                     f"{r['most_changed_other']} ({r['most_changed_other_change']:.2f}) | {why} |")
    return "\n".join(lines)


def strip_image(generator: nn.Module, vector: np.ndarray, seeds: Sequence[int] = (1, 2, 3)) -> np.ndarray:
    """Faces of `seeds` (rows) stepped along `vector` over STEPS (columns): uint8 (H, W, 3)."""
    from facestudio.latent.sampling import latents_for_seeds
    from facestudio.metrics.evaluation import generate_uint8

    v = torch.from_numpy(np.asarray(vector, np.float32))
    v = v / v.norm().clamp_min(1e-12)
    z = torch.from_numpy(latents_for_seeds(seeds, v.numel()))
    rows = []
    for zi in z:
        faces = generate_uint8(generator, torch.stack([zi + float(s) * v for s in STEPS]))  # (S, 3, H, W)
        rows.append(torch.cat(list(faces), dim=2))
    return torch.cat(rows, dim=1).permute(1, 2, 0).contiguous().numpy()


def png_bytes(picture: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()  # 128 colours: README-sized files (~30 KB) that still show every face clearly
    Image.fromarray(picture, "RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        buf, format="PNG", optimize=True)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    from facestudio.atomic_file import atomic_write_bytes, atomic_write_text
    from facestudio.models import load_model, save_model
    from facestudio.models.bundle import DirectionSet

    p = argparse.ArgumentParser(prog="python -m facestudio.latent.direction_validation", description=__doc__.split("\n")[0])
    p.add_argument("--model", help="model file (default: the built-in model)")
    p.add_argument("--n", type=int, default=100, help="latents per direction (default 100)")
    p.add_argument("--judge-n", type=int, default=JUDGE_N, help=f"judge training faces (default {JUDGE_N})")
    p.add_argument("--judge-epochs", type=int, default=JUDGE_EPOCHS, help=f"judge training epochs (default {JUDGE_EPOCHS})")
    p.add_argument("--out", type=Path, help="write the figures as JSON (and the table as .md beside it)")
    p.add_argument("--strips", type=Path, help="write one PNG strip per attribute direction into this folder")
    p.add_argument("--save-model", type=Path, help="write the model with failing directions renamed")
    args = p.parse_args(argv)
    bundle = load_model(args.model)
    dset = bundle.directions.get("attribute")
    if dset is None:
        print("direction_validation: this model has no attribute directions", file=sys.stderr)
        return 2
    judge = train_judge(args.judge_n, args.judge_epochs)
    print("judge held-out (R^2 / accuracy on degraded faces of seed %d):" % JUDGE_HELDOUT_SEED,
          json.dumps({k: round(v, 3) for k, v in judge.heldout.items()}))
    g = bundle.viewing_generator
    effects = measure(g, judge, dset.names, dset.vectors, args.n)
    table = effects_table(effects)
    print(table)
    if args.out:
        atomic_write_text(args.out, json.dumps({"judge_heldout": judge.heldout, "steps": list(STEPS), "n": args.n,
                                                "seed": EFFECT_SEED, "directions": effects}, indent=2) + "\n")
        atomic_write_text(args.out.with_suffix(".md"), table + "\n")
    if args.strips:
        for name, vec in zip(dset.names, dset.vectors):
            safe = name.replace("|", "_keep_").replace(",", "_")
            atomic_write_bytes(args.strips / f"{safe}.png", png_bytes(strip_image(g, vec)))
    if args.save_model:
        bundle.directions["attribute"] = DirectionSet(dset.kind, honest_names(dset.names, effects), dset.vectors)
        save_model(bundle, args.save_model)
        print(f"wrote {args.save_model}: attribute directions {bundle.directions['attribute'].names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
