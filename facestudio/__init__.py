"""FaceStudio: explore, morph and train face-generating GANs on an ordinary laptop.

Layering (see DESIGN.md): `models`, `data` <- `latent`, `render`, `metrics`, `trainer`
<- `ui`. Only `facestudio.ui` imports Qt.
"""

__version__ = "0.1.0"
