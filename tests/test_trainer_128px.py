"""128 px end to end: train, open, render, export and measure a 128 px model."""

import numpy as np

from facestudio.data import load_dataset
from facestudio.latent.sampling import latents_for_seeds
from facestudio.metrics.evaluation import evaluate
from facestudio.models import load_model
from facestudio.render.export import save_png
from facestudio.render.renderer import Renderer
from trainer.config import TrainConfig
from trainer.trainer import Trainer


def test_a_128px_run_trains_opens_renders_exports_and_is_measured(tmp_path):
    data = load_dataset("synthetic", 128, 16)
    config = TrainConfig(image_size=128, nz=8, ngf=4, ndf=4, batch_size=8, sample_count=4, threads=1, max_steps=2,
                         sample_every=1, checkpoint_every=0)
    result = Trainer(config, data, runs_dir=tmp_path).run()
    assert (result.run_dir / "samples" / "step_0000000.png").is_file()
    bundle = load_model(result.run_dir)
    assert bundle.config.image_size == 128
    faces = Renderer(bundle).render_batch(latents_for_seeds(range(2), 8))
    assert faces.shape == (2, 128, 128, 3) and faces.dtype == np.uint8
    assert save_png(tmp_path / "face.png", faces[0]).stat().st_size > 0
    figures = evaluate(bundle, n=12)
    # Judged through the encoder's 64 px eyes, against real faces drawn at 128 px.
    assert figures["image_size"] == 128 and "size=128" in figures["reference"]["faces"] and figures["fd"] > 0
