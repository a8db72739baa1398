"""`facestudio bench latency` runs through the real window, on DCGAN and style models."""

from facestudio.ui.benches import latency_bench
from tests.stylegan_fixtures import fixture


def test_latency_bench_on_a_dcgan(qtbot, tmp_path, monkeypatch, model_file):
    monkeypatch.setenv("FACESTUDIO_HOME", str(tmp_path / "home"))
    figures = latency_bench.measure_in_window(samples=4, drag_seconds=0.3, model=str(model_file))
    assert figures["slider_to_pixmap_ms"]["n"] == 4 and figures["render_ms"]["n"] == 4
    assert figures["model"]["family"] == "dcgan" and "slider_to_preview_ms" not in figures


def test_latency_bench_reports_preview_and_full_for_style_models(qtbot, tmp_path, monkeypatch):
    from facestudio.ui.explorer import explorer_window

    monkeypatch.setenv("FACESTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(explorer_window, "PREVIEW_FROM_SIZE", 32)  # the fixture is 32 px: preview at 16 px
    figures = latency_bench.measure_in_window(samples=3, drag_seconds=0.3, model=str(fixture("sg2_skip_32.pkl")))
    assert figures["model"]["family"] == "stylegan2" and figures["preview_px"] == 16
    for key in ("slider_to_preview_ms", "last_move_to_full_image_ms", "release_to_full_image_ms", "bare_synthesis_ms"):
        assert figures[key]["n"] == 3 and figures[key]["p50"] > 0
    assert figures["full_over_bare_p50"] > 0
