"""Per-factor distribution match: rates, class frequencies, continuous histograms, gating."""

import pytest
import torch

from facestudio.metrics.factor_encoder import FactorHead
from facestudio.metrics.factor_match import factor_table, match_factor, match_factors

HEADS = [
    FactorHead("glasses", "binary"),
    FactorHead("smile", "continuous"),
    FactorHead("background", "categorical", classes=3),
    FactorHead("glasses_style", "categorical", classes=3, given="glasses"),
]


def test_binary_rates_and_tv():
    m = match_factor(HEADS[0], torch.tensor([0.9, 0.8, 0.1, 0.2]), torch.tensor([0.9, 0.1, 0.1, 0.1]))
    assert (m.generated, m.data, m.tv) == (0.5, 0.25, 0.25)


def test_categorical_frequencies():
    m = match_factor(HEADS[2], torch.tensor([0.0, 0.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 2.0, 2.0]))
    # generated (1, 0, 0) vs data (.25, .25, .5): TV = .5 * (.75 + .25 + .5)
    assert m.tv == pytest.approx(0.75)
    assert m.data == pytest.approx(0.5) and m.generated == 0.0  # share of the data's commonest class


def test_continuous_histograms():
    g = torch.Generator().manual_seed(0)
    data = torch.rand(4000, generator=g)
    same = match_factor(HEADS[1], torch.rand(4000, generator=g), data)
    assert same.tv < 0.05
    # Data spread evenly over [0, 1) has deciles at 0.1, 0.2, ...; a model whose smiles all
    # fall below the first decile puts everything in one of ten equal bins: TV = 0.9.
    even = torch.arange(4000) / 4000
    never_smiles = match_factor(HEADS[1], torch.linspace(0, 0.09, 500), even)
    assert never_smiles.tv == pytest.approx(0.9, abs=1e-9)
    assert never_smiles.generated == pytest.approx(0.045) and never_smiles.data == pytest.approx(0.499875)


def test_gated_factor_compares_only_faces_with_glasses():
    data = torch.tensor([[0.9, 0.5, 0.0, 2.0], [0.9, 0.5, 0.0, 2.0], [0.1, 0.5, 0.0, 0.0], [0.1, 0.5, 0.0, 1.0]])
    gen = torch.tensor([[0.9, 0.5, 0.0, 2.0], [0.1, 0.5, 0.0, 0.0], [0.1, 0.5, 0.0, 0.0], [0.1, 0.5, 0.0, 0.0]])
    rows = {m.name: m for m in match_factors(HEADS, gen, data)}
    # Among faces with glasses both sides only have style 2: no mismatch, although
    # the style readings of faces without glasses differ wildly.
    assert rows["glasses_style"].tv == 0.0
    assert rows["glasses"].tv == pytest.approx(0.25)
    # No generated face wears glasses: the style cannot match.
    gen[0, 0] = 0.0
    rows = {m.name: m for m in match_factors(HEADS, gen, data)}
    assert rows["glasses_style"].tv == 1.0


def test_table_and_shape_checks():
    data = torch.tensor([[0.9, 0.5, 0.0, 2.0], [0.1, 0.2, 1.0, 0.0]])
    table = factor_table(match_factors(HEADS, data, data))
    assert "| glasses | binary |" in table and "**0.000**" in table
    with pytest.raises(ValueError):
        match_factors(HEADS, data[:, :3], data)
