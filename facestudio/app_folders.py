"""Where FaceStudio keeps its own files, for the app and the command line alike (Qt-free).

One place for training runs: the app's Training Room and `facestudio train` both make new
run folders in `default_runs_dir()`, so a run started in either shows up where the other
looks. The data folder is the platform's per-user data folder with the name once:

- Linux:   $XDG_DATA_HOME/FaceStudio (default ~/.local/share/FaceStudio)
- macOS:   ~/Library/Application Support/FaceStudio
- Windows: %APPDATA%\\FaceStudio

FACESTUDIO_HOME overrides it (tests, portable installs). Qt's AppDataLocation, used before,
put the name in twice (~/.local/share/FaceStudio/FaceStudio); what is already there is still
found (`legacy_data_home`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "FaceStudio"


def _platform_data_dir() -> Path:
    """The per-user data folder of this platform (not FaceStudio's own)."""
    home = Path.home()
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        return Path(appdata) if appdata else home / "AppData" / "Roaming"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support"
    xdg = os.environ.get("XDG_DATA_HOME", "")
    return Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"


def data_home() -> Path:
    """FaceStudio's data folder (gallery, runs): FACESTUDIO_HOME, else the platform's, named once."""
    env = os.environ.get("FACESTUDIO_HOME")
    if env:
        return Path(env).expanduser()
    return _platform_data_dir() / APP_NAME


def legacy_data_home() -> Path | None:
    """Where earlier versions kept data (Qt's AppDataLocation with organisation and app both
    FaceStudio); None under FACESTUDIO_HOME, which they used as it is."""
    return None if os.environ.get("FACESTUDIO_HOME") else data_home() / APP_NAME


def default_runs_dir() -> Path:
    """Where new training runs go when no folder is given, in the app and on the command line."""
    return data_home() / "runs"


def gallery_dir() -> Path:
    """The favourites folder; an existing gallery at the old doubled-name place is kept in use."""
    new, legacy = data_home() / "gallery", legacy_data_home()
    if legacy is not None and not new.exists() and (legacy / "gallery" / "gallery.json").is_file():
        return legacy / "gallery"
    return new
