"""Before Qt starts: is there a display, and are the system libraries Qt's window needs there?

Without them Qt prints a paragraph and aborts the process with a core dump ("could not
load the Qt platform plugin xcb"). This check runs first, imports no Qt, and turns each
case into one sentence that says what to install or set. The library list is what `ldd`
shows the PySide6 wheel's xcb plugin, XcbQpa, Gui and DBus libraries need beyond a
minimal Debian bookworm (python3 and python3-venv only); the optional GTK theme and PDF
image plugins are left out (Qt skips them when their libraries are absent).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

from facestudio.errors import FaceStudioError

# soname -> Debian/Ubuntu package providing it
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}
APT_LINE = "sudo apt-get install -y " + " ".join(dict.fromkeys(XCB_LIBRARIES.values()))
# Platforms that need no display server (Qt's QT_QPA_PLATFORM names).
HEADLESS_PLATFORMS = {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}


class PlatformProblem(FaceStudioError):
    """The window cannot open here (no display, missing system libraries)."""


def missing_libraries(names: dict[str, str] = XCB_LIBRARIES) -> list[str]:
    """The sonames in `names` the dynamic loader cannot open."""
    missing = []
    for soname in names:
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(soname)
    return missing


def x_server_reachable(display: str) -> bool:
    """Whether an X server answers at `display` (xcb_connect, as Qt's xcb plugin does)."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # reported as a missing library instead
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return connection is not None and xcb.xcb_connection_has_error(connection) == 0
    finally:
        if connection is not None:
            xcb.xcb_disconnect(connection)


def platform_problem(env: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """None when Qt can open a window here, else the one-line reason and fix (Linux only)."""
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip().lower()
    if chosen in HEADLESS_PLATFORMS:
        return None
    if chosen == "wayland" or (not chosen and env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY")):
        return None  # Qt's Wayland plugin needs no xcb libraries; it reports a missing compositor itself
    display = env.get("DISPLAY", "")
    if not display:
        return ("no display: DISPLAY (X11) and WAYLAND_DISPLAY are unset; run FaceStudio in a desktop session, "
                "or under a virtual X server (xvfb-run facestudio)")
    missing = missing_libraries()
    if missing:
        packages = " ".join(dict.fromkeys(XCB_LIBRARIES[m] for m in missing))
        named = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        return (f"Qt's window system plugin (xcb) needs system libraries that are missing ({named}); "
                f"on Debian/Ubuntu install them with: sudo apt-get install -y {packages}")
    if not x_server_reachable(display):
        return (f"cannot connect to the X display {display!r}: is the X server running and may this user use it "
                "(xhost, XAUTHORITY)? Or unset DISPLAY and run under xvfb-run")
    return None


def check_platform() -> None:
    """Raise PlatformProblem (before QApplication exists) when the window cannot open."""
    problem = platform_problem()
    if problem is not None:
        raise PlatformProblem(problem)
