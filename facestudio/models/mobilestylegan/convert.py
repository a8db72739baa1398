"""Model id `mobilestylegan-ffhq`: convert random-face's IR once, then open the cached file.

The first start reads the IR (about 0.2 s), checks it, builds the native network,
estimates the mean style from 10,000 seeded z and writes a FaceStudio safetensors
file into the user cache (atomically). Later starts only read and validate that file.
The cache records a fingerprint of the source (package version, each file's size and
modification time, the converter version); when it no longer matches, or the cached
file fails validation, the model is converted again. The weights never enter the
repository: they stay in the installed package and the user's cache.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from facestudio.errors import ConfigError, FaceStudioError, ModelFileError
from facestudio.models.bundle import ModelBundle
from facestudio.models.mobilestylegan.generator import MobileStyleGAN
from facestudio.models.mobilestylegan.ir_reader import read_ir
from facestudio.models.mobilestylegan.ir_weights import mapping_weights, synthesis_weights
from facestudio.models.mobilestylegan.preview_fit import fit_preview_heads
from facestudio.models.mobilestylegan.source import IRSource, require_ir_source
from facestudio.models.style_config import StyleModelConfig

log = logging.getLogger(__name__)

MODEL_ID = "mobilestylegan-ffhq"
CONVERTER_VERSION = 2
W_AVG_SAMPLES = 10_000
FINGERPRINT_KEY = "mobilestylegan_source"

CARD = {
    "title": "MobileStyleGAN, FFHQ, 1024 px",
    "provenance": (
        "MobileStyleGAN (Belousov, arXiv 2104.04767), a light network distilled from NVIDIA's StyleGAN2 "
        "trained on FFHQ (Flickr-Faces-HQ), read from the OpenVINO files of the random-face package "
        "and run natively in PyTorch by FaceStudio."
    ),
    "licence": (
        "MobileStyleGAN weights: Apache-2.0 (the random-face package's licence). The FFHQ images it learned "
        "from are under CC BY-NC-SA 4.0 (non-commercial), so check that licence before any commercial use of "
        "the faces it generates."
    ),
    "mean_w": f"Not in the source files; estimated by FaceStudio from {W_AVG_SAMPLES:,} seeded samples.",
}


def is_model_id(path: object) -> bool:
    """True for "mobilestylegan-ffhq" (str or Path, as command-line options give it),
    unless a file of that name exists, which then wins."""
    if not isinstance(path, (str, os.PathLike)):
        return False
    text = os.fspath(path)
    return isinstance(text, str) and text.strip().lower() == MODEL_ID and not Path(text).exists()


def cache_path() -> Path:
    from facestudio.cache_dir import cache_dir

    return cache_dir() / "models" / f"{MODEL_ID}.safetensors"


def source_fingerprint(source: IRSource) -> str:
    """Cheap identity of the installed source (no hashing of 40 MB at every start)."""
    files = []
    for path in source.files:
        st = path.stat()
        files.append([path.name, st.st_size, st.st_mtime_ns])
    return json.dumps({"converter": CONVERTER_VERSION, "version": source.version, "files": files}, sort_keys=True)


def _config(channels: list[int], mapping_layers: int, previews: tuple[int, ...], source: IRSource) -> StyleModelConfig:
    return StyleModelConfig(
        family="mobilestylegan", z_dim=512, img_resolution=4 * 2 ** len(channels),  # 4 px, one doubling per block, one for the image
        generator_kwargs={"channels": channels, "mapping_layers": mapping_layers, "preview_resolutions": list(previews)},
        name="MobileStyleGAN FFHQ 1024",
        info={"source": f"random-face {source.version}", "model_id": MODEL_ID},
    )


def build_generator(config: StyleModelConfig) -> MobileStyleGAN:
    """An empty network shaped by a config (weights come from the IR or the cache)."""
    kwargs = config.generator_kwargs
    channels, layers, previews = kwargs.get("channels"), kwargs.get("mapping_layers"), kwargs.get("preview_resolutions", [])
    if (not isinstance(channels, list) or not 2 <= len(channels) <= 10
            or not isinstance(previews, list) or not all(isinstance(r, int) and 16 <= r < config.img_resolution for r in previews)
            or not all(isinstance(c, int) and 4 <= c <= 1024 and c % 4 == 0 for c in channels)
            or not isinstance(layers, int) or not 1 <= layers <= 16 or 4 * 2 ** len(channels) != config.img_resolution):
        raise ConfigError("The MobileStyleGAN settings in this file are out of range; the file is damaged.")
    try:
        return MobileStyleGAN(channels, z_dim=config.z_dim, mapping_layers=layers, preview_resolutions=tuple(previews))
    except ValueError as exc:
        raise ConfigError(f"The MobileStyleGAN settings in this file do not fit together ({exc}); the file is damaged.") from None


def native_from_ir(source: IRSource) -> MobileStyleGAN:
    """Read and check the IR pair and load it into the native network (no w_avg, no previews)."""
    mapping = mapping_weights(read_ir(source.mapping_xml))
    synthesis, channels = synthesis_weights(read_ir(source.synthesis_xml))
    net = build_generator(_config(channels, len(mapping) // 2, (), source))
    state = {f"mapping_net.{k.split('.', 1)[1]}": v for k, v in mapping.items()}
    state.update({f"synthesis_net.{k.split('.', 1)[1]}": v for k, v in synthesis.items()})
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items() if k != "mean_w"}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if expected != got:
        wrong = sorted(set(expected.items()) ^ set(got.items()))[:3]
        raise ModelFileError(f"random-face's IR does not fit the MobileStyleGAN layout FaceStudio knows (first differences: {wrong}).")
    net.load_state_dict(state, strict=False)
    return net.eval().requires_grad_(False)


def convert_ir(source: IRSource) -> tuple[MobileStyleGAN, StyleModelConfig]:
    """The native network from the IR, with w_avg estimated and preview heads fitted."""
    net = native_from_ir(source)
    net.estimate_w_avg(W_AVG_SAMPLES)
    fit_preview_heads(net)
    channels, layers = net.synthesis_net.channels, len(net.mapping_net.fc)
    return net, _config(channels, layers, net.preview_resolutions, source)


def _cached_fingerprint(bundle: ModelBundle) -> str | None:
    config = bundle.config
    return config.info.get(FINGERPRINT_KEY) if isinstance(config, StyleModelConfig) and config.family == "mobilestylegan" else None


def load_mobilestylegan(cache: Path | None = None) -> ModelBundle:
    """The `mobilestylegan-ffhq` model: from the cache when it matches the installed source,
    else converted from random-face's IR (and cached). ModelFileError without random-face.

    The cache is a FaceStudio model file (format 2, `save_model`), opened and checked by
    `load_model` like any other; the source fingerprint rides in the config's info.
    """
    from facestudio.models.checkpoint import load_safetensors_model, save_model

    source = require_ir_source()
    fingerprint = source_fingerprint(source)
    path = cache if cache is not None else cache_path()
    if path.is_file():
        try:
            bundle = load_safetensors_model(path)[0]
            if _cached_fingerprint(bundle) == fingerprint:
                return bundle
            log.info("re-converting MobileStyleGAN: %s was made from another random-face installation", path)
        except FaceStudioError as exc:
            log.info("re-converting MobileStyleGAN: %s", exc)
    net, config = convert_ir(source)
    config = config.replace(info={**config.info, FINGERPRINT_KEY: fingerprint})
    bundle = ModelBundle(config=config, generator=net, card=dict(CARD))
    try:
        save_model(bundle, path)
    except FaceStudioError as exc:  # a read-only cache still lets the model open
        log.warning("could not cache the converted MobileStyleGAN: %s", exc)
        return bundle
    return load_safetensors_model(path)[0]
