"""Generator/discriminator networks, their config, and safe model file I/O."""

from facestudio.models.bundle import DirectionSet, ModelBundle
from facestudio.models.checkpoint import default_model_path, load_model, save_model
from facestudio.models.config import ModelConfig
from facestudio.models.networks import Discriminator, Generator, build_discriminator, build_generator
from facestudio.models.style_config import StyleModelConfig
from facestudio.models.two_stage import TwoStage, TwoStageGenerator, truncate_ws

__all__ = [
    "DirectionSet", "ModelBundle", "ModelConfig", "Generator", "Discriminator",
    "build_generator", "build_discriminator", "load_model", "save_model", "default_model_path",
    "StyleModelConfig", "TwoStage", "TwoStageGenerator", "truncate_ws",
]


def new_bundle(config: ModelConfig, *, seed: int = 0, with_discriminator: bool = True) -> ModelBundle:
    """A freshly initialised (untrained) model, e.g. before any training has happened."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        g = build_generator(config)
        d = build_discriminator(config) if with_discriminator else None
    return ModelBundle(config=config, generator=g, discriminator=d)
