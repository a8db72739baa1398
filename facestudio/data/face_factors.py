"""The labelled factors of a built-in synthetic face: what each one is, its range or
classes, drawing a random set of them, and the label vector a face is trained against.

Every face of the data set is drawn from one such set (facestudio/data/synthetic_faces.py),
so the factors are ground truth for checking attribute directions and quality figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FactorSpec:
    """One labelled factor of variation.

    kind is 'binary' (0 or 1), 'continuous' (a float in [low, high]) or 'categorical'
    (a class index 0..classes-1; `class_names` says what each index means).
    """

    name: str
    kind: str
    classes: int = 0
    low: float = 0.0
    high: float = 1.0
    class_names: tuple[str, ...] = ()
    note: str = ""


FACE_SHAPES = ("oval", "round", "square", "heart", "long")
HAIR_STYLES = ("bald", "buzz", "short", "side_part", "bangs", "bob", "long", "curly", "bun", "spiky")
HAIR_HUES = ("natural", "red", "grey", "dyed")
EYE_SHAPES = ("round", "almond", "narrow", "hooded")
EYE_COLOURS = ("brown", "dark_brown", "blue", "green", "grey", "hazel")
BROW_STYLES = ("thin", "thick", "arched", "angled")
NOSE_STYLES = ("button", "long", "wide", "pointed")
GLASSES_STYLES = ("round", "rectangular", "sunglasses")
BEARD_STYLES = ("full", "goatee", "moustache", "stubble")
BACKGROUNDS = ("flat", "gradient", "spotlight")


def _cat(name: str, names: tuple[str, ...], note: str = "") -> FactorSpec:
    return FactorSpec(name, "categorical", classes=len(names), low=0.0, high=float(len(names) - 1), class_names=names, note=note)


FACTORS: tuple[FactorSpec, ...] = (
    _cat("face_shape", FACE_SHAPES),
    FactorSpec("face_width", "continuous", note="0 narrow .. 1 wide"),
    FactorSpec("skin_tone", "continuous", note="0 pale .. 1 deep brown"),
    _cat("hair_style", HAIR_STYLES),
    _cat("hair_hue", HAIR_HUES),
    FactorSpec("hair_darkness", "continuous", note="0 light (blond, white) .. 1 black"),
    _cat("eye_shape", EYE_SHAPES),
    _cat("eye_colour", EYE_COLOURS),
    FactorSpec("eye_size", "continuous"),
    _cat("brow_style", BROW_STYLES),
    _cat("nose_style", NOSE_STYLES),
    FactorSpec("nose_size", "continuous"),
    FactorSpec("mouth_width", "continuous"),
    FactorSpec("smile", "continuous", note="0 neutral/slight frown .. 1 open grin"),
    FactorSpec("glasses", "binary"),
    _cat("glasses_style", GLASSES_STYLES, note="only visible when glasses = 1"),
    FactorSpec("beard", "binary", note="any facial hair, see beard_style"),
    _cat("beard_style", BEARD_STYLES, note="only visible when beard = 1"),
    FactorSpec("yaw", "continuous", low=-1.0, high=1.0, note="-1 turned to the viewer's left .. 1 to the right"),
    FactorSpec("light", "continuous", low=-1.0, high=1.0, note="-1 lit from the viewer's left .. 1 from the right"),
    _cat("background", BACKGROUNDS),
    FactorSpec("background_hue", "continuous"),
)

FACTOR_NAMES: tuple[str, ...] = tuple(f.name for f in FACTORS)
FACTOR_INDEX: dict[str, int] = {name: i for i, name in enumerate(FACTOR_NAMES)}

#: Keys of a factors dict that are not labels but still needed to redraw a face exactly.
EXTRA_KEYS = ("shirt_hue", "detail_seed")


def factor_vector(factors: dict[str, Any]) -> np.ndarray:
    """The numeric label of a face: one float32 per entry of FACTORS, in that order.

    Binary factors are 0/1, continuous ones their value, categorical ones the class index.
    """
    out = np.empty(len(FACTORS), dtype=np.float32)
    for i, spec in enumerate(FACTORS):
        out[i] = float(factors[spec.name])
    return out


def sample_factors(rng: np.random.Generator) -> dict[str, Any]:
    """Draw one face's factors (all FACTORS plus EXTRA_KEYS) from `rng`."""
    f: dict[str, Any] = {}
    f["face_shape"] = int(rng.integers(len(FACE_SHAPES)))
    f["face_width"] = float(rng.random())
    f["skin_tone"] = float(rng.beta(1.3, 1.3))
    f["hair_style"] = int(rng.choice(len(HAIR_STYLES), p=[0.07, 0.09, 0.14, 0.12, 0.12, 0.1, 0.13, 0.1, 0.07, 0.06]))
    f["hair_hue"] = int(rng.choice(len(HAIR_HUES), p=[0.72, 0.1, 0.1, 0.08]))
    if HAIR_HUES[f["hair_hue"]] == "grey":
        f["hair_darkness"] = float(rng.uniform(0.0, 0.45))
    elif HAIR_HUES[f["hair_hue"]] == "red":
        f["hair_darkness"] = float(rng.uniform(0.2, 0.65))
    else:
        f["hair_darkness"] = float(rng.random() ** 0.7)
    f["eye_shape"] = int(rng.integers(len(EYE_SHAPES)))
    f["eye_colour"] = int(rng.choice(len(EYE_COLOURS), p=[0.3, 0.25, 0.15, 0.1, 0.08, 0.12]))
    f["eye_size"] = float(rng.random())
    f["brow_style"] = int(rng.integers(len(BROW_STYLES)))
    f["nose_style"] = int(rng.integers(len(NOSE_STYLES)))
    f["nose_size"] = float(rng.random())
    f["mouth_width"] = float(rng.random())
    f["smile"] = float(rng.random())
    f["glasses"] = int(rng.random() < 0.3)
    f["glasses_style"] = int(rng.integers(len(GLASSES_STYLES)))
    f["beard"] = int(rng.random() < 0.3)
    f["beard_style"] = int(rng.integers(len(BEARD_STYLES)))
    f["yaw"] = float(np.clip(rng.normal(0.0, 0.45), -1.0, 1.0))
    f["light"] = float(rng.uniform(-1.0, 1.0))
    f["background"] = int(rng.integers(len(BACKGROUNDS)))
    f["background_hue"] = float(rng.random())
    f["shirt_hue"] = float(rng.random())
    f["detail_seed"] = int(rng.integers(2**31 - 1))
    return f


def face_seed(seed: int, index: int) -> int:
    """The seed of face `index` in the data set with seed `seed`."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index)]).generate_state(1)[0])
