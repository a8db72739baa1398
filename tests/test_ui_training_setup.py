"""The training form reads its defaults, ranges and choices from TrainConfig, like the command line."""

from __future__ import annotations

import pytest

from facestudio.ui.training.training_setup import TrainingSetup
from trainer.config import TrainConfig


@pytest.fixture
def setup(qtbot, tmp_path):
    form = TrainingSetup(tmp_path)
    qtbot.addWidget(form)
    return form


def test_the_form_starts_on_the_config_defaults(setup):
    made = setup.config()
    default = TrainConfig()
    for name in ("image_size", "batch_size", "lr_g", "lr_d", "loss", "diffaugment", "ema_decay", "flip", "nz", "ngf", "ndf",
                 "seed", "sample_every", "checkpoint_every", "name", "sample_count", "data_count"):
        expected = 10_000 if name == "data_count" else getattr(default, name)  # the form names the built-in count
        assert getattr(made, name) == pytest.approx(expected), name
    assert made.ema_decay == 0.999  # the command line's default, not a form-only one


def test_the_form_offers_the_config_ranges_and_choices(setup):
    spec = TrainConfig.setting
    assert (setup.batch_spin.minimum(), setup.batch_spin.maximum()) == (spec("batch_size").lo, spec("batch_size").hi)
    assert (setup.nz_spin.minimum(), setup.nz_spin.maximum()) == (spec("nz").lo, spec("nz").hi)
    assert setup.ema_spin.maximum() == pytest.approx(spec("ema_decay").hi)
    assert setup.steps_spin.minimum() == spec("max_steps").lo  # 0 steps would train nothing
    assert 0 < setup.lr_g_spin.minimum() < 1e-4 and setup.minutes_spin.minimum() > 0  # open lower bounds stay open
    assert [setup.size_combo.itemData(i) for i in range(setup.size_combo.count())] == list(spec("image_size").choices)
    assert [setup.loss_combo.itemData(i) for i in range(setup.loss_combo.count())] == list(spec("loss").choices)
    setup.set_values(sample_every=0, checkpoint_every=0)  # 0 = only at the end, as on the command line
    assert setup.config().sample_every == 0 and setup.sample_every_spin.text() == "only at the end"
