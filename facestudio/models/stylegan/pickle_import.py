"""Open a StyleGAN2-ADA / StyleGAN3 training snapshot (.pkl) as a `ModelBundle`.

Reads the file with the restricted unpickler (nothing in it runs), takes `G_ema` (else
`G`) and `D` when present, rebuilds them as native networks from their published
constructor settings and loads the tensors by name.
"""

from __future__ import annotations

import os
from pathlib import Path

from facestudio.errors import ConfigError, ModelFileError
from facestudio.models.bundle import ModelBundle
from facestudio.models.checkpoint import read_model_file
from facestudio.models.style_config import StyleModelConfig
from facestudio.models.stylegan.build import build_networks, family_of, load_tensors
from facestudio.models.stylegan.network_record import NetworkRecord
from facestudio.models.stylegan.safe_pickle import safe_unpickle

PICKLE_SUFFIXES = (".pkl", ".pickle")


def _int_setting(kwargs: dict, key: str, label: str) -> int:
    value = kwargs.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ModelFileError(f"{label}: the generator's {key} setting is missing or not a whole number.")
    return value


def load_stylegan_pickle(path: str | os.PathLike) -> ModelBundle:
    """The bundle of a StyleGAN network pickle, or a ModelFileError a person can act on."""
    path = Path(path)
    label = str(path)
    data, digest = read_model_file(path)
    snapshot = safe_unpickle(data, label)
    del data
    if not isinstance(snapshot, dict):
        raise ModelFileError(f"{label} is a pickle but not a StyleGAN training snapshot (no networks in it).")
    key = "G_ema" if "G_ema" in snapshot else "G"
    if key not in snapshot:
        raise ModelFileError(f"{label} holds no generator (G_ema or G); it is not a StyleGAN network pickle.")
    g = NetworkRecord.from_persistent(snapshot[key], key, label)
    family = family_of(set(g.tensors))
    if g.class_name != "Generator" or family is None:
        raise ModelFileError(f"{label}: its generator ({g.class_name}) is not a StyleGAN2-ADA or StyleGAN3 network.")
    d = None
    if snapshot.get("D") is not None:
        d = NetworkRecord.from_persistent(snapshot["D"], "D", label)
        if d.class_name != "Discriminator":
            d = None  # an unknown critic: open the generator without the realism meter
    kw = g.init_kwargs
    try:
        config = StyleModelConfig(
            family=family, z_dim=_int_setting(kw, "z_dim", label), c_dim=_int_setting(kw, "c_dim", label),
            img_resolution=_int_setting(kw, "img_resolution", label), img_channels=kw.get("img_channels", 3),
            generator_kwargs=kw, discriminator_kwargs=d.init_kwargs if d is not None else None,
            name=path.stem[:200], info={"source_format": f"{family} network pickle", "source_file": path.name[:200]},
        )
    except ConfigError as exc:
        raise ModelFileError(f"{label}: {exc}") from None
    gen, disc = build_networks(config, label)
    load_tensors(gen, g.tensors, "generator", label)
    if disc is not None:
        load_tensors(disc, d.tensors, "discriminator", label)
    card = {"source": f"{path.name} ({family}, read without running its code)"}
    return ModelBundle(config=config, generator=gen, discriminator=disc, source=path, sha256=digest, card=card)
