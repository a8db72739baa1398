"""Preferences and window state kept between launches (QSettings).

The organisation name comes from FACESTUDIO_SETTINGS_ORG when set, and the file lives in
FACESTUDIO_HOME when that is set, so tests and scripted runs never read or change the
person's own settings. Values read back are checked: a settings file is edited by hand
sometimes, and a bad value must fall back to the default, not crash the app.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from facestudio.app_folders import APP_NAME


def settings_org() -> str:
    return os.environ.get("FACESTUDIO_SETTINGS_ORG") or "FaceStudio"


class Preferences:
    """Typed access to the settings the app remembers."""

    def __init__(self) -> None:
        home = os.environ.get("FACESTUDIO_HOME")
        if home:
            path = Path(home).expanduser() / f"{settings_org()}.ini"
            self._s = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._s = QSettings(settings_org(), APP_NAME)

    # ---------------------------------------------------------------- generic typed reads
    def _bool(self, key: str, default: bool) -> bool:
        value = self._s.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def _float(self, key: str, default: float, lo: float, hi: float) -> float:
        try:
            value = float(self._s.value(key, default))
        except (TypeError, ValueError):
            return default
        return value if lo <= value <= hi else default

    def _int(self, key: str, default: int, lo: int, hi: int) -> int:
        try:
            value = int(self._s.value(key, default))
        except (TypeError, ValueError):
            return default
        return value if lo <= value <= hi else default

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._s.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    # ---------------------------------------------------------------- what is remembered
    @property
    def smooth_upscale(self) -> bool:
        # Smooth by default: a 64 px face blown up to 600 px reads as a face, not as tiles.
        return self._bool("view/smooth", True)

    @smooth_upscale.setter
    def smooth_upscale(self, on: bool) -> None:
        self._s.setValue("view/smooth", bool(on))

    @property
    def variation_spread(self) -> float:
        return self._float("view/variation_spread", 0.5, 0.05, 2.0)

    @variation_spread.setter
    def variation_spread(self, value: float) -> None:
        self._s.setValue("view/variation_spread", float(value))

    @property
    def export_size(self) -> int:
        return self._int("faces/export_size", 512, 16, 4096)

    @export_size.setter
    def export_size(self, value: int) -> None:
        self._s.setValue("faces/export_size", int(value))

    @property
    def last_dir(self) -> str:
        value = self._s.value("files/last_dir", "")
        return value if isinstance(value, str) and value and Path(value).is_dir() else str(Path.home())

    @last_dir.setter
    def last_dir(self, folder: str) -> None:
        self._s.setValue("files/last_dir", str(folder))

    @property
    def recent_models(self) -> list[str]:
        value = self._s.value("files/recent_models", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    @recent_models.setter
    def recent_models(self, paths: list[str]) -> None:
        self._s.setValue("files/recent_models", list(paths))

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, data: QByteArray) -> None:
        self._s.setValue("window/geometry", data)

    @property
    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    @window_state.setter
    def window_state(self, data: QByteArray) -> None:
        self._s.setValue("window/state", data)

    @property
    def morph_geometry(self) -> QByteArray | None:
        return self._bytes("morph/geometry")

    @morph_geometry.setter
    def morph_geometry(self, data: QByteArray) -> None:
        self._s.setValue("morph/geometry", data)

    def sync(self) -> None:
        self._s.sync()

    def clear(self) -> None:
        self._s.clear()
        self._s.sync()
