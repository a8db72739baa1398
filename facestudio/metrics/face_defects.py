"""Does a face look broken? A detector of the defects people point at in GAN faces.

The realism meter's second form (distance to real faces in the quality metric's feature
space, `face_realism`) agreed with a person's broken/fine labels on the second shipped
model (AUC 0.73) but not on the third (0.49): once faces are close to the data, what is
left wrong is local (one eye, a smudge for glasses, a seam across the face) and the
metric's features, made to read factors, hardly move. This module trains a small CNN on
exactly those faults, made from real synthetic faces:

- "one_eye": one eye taken out by compositing a render of the same face without eyes
  (`render_from_factors(omit={"eyes"})`), so the skin beneath is right;
- "hair_eye": one eye under a soft patch of the face's hair colour (long hair drawn over it);
- "eye_smudge": a dark, soft smudge over one or both eyes (glasses drawn as a blob);
- "smear": a band of rows across the face copied down and shifted (the seams of broken
  hair and faces);
- "ghost": the hair region blended, shifted, over the face;
- "blocks": a patch of the face at a quarter of the resolution;
- "seam": the same face with other hair above a hard horizontal seam through it.

Every training face, whole or broken, then gets the GAN-like degradation of the
direction judge (blur, shift, colour, contrast, noise), so softness alone is no cue.
The reading is the detector's probability that a face is whole. Trained by
`python -m trainer.recipes.train_face_check`; validated against people's labels of
generated faces it never saw (README, "Realism meter"). Qt-free.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from facestudio.data import SYNTHETIC
from facestudio.data.gan_degradation import degrade
from facestudio.metrics.rank_stats import auc

DEFECTS = ("one_eye", "hair_eye", "eye_smudge", "smear", "ghost", "blocks", "seam")
TRAIN_SEED = 9001  # data seeds no other part uses (metric 7001-7004, judge 0/7004); the
HELDOUT_SEED = 9002  # training faces' hair twins draw from seed + 1 = 9002 too, a separate stream
SIZE = 64
#: The shipped check: 10,000 faces x 16 epochs (8 left the loss falling at 0.30 and seams at AUC 0.80).
FACES, EPOCHS = 10_000, 16


# ---------------------------------------------------------------- broken faces
@dataclass
class FacePair:
    """A rendered face, the same face without eyes and with other hair, and where its eyes are."""

    whole: np.ndarray  # uint8 (S, S, 3)
    no_eyes: np.ndarray
    other_hair: np.ndarray
    eye_mask: np.ndarray  # bool (S, S), both eyes
    centre_x: float  # the column between the eyes


def render_pairs(n: int, seed: int, size: int = SIZE) -> list[FacePair]:
    """n faces of data seed `seed` with their twins (three renders of 2.5 ms at 64 px each)."""
    from facestudio.data.face_factors import HAIR_STYLES, sample_factors
    from facestudio.data.synthetic_faces import render_from_factors

    rng = np.random.default_rng(seed)
    twin_rng = np.random.default_rng(seed + 1)  # draws the other-hair twins (a stream apart from the faces')
    pairs = []
    for _ in range(n):
        f = sample_factors(rng)
        whole = render_from_factors(f, size)
        no_eyes = render_from_factors(f, size, omit=frozenset({"eyes"}))
        hair = {**f, "hair_style": int(twin_rng.integers(len(HAIR_STYLES))), "hair_darkness": float(twin_rng.random())}
        mask = np.abs(whole.astype(np.int16) - no_eyes).sum(-1) > 24
        xs = np.nonzero(mask)[1]
        pairs.append(FacePair(whole, no_eyes, render_from_factors(hair, size), mask, float(xs.mean()) if xs.size else size / 2))
    return pairs


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    t = torch.from_numpy(mask.astype(np.float32))[None, None]
    return (F.max_pool2d(t, 2 * r + 1, stride=1, padding=r)[0, 0] > 0).numpy()


def _soften(mask: np.ndarray) -> np.ndarray:
    """A bool mask as float with a one-pixel soft edge."""
    m = torch.from_numpy(mask.astype(np.float32))[None, None]
    return F.avg_pool2d(F.pad(m, (1, 1, 1, 1), mode="replicate"), 3, stride=1)[0, 0].numpy()


def _one_side(pair: FacePair, rng: np.random.Generator) -> np.ndarray:
    """Columns of the left or the right half of the face (one draw of rng)."""
    cols = np.arange(pair.whole.shape[1])[None, :]
    return cols < pair.centre_x if rng.random() < 0.5 else cols >= pair.centre_x


def _face_rows(s: int, rng: np.random.Generator) -> int:
    return int(s * rng.uniform(0.32, 0.62))


def make_broken(pair: FacePair, kind: str, rng: np.random.Generator) -> np.ndarray:
    """`pair.whole` with one defect of `kind` (see DEFECTS); uint8 (S, S, 3)."""
    img = pair.whole.astype(np.float32)
    s = img.shape[0]
    if kind == "one_eye" and pair.eye_mask.any():
        m = _dilate(pair.eye_mask & _one_side(pair, rng), 1)
        img[m] = pair.no_eyes[m]
    elif kind == "hair_eye" and pair.eye_mask.any():
        soft = _soften(_dilate(pair.eye_mask & _one_side(pair, rng), int(rng.integers(1, 4))))[..., None]
        top = int(np.nonzero(pair.eye_mask)[0].min())
        hair = img[max(0, top - s // 6), int(pair.centre_x)]  # above the eyes: fringe or forehead
        img = img * (1 - soft) + hair * soft
    elif kind in ("one_eye", "hair_eye", "eye_smudge"):  # the first two land here for a face without eyes
        base = pair.eye_mask.copy()
        if not base.any():
            base[int(s * 0.45), int(s * 0.4)] = True
        if rng.random() < 0.5:  # one side only
            side = _one_side(pair, rng)
            base = base & side if (base & side).any() else base
        soft = _soften(_dilate(base, int(rng.integers(1, 4))))
        dark = rng.uniform(0.1, 0.45)
        alpha = soft[..., None] * rng.uniform(0.6, 1.0)
        img = img * (1 - alpha) + img * dark * alpha
    elif kind == "smear":
        y0, h = _face_rows(s, rng), int(rng.integers(s // 16, s // 6))
        x0, w = int(s * rng.uniform(0.15, 0.45)), int(s * rng.uniform(0.25, 0.6))
        src = np.roll(img[max(0, y0 - h) : y0, x0 : x0 + w], int(rng.integers(-s // 10, s // 10 + 1)), axis=1)
        img[y0 : y0 + src.shape[0], x0 : x0 + src.shape[1]] = src[: s - y0]
    elif kind == "ghost":
        top = int(s * rng.uniform(0.2, 0.4))
        shift_y, shift_x = int(rng.integers(s // 8, s // 3)), int(rng.integers(-s // 8, s // 8 + 1))
        ghost = np.roll(np.roll(img, shift_y, axis=0), shift_x, axis=1)
        band = np.zeros((s, s, 1), np.float32)
        band[shift_y : top + shift_y] = rng.uniform(0.35, 0.7)
        img = img * (1 - band) + ghost * band
    elif kind == "blocks":
        y0, x0 = _face_rows(s, rng) - s // 8, int(s * rng.uniform(0.2, 0.5))
        h, w = int(s * rng.uniform(0.15, 0.35)), int(s * rng.uniform(0.2, 0.4))
        patch = torch.from_numpy(np.ascontiguousarray(img[y0 : y0 + h, x0 : x0 + w])).permute(2, 0, 1)[None]
        f = int(rng.integers(3, 7))
        small = F.interpolate(patch, scale_factor=1 / f, mode="area", recompute_scale_factor=True)
        img[y0 : y0 + h, x0 : x0 + w] = F.interpolate(small, size=patch.shape[-2:], mode="nearest")[0].permute(1, 2, 0).numpy()
    elif kind == "seam":
        y = _face_rows(s, rng)
        img[:y] = np.roll(pair.other_hair[:y], int(rng.integers(-s // 16, s // 16 + 1)), axis=1)
    else:
        raise ValueError(f"unknown defect {kind!r}; one of {DEFECTS}")
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- the detector
class FaceCheckNet(nn.Module):
    """64 px face -> logit of "whole" (no visible defect). 3x3 convs, max-pool, global pool."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w = width

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.GroupNorm(4, cout), nn.SiLU())

        self.body = nn.Sequential(block(3, w), block(w, w), nn.MaxPool2d(2), block(w, 2 * w), nn.MaxPool2d(2),
                                  block(2 * w, 2 * w), nn.MaxPool2d(2), block(2 * w, 4 * w), nn.MaxPool2d(2),
                                  block(4 * w, 4 * w))  # 4 px
        self.head = nn.Linear(4 * w, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != (SIZE, SIZE):
            x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False, antialias=x.shape[-1] > SIZE)
        return self.head(self.body(x).amax(dim=(2, 3)))[:, 0]


@dataclass
class TrainReport:
    """What the recipe measured: per-epoch loss and held-out AUC whole vs each defect."""

    losses: list[float] = field(default_factory=list)
    heldout_auc: dict[str, float] = field(default_factory=dict)


def _batch(pairs: list[FacePair], idx: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    faces, labels = [], []
    for i in idx:
        p = pairs[i]
        if rng.random() < 0.5:
            faces.append(p.whole)
            labels.append(1.0)
        else:
            faces.append(make_broken(p, DEFECTS[int(rng.integers(len(DEFECTS)))], rng))
            labels.append(0.0)
    x = torch.from_numpy(np.stack(faces)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x, torch.tensor(labels)


def train_face_check(n: int = FACES, epochs: int = EPOCHS, seed: int = 0, log: Callable[[str], Any] = print,
                     heldout_n: int = 1000) -> tuple[FaceCheckNet, TrainReport]:
    """Train the detector on faces of TRAIN_SEED; held-out AUC per defect on HELDOUT_SEED."""
    if n < 64 or epochs < 1 or heldout_n < 2:
        raise ValueError(f"the face check needs at least 64 faces, 1 epoch and 2 held-out faces (got {n}, {epochs}, {heldout_n})")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    pairs = render_pairs(n, TRAIN_SEED)
    net = FaceCheckNet()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    per_epoch = n // 64
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=epochs * per_epoch)
    report = TrainReport()
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(n)
        total = 0.0
        for b in range(per_epoch):
            x, y = _batch(pairs, order[b * 64 : (b + 1) * 64], rng)
            loss = F.binary_cross_entropy_with_logits(net(degrade(x, gen)), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        report.losses.append(total / per_epoch)
        log(f"face check epoch {epoch + 1}/{epochs}: loss {report.losses[-1]:.3f}")
    net.eval()
    report.heldout_auc = heldout_auc(net, render_pairs(heldout_n, HELDOUT_SEED))
    return net, report


def heldout_auc(net: FaceCheckNet, pairs: list[FacePair], seed: int = 1) -> dict[str, float]:
    """AUC whole vs broken, per defect, on faces given the same degradation as in training."""
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    whole = np.stack([p.whole for p in pairs])

    def as_tensor(a: np.ndarray) -> torch.Tensor:
        return degrade(torch.from_numpy(a).permute(0, 3, 1, 2).float() / 127.5 - 1, gen)

    out = {}
    with torch.inference_mode():
        good = torch.sigmoid(net(as_tensor(whole))).numpy()
        for kind in DEFECTS:
            bad = np.stack([make_broken(p, kind, rng) for p in pairs])
            out[kind] = auc(good, torch.sigmoid(net(as_tensor(bad))).numpy())
    return out


class FaceCheck:
    """Readings (0..1, the probability of a whole face) for uint8 (N, H, W, 3) faces."""

    def __init__(self, net: FaceCheckNet) -> None:
        self.net = net.eval()

    @classmethod
    def load(cls, path: str | Path | None = None) -> "FaceCheck":
        """The check stored at `path` (default: the shipped one); safetensors, so no code runs."""
        from safetensors.torch import load_file

        net = FaceCheckNet()
        net.load_state_dict(load_file(str(path or default_path())))
        return cls(net)

    def readings(self, faces: np.ndarray) -> np.ndarray:
        """One reading (0..1, float32) per face of uint8 (N, H, W, 3) or (H, W, 3); any size is resized to 64 px."""
        arr = np.asarray(faces)
        if arr.dtype != np.uint8 or arr.ndim not in (3, 4) or arr.shape[-1] != 3 or min(arr.shape[-3:-1], default=0) < 8:
            raise ValueError(f"expected uint8 RGB faces (N, H, W, 3) of 8 px or more, got {arr.dtype} {arr.shape}")
        if arr.ndim == 4 and arr.shape[0] == 0:
            return np.zeros(0, np.float32)
        x = torch.from_numpy(np.ascontiguousarray(arr.reshape(-1, *arr.shape[-3:]))).permute(0, 3, 1, 2).float() / 127.5 - 1
        with torch.inference_mode():
            return torch.cat([torch.sigmoid(self.net(x[i : i + 256])) for i in range(0, x.shape[0], 256)]).numpy()


def default_path() -> Path:
    """Path of the shipped face check (inside the installed package)."""
    return Path(str(resources.files("facestudio.resources").joinpath("face_check.safetensors")))


@functools.lru_cache(maxsize=1)
def shared_face_check() -> FaceCheck:
    """The shipped face check, loaded once per process (1 MB, milliseconds)."""
    return FaceCheck.load(default_path())


#: Smallest model size the check judges. It learned 64 px faces; a 32 px face resized up reads
#: as broken whatever it shows (median 0.005 for a healthy 32 px model, FD 41; 0.66 for real
#: 32 px faces, 0.95 at 64 and 128 px), so it would only measure blur.
MIN_SIZE = 64


def applies_to(info: dict[str, str] | None, *, image_size: int) -> bool:
    """Whether the check means something for a model: built-in synthetic faces, 64 px or more,
    and the check's weights are installed.

    It learned whole and broken faces of that domain only; photos or other drawings would
    read as anything, and small faces as broken (MIN_SIZE). Without the weights file (a
    damaged install) the meter is greyed out rather than failing on every face.
    """
    synthetic = bool(info) and str(info.get("data", "")).strip().lower() == SYNTHETIC
    return synthetic and image_size >= MIN_SIZE and default_path().is_file()


def pick_start_seed(faces_of_seeds: np.ndarray, check: FaceCheck | None = None) -> tuple[int, float]:
    """(index, reading) of the face the check is surest is whole, among faces of seeds 0..N-1.

    The app opens on it (stored as the model's `start_seed`), so a new user's first face
    is one of the model's best rather than whatever seed 0 happens to be.
    """
    readings = (check or shared_face_check()).readings(faces_of_seeds)
    best = int(np.argmax(readings))
    return best, float(readings[best])
