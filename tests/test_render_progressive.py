"""Renderer from W+ styles with previews, and the preview-while-moving policy."""

import threading

import numpy as np
import pytest
import torch
from style_nets import fixture_path, random_sg2_bundle

from facestudio.latent.spaces import seed_latent, to_wplus
from facestudio.models import ModelConfig, load_model, new_bundle
from facestudio.render.grid import tensor_to_uint8
from facestudio.render.progressive import ProgressiveScheduler, RenderLoop, default_preview_resolution
from facestudio.render.renderer import Renderer


@pytest.fixture(scope="module")
def sg2():
    return load_model(fixture_path("sg2_skip_32"))


def test_render_ws_full_and_preview_match_the_network(sg2):
    g = sg2.viewing_generator
    r = Renderer(sg2)
    ws = np.stack([to_wplus(g, seed_latent(g, s)) for s in (1, 2, 3)])
    with torch.inference_mode():
        full = tensor_to_uint8(g.synthesis(torch.from_numpy(ws)))
        small = tensor_to_uint8(g.synthesis_preview(torch.from_numpy(ws), 8))
    assert r.preview_resolutions == (4, 8, 16)
    np.testing.assert_array_equal(r.render_ws(ws), full)
    np.testing.assert_array_equal(r.render_ws(ws[0])[0], full[0])
    np.testing.assert_array_equal(r.render_ws(ws, resolution=8), small)
    assert r.render_ws(ws, resolution=8).shape == (3, 8, 8, 3)
    with pytest.raises(ValueError, match="no 12 px preview"):
        r.render_ws(ws, resolution=12)
    with pytest.raises(ValueError, match="styles of shape"):
        r.render_ws(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="NaN"):
        r.render_ws(np.full_like(ws, np.nan))


def test_render_ws_for_dcgan_equals_render_of_z():
    bundle = new_bundle(ModelConfig(nz=16, ngf=8, ndf=8, image_size=32), seed=1)
    r = Renderer(bundle)
    z = seed_latent(bundle.viewing_generator, 4)
    np.testing.assert_array_equal(r.render_ws(z.values[None, None])[0], r.render(z.values))


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_scheduler_previews_while_moving_and_full_when_resting():
    clock = FakeClock()
    s = ProgressiveScheduler((4, 8, 16, 64, 128, 256, 512), 1024, clock=clock)
    assert s.preview_resolution == 256
    ws = np.zeros((4, 3), np.float32)
    first = s.move(ws)
    second = s.move(ws + 1)
    assert first.resolution == second.resolution == 256
    assert s.mailbox.take() is second and s.mailbox.dropped == 1  # newest wins, nothing queues
    clock.t = 0.1
    assert s.tick() is None  # still within the settle time
    clock.t = 0.151
    full = s.tick()
    assert full is not None and full.resolution is None and np.array_equal(full.ws, ws + 1)
    assert s.tick() is None  # posted once
    jump = s.show(ws)
    assert jump.resolution is None and s.tick() is None


def test_scheduler_without_previews_posts_full_and_never_repeats():
    s = ProgressiveScheduler((), 64, settle_seconds=0.0)
    assert s.preview_resolution is None
    assert s.move(np.zeros((1, 2))).resolution is None and s.tick() is None
    with pytest.raises(ValueError, match="not one of"):
        ProgressiveScheduler((8,), 64, preview_resolution=16)
    assert default_preview_resolution((8, 16, 32), 32) == 8
    assert default_preview_resolution((64,), 128) == 64


def test_render_loop_serves_the_newest_request():
    bundle = random_sg2_bundle(seed=2)
    g = bundle.viewing_generator
    renderer = Renderer(bundle)
    s = ProgressiveScheduler(renderer.preview_resolutions, renderer.image_size, settle_seconds=0.0)
    frames, done = [], threading.Event()

    def deliver(frame):
        frames.append(frame)
        if frame.request.resolution is None:
            done.set()

    ws = to_wplus(g, seed_latent(g, 1))
    loop = RenderLoop(renderer, s.mailbox, deliver)
    try:
        s.move(ws)
        while s.tick() is None:
            pass
        assert done.wait(60)
    finally:
        loop.close()
    assert frames[-1].image.shape == (32, 32, 3) and frames[-1].request.resolution is None
    np.testing.assert_array_equal(frames[-1].image, renderer.render_ws(ws)[0])
    assert all(f.image.shape[0] == 8 for f in frames[:-1])


def test_progressive_bench_runs_on_a_small_model():
    from facestudio.cli.benches.progressive_bench import measure

    figures = measure(random_sg2_bundle(seed=3), samples=2)
    assert figures["preview_resolution"] == 8 and figures["full_ms"]["n"] == 2
    assert figures["rest_to_full_ms"]["n"] == 2 and figures["full_over_bare_p50"] > 0
