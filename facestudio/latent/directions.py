"""Semantic directions in latent space, found without labels, and applying them.

Two unsupervised recipes, both a few seconds on a laptop CPU:

- `sefa_directions` (SeFa, Shen & Zhou 2021, closed form): the generator's first layer
  maps z linearly to its 4x4 feature map, y = A z. The unit directions n that change y
  the most maximise |A n|^2, so they are the top eigenvectors of A^T A. In a DCGAN the
  first layer is `ConvTranspose2d(nz, C, 4, 1, 0)` applied to a 1x1 input, whose weight
  (nz, C, 4, 4) read as (nz, C*16) is A^T: the latent side is the *input* (first) axis.
  The eval-mode batch norm that follows is a per-channel scale, folded into A so the
  directions are those of the features the next layer actually sees.
- `pca_directions` (GANSpace, Haerkoenen et al. 2020, recipe for generators without a
  mapping network): PCA of the activations after an early block for many random z, then
  a least-squares regression z ~ U x from the principal coordinates x back to latents
  gives one latent direction per component. They are orthonormalised in order of
  variance (Gram-Schmidt), so two sliders never partly redo each other.

Directions are returned as a `DirectionSet` (unit rows, float32), deterministic for a
given generator: signs are fixed so the largest-magnitude entry of each row is positive.

Supervised "attribute" directions (smile, glasses...) need the factor encoder and live
in `facestudio.latent.attribute_directions`; all kinds are applied with `apply_directions`.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from facestudio.models.bundle import DirectionSet
from facestudio.models.networks import Generator


def _check_k(k: int, nz: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= int(k) <= nz:
        raise ValueError(f"The number of directions must be a whole number from 1 to the latent size {nz}, not {k!r}.")
    return int(k)


def _canonical_signs(vectors: np.ndarray) -> np.ndarray:
    """Flip rows so each one's largest-magnitude entry is positive (eigen/SVD signs are arbitrary)."""
    idx = np.argmax(np.abs(vectors), axis=1)
    signs = np.sign(vectors[np.arange(len(vectors)), idx])
    signs[signs == 0] = 1.0
    return vectors * signs[:, None]


def first_layer_matrix(generator: Generator) -> torch.Tensor:
    """A (C*16, nz) float64: the linear map z -> first 4x4 features, before the ReLU."""
    layers = list(generator.main)
    first = layers[0]
    if not isinstance(first, nn.ConvTranspose2d) or first.kernel_size != (4, 4) or first.stride != (1, 1):
        raise ValueError("This generator does not start with a DCGAN ConvTranspose2d(nz, C, 4, 1, 0); SeFa cannot read it.")
    weight = first.weight.detach().to("cpu", torch.float64)  # (nz, C, 4, 4)
    if len(layers) > 1 and isinstance(layers[1], nn.BatchNorm2d):
        bn = layers[1]
        scale = bn.weight.detach().to("cpu", torch.float64) / torch.sqrt(bn.running_var.detach().to("cpu", torch.float64) + bn.eps)
        weight = weight * scale.view(1, -1, 1, 1)
    return weight.reshape(weight.shape[0], -1).T


def sefa_directions(generator: Generator, k: int = 10) -> DirectionSet:
    """The k latent directions the first layer is most sensitive to (closed form, < 1 s)."""
    a = first_layer_matrix(generator)
    k = _check_k(k, a.shape[1])
    eigvals, eigvecs = torch.linalg.eigh(a.T @ a)  # ascending; (nz, nz) is small
    order = torch.argsort(eigvals, descending=True)[:k]
    vectors = _canonical_signs(eigvecs[:, order].T.numpy())
    return DirectionSet("sefa", [f"SeFa {i + 1}" for i in range(k)], vectors.astype(np.float32))


def block_activations(generator: Generator, z: torch.Tensor, layer: int = 1) -> torch.Tensor:
    """Features after the `layer`-th block (conv, norm, ReLU) for latents z (N, nz), flattened."""
    blocks = generator.config.n_blocks
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= blocks:
        raise ValueError(f"layer must be a block number from 1 to {blocks}, not {layer!r}.")
    x = z.to(next(generator.parameters()).dtype)[:, :, None, None]
    seen = 0
    for module in generator.main:
        x = module(x)
        if isinstance(module, nn.ReLU):
            seen += 1
            if seen == layer:
                break
    return x.flatten(1)


@torch.inference_mode()
def pca_directions(generator: Generator, k: int = 10, n: int = 2000, layer: int = 1, seed: int = 0) -> DirectionSet:
    """GANSpace directions: PCA of block `layer`'s activations for `n` random z, mapped back to z.

    `layer=1` (the 4x4 features) gives the coarse, face-wide changes artists look for
    first (pose, shape, lighting); deeper layers give finer ones. Deterministic for a
    given `seed`. A few seconds on a laptop CPU for the default 64 px model.
    """
    nz = generator.config.nz
    k = _check_k(k, nz)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < max(2 * k, k + 10):
        raise ValueError(f"PCA needs at least {max(2 * k, k + 10)} samples for {k} directions, not {n!r}.")
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    z = torch.randn(int(n), nz, generator=gen, dtype=torch.float64).to(torch.float32)
    device = next(generator.parameters()).device
    acts = torch.cat([block_activations(generator, chunk.to(device), layer).to("cpu") for chunk in z.split(500)])
    acts = acts.to(torch.float32)
    acts -= acts.to(torch.float64).mean(0).to(torch.float32)
    # Randomised PCA: O(n * D * k) instead of a full SVD of the (n, D) matrix, in float32
    # (8x faster than float64 here; the top components are far above float32 noise). Its
    # random start is drawn in a forked RNG: results neither depend on nor disturb global state.
    q = min(k + 10, *acts.shape)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        _, _, v = torch.pca_lowrank(acts, q=q, center=False, niter=4)
    coords = (acts @ v[:, :k]).to(torch.float64)  # (n, k): principal coordinates of each sample
    # GANSpace: regress the latents on the coordinates, z ~ coords @ U^T; column j of U
    # is the latent step that moves principal component j by one unit.
    u = torch.linalg.lstsq(coords, z.to(torch.float64)).solution.T  # (nz, k)
    q_mat, r = torch.linalg.qr(u)  # (nz, k): Gram-Schmidt in variance order
    q_mat = q_mat * torch.sign(torch.diagonal(r)).where(torch.diagonal(r) != 0, torch.ones(k, dtype=torch.float64))
    vectors = _canonical_signs(q_mat.T.numpy())
    return DirectionSet("pca", [f"PCA {i + 1}" for i in range(k)], vectors.astype(np.float32))


def direction_offset(dset: DirectionSet, amounts: Mapping[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
    """sum_k amount_k * vector_k (nz,) float32; amounts by name (missing = 0) or one per row."""
    if isinstance(amounts, Mapping):
        unknown = sorted(set(amounts) - set(dset.names))
        if unknown:
            raise ValueError(f"The {dset.kind} directions have no {', '.join(map(repr, unknown))}; they are {', '.join(dset.names)}.")
        weights = np.array([float(amounts.get(name, 0.0)) for name in dset.names], dtype=np.float64)
    else:
        weights = np.asarray(amounts, dtype=np.float64)
        if weights.shape != (len(dset.names),):
            raise ValueError(f"Expected {len(dset.names)} amounts for the {dset.kind} directions, got shape {weights.shape}.")
    if not np.all(np.isfinite(weights)):
        raise ValueError("Direction amounts must be finite numbers.")
    return (weights @ dset.vectors.astype(np.float64)).astype(np.float32)


def apply_directions(z: np.ndarray, dset: DirectionSet, amounts: Mapping[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
    """z moved by `amounts` along the set's directions; z (nz,) or (N, nz) -> same shape, float32."""
    z = np.asarray(z, dtype=np.float32)
    if z.shape[-1] != dset.vectors.shape[1]:
        raise ValueError(f"The latent has size {z.shape[-1]}; the {dset.kind} directions are for size {dset.vectors.shape[1]}.")
    return (z + direction_offset(dset, amounts)).astype(np.float32)
