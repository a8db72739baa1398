"""The trainer's parts on their own: config, losses, DiffAugment, EMA, metrics log, progress bar."""

from __future__ import annotations

import io
import json

import pytest
import torch
import torch.nn.functional as F

from facestudio.errors import ConfigError
from trainer.config import TrainConfig
from trainer.diffaugment import augment_color, augment_cutout, augment_translation, diff_augment
from trainer.ema import GeneratorEMA
from trainer.health import ROLLBACK, SKIP, HealthMonitor
from trainer.losses import GanLoss
from trainer.metrics_log import MetricsLog, read_metrics
from trainer.progress_bar import ProgressBar
from trainer.trainer import step_seed


# ---------------------------------------------------------------- config
def test_config_refuses_bad_values_with_the_setting_named():
    for bad, name in [({"batch_size": 1}, "batch_size"), ({"lr_g": 0.0}, "lr_g"), ({"loss": "wgan"}, "loss"),
                      ({"image_size": 48}, "Image size"), ({"name": "../x"}, "Run name"), ({"minutes": -1.0}, "minutes"),
                      ({"diffaugment_policy": "color,blur"}, "DiffAugment"), ({"loss": "hinge", "label_smoothing": 0.1}, "hinge")]:
        with pytest.raises(ConfigError, match=name):
            TrainConfig(**bad)


def test_config_round_trips_and_refuses_unknown_keys():
    c = TrainConfig(nz=16, max_steps=10, loss="bce", label_smoothing=0.1)
    assert TrainConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    with pytest.raises(ConfigError, match="unknown settings"):
        TrainConfig.from_dict({**c.to_dict(), "warp_drive": True})


def test_resume_accepts_session_changes_and_repeats_but_refuses_conflicts():
    saved = TrainConfig(nz=16, lr_g=2e-4, max_steps=10)
    merged = saved.merge_for_resume({"max_steps": 50, "lr_g": 2e-4, "threads": 1})
    assert merged.max_steps == 50 and merged.threads == 1 and merged.lr_g == 2e-4
    with pytest.raises(ConfigError, match=r"lr_g=0\.001 \(the run was trained with 0\.0002\)"):
        saved.merge_for_resume({"lr_g": 1e-3, "max_steps": 50})


def test_diffaugment_auto_switches_on_for_small_data_sets():
    c = TrainConfig(diffaugment="auto")
    assert c.augment_ops(4999) == ("color", "translation", "cutout")
    assert c.augment_ops(5000) == ()
    assert TrainConfig(diffaugment="on").augment_ops(10**6) and not TrainConfig(diffaugment="off").augment_ops(10)


# ---------------------------------------------------------------- losses
def test_bce_loss_is_the_tutorials_sigmoid_bce():
    real, fake = torch.randn(16), torch.randn(16)
    tutorial_d = F.binary_cross_entropy(torch.sigmoid(real), torch.ones(16)) + F.binary_cross_entropy(torch.sigmoid(fake), torch.zeros(16))
    assert torch.allclose(GanLoss("bce").d(real, fake), tutorial_d, atol=1e-6)
    assert torch.allclose(GanLoss("bce").g(fake), F.binary_cross_entropy(torch.sigmoid(fake), torch.ones(16)), atol=1e-6)
    smoothed = GanLoss("bce", 0.1).d(real, fake)
    expected = F.binary_cross_entropy(torch.sigmoid(real), torch.full((16,), 0.9)) + F.binary_cross_entropy(torch.sigmoid(fake), torch.zeros(16))
    assert torch.allclose(smoothed, expected, atol=1e-6)


def test_bce_stays_finite_where_sigmoid_bce_breaks():
    loss = GanLoss("bce").d(torch.tensor([200.0]), torch.tensor([-200.0]))
    assert torch.isfinite(loss) and loss < 1e-6


def test_hinge_loss():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
    assert GanLoss("hinge").d(real, fake).item() == pytest.approx((0 + 0.5) / 2 + (0 + 1.5) / 2)
    assert GanLoss("hinge").g(fake).item() == pytest.approx(0.75)


# ---------------------------------------------------------------- DiffAugment
def _images(n=6, size=16, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_translation_shifts_each_image_and_fills_with_zero():
    x = _images()
    out = augment_translation(x, torch.Generator().manual_seed(3))
    pad = F.pad(x, (2, 2, 2, 2))  # shifts are at most 0.125 * 16 = 2 pixels
    for i in range(x.shape[0]):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.equal(out[i], pad[i, :, 2 + dy : 18 + dy, 2 + dx : 18 + dx])]
        assert matches, f"image {i} is not a shifted copy"


def test_cutout_zeroes_one_square_per_image():
    x = _images(n=8, size=32).abs() + 0.1  # no zeros of its own
    out = augment_cutout(x, torch.Generator().manual_seed(5))
    for i in range(8):
        hole = (out[i] == 0).all(dim=0)
        assert hole.any() and hole.float().mean() <= 0.25
        rows, cols = hole.any(dim=1).nonzero().flatten(), hole.any(dim=0).nonzero().flatten()
        assert hole[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()  # a filled rectangle
        assert torch.equal(out[i][:, ~hole], x[i][:, ~hole])


def test_diffaugment_is_differentiable_and_reproducible():
    x = _images().requires_grad_(True)
    ops = ("color", "translation", "cutout")
    y = diff_augment(x, ops, torch.Generator().manual_seed(1))
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    again = diff_augment(x.detach(), ops, torch.Generator().manual_seed(1))
    assert torch.equal(y.detach(), again)
    assert not torch.equal(again, diff_augment(x.detach(), ops, torch.Generator().manual_seed(2)))
    assert diff_augment(x, (), torch.Generator()) is x
    assert augment_color(x.detach(), torch.Generator().manual_seed(0)).shape == x.shape


# ---------------------------------------------------------------- EMA
def test_ema_warms_up_then_follows_slowly():
    net = torch.nn.Linear(2, 2)
    ema = GeneratorEMA(net, decay=0.999)
    start = ema.module.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update(net)  # first update: decay min(0.999, 1/10) = 0.1
    assert torch.allclose(ema.module.weight, 0.1 * start + 0.9 * net.weight)
    ema.updates = 100_000
    assert ema.current_decay() == 0.999
    assert not ema.module.weight.requires_grad


# ---------------------------------------------------------------- health
def test_health_counts_bad_steps_and_d_dominance():
    monitor = HealthMonitor(TrainConfig(nan_patience=2, d_win_steps=3, max_rollbacks=1))
    assert monitor.bad_step() == SKIP and monitor.bad_step() == ROLLBACK
    monitor.rolled_back()
    assert monitor.state.lr_scale == 0.5 and monitor.out_of_rollbacks
    assert monitor.discriminator_scores(0.999, 0.001) == [] and monitor.discriminator_scores(0.999, 0.001) == []
    assert monitor.good
    (warning,) = monitor.discriminator_scores(0.995, 0.002)
    assert "winning outright: for 3 steps" in warning and "--diffaugment on" in warning and not monitor.good
    monitor.discriminator_scores(0.7, 0.3)
    assert monitor.good and monitor.state.d_win_streak == 0


# ---------------------------------------------------------------- metrics log
def test_read_metrics_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    log = MetricsLog(path, flush_seconds=1e9)
    for step in range(1, 4):
        log.append({"step": step, "loss_g": float("nan") if step == 2 else 0.5})
    assert not path.exists()  # buffered
    log.flush()
    with open(path, "ab") as fh:
        fh.write(b'{"step": 4, "loss_g": 0.')  # a kill in the middle of an append
    records = read_metrics(path)
    assert [r["step"] for r in records] == [1, 2, 3] and records[1]["loss_g"] is None
    log.truncate_after(2)
    assert [r["step"] for r in read_metrics(path)] == [1, 2]
    assert path.read_bytes().endswith(b"\n")
    assert read_metrics(tmp_path / "missing.jsonl") == []


def test_metrics_log_flushes_when_the_buffer_is_full(tmp_path):
    log = MetricsLog(tmp_path / "m.jsonl", flush_seconds=1e9, max_buffered=3)
    for step in range(1, 5):
        log.append({"step": step})
    assert [r["step"] for r in read_metrics(tmp_path / "m.jsonl")] == [1, 2, 3]


# ---------------------------------------------------------------- misc
def test_progress_bar_writes_lines_when_not_a_terminal():
    out = io.StringIO()
    bar = ProgressBar(100, stream=out, line_seconds=0.0)
    bar.update({"step": 25, "images_per_s": 812.0, "steps_per_s": 2.0, "loss_g": 1.5, "loss_d": 0.75, "d_real": 0.6, "d_fake": 0.3})
    text = out.getvalue()
    assert "step 25/100" in text and "25%" in text and "812 img/s" in text and "G 1.500 D 0.750" in text and "ETA 0:37" in text
    assert "\r" not in text


def test_step_seeds_differ_per_rank_and_step():
    seeds = {step_seed(0, r, s) for r in range(2) for s in range(100)}
    assert len(seeds) == 200 and all(0 <= s < 2**63 for s in seeds)
