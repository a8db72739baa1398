"""Directions in W applied to a range of layers: GANSpace PCA, SeFa, and the user's own.

A `StyleDirection` is a unit vector in W plus the layers it acts on (coarse, middle,
fine or any list): moving a face by `amount` adds `amount * scale * vector` to those
rows of its W+ styles, so the same direction can turn the head (coarse layers) or only
recolour (fine layers). `scale` is the standard deviation of W along the vector, so an
amount is in "typical face-to-face differences" for every kind.

- PCA (GANSpace): the principal components of W (`facestudio.latent.w_pca`).
- SeFa (Shen & Zhou 2021): a style is A w + b for every synthesis layer, where A is that
  layer's affine (modulation) weight; the unit w that moves the styles of the chosen
  layers most maximises |A n|^2 over the stacked A of those layers, so the directions
  are the top eigenvectors of A^T A. As in the paper's code, each output row of A is
  normalised first so wide layers do not drown out narrow ones. For MobileStyleGAN the
  matrices are its modulation weights; for DCGAN (W = Z) the first layer's matrix.

Directions are called "PCA 3" / "SeFa 5": nothing here checks what they do, and a name
like "smile" is only given by a person (their own files, `direction_file`) or by a
check that measures it (`facestudio.latent.attribute_directions` for DCGAN models).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch

from facestudio.latent.layers import layer_mask
from facestudio.latent.spaces import StyleLatent, map_z, to_space
from facestudio.latent.w_pca import WPca
from facestudio.models.two_stage import TwoStageGenerator

KINDS = ("pca", "sefa", "user")


@dataclass(frozen=True)
class StyleDirection:
    """A named unit vector in W (w_dim,), the layers it moves, and the size of one step."""

    name: str
    kind: str
    vector: np.ndarray
    layers: tuple[int, ...]
    scale: float = 1.0
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        v = np.array(self.vector, dtype=np.float32)
        norm = float(np.linalg.norm(v)) if v.ndim == 1 and v.size else 0.0
        if not np.isfinite(norm) or norm == 0.0:
            raise ValueError(f"Direction {self.name!r} needs a non-zero, finite vector.")
        v /= norm
        v.setflags(write=False)
        object.__setattr__(self, "vector", v)
        object.__setattr__(self, "layers", tuple(int(i) for i in self.layers))
        if self.kind not in KINDS:
            raise ValueError(f"Direction kind {self.kind!r} is unknown; use one of {', '.join(KINDS)}.")
        if not self.layers:
            raise ValueError(f"Direction {self.name!r} acts on no layers; give at least one.")
        if not np.isfinite(self.scale) or not 0 < self.scale < 1e4:
            raise ValueError(f"Direction {self.name!r} has an invalid step size {self.scale!r}.")

    def on_layers(self, layers: Sequence[int]) -> "StyleDirection":
        """The same direction acting on other layers."""
        return StyleDirection(self.name, self.kind, self.vector, tuple(layers), self.scale, dict(self.extra))


def style_affines(generator: TwoStageGenerator) -> list[list[torch.Tensor]]:
    """For each index of ws, the effective (C, w_dim) matrices turning that w into styles."""
    n = generator.num_ws
    out: list[list[torch.Tensor]] = [[] for _ in range(n)]
    synthesis = generator._modules.get("synthesis")

    def affine(module: torch.nn.Module) -> torch.Tensor:
        fc = module.affine
        return fc.weight.detach().double() * fc.weight_gain

    if n == 1 and hasattr(generator, "main"):  # DCGAN: W = Z feeds the first layer only
        from facestudio.latent.directions import first_layer_matrix

        out[0].append(first_layer_matrix(generator))
    elif synthesis is not None and hasattr(synthesis, "block_resolutions"):  # StyleGAN2
        w_idx = 0
        for res in synthesis.block_resolutions:
            block = getattr(synthesis, f"b{res}")
            convs = [block.conv1] if block.in_channels == 0 else [block.conv0, block.conv1]
            for j, conv in enumerate(convs):
                out[w_idx + j].append(affine(conv))
            if block.num_torgb:
                out[w_idx + block.num_conv].append(affine(block.torgb))
            w_idx += block.num_conv
    elif synthesis is not None and hasattr(synthesis, "layer_names"):  # StyleGAN3
        out[0].append(affine(synthesis.input))
        for i, name in enumerate(synthesis.layer_names):
            out[i + 1].append(affine(getattr(synthesis, name)))
    elif hasattr(generator, "synthesis_net"):  # MobileStyleGAN: modulation weights
        net = generator.synthesis_net

        def mod(m: torch.nn.Module) -> torch.Tensor:
            return m.mod_weight.detach().double()

        out[0].append(mod(net.conv0))
        for i, block in enumerate(net.blocks):
            out[1 + 2 * i] += [mod(block.up), mod(block.conv1)]
            out[2 + 2 * i].append(mod(block.conv2))
        out[n - 1].append(mod(net.to_img))
    else:
        raise ValueError(f"SeFa does not know where {type(generator).__name__} keeps its style weights.")
    return out


def _w_scales(generator: TwoStageGenerator, vectors: np.ndarray, samples: int = 2000, seed: int = 0) -> np.ndarray:
    """Standard deviation of mapped W samples along each unit row of `vectors`."""
    z = torch.randn(samples, generator.z_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    w = map_z(generator, z.float().numpy()).astype(np.float64)
    return np.maximum((w @ vectors.T.astype(np.float64)).std(axis=0), 1e-6)


def sefa_style_directions(generator: TwoStageGenerator, layers: str | Sequence[int] = "all", k: int = 10) -> list[StyleDirection]:
    """The k W directions that move the styles of `layers` most (closed form, well under a second)."""
    mask = layer_mask(generator, layers)
    mats = [m for i in np.flatnonzero(mask) for m in style_affines(generator)[i]]
    a = torch.cat(mats, dim=0)
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= a.shape[1]:
        raise ValueError(f"The number of SeFa directions must be from 1 to w_dim = {a.shape[1]}, not {k!r}.")
    eigvals, eigvecs = torch.linalg.eigh(a.T @ a)
    vectors = eigvecs[:, torch.argsort(eigvals, descending=True)[:k]].T.numpy()
    idx = np.argmax(np.abs(vectors), axis=1)
    vectors *= np.where(vectors[np.arange(len(vectors)), idx] < 0, -1.0, 1.0)[:, None]
    scales = _w_scales(generator, vectors)
    chosen = tuple(int(i) for i in np.flatnonzero(mask))
    return [StyleDirection(f"SeFa {i + 1}", "sefa", v, chosen, float(s)) for i, (v, s) in enumerate(zip(vectors, scales))]


def pca_style_directions(generator: TwoStageGenerator, pca: WPca, layers: str | Sequence[int] = "all") -> list[StyleDirection]:
    """The W principal components as directions on `layers` (one step = one standard deviation)."""
    chosen = tuple(int(i) for i in np.flatnonzero(layer_mask(generator, layers)))
    return [StyleDirection(name, "pca", v, chosen, float(s)) for name, v, s in zip(pca.names, pca.components, pca.stdev)]


def apply_style_directions(generator: TwoStageGenerator, latent: StyleLatent, directions: Sequence[StyleDirection],
                           amounts: Sequence[float] | Mapping[str, float]) -> StyleLatent:
    """The face moved by `amounts` along `directions`.

    Edits live in W: a z face becomes a w face when every moved direction acts on all
    layers, else (like any layer-range edit) a w+ face.
    """
    if isinstance(amounts, Mapping):
        unknown = sorted(set(amounts) - {d.name for d in directions})
        if unknown:
            raise ValueError(f"No direction is called {', '.join(map(repr, unknown))}.")
        values = [float(amounts.get(d.name, 0.0)) for d in directions]
    else:
        values = [float(a) for a in amounts]
        if len(values) != len(directions):
            raise ValueError(f"Expected {len(directions)} amounts, got {len(values)}.")
    if not all(np.isfinite(values)):
        raise ValueError("Direction amounts must be finite numbers.")
    n = generator.num_ws
    moved = [(d, a) for d, a in zip(directions, values) if a != 0.0]
    for d, _ in moved:
        if d.vector.shape != (generator.w_dim,) or max(d.layers) >= n:
            raise ValueError(f"Direction {d.name!r} is for another model (w size {d.vector.shape[0]}, layers up to {max(d.layers)}).")
    every_layer = all(len(d.layers) == n for d, _ in moved)
    if every_layer and latent.space != "w+":
        base = to_space(generator, latent, "w")
        return StyleLatent("w", base.values + sum((a * d.scale * d.vector for d, a in moved), np.zeros(generator.w_dim, np.float32)))
    ws = np.array(to_space(generator, latent, "w+").values)
    for d, a in moved:
        ws[list(d.layers)] += np.float32(a * d.scale) * d.vector
    return StyleLatent("w+", ws)


def explorer_style_directions(generator: TwoStageGenerator, model_sha256: str, k: int = 10) -> tuple[list[StyleDirection], dict[str, float]]:
    """The explorer's style directions: the top `k` W principal components (GANSpace) and `k` SeFa
    directions, all on every layer (the explorer moves them to a chosen range), and each PCA
    component's share of the variance of W. Unnamed: nothing independent has checked them."""
    from facestudio.latent.w_pca import w_pca

    k = min(k, generator.w_dim)
    pca = w_pca(generator, model_sha256, k=k)
    shares = {name: float(share) for name, share in zip(pca.names, pca.variance_share)}
    return pca_style_directions(generator, pca) + sefa_style_directions(generator, "all", k), shares
