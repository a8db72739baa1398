"""FaceStudio: explore, morph and train face-generating GANs on an ordinary laptop.

Layering (see docs/architecture.md): `models`, `data` <- `latent`, `render`, `metrics`, `trainer`
<- `ui`. Only `facestudio.ui` imports Qt.
"""

import os

# OpenMP threads that spin while waiting burn the cores that the UI thread, the render
# worker and the trainer need; on a busy 2-core laptop that made small torch ops on the
# main thread 50-100x slower (measured: 200 small convolutions 4-16 s -> 0.09 s).
# Must be set before torch loads; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
