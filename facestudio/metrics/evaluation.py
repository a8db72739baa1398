"""Quality figures of a generator: `evaluate(model) -> dict`.

One call gives the Frechet distance (FD, like FID but in the factor encoder's feature
space), improved precision/recall, diversity and the per-factor distribution match,
each computed from `n` generated faces (latents from a fixed seed) against `n` real
synthetic faces of the reference set. Figures are only comparable at equal `n` and
image size, so every result states them. `facestudio eval` prints these; the trainer
calls `evaluate(generator, n=FAST_N)` every few thousand steps to plot progress.

Generated faces are quantised to 8 bits before encoding, as they would be when saved,
so they are judged exactly like the (8-bit) real faces.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch
from torch import nn

from facestudio.metrics.diversity import diversity_ratio
from facestudio.metrics.factor_encoder import LoadedEncoder, shared_encoder
from facestudio.metrics.factor_match import FactorMatch, match_factors
from facestudio.metrics.frechet import feature_stats, frechet_distance
from facestudio.metrics.knn_precision_recall import DEFAULT_K, precision_recall
from facestudio.metrics.reference_stats import Reference, reference_for
from facestudio.models.bundle import ModelBundle
from facestudio.pixels import to_uint8

FULL_N = 5000  # `facestudio eval`: the figures to quote
FAST_N = 1000  # during training: a trend line, about 5x cheaper


def _generator_of(model: ModelBundle | nn.Module) -> nn.Module:
    if isinstance(model, ModelBundle):
        return model.viewing_generator
    if isinstance(model, nn.Module):
        return model
    raise TypeError(f"expected a ModelBundle or a generator module, got {type(model).__name__}")


def sample_latents(nz: int, n: int, seed: int) -> torch.Tensor:
    """The n standard-normal latents of `seed` (CPU generator: same on every machine)."""
    return torch.randn(n, nz, generator=torch.Generator().manual_seed(int(seed)))


@torch.inference_mode()
def generate_uint8(generator: nn.Module, z: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    """Faces for latents `z` as uint8 (N, 3, H, W) on the CPU, with the generator in eval mode.

    The generator's mode is restored afterwards, so the trainer can pass its live network.
    """
    first = next(iter([*generator.parameters(), *generator.buffers()]), None)
    device = first.device if first is not None else torch.device("cpu")
    was_training = generator.training
    generator.eval()
    try:
        out = [to_uint8(generator(z[s : s + batch_size].to(device))).cpu() for s in range(0, z.shape[0], batch_size)]
    finally:
        generator.train(was_training)
    return torch.cat(out)


def encode_generator(
    encoder: LoadedEncoder, generator: nn.Module, n: int, seed: int, batch_size: int = 250
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(features, readings, image size) of n generated faces, streamed batch by batch.

    Only one batch of images exists at a time, so 5,000 faces at 128 px need no more
    memory than 250.
    """
    nz = getattr(getattr(generator, "config", None), "nz", None)
    if not isinstance(nz, int):
        raise TypeError("the generator has no config.nz; pass a FaceStudio Generator or ModelBundle")
    z = sample_latents(nz, n, seed)
    feats, reads, size = [], [], 0
    for start in range(0, n, batch_size):
        images = generate_uint8(generator, z[start : start + batch_size], batch_size)
        size = int(images.shape[-1])
        f, _, r = encoder.encoder.encode(images, batch_size)
        feats.append(f)
        reads.append(r)
    return torch.cat(feats), torch.cat(reads), size


def score_features(
    encoder: LoadedEncoder, reference: Reference, features: torch.Tensor, readings: torch.Tensor, k: int = DEFAULT_K
) -> dict[str, Any]:
    """All figures of generated (features, readings) against a real reference."""
    if features.shape[0] != reference.n:
        raise ValueError(f"compare equal counts: {features.shape[0]} generated vs {reference.n} real faces")
    fd = frechet_distance(feature_stats(features), reference.stats)
    precision, recall = precision_recall(reference.features, features, k)
    diversity = diversity_ratio(features, reference.features)
    matches: list[FactorMatch] = match_factors(encoder.encoder.specs, readings, reference.readings)
    return {
        "fd": fd,
        "precision": precision,
        "recall": recall,
        "diversity": diversity,
        "factor_tv": sum(m.tv for m in matches) / len(matches),
        "factors": {m.name: m.to_dict() for m in matches},
    }


def encoder_staleness(encoder: LoadedEncoder) -> str:
    """A sentence when the encoder was trained on faces of another renderer version, else ""."""
    from facestudio.data.synthetic_faces import RENDERER_VERSION

    trained_on = encoder.card.get("renderer_version")
    if trained_on is None or trained_on == RENDERER_VERSION:
        return ""
    return (f"The factor encoder was trained on synthetic faces of renderer version {trained_on}, but the data set is now "
            f"version {RENDERER_VERSION}; figures may be off. Retrain it with `python -m trainer.recipes.train_factor_encoder`.")


def evaluate(
    model: ModelBundle | nn.Module,
    n: int = FULL_N,
    seed: int = 0,
    *,
    encoder: LoadedEncoder | None = None,
    batch_size: int = 250,
    k: int = DEFAULT_K,
) -> dict[str, Any]:
    """Quality figures of a model (bundle -> its viewing/EMA generator) from n faces.

    Keys: fd (lower is better), precision, recall (0..1, higher is better), diversity
    (~1 is right, -> 0 is mode collapse), factor_tv (0..1, lower is better), factors
    (per-factor table), n, mode ("full" at n=5,000, else "fast": trend only), seed,
    image_size, k, reference (which real faces), encoder (sha256 prefix), seconds.
    """
    if not isinstance(n, int) or n <= k + 1:
        raise ValueError(f"n must be a whole number above {k + 1}, got {n!r}")
    t0 = time.perf_counter()
    enc = encoder if encoder is not None else shared_encoder()
    generator = _generator_of(model)
    features, readings, size = encode_generator(enc, generator, n, seed, batch_size)
    reference = reference_for(enc, size, n)
    result = score_features(enc, reference, features, readings, k)
    warning = encoder_staleness(enc)
    if warning:
        result["warning"] = warning
    result.update(
        n=n,
        mode="full" if n >= FULL_N else "fast",
        seed=seed,
        image_size=size,
        k=k,
        reference=reference.describe(),
        encoder=enc.sha256[:12],
        seconds=time.perf_counter() - t0,
    )
    return result


def quality_hook(n: int = FAST_N, seed: int = 0, encoder: LoadedEncoder | None = None) -> Callable[[Any], dict[str, Any]]:
    """An eval hook for `Trainer.add_eval_hook(every, quality_hook())`.

    The hook takes the trainer's EvalContext (anything with `.generator`) and returns the
    headline figures, compact enough for one metrics.jsonl line per evaluation: fd,
    precision, recall, diversity, factor_tv, per-factor TV, n, mode, seconds. Latents are
    the same at every call, so successive values differ only because the model changed.
    """

    def hook(ctx: Any) -> dict[str, Any]:
        r = evaluate(ctx.generator, n=n, seed=seed, encoder=encoder)
        out = {k: r[k] for k in ("fd", "precision", "recall", "diversity", "factor_tv", "n", "mode", "seconds")}
        out["factors_tv"] = {name: row["tv"] for name, row in r["factors"].items()}
        return out

    return hook
