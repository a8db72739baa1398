"""Attribute directions (InterFaceGAN style): "more smile", "glasses on", "turn left"...

Sample latents, let the generator draw them and the factor encoder read each face's
factors, then fit one linear boundary per attribute in latent space: logistic regression
for binary factors (glasses, beard), least squares for continuous ones (smile, yaw,
skin_tone...). The unit normal of each boundary is the direction that changes that
attribute fastest. Attributes are often entangled (beards come with darker hair), so a
*conditional* direction removes the components along chosen other normals
(Gram-Schmidt): moving along it leaves those attributes, to first order, unchanged.

`direction_effects` checks the result the way it is used: step along each direction and
see whether the encoder's reading of that attribute rises steadily while the others
stay put, next to a random direction of the same length for scale. Run on a model:

    python -m facestudio.latent.attribute_directions --model M.safetensors --out effects.json [--save-model OUT.safetensors]

`default_attribute_directions(model)` is the set shipped inside models: one plain
direction per factor the encoder reads reliably, and the same direction with every other
one held fixed ("smile|*"). In a GAN's latent space the plain normals are entangled
(moving "smile" also moves skin tone); the "|*" rows trade strength for purity.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from facestudio.models.bundle import DirectionSet, ModelBundle

KIND = "attribute"
ALL_OTHERS = "*"  # in a condition: every other plain direction of the set
DEFAULT_STEPS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
#: Directions are fitted only for factors the encoder reads this well on held-out faces
#: (encoder card): a direction for a factor it cannot see would be noise with a name.
MIN_R2 = 0.6
MIN_ACCURACY_GAIN = 0.1  # binary factors: held-out accuracy above the majority-class baseline
BASELINE = "random direction (baseline)"
LATENT_SEED = 424_242  # latents used to fit directions (fixed: same model -> same directions)
EFFECT_SEED = 535_353  # other latents, to measure effects on faces not used for fitting


# ---------------------------------------------------------------- fitting (pure)
def fit_logistic_normal(z: torch.Tensor, target: torch.Tensor, l2: float = 1e-3, iters: int = 200) -> torch.Tensor:
    """Unit normal of a logistic-regression boundary; `target` in [0, 1] (soft labels allowed).

    Soft targets (the encoder's probabilities) keep the information in uncertain faces
    instead of throwing it away with a hard 0.5 cut.
    """
    z = z.detach().to(torch.float64)
    y = target.detach().to(torch.float64).clamp(0, 1)
    w = torch.zeros(z.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=iters, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(z @ w + b, y) + l2 * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return _unit(w.detach())


def fit_linear_normal(z: torch.Tensor, target: torch.Tensor, l2: float = 1e-3) -> torch.Tensor:
    """Unit normal of a ridge least-squares fit target ~ z·w + b."""
    z = z.detach().to(torch.float64)
    y = target.detach().to(torch.float64)
    zc = z - z.mean(0)
    yc = y - y.mean()
    gram = zc.T @ zc / z.shape[0] + l2 * torch.eye(z.shape[1], dtype=torch.float64)
    w = torch.linalg.solve(gram, zc.T @ yc / z.shape[0])
    return _unit(w)


def _unit(v: torch.Tensor) -> torch.Tensor:
    norm = v.norm()
    if not torch.isfinite(norm) or norm < 1e-12:
        raise ValueError("the attribute does not vary with the latent (no direction can be fitted)")
    return v / norm


def fit_attribute_directions(z: torch.Tensor, readings: torch.Tensor, kinds: dict[str, str], names: Sequence[str],
                             all_names: Sequence[str]) -> DirectionSet:
    """Directions for `names` from latents z (N, nz) and readings (N, F) whose columns are `all_names`.

    `kinds[name]` is "binary" (readings are probabilities) or "continuous".
    """
    if z.dim() != 2 or readings.dim() != 2 or z.shape[0] != readings.shape[0] or readings.shape[1] != len(all_names):
        raise ValueError(f"need z (N, nz) and readings (N, {len(all_names)}), got {tuple(z.shape)} and {tuple(readings.shape)}")
    column = {n: i for i, n in enumerate(all_names)}
    vectors = []
    for name in names:
        if name not in column:
            raise ValueError(f"no factor named {name!r}; known: {', '.join(all_names)}")
        y = readings[:, column[name]]
        if kinds[name] == "binary":
            vectors.append(fit_logistic_normal(z, y))
        elif kinds[name] == "continuous":
            vectors.append(fit_linear_normal(z, y))
        else:
            raise ValueError(f"factor {name!r} is {kinds[name]}; directions are fitted for binary and continuous factors")
    return DirectionSet(KIND, list(names), torch.stack(vectors).to(torch.float32).numpy())


def conditional_direction(primary: np.ndarray, conditions: Sequence[np.ndarray]) -> np.ndarray:
    """`primary` with the span of `conditions` projected out, renormalised.

    n1 - sum_k (n1·e_k) e_k over an orthonormal basis e_k of the conditioning normals
    (Gram-Schmidt; a condition already in the span of earlier ones adds nothing).
    """
    v = np.asarray(primary, dtype=np.float64)
    basis: list[np.ndarray] = []
    for c in conditions:
        e = np.asarray(c, dtype=np.float64).copy()
        for b in basis:
            e -= (e @ b) * b
        norm = np.linalg.norm(e)
        if norm > 1e-8:
            basis.append(e / norm)
    for b in basis:
        v = v - (v @ b) * b
    norm = np.linalg.norm(v)
    if norm < 1e-8:
        raise ValueError("the direction lies within the span of the attributes to keep fixed; nothing is left of it")
    return (v / norm).astype(np.float32)


SAME_AS_PLAIN = 0.99


def conditional_directions(dset: DirectionSet, conditions: dict[str, Sequence[str]]) -> DirectionSet:
    """Directions named "smile|glasses,beard": smile with glasses and beard held fixed.

    A keep list of ["*"] holds every other plain direction of `dset` fixed; the row is
    then named "smile|*". A conditional that is the plain direction over again (cosine >=
    SAME_AS_PLAIN: the kept attributes were already independent of it) is left out, so the
    explorer never shows two sliders that do the same (the second model's "yaw|light" had
    cosine 1.000 with "yaw").
    """
    row = {n: i for i, n in enumerate(dset.names)}
    plain = [n for n in dset.names if "|" not in n]
    names, vectors = [], []
    for name, keep in conditions.items():
        everything = list(keep) == [ALL_OTHERS]
        kept_names = [n for n in plain if n != name] if everything else list(keep)
        missing = [n for n in [name, *kept_names] if n not in row]
        if missing:
            raise ValueError(f"no direction named {missing[0]!r}; known: {', '.join(dset.names)}")
        kept = [k for k in kept_names if k != name]
        vector = conditional_direction(dset.vectors[row[name]], [dset.vectors[row[k]] for k in kept])
        plain_vector = np.asarray(dset.vectors[row[name]], dtype=np.float64)
        if vector.astype(np.float64) @ plain_vector / max(np.linalg.norm(plain_vector), 1e-12) >= SAME_AS_PLAIN:
            continue
        names.append(f"{name}|{ALL_OTHERS if everything else ','.join(kept)}")
        vectors.append(vector)
    return DirectionSet(KIND, names, np.stack(vectors) if vectors else np.zeros((0, dset.vectors.shape[1]), np.float32))


# ---------------------------------------------------------------- with a model
def _encoder(encoder):
    if encoder is not None:
        return encoder
    from facestudio.metrics.factor_encoder import shared_encoder

    return shared_encoder()


def _generator_of(model: ModelBundle | nn.Module) -> nn.Module:
    return model.viewing_generator if isinstance(model, ModelBundle) else model


@torch.inference_mode()
def read_latents(model: ModelBundle | nn.Module, z: torch.Tensor, encoder=None, batch_size: int = 250) -> torch.Tensor:
    """The encoder's readings (N, F) of the faces the model draws for latents z."""
    from facestudio.metrics.evaluation import generate_uint8

    enc = _encoder(encoder)
    g = _generator_of(model)
    out = []
    for s in range(0, z.shape[0], batch_size):
        images = generate_uint8(g, z[s : s + batch_size], batch_size)
        out.append(enc.encoder.encode(images, batch_size)[2])
    return torch.cat(out)


def _read_reliably(row: Any) -> bool:
    """Whether a held-out figure row of the encoder card says the factor is readable."""
    if not isinstance(row, dict):
        return True  # no figure to go by: do not second-guess the caller's encoder
    if row.get("kind") == "continuous" and isinstance(row.get("r2"), (int, float)):
        return row["r2"] >= MIN_R2
    if row.get("kind") == "binary" and isinstance(row.get("accuracy"), (int, float)):
        return row["accuracy"] >= float(row.get("baseline", 0.5)) + MIN_ACCURACY_GAIN
    return True


def direction_factors(encoder=None) -> list[str]:
    """Factors directions are fitted for: the encoder's binary and continuous ones that it
    reads reliably on held-out faces (R² >= 0.6; accuracy >= baseline + 0.1), per its card."""
    enc = _encoder(encoder)
    card = getattr(enc, "card", None) or {}
    figures = card.get("heldout", {}).get("factors", {}) if isinstance(card.get("heldout"), dict) else {}
    return [h.name for h in enc.encoder.specs if h.kind in ("binary", "continuous") and _read_reliably(figures.get(h.name))]


def compute_attribute_directions(
    model: ModelBundle | nn.Module,
    n: int = 5000,
    *,
    names: Sequence[str] | None = None,
    conditions: dict[str, Sequence[str]] | None = None,
    seed: int = LATENT_SEED,
    encoder=None,
) -> DirectionSet:
    """Fit attribute directions of a model from n labelled samples (plus conditional ones).

    `names` defaults to every binary/continuous factor; `conditions` maps a name to the
    attributes to hold fixed, adding "name|a,b" rows after the plain directions.
    """
    enc = _encoder(encoder)
    heads = enc.encoder.specs
    g = _generator_of(model)
    z = torch.randn(n, g.config.nz, generator=torch.Generator().manual_seed(seed))
    readings = read_latents(g, z, enc)
    kinds = {h.name: h.kind for h in heads}
    names = list(names) if names is not None else direction_factors(enc)
    dset = fit_attribute_directions(z, readings, kinds, names, [h.name for h in heads])
    if conditions:
        extra = conditional_directions(dset, conditions)
        dset = DirectionSet(KIND, dset.names + extra.names, np.concatenate([dset.vectors, extra.vectors]))
    return dset


def default_attribute_directions(model: ModelBundle | nn.Module, n: int = 5000, *, encoder=None) -> DirectionSet:
    """The attribute directions to ship inside a model of the synthetic-face domain.

    One plain direction per reliably read factor (`direction_factors`), then each again
    with all the others held fixed ("smile|*"). Fixed latents: the same model always
    gets the same directions. About a minute on two CPU cores at n=5000.
    """
    names = direction_factors(encoder)
    return compute_attribute_directions(model, n, names=names, conditions={name: [ALL_OTHERS] for name in names},
                                        encoder=encoder)


def _spearman_rows(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Spearman correlation of x (S,) with each row of y (N, S); constant rows -> 0."""
    rx = x.argsort().argsort().to(torch.float64)
    ry = y.argsort(dim=1).argsort(dim=1).to(torch.float64)
    rx = rx - rx.mean()
    ry = ry - ry.mean(1, keepdim=True)
    denom = rx.norm() * ry.norm(dim=1)
    corr = (ry @ rx) / denom.clamp_min(1e-12)
    flat = (y.max(1).values - y.min(1).values) < 1e-9
    return torch.where(flat, torch.zeros_like(corr), corr)


def direction_effects(
    model: ModelBundle | nn.Module,
    dset: DirectionSet,
    steps: Sequence[float] = DEFAULT_STEPS,
    n: int = 200,
    *,
    seed: int = EFFECT_SEED,
    encoder=None,
    baseline: bool = True,
) -> dict[str, Any]:
    """What stepping along each direction does to the encoder's readings.

    For direction "smile" (or "smile|..."): target_spearman (mean over n latents of the
    rank correlation between step and smile reading; 1 = always rises), monotonic_fraction
    (share of consecutive steps where it rises), target_change (reading at the last step
    minus at the first), others_change (mean absolute change of every other factor) and
    the most-changed other factor. Changes are in probability for binary factors and in
    data standard deviations for continuous ones, so they compare across factors.
    With `baseline`, a random unit direction is measured too (row BASELINE): what
    "others change" amounts to when nothing was aimed at.
    """
    enc = _encoder(encoder)
    heads = enc.encoder.specs
    g = _generator_of(model)
    steps_t = torch.tensor(sorted(float(s) for s in steps), dtype=torch.float64)
    if steps_t.numel() < 2:
        raise ValueError("need at least two steps")
    z0 = torch.randn(n, g.config.nz, generator=torch.Generator().manual_seed(seed))
    usable = [i for i, h in enumerate(heads) if h.kind in ("binary", "continuous")]
    scale = torch.tensor([heads[i].std if heads[i].kind == "continuous" else 1.0 for i in usable], dtype=torch.float64)
    column = {heads[i].name: j for j, i in enumerate(usable)}
    rows: dict[str, Any] = {}
    named = list(zip(dset.names, dset.vectors))
    if baseline:
        # How much readings move along *some* direction of the same length: the scale for "little".
        r = torch.randn(g.config.nz, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
        named.append((BASELINE, (r / r.norm()).to(torch.float32).numpy()))
    for name, vec in named:
        target = name.split("|", 1)[0]
        v = torch.from_numpy(np.asarray(vec, dtype=np.float32))
        # readings (S, n, F') in comparable units
        per_step = torch.stack([read_latents(g, z0 + float(s) * v, enc)[:, usable].double() / scale for s in steps_t])
        change = per_step[-1] - per_step[0]  # (n, F')
        row: dict[str, Any] = {}
        if target in column:
            t = column[target]
            series = per_step[:, :, t].T  # (n, S)
            row["target_spearman"] = float(_spearman_rows(steps_t, series).mean())
            row["monotonic_fraction"] = float((series[:, 1:] > series[:, :-1]).double().mean())
            row["target_change"] = float(change[:, t].mean())
            others = [j for j in range(len(usable)) if j != t]
        else:  # a direction not named after a factor (e.g. imported): report spill only
            others = list(range(len(usable)))
        abs_change = change[:, others].abs().mean(0)
        row["others_change"] = float(abs_change.mean())
        worst = int(abs_change.argmax())
        row["most_changed_other"] = heads[usable[others[worst]]].name
        row["most_changed_other_change"] = float(abs_change[worst])
        rows[name] = row
    return {"steps": [float(s) for s in steps_t], "n": n, "seed": seed, "units": "probability (binary), data std (continuous)",
            "directions": rows}


def effects_table(effects: dict[str, Any]) -> str:
    """Markdown table of `direction_effects` output (a "|" in a name is escaped for the table)."""
    steps = effects["steps"]
    lines = [f"Steps {steps[0]:+g} .. {steps[-1]:+g} along unit directions, {effects['n']} latents (seed {effects['seed']}); "
             f"changes from first to last step in {effects['units']}.",
             "",
             "| direction | spearman | monotonic | target change | others change | most changed other |",
             "|---|---:|---:|---:|---:|---|"]
    for name, r in effects["directions"].items():
        name = name.replace("|", "\\|")
        sp = f"{r['target_spearman']:.2f}" if "target_spearman" in r else "-"
        mono = f"{r['monotonic_fraction']:.2f}" if "monotonic_fraction" in r else "-"
        tc = f"{r['target_change']:+.2f}" if "target_change" in r else "-"
        lines.append(f"| {name} | {sp} | {mono} | {tc} | {r['others_change']:.2f} | "
                     f"{r['most_changed_other']} ({r['most_changed_other_change']:.2f}) |")
    return "\n".join(lines)


# ---------------------------------------------------------------- command line
def _parse_conditions(items: Sequence[str]) -> dict[str, list[str]]:
    out = {}
    for item in items:
        name, _, keep = item.partition("|")
        if not name or not keep:
            raise ValueError(f"--condition {item!r}: write NAME|KEEP1,KEEP2 (e.g. 'smile|glasses,beard') or NAME|* (all others)")
        out[name] = [k for k in keep.split(",") if k]
    return out


def main(argv: list[str] | None = None) -> int:
    from facestudio.atomic_file import atomic_write_text
    from facestudio.errors import ConfigError, FaceStudioError
    from facestudio.models import load_model, save_model

    p = argparse.ArgumentParser(prog="python -m facestudio.latent.attribute_directions",
                                description="Fit attribute directions of a model and measure what they do.")
    p.add_argument("--model", help="model file or run folder (default: the built-in model)")
    p.add_argument("--n", type=int, default=5000, help="labelled samples to fit the directions (default 5000)")
    p.add_argument("--effect-n", type=int, default=200, help="latents to measure the effects on (default 200)")
    p.add_argument("--condition", action="append", default=[], metavar="NAME|KEEP,...",
                   help="add a conditional direction, e.g. 'smile|glasses,beard' (repeatable); "
                        "the default set already has every 'NAME|*' (all others fixed)")
    p.add_argument("--out", type=Path, help="write the effects as JSON here (and the table beside it as .md)")
    p.add_argument("--save-model", type=Path, metavar="OUT.safetensors", help="write a copy of the model holding the directions")
    args = p.parse_args(argv)
    try:
        bundle = load_model(args.model)
        if args.n < 10 or args.effect_n < 2:
            raise ConfigError("--n needs at least 10 samples (5000 recommended) and --effect-n at least 2.")
        dset = default_attribute_directions(bundle, args.n)
        extra = _parse_conditions(args.condition)
        if extra:
            more = conditional_directions(dset, extra)
            dset = DirectionSet(KIND, dset.names + more.names, np.concatenate([dset.vectors, more.vectors]))
        effects = direction_effects(bundle, dset, n=args.effect_n)
        effects.update(model=bundle.name, model_source=str(bundle.source) if bundle.source else None,
                       model_sha256=bundle.sha256[:12], fit_n=args.n, fit_seed=LATENT_SEED)
        table = effects_table(effects)
        print(table)
        if args.out:
            atomic_write_text(args.out, json.dumps(effects, indent=2) + "\n")
            atomic_write_text(args.out.with_suffix(".md"), table + "\n")
            print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
        if args.save_model:
            bundle.directions[KIND] = dset
            save_model(bundle, args.save_model)
            print(f"wrote {args.save_model} with {len(dset.names)} attribute directions")
    except (FaceStudioError, ValueError) as exc:
        print(f"attribute_directions: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
