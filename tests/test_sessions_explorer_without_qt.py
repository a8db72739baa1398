"""The explorer's logic modules stay importable without Qt (testable plainly, reusable)."""

import subprocess
import sys

QT_FREE_UI = [
    "facestudio.sessions.explorer.explorer_state",
    "facestudio.sessions.explorer.latent_history",
    "facestudio.sessions.explorer.gallery_store",
    "facestudio.sessions.explorer.model_sources",
]


def test_logic_modules_import_no_qt():
    # One interpreter for all of them (each would pay the torch import again).
    code = (f"import importlib, sys\nfor m in {QT_FREE_UI!r}:\n    importlib.import_module(m)\n"
            "print(','.join(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"Qt was pulled in: {out.stdout.strip()}"
