"""`facestudio bench latency`: how fast the explorer answers a hand on a slider.

Figures, for the 64 px default architecture (the shipped model, or a fresh one of the
same shape when none is installed), offscreen, on this machine's CPU threads:

- slider_to_pixmap_ms: a latent slider moved once (a real mouse-move event on the
  slider list) -> the new face painted on screen, with the render thread idle before;
  pipeline_overhead_ms is that minus the render itself (what the UI adds).
- drag_to_pixmap_ms: during a continuous drag (pointer events every 8 ms, faster than
  any display), each pointer position -> the first painted face that includes it. This
  is what newest-request-wins buys: stale positions are skipped, never queued.
- render_ms: `Renderer.render` alone, same latent size and thread count.
- startup_s: a fresh process, from launch to the first face painted (measured in a
  subprocess, so imports count); rss_mb: that process's resident memory then.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROBE_FLAG = "--startup-probe"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", type=int, default=200, help="slider moves / renders to time (default 200)")
    p.add_argument("--drag-seconds", type=float, default=3.0, help="length of the continuous drag (default 3 s)")
    p.add_argument("--model", default=None, help="model to open instead of the default")
    p.add_argument("--no-startup", action="store_true", help="skip the startup subprocess")


def _isolate_environment(home: str) -> None:
    """Offscreen, and the bench's own settings and gallery (never the person's)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["FACESTUDIO_HOME"] = home
    os.environ["FACESTUDIO_SETTINGS_ORG"] = "FaceStudioBench"


def _percentiles(values_ms: list[float]) -> dict[str, float]:
    a = np.asarray(values_ms, dtype=np.float64)
    return {
        "p50": round(float(np.percentile(a, 50)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
        "p99": round(float(np.percentile(a, 99)), 3),
        "mean": round(float(a.mean()), 3),
        "n": int(a.size),
    }


def _wait(signal, timeout_ms: int = 5000) -> bool:
    """Run the event loop until `signal` fires (True) or the timeout passes (False)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    fired = []

    def done(*_args) -> None:
        fired.append(True)
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(done)
    return bool(fired)


def _move_event(x: float, y: float, kind=None):
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    kind = kind or QEvent.Type.MouseMove
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
    p = QPointF(x, y)
    return QMouseEvent(kind, p, p, button, buttons, Qt.KeyboardModifier.NoModifier)


def _open_window(model: str | None):
    from facestudio.ui.app_launch import create_application
    from facestudio.ui.explorer.explorer_window import ExplorerWindow

    app = create_application()
    window = ExplorerWindow(model)
    window.resize(1440, 900)
    window.show()
    return app, window


def measure_in_window(samples: int, drag_seconds: float, model: str | None) -> dict:
    from PySide6.QtCore import QEvent, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app, window = _open_window(model)
    try:
        if window.face_view.frame() == 0 or window._shown_token == 0:
            _wait(window.face_view.framePainted, 30000)
        _wait(window.variationsShown, 10000)
        sliders = window.latent_panel.sliders
        viewport = sliders.viewport()
        bar = sliders.bar_rect(0)
        y = bar.center().y()
        xs = [bar.left() + bar.width() * f for f in (0.3, 0.7)]
        has_d = window.bundle.discriminator is not None
        QApplication.sendEvent(viewport, _move_event(xs[0], y, QEvent.Type.MouseButtonPress))
        _wait(window.face_view.framePainted, 2000)

        # --- isolated moves: the render thread is idle before each one
        isolated, overhead = [], []
        for i in range(samples):
            if has_d:
                _wait(window.realismShown, 200)
            painted = window.face_view.painted_frame()
            t0 = time.perf_counter()
            QApplication.sendEvent(viewport, _move_event(xs[(i + 1) % 2] + (i % 7) * 0.5, y))
            while window.face_view.painted_frame() == painted:
                if not _wait(window.face_view.framePainted, 2000):
                    raise RuntimeError("the face did not update after a slider move")
            isolated.append((time.perf_counter() - t0) * 1000)
            overhead.append(isolated[-1] - window._render.worker.last_render_ms)

        # --- continuous drag: pointer events every 8 ms
        sent: list[tuple[float, int]] = []  # (time, token of the render it asked for)
        latencies: list[float] = []
        frames = []
        x_range = (bar.left() + 5, bar.right() - 5)

        def on_painted(_frame: int) -> None:
            now = time.perf_counter()
            frames.append(now)
            shown = window._shown_token
            while sent and sent[0][1] <= shown:
                latencies.append((now - sent.pop(0)[0]) * 1000)

        def pointer() -> None:
            t = time.perf_counter() - start
            x = x_range[0] + (x_range[1] - x_range[0]) * (0.5 + 0.5 * np.sin(t * 3.0))
            QApplication.sendEvent(viewport, _move_event(x, y))
            sent.append((time.perf_counter(), window._token))

        window.face_view.framePainted.connect(on_painted)
        timer = QTimer()
        timer.setInterval(8)
        timer.timeout.connect(pointer)
        start = time.perf_counter()
        timer.start()
        loop = QEventLoop()
        QTimer.singleShot(int(drag_seconds * 1000), loop.quit)
        loop.exec()
        timer.stop()
        _wait(window.face_view.framePainted, 500)
        window.face_view.framePainted.disconnect(on_painted)
        QApplication.sendEvent(viewport, _move_event(xs[0], y, QEvent.Type.MouseButtonRelease))

        progressive = _measure_progressive(window, viewport, xs, y, min(samples, 20))

        # --- Renderer.render alone
        renderer = window.renderer
        nz = window.bundle.config.nz
        rng = np.random.default_rng(0)
        for _ in range(5):
            renderer.render(rng.standard_normal(nz).astype(np.float32), psi=1.0)
        render = []
        for _ in range(samples):
            z = rng.standard_normal(nz).astype(np.float32)
            t0 = time.perf_counter()
            renderer.render(z, psi=1.0)
            render.append((time.perf_counter() - t0) * 1000)
        fps = (len(frames) - 1) / (frames[-1] - frames[0]) if len(frames) > 1 else 0.0
        config = window.bundle.config
        return {
            "slider_to_pixmap_ms": _percentiles(isolated),
            # the same minus the time inside Renderer.render: what the UI pipeline adds
            # (event handling, thread hand-offs, conversion, painting)
            "pipeline_overhead_ms": _percentiles(overhead),
            "drag_to_pixmap_ms": _percentiles(latencies) if latencies else {},
            "drag_frames_per_s": round(fps, 1),
            "render_ms": _percentiles(render),
            **progressive,
            "model": {"name": window.bundle.name, "family": window.bundle.family, "image_size": config.image_size,
                      "nz": config.nz, "ngf": getattr(config, "ngf", None), "trained": not bool(window._model_note)},
        }
    finally:
        window.close()
        window.shutdown()


def _measure_progressive(window, viewport, xs: list[float], y: float, samples: int) -> dict:
    """Big style models: slider move -> preview shown, release -> full image shown, bare synthesis.

    Each sample presses, moves (the preview is drawn while the hand moves) and lets go (the
    full face is drawn at once); the bare synthesis is `Renderer.render_ws` on the same
    renderer with nothing else running. Empty for models drawn whole on every move.
    """
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from facestudio.ui.explorer import explorer_window

    renderer = window.renderer
    preview = renderer.preview_resolution(explorer_window.PREVIEW_FROM_SIZE)
    if preview is None:
        return {}
    full = renderer.image_size

    def wait_for(size: int) -> None:
        while not (window._shown_token == window._token and window.face_view.image().shape[0] == size):
            if not _wait(window.face_view.framePainted, 20000):
                raise RuntimeError(f"no {size} px face was painted")

    to_preview, to_full, release_to_full = [], [], []
    for i in range(samples):
        x = xs[i % 2] + (i % 5)
        QApplication.sendEvent(viewport, _move_event(x, y, QEvent.Type.MouseButtonPress))
        wait_for(preview)
        t0 = time.perf_counter()
        QApplication.sendEvent(viewport, _move_event(xs[(i + 1) % 2] + (i % 5), y))
        wait_for(preview)
        to_preview.append((time.perf_counter() - t0) * 1000)
        t1 = time.perf_counter()
        QApplication.sendEvent(viewport, _move_event(xs[(i + 1) % 2] + (i % 5), y, QEvent.Type.MouseButtonRelease))
        wait_for(full)
        now = time.perf_counter()
        to_full.append((now - t0) * 1000)  # the hand's last move -> the full face (preview, rest, full)
        release_to_full.append((now - t1) * 1000)
        _wait(window.variationsShown, 30000)  # the nearby faces render after a release: let them finish
    from facestudio.latent.spaces import StyleLatent, to_wplus

    g = window.bundle.viewing_generator
    rng = np.random.default_rng(1)
    bare = []
    for i in range(samples + 2):
        ws = to_wplus(g, StyleLatent("z", rng.standard_normal(g.z_dim).astype(np.float32)))
        t0 = time.perf_counter()
        renderer.render_ws(ws)
        if i >= 2:  # two warm-ups
            bare.append((time.perf_counter() - t0) * 1000)
    p_full, p_bare = _percentiles(to_full), _percentiles(bare)
    return {
        "preview_px": preview,
        "slider_to_preview_ms": _percentiles(to_preview),
        "last_move_to_full_image_ms": p_full,
        "release_to_full_image_ms": _percentiles(release_to_full),
        "bare_synthesis_ms": p_bare,
        "full_over_bare_p50": round(p_full["p50"] / p_bare["p50"], 3),
    }


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _startup_probe(model: str | None) -> None:
    """Child process: open the window, print wall-clock time of the first painted face and RSS."""
    app, window = _open_window(model)
    painted = []
    window.face_view.framePainted.connect(lambda _f: painted.append(time.time()) or app.quit())
    if window.face_view.painted_frame() == 0:
        app.exec()
    stamp = painted[0] if painted else time.time()
    print(json.dumps({"first_face_time": stamp, "rss_mb": round(_rss_mb(), 1)}), flush=True)
    window.close()
    window.shutdown()


def measure_startup(model: str | None) -> dict:
    cmd = [sys.executable, "-m", "facestudio.ui.benches.latency_bench", PROBE_FLAG] + ([model] if model else [])
    t0 = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    if out.returncode != 0:
        raise RuntimeError(f"startup probe failed: {out.stderr.strip()[-2000:]}")
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    return {"startup_s": round(probe["first_face_time"] - t0, 3), "rss_mb": probe["rss_mb"]}


def run(args: argparse.Namespace) -> dict:
    import torch

    with tempfile.TemporaryDirectory(prefix="facestudio-bench-") as home:
        _isolate_environment(home)
        figures = measure_in_window(args.samples, args.drag_seconds, args.model)
        if not args.no_startup:
            figures.update(measure_startup(args.model))
    figures["torch_threads"] = torch.get_num_threads()
    figures["cpu_count"] = os.cpu_count()
    # Timings on a shared machine mean little without knowing how busy it was.
    figures["load_average_1min"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return figures


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == PROBE_FLAG:
        _startup_probe(sys.argv[2] if len(sys.argv) > 2 else None)
