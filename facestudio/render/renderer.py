"""`Renderer`: latents in, RGB uint8 faces out, fast and without Qt.

The explorer, morph studio, exports and CLI all draw faces through here. It renders with
a `FoldedGenerator` (batch norm folded, GEMM first layer, channels-last; see
`folded_generator` for what was measured and kept), which matches the eval-mode generator
to ~1e-7 and is faster than the plain eager forward. Generators whose layout it does not
know are run as an eager eval-mode copy instead (`inference_path` says which).

A renderer holds its own copy of the weights, taken when it is built, so a model still
training in another thread can neither tear a frame nor change it mid-drag; build a new
renderer to see new weights. Every call takes a lock: one renderer can be shared by the
GUI thread and a render worker. Newest-request-wins scheduling is `LatestRequest`; the
preview-while-moving policy is `facestudio.render.progressive`.

Any two-stage generator renders (`facestudio.models.two_stage`): truncation `psi` is
the generator's own (towards `w_avg` in W for StyleGAN, towards 0 in z for DCGAN,
where the folded fast path applies it to z directly, which is the same thing).
Conditional models draw class `class_index` (0 unless set).

Style-based models are also drawn from W+ styles with `render_ws` (any face space goes
through `facestudio.latent.spaces.wplus_batch` first); `render_ws(..., resolution=r)`
asks for one of the generator's cheap `preview_resolutions` (only the layers up to r).
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import TYPE_CHECKING

import numpy as np
import torch

from facestudio.latent.sampling import truncate
from facestudio.models.bundle import ModelBundle
from facestudio.render.folded_generator import FoldedGenerator, NotFoldableError
from facestudio.render.grid import tensor_to_uint8, uint8_to_tensor
from facestudio.render.latest_request import LatestRequest

if TYPE_CHECKING:
    from facestudio.render.style_face import StyleEdit

__all__ = ["Renderer", "LatestRequest"]

# Largest batch sent through the network at once: bounds memory for big grids while
# staying in the range where batching still pays (per-face time flattens past ~16).
MAX_BATCH = 16
REALISM_CALIBRATION_N = 256  # the model's own faces a discriminator realism reading is ranked against


class Renderer:
    """Renders faces of one model: `render(z)` -> (H, W, 3) uint8, `render_batch(zs)` -> (N, H, W, 3)."""

    def __init__(self, bundle: ModelBundle, *, device: str | torch.device = "cpu", max_batch: int = MAX_BATCH) -> None:
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"max_batch must be a whole number of at least 1, not {max_batch!r}.")
        self.bundle = bundle
        self.config = bundle.config
        self.device = torch.device(device)
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._realism_calibration: np.ndarray | None = None  # style models: sorted discriminator logits
        self.class_index = 0
        source = bundle.viewing_generator
        self._two_stage = bundle.family != "dcgan"
        try:
            if self._two_stage:
                raise NotFoldableError("only DCGAN generators fold")
            self._net: torch.nn.Module = FoldedGenerator(source).to(self.device)
            self.inference_path = "folded"
        except NotFoldableError:
            self._net = copy.deepcopy(source).to(self.device).eval().requires_grad_(False)
            self.inference_path = "two-stage" if self._two_stage else "eager"
        disc = bundle.discriminator
        self._disc = copy.deepcopy(disc).to(self.device).eval().requires_grad_(False) if disc is not None else None

    # ------------------------------------------------------------ facts
    @property
    def nz(self) -> int:
        return self.config.nz

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def realism_calibration_n(self) -> int:
        """Faces the realism percentile ranks against: fewer for big models (a 1024 px
        StyleGAN face costs seconds, and the calibration blocks the render worker once)."""
        if self.inference_path == "folded":
            return REALISM_CALIBRATION_N
        return max(8, min(REALISM_CALIBRATION_N, int(REALISM_CALIBRATION_N * (64 / self.image_size) ** 2)))

    @property
    def has_discriminator(self) -> bool:
        return self._disc is not None

    @functools.cached_property
    def has_realism_meter(self) -> bool:
        """Whether `realism_percentile` means something: a model of the built-in synthetic faces
        at 64 px or more (the face check), or a style model with its discriminator (its rank).
        Asked on every face request, so worked out once (it looks for the check's file)."""
        from facestudio.metrics.face_defects import applies_to

        return self.realism_by_discriminator or applies_to(self.config.info, image_size=self.image_size)

    @property
    def realism_by_discriminator(self) -> bool:
        """Whether the meter reads this model's own discriminator rather than the face check: style
        models (StyleGAN files), whose data FaceStudio's check never learned."""
        return self._two_stage and self._disc is not None

    # ------------------------------------------------------------ input checks
    def _latents(self, z: np.ndarray | torch.Tensor, psi: float) -> tuple[torch.Tensor, bool]:
        """(N, nz) float32 tensor (truncated) and whether a single latent was given."""
        if isinstance(z, torch.Tensor):
            z = z.detach().to("cpu").numpy()
        z = np.asarray(z)
        if z.dtype.kind not in "fiu" or z.dtype == np.bool_:
            raise ValueError(f"Latents must be numbers, not {z.dtype}.")
        single = z.ndim == 1
        if single:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.nz:
            raise ValueError(f"This model takes latents of size {self.nz} ((nz,) or (N, nz)); got shape {z.shape}.")
        z = z.astype(np.float32, copy=False)
        if not np.all(np.isfinite(z)):
            raise ValueError("The latent contains NaN or infinite values.")
        if self._two_stage:
            truncate(z[:0], psi)  # the same range check; the generator truncates in its own space
            return torch.from_numpy(np.array(z, dtype=np.float32)), single
        return torch.from_numpy(np.ascontiguousarray(truncate(z, psi))), single

    def _labels(self, n: int) -> torch.Tensor | None:
        """One-hot labels of `class_index` for a conditional model, else None."""
        c_dim = getattr(self._net, "c_dim", 0)
        if not self._two_stage or not c_dim:
            return None
        c = torch.zeros(n, c_dim, device=self.device)
        c[:, min(max(int(self.class_index), 0), c_dim - 1)] = 1.0
        return c

    # ------------------------------------------------------------ rendering
    @torch.inference_mode()
    def _forward(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """Images in [-1, 1] (N, nc, S, S) for latents already checked; caller holds the lock.

        `psi` matters only for two-stage generators (the folded path got truncated z).
        """
        if self._two_stage:
            return self._net(z.to(self.device), self._labels(z.shape[0]), truncation_psi=psi)
        return self._net(z.to(self.device))

    def render_float(self, z: np.ndarray | torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """Float images in [-1, 1] (N, nc, S, S) on the CPU, for code that needs more than uint8."""
        zt, _ = self._latents(z, psi)
        chunks = []
        with self._lock:
            for part in zt.split(self.max_batch):
                chunks.append(self._forward(part, psi).to("cpu").contiguous())
        if not chunks:
            return torch.zeros((0, self.config.nc, self.image_size, self.image_size))
        return torch.cat(chunks)

    def render(self, z: np.ndarray | torch.Tensor, psi: float = 1.0) -> np.ndarray:
        """The face of latent `z` (nz,) with truncation `psi`: RGB uint8 (H, W, 3)."""
        zt, _ = self._latents(z, psi)
        if zt.shape[0] != 1:
            raise ValueError(f"render takes one latent (nz,); use render_batch for {zt.shape[0]} latents.")
        with self._lock:
            return tensor_to_uint8(self._forward(zt, psi))[0]

    def render_batch(self, zs: np.ndarray | torch.Tensor, psi: float = 1.0) -> np.ndarray:
        """Faces of latents (N, nz): RGB uint8 (N, H, W, 3), computed `max_batch` at a time."""
        zt, _ = self._latents(zs, psi)
        s = self.image_size
        out = np.empty((zt.shape[0], s, s, 3), dtype=np.uint8)
        with self._lock:
            for start in range(0, zt.shape[0], self.max_batch):
                part = zt[start : start + self.max_batch]
                out[start : start + part.shape[0]] = tensor_to_uint8(self._forward(part, psi))
        return out

    # ------------------------------------------------------------ W+ styles
    @property
    def num_ws(self) -> int:
        return self.bundle.viewing_generator.num_ws

    @property
    def w_dim(self) -> int:
        return self.bundle.viewing_generator.w_dim

    @property
    def preview_resolutions(self) -> tuple[int, ...]:
        return tuple(self.bundle.viewing_generator.preview_resolutions)

    def _styles(self, ws: np.ndarray | torch.Tensor) -> torch.Tensor:
        arr = ws.detach().to("cpu").numpy() if isinstance(ws, torch.Tensor) else np.asarray(ws)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3 or arr.shape[1:] != (self.num_ws, self.w_dim) or arr.dtype.kind != "f":
            raise ValueError(f"This model draws from styles of shape ({self.num_ws}, {self.w_dim}) or (N, {self.num_ws}, {self.w_dim}); got {arr.dtype} {arr.shape}.")
        if not np.all(np.isfinite(arr)):
            raise ValueError("The styles contain NaN or infinite values.")
        return torch.from_numpy(np.array(arr, dtype=np.float32))

    @torch.inference_mode()
    def _synthesise(self, ws: torch.Tensor, resolution: int | None) -> torch.Tensor:
        ws = ws.to(self.device)
        if self.inference_path == "folded":  # DCGAN: W = Z, one layer
            return self._net(ws[:, 0])
        if resolution is None or resolution == self.image_size:
            return self._net.synthesis(ws)
        if resolution not in self.preview_resolutions:
            raise ValueError(f"This model has no {resolution} px preview; it offers {self.preview_resolutions or 'none'}.")
        return self._net.synthesis_preview(ws, resolution)

    def render_style_faces(self, zs: np.ndarray, psi: float, edit: "StyleEdit | None" = None,
                           resolution: int | None = None) -> np.ndarray:
        """Style-model faces of z faces (N, nz) with the explorer's W+ edits (`render/style_face.py`),
        drawn in batches: uint8 (N, H, W, 3).

        `resolution`: one of `preview_resolutions` for the cheap preview drawn while a hand
        moves a slider (only the layers up to it are computed), None for the full image.
        """
        from facestudio.render.style_face import StyleEdit, face_styles

        if not self._two_stage:
            raise ValueError("Style edits and previews need a style-based model (StyleGAN2/3, MobileStyleGAN).")
        with self._lock:
            ws = np.stack([face_styles(self._net, z, psi, edit or StyleEdit()) for z in np.atleast_2d(zs)])
        return self.render_ws(ws, resolution)

    def render_style_face(self, z: np.ndarray, psi: float, edit: "StyleEdit | None" = None,
                          resolution: int | None = None) -> np.ndarray:
        """One face of `render_style_faces`: uint8 (H, W, 3)."""
        return self.render_style_faces(np.asarray(z)[None], psi, edit, resolution)[0]

    def preview_resolution(self, min_size: int = 512, target: int = 256) -> int | None:
        """The preview to draw while a slider moves: the largest preview output <= `target` px,
        for models of at least `min_size` px (smaller ones draw the full image fast enough)."""
        if not self._two_stage or self.image_size < min_size:
            return None
        fitting = [r for r in self.preview_resolutions if r <= target]
        return max(fitting) if fitting else None

    def render_ws(self, ws: np.ndarray | torch.Tensor, resolution: int | None = None) -> np.ndarray:
        """Faces from W+ styles (num_ws, w_dim) or (N, num_ws, w_dim): uint8 (N, H, W, 3).

        `resolution` None is the full image; a value from `preview_resolutions` computes
        only the layers that picture needs.
        """
        wt = self._styles(ws)
        parts = []
        with self._lock:
            for part in wt.split(self.max_batch):
                parts.append(tensor_to_uint8(self._synthesise(part, resolution).to("cpu")))
        if not parts:
            size = resolution or self.image_size
            return np.zeros((0, size, size, 3), dtype=np.uint8)
        return np.concatenate(parts)

    # ------------------------------------------------------------ realism
    def _discriminator_input(self, x: np.ndarray | torch.Tensor, psi: float) -> torch.Tensor | None:
        """Images (N, nc, S, S) in [-1, 1] for the discriminator, from uint8 faces or latents."""
        arr = x.detach().to("cpu").numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        if arr.dtype == np.uint8:
            s = self.image_size
            images = uint8_to_tensor(arr)
            if images.shape[2:] != (s, s):
                raise ValueError(f"Realism is measured on {s} x {s} faces of this model; got {images.shape[2]} x {images.shape[3]}.")
            nc = self.config.nc
            if nc == 1:
                return images.mean(1, keepdim=True)
            if nc == 2:
                return torch.cat([images.mean(1, keepdim=True), torch.ones_like(images[:, :1])], 1)
            if nc == 4:
                return torch.cat([images, torch.ones_like(images[:, :1])], 1)
            return images
        zt, _ = self._latents(arr, psi)
        # From latents, judge the float image itself: no 8-bit rounding in between.
        return torch.cat([self._forward(part, psi) for part in zt.split(self.max_batch)]) if zt.shape[0] else None

    def realism_scores(self, x: np.ndarray | torch.Tensor, psi: float = 1.0) -> np.ndarray | None:
        """Per face, sigmoid of the discriminator's logit in [0, 1]; None without a discriminator.

        `x` is faces (uint8 (H, W, 3) or (N, H, W, 3), as `render` returns them) or latents
        ((nz,) or (N, nz) floats, rendered first with truncation `psi`). The score is the
        discriminator's belief that the face is a training image: a rough "realism" meter
        that is only as good as the discriminator (and meaningless on an untrained one).
        """
        if self._disc is None:
            return None
        logits = torch.from_numpy(self._logits(x, psi))
        return torch.sigmoid(logits).numpy()

    def realism_percentile(self, x: np.ndarray | torch.Tensor, psi: float = 1.0) -> float | None:
        """The explorer's realism meter (0..1): how sure the face check is that the face is whole.

        `facestudio.metrics.face_defects`: a small CNN trained to tell whole synthetic faces
        from ones with the defects people point at (a missing eye, a smudge for glasses,
        smears, seams). It replaced the distance to real faces in the quality metric's
        space, which stopped tracking people's labels once models got close to the data,
        and before that the discriminator's rank (README, "Realism meter"). None for
        models of other data (`has_realism_meter`); style models read their discriminator.
        """
        if not self.has_realism_meter:
            return None
        if self.realism_by_discriminator:
            return self._discriminator_rank(x, psi)
        arr = x.detach().to("cpu").numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        faces = arr if arr.dtype == np.uint8 else self.render_batch(arr.reshape(-1, self.nz), psi)
        if faces.size == 0:
            return None
        from facestudio.metrics.face_defects import shared_face_check

        return float(shared_face_check().readings(faces).mean())

    def _discriminator_rank(self, x: np.ndarray | torch.Tensor, psi: float) -> float | None:
        """Share (0..1) of this model's own random faces its discriminator finds less real.

        The raw sigmoid of a trained discriminator reads ~0 for every generated face; ranked
        against faces of fixed seeds it moves as sliders move. Calibrated once per renderer,
        on fewer faces for big models (16 at 256 px and above) to keep the first reading short.
        """
        if self._realism_calibration is None:
            z = torch.randn(self.realism_calibration_n, self.nz, generator=torch.Generator().manual_seed(0))
            self._realism_calibration = np.sort(self._logits(z.numpy(), 1.0))
        logits = self._logits(x, psi)
        if logits.size == 0:
            return None
        ranks = np.searchsorted(self._realism_calibration, logits, side="right") / self._realism_calibration.size
        return float(ranks.mean())

    def _disc_labels(self, n: int) -> tuple[torch.Tensor, ...]:
        labels = self._labels(n) if getattr(self._disc, "c_dim", 0) else None
        return () if labels is None else (labels,)

    def _logits(self, x: np.ndarray | torch.Tensor, psi: float) -> np.ndarray:
        with self._lock, torch.inference_mode():
            images = self._discriminator_input(x, psi)
            if images is None:
                return np.zeros(0, dtype=np.float32)
            return torch.cat([self._disc(part.to(self.device), *self._disc_labels(part.shape[0])) for part in images.split(self.max_batch)]).to(
                "cpu", torch.float32).reshape(-1).numpy()

    def realism(self, x: np.ndarray | torch.Tensor, psi: float = 1.0) -> float | None:
        """Realism in [0, 1] of one face (or the mean of several); None without a discriminator."""
        scores = self.realism_scores(x, psi)
        if scores is None or scores.size == 0:
            return None
        return float(scores.mean())
