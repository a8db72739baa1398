"""Per-factor distribution match: does the model draw glasses, beards, smiles, turned
heads... as often as the data does?

Both sides are read by the same factor encoder (its biases cancel out), and each factor
gets a total variation distance between the generated and the data distribution of its
reading (0 = same, 1 = disjoint): binary factors compare "present" rates (p > 0.5),
categorical ones class frequencies, continuous ones histograms over ten bins of equal
mass on the data. A model can have a fine Frechet distance and still never smile;
this table says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from facestudio.metrics.factor_encoder import FactorHead

CONTINUOUS_BINS = 10


@dataclass(frozen=True)
class FactorMatch:
    """How one factor's generated distribution compares with the data's."""

    name: str
    kind: str
    generated: float  # binary: share present; continuous: mean; categorical: share of the data's most common class
    data: float
    tv: float  # total variation distance in [0, 1]

    def to_dict(self) -> dict[str, float | str]:
        return {"kind": self.kind, "generated": self.generated, "data": self.data, "tv": self.tv}


def _tv(p: torch.Tensor, q: torch.Tensor) -> float:
    return float(0.5 * (p - q).abs().sum())


def _frequencies(values: torch.Tensor, classes: int) -> torch.Tensor:
    return torch.bincount(values.long().clamp(0, classes - 1), minlength=classes).to(torch.float64) / max(values.numel(), 1)


def match_factor(spec: FactorHead, generated: torch.Tensor, data: torch.Tensor) -> FactorMatch:
    """Compare one factor's readings (N,) of generated faces with those of real faces."""
    if generated.numel() == 0 or data.numel() == 0:
        raise ValueError(f"no readings of {spec.name!r} to compare")
    g = generated.detach().to("cpu", torch.float64)
    d = data.detach().to("cpu", torch.float64)
    if spec.kind == "binary":
        rg, rd = float((g > 0.5).double().mean()), float((d > 0.5).double().mean())
        return FactorMatch(spec.name, spec.kind, rg, rd, abs(rg - rd))
    if spec.kind == "categorical":
        fg, fd = _frequencies(g, spec.classes), _frequencies(d, spec.classes)
        top = int(fd.argmax())
        return FactorMatch(spec.name, spec.kind, float(fg[top]), float(fd[top]), _tv(fg, fd))
    # Continuous: bin edges at the data's deciles, so each bin holds 10% of real faces.
    inner = torch.quantile(d, torch.linspace(0, 1, CONTINUOUS_BINS + 1, dtype=torch.float64)[1:-1])
    hg = torch.bincount(torch.bucketize(g, inner), minlength=CONTINUOUS_BINS).double() / max(g.numel(), 1)
    hd = torch.bincount(torch.bucketize(d, inner), minlength=CONTINUOUS_BINS).double() / max(d.numel(), 1)
    return FactorMatch(spec.name, spec.kind, float(g.mean()), float(d.mean()), _tv(hg, hd))


def match_factors(specs: list[FactorHead], generated: torch.Tensor, data: torch.Tensor) -> list[FactorMatch]:
    """One `FactorMatch` per factor, from (N, F) readings of each side."""
    if generated.dim() != 2 or data.dim() != 2 or generated.shape[1] != len(specs) or data.shape[1] != len(specs):
        raise ValueError(f"readings must be (N, {len(specs)}), got {tuple(generated.shape)} and {tuple(data.shape)}")
    index = {s.name: i for i, s in enumerate(specs)}
    out = []
    for i, spec in enumerate(specs):
        g, d = generated[:, i], data[:, i]
        if spec.given:  # e.g. glasses_style: compare only faces that wear glasses
            g = g[generated[:, index[spec.given]] > 0.5]
            d = d[data[:, index[spec.given]] > 0.5]
            if g.numel() == 0 or d.numel() == 0:
                # Nothing to compare on one side; the gate factor's own row already shows it.
                out.append(FactorMatch(spec.name, spec.kind, 0.0, 0.0, 0.0 if g.numel() == d.numel() else 1.0))
                continue
        out.append(match_factor(spec, g, d))
    return out


def factor_table(matches: list[FactorMatch]) -> str:
    """A markdown table of the matches, for people."""
    lines = ["| factor | kind | generated | data | TV |", "|---|---|---:|---:|---:|"]
    for m in matches:
        lines.append(f"| {m.name} | {m.kind} | {m.generated:.3f} | {m.data:.3f} | {m.tv:.3f} |")
    if matches:
        lines.append(f"| **mean** | | | | **{sum(m.tv for m in matches) / len(matches):.3f}** |")
    return "\n".join(lines)
