"""The look: Fusion with a neutral dark palette, so faces are judged against grey.

Image tools are dark for a reason: a bright frame changes how the colours of the
picture read. The palette is neutral (no tinted greys) and the accent is used for
what can be dragged or is selected.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#4f8fd6"

STYLE_SHEET = """
QMainWindow::separator { width: 4px; height: 4px; background: palette(window); }
QDockWidget { titlebar-close-icon: none; font-weight: 600; }
QDockWidget::title { padding: 6px 8px; background: palette(window); }
QToolBar { spacing: 6px; padding: 4px; border: none; }
QTabWidget::pane { border: 1px solid palette(mid); border-radius: 3px; top: -1px; }
QTabBar::tab { padding: 5px 12px; }
QStatusBar { color: palette(text); }
QLabel#SectionTitle { font-weight: 600; color: palette(text); }
QLabel#Hint { color: palette(placeholder-text); }
QListWidget#Gallery::item { border-radius: 4px; padding: 4px; }
QListWidget#Gallery::item:selected { background: palette(highlight); }
"""


def dark_palette() -> QPalette:
    pal = QPalette()
    window, base, alt, text = QColor(45, 45, 48), QColor(32, 32, 34), QColor(38, 38, 41), QColor(222, 222, 222)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: alt,
        QPalette.ColorRole.ToolTipBase: QColor(30, 30, 30),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor(140, 140, 140),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(56, 56, 60),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 255, 255),
        QPalette.ColorRole.Light: QColor(80, 80, 84),
        QPalette.ColorRole.Midlight: QColor(66, 66, 70),
        QPalette.ColorRole.Mid: QColor(72, 72, 76),
        QPalette.ColorRole.Dark: QColor(24, 24, 26),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
        QPalette.ColorRole.Highlight: QColor(ACCENT),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(ACCENT).lighter(120),
    }
    for role, color in roles.items():
        pal.setColor(role, color)
    disabled = QColor(120, 120, 120)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(80, 80, 80))
    return pal


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)
