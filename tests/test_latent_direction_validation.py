"""direction_validation: the independent judge of named directions and the renaming rule."""

import numpy as np
import torch

from facestudio.latent import direction_validation as dv
from facestudio.models.config import ModelConfig
from facestudio.models.networks import Generator


def row(spearman=0.9, change=1.0, other=0.3, reads=True):
    return {"target_spearman": spearman, "target_change": change, "most_changed_other_change": other, "judge_reads": reads}


def test_a_direction_keeps_its_name_only_when_the_judge_reads_a_clear_steady_dominant_change():
    assert dv.verdict(row())
    assert not dv.verdict(row(spearman=0.3))  # not steady
    assert not dv.verdict(row(change=0.2))  # too small
    assert not dv.verdict(row(change=1.0, other=1.5))  # something else changes more
    assert not dv.verdict(row(reads=False))  # the judge is blind to this attribute
    effects = {"smile": {**row(change=0.1), "passes": False}, "light": {**row(), "passes": True}}
    assert dv.honest_names(["light", "smile", "smile|light"], effects) == ["light", "Fitted 2", "Fitted 3"]


def test_the_judge_must_read_the_factor_on_held_out_faces():
    held = {"smile": 0.01, "light": 0.9, "glasses": 0.8, "beard": 0.7}
    assert dv.judge_reads(held, "light") and dv.judge_reads(held, "glasses")
    assert not dv.judge_reads(held, "smile") and not dv.judge_reads(held, "beard") and not dv.judge_reads(held, "yaw")


def test_degradation_keeps_shape_and_range_and_changes_the_pixels():
    x = torch.rand(4, 3, 64, 64) * 2 - 1
    y = dv.degrade(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1 and not torch.allclose(x, y)
    assert dv.JudgeNet()(y).shape == (4, len(dv.JUDGE_FACTORS))


def test_a_strip_shows_three_faces_at_each_step():
    g = Generator(ModelConfig(nz=8, ngf=4, ndf=4, image_size=32)).eval()
    strip = dv.strip_image(g, np.ones(8, np.float32))
    assert strip.shape == (3 * 32, len(dv.STEPS) * 32, 3) and strip.dtype == np.uint8
    assert dv.png_bytes(strip).startswith(b"\x89PNG")
