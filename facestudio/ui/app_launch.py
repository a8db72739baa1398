"""Start the app (for `facestudio [open PATH]`, facestudio/cli/open_app.py); a screenshot mode grabs the window and exits.

The screenshot mode waits until the window shows real content (first face painted, the
nearby faces and the directions ready) so README pictures and smoke tests see the app as
a person would, then writes the PNG atomically and quits.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

SCREENSHOT_TIMEOUT_S = 60.0


def create_application(argv: list[str] | None = None) -> "QApplication":  # noqa: F821 (Qt imported lazily)
    """The QApplication with FaceStudio's names and look (reused when one exists)."""
    from PySide6.QtWidgets import QApplication

    from facestudio.ui.widgets.app_theme import apply_theme
    from facestudio.ui.preferences import APP_NAME, settings_org

    app = QApplication.instance()
    if app is None:
        QApplication.setOrganizationName(settings_org())
        QApplication.setApplicationName(APP_NAME)
        QApplication.setApplicationDisplayName(APP_NAME)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    if app.property("facestudio_gc") is None:
        from facestudio.ui.gui_thread_gc import GuiThreadGarbageCollector

        app.setProperty("facestudio_gc", True)
        GuiThreadGarbageCollector(app)  # owned by the app: garbage is only ever collected on this thread
    apply_theme(app)
    return app


class ScreenshotTaker:
    """Grabs `window` into `out` once it is fully drawn, then quits the app."""

    def __init__(self, window: "ExplorerWindow", out: Path, timeout_s: float = SCREENSHOT_TIMEOUT_S,  # noqa: F821
                 finished: Callable[[], None] | None = None) -> None:
        """`finished()` is called when done (default: quit the application)."""
        from PySide6.QtCore import QTimer

        self.window, self.out = window, Path(out)
        self.ok = False
        self.done = False
        self._finished = finished
        self._face = self._variations = False
        self._directions = not window.directions_panel.is_busy()
        window.face_view.framePainted.connect(self._on_face)
        window.variationsShown.connect(self._on_variations)
        window.directionsReady.connect(self._on_directions)
        self._timeout = QTimer(window)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(self._give_up)
        self._timeout.start(int(timeout_s * 1000))

    def _on_face(self, _frame: int) -> None:
        self._face = True
        self._maybe_grab()

    def _on_variations(self) -> None:
        self._variations = True
        self._maybe_grab()

    def _on_directions(self) -> None:
        self._directions = True
        self._maybe_grab()

    def _maybe_grab(self) -> None:
        if self._face and self._variations and self._directions and not self.ok:
            from PySide6.QtCore import QTimer

            # one more turn of the event loop so the last updates are painted
            QTimer.singleShot(150, self._grab)

    def _grab(self) -> None:
        from facestudio.atomic_file import atomic_write_bytes
        from facestudio.ui.widgets.qt_images import png_bytes

        if self.ok:
            return
        self._timeout.stop()
        atomic_write_bytes(self.out, png_bytes(self.window.grab()))
        self.ok = True
        print(f"screenshot written to {self.out}")
        self._finish()

    def _give_up(self) -> None:
        if self._face:
            self._grab()
            return
        print("facestudio: no face was rendered in time; no screenshot written", file=sys.stderr)
        self._finish()

    def _finish(self) -> None:
        from PySide6.QtWidgets import QApplication

        self.done = True
        if self._finished is not None:
            self._finished()
        else:
            QApplication.instance().quit()


def launch(path: str | None = None, screenshot: str | None = None) -> int:
    """Open the explorer on `path` (default model when None) and run the event loop -> exit code."""
    from facestudio.ui.platform_check import check_platform

    check_platform()  # before Qt loads: a missing display or library is a sentence, not a core dump
    app = create_application()
    from facestudio.ui.explorer.explorer_window import ExplorerWindow

    window = ExplorerWindow(path)
    taker = ScreenshotTaker(window, Path(screenshot)) if screenshot else None
    window.show()
    app.aboutToQuit.connect(window.shutdown)
    try:
        code = app.exec()
    finally:
        app.aboutToQuit.disconnect(window.shutdown)
        window.close()
        window.shutdown()
    if taker is not None and not taker.ok:
        return 1
    return int(code)
