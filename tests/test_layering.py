"""The Qt-free packages stay Qt-free (DESIGN.md layering)."""

import subprocess
import sys

import pytest

QT_FREE = [
    "facestudio.models",
    "facestudio.data",
    "facestudio.latent",
    "facestudio.render",
    "facestudio.metrics",
    "trainer",
    "facestudio.cli",
]


@pytest.mark.parametrize("module", QT_FREE)
def test_module_imports_no_qt(module):
    code = (
        f"import importlib, sys, pkgutil; m = importlib.import_module({module!r});\n"
        "for info in pkgutil.walk_packages(getattr(m, '__path__', []), m.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"{module} pulled in Qt: {out.stdout.strip()}"
