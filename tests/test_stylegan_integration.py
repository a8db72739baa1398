"""StyleGAN pickles through the app: import command, sample command, renderer, explorer."""

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from facestudio.cli import main
from facestudio.models import load_model
from facestudio.render.renderer import Renderer
from facestudio.sessions.explorer.model_sources import path_kind
from tests.stylegan_fixtures import fixture

warnings.filterwarnings("ignore", message="TypedStorage is deprecated")


def test_import_command_writes_a_file_that_opens_without_the_pickle(tmp_path, capsys):
    out = tmp_path / "sg3.safetensors"
    assert main(["import", str(fixture("sg3_r_32.pkl")), "-o", str(out), "--name", "radial"]) == 0
    assert "stylegan3, 32 px" in capsys.readouterr().out
    bundle = load_model(out)
    assert bundle.name == "radial" and bundle.family == "stylegan3" and bundle.source == out
    e = np.load(fixture("sg3_r_32_expected.npz"))
    with torch.inference_mode():
        img = bundle.generator.synthesis(torch.from_numpy(e["ws_mixed"]))
    assert np.abs(img.numpy() - e["img_mixed"]).max() < 1e-4


def test_import_refuses_overwriting_and_netd(tmp_path, capsys):
    src = fixture("sg2_skip_32.pkl")
    assert main(["import", str(src), "-o", str(tmp_path / "x.pth")]) != 0
    assert main(["import", str(src), "--netd", str(src), "-o", str(tmp_path / "x.safetensors")]) != 0
    assert "--netd is for DCGAN" in capsys.readouterr().err


def test_sample_command_draws_from_the_pickle(tmp_path):
    out = tmp_path / "grid.png"
    assert main(["sample", "--model", str(fixture("sg2_skip_32.pkl")), "-n", "4", "--truncation", "0.5", "-o", str(out)]) == 0
    grid = np.asarray(Image.open(out))
    assert grid.shape[0] > 32 and grid.std() > 5


def test_renderer_truncates_in_w():
    bundle = load_model(fixture("sg2_skip_32.pkl"))
    renderer = Renderer(bundle)
    assert renderer.inference_path == "two-stage" and renderer.has_discriminator
    z = np.random.default_rng(0).standard_normal((3, 64)).astype(np.float32)
    average = renderer.render_batch(z, psi=0.0)
    assert (average == average[0]).all()  # psi 0: every face is the w_avg face
    with torch.inference_mode():
        ws = bundle.generator.mapping.w_avg.expand(1, bundle.generator.num_ws, -1)
        expected = bundle.generator.synthesis(ws)
    assert np.abs(renderer.render_float(z[:1], psi=0.0).numpy() - expected.numpy()).max() < 1e-5
    assert not np.array_equal(renderer.render_batch(z, psi=1.0)[0], renderer.render_batch(z, psi=1.0)[1])
    score = renderer.realism_percentile(z[:1])
    assert score is not None and 0.0 <= score <= 1.0


def test_explorer_opens_a_pickle(qtbot, tmp_path):
    from facestudio.ui.explorer.explorer_window import ExplorerWindow
    from facestudio.ui.explorer.model_opening import MODEL_FILTER

    assert "*.pkl" in MODEL_FILTER and path_kind(tmp_path / "ffhq.pkl") != "unknown"
    w = ExplorerWindow(None, gallery_folder=tmp_path / "gallery")
    qtbot.addWidget(w)
    w.show()
    try:
        assert w.open_model(fixture("sg3_t_32.pkl"))
        qtbot.waitUntil(lambda: w._shown_token == w._token and w.face_view.image() is not None, timeout=60000)
        assert w.bundle.family == "stylegan3" and w.session.state.base.shape == (64,)
        assert w.face_view.image().shape == (32, 32, 3)
        assert not w.directions_panel.is_busy()
        assert "stylegan3" in w.model_label.text()
    finally:
        w.close()
    assert w._render.thread.isFinished() and w._directions.thread.isFinished()


def test_bench_style_reports_figures_for_a_model(capsys):
    import json

    assert main(["bench", "style", "--model", str(fixture("sg2_skip_32.pkl")), "--repeats", "1", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    entry = figures["model"]
    assert figures["threads"] == 2 and figures["matmul_peak_gflops"] > 0
    assert entry["resolution"] == 32 and entry["gflop_per_image"] > 0
    for key in ("batch_1", "batch_4", "reference_batch_1"):
        assert entry[key]["s_per_image_min"] > 0 and entry[key]["cpu_s_per_image"] >= 0
    assert entry["speedup_vs_reference"] > 0
