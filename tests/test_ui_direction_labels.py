"""Direction ids become labels a person reads; the ids themselves stay the keys."""

import pytest

from facestudio.ui.explorer.directions_panel import direction_label


@pytest.mark.parametrize("name, label", [
    ("smile", "Smile"),
    ("hair_darkness", "Hair darkness"),
    ("smile|yaw,light", "Smile (yaw, light kept)"),
    ("beard|smile,glasses", "Beard (smile, glasses kept)"),
    ("SeFa 3", "SeFa 3"),
    ("PCA 1", "PCA 1"),
])
def test_direction_label(name, label):
    assert direction_label(name) == label
