"""The wheel holds everything the installed app needs, and the command starts.

The wheel is built from a copy of the source tree: building in place would leave a
`build/` folder whose stale files could slip into later wheels, and would race with
other builds of the same tree.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = ("facestudio", "trainer", "resources")
# What pyproject's package-data ships from resources/ (checked against what is there now).
RESOURCE_PATTERNS = ("*.safetensors", "*.json", "*.png", "*.svg", "*.md")


def _version(dist: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in metadata.version(dist).split(".")[:2] if p.isdigit())
    except metadata.PackageNotFoundError:
        return ()


def _offline_build_possible() -> bool:
    """setuptools >= 70.1 builds wheels by itself; older ones need the `wheel` package."""
    setuptools = _version("setuptools")
    return setuptools >= (68,) and (setuptools >= (70, 1) or bool(_version("wheel")))


def _source_copy(dest: Path) -> Path:
    src = dest / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "MANIFEST.in"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".*")
    for name in PACKAGE_DIRS:
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    return src


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = _source_copy(work)
    out = work / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(out), "-q", "--disable-pip-version-check"]
    if _offline_build_possible():
        cmd += ["--no-build-isolation", "--no-index"]  # no network needed
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = list(out.glob("facestudio-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _expected_files() -> set[str]:
    """Every module and shipped resource of the source tree, as wheel paths."""
    expected = set()
    for package in ("facestudio", "trainer"):
        for path in (ROOT / package).rglob("*.py"):
            if "__pycache__" not in path.parts:
                expected.add(path.relative_to(ROOT).as_posix())
    resources = ROOT / "resources"
    expected.add("facestudio/resources/__init__.py")
    for pattern in RESOURCE_PATTERNS:
        for path in resources.glob(pattern):
            expected.add(f"facestudio/resources/{path.name}")
    return expected


@pytest.mark.slow
def test_wheel_holds_every_module_and_resource(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _expected_files()
    assert {"facestudio/resources/__init__.py", "trainer/__init__.py", "facestudio/models/checkpoint.py"} <= expected
    missing = sorted(expected - names)
    # A module missing here usually means a new sub-package not listed in pyproject's `packages`.
    assert not missing, f"not in the wheel: {missing}"
    assert not [n for n in names if n.startswith("resources/")], "resources/ must install as facestudio.resources"
    assert not [n for n in names if n.startswith("tests/")], "tests do not belong in the wheel"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "facestudio = facestudio.cli:main" in text


@pytest.mark.slow
def test_unpacked_wheel_finds_its_resources_and_runs(wheel, tmp_path):
    """The wheel on its own (not the editable tree) imports, finds resources and answers --help."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = dict(os.environ, PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
    code = (
        "import facestudio, importlib.resources as r, sys\n"
        "from facestudio.models import default_model_path\n"
        "print(facestudio.__file__)\n"
        "print(sorted(p.name for p in r.files('facestudio.resources').iterdir() if not p.name.startswith('__')))\n"
        "print(default_model_path())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    module_file, listed, default_path = result.stdout.splitlines()
    assert module_file.startswith(str(site))
    shipped = sorted({p.name for pattern in RESOURCE_PATTERNS for p in (ROOT / "resources").glob(pattern)})
    assert set(shipped) <= set(ast.literal_eval(listed))
    assert default_path.startswith(str(site / "facestudio" / "resources"))

    result = subprocess.run([sys.executable, "-m", "facestudio", "--help"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: facestudio")
    assert "import" in result.stdout


def test_python_dash_m_facestudio_help():
    result = subprocess.run([sys.executable, "-m", "facestudio", "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: facestudio")
    for command in ("import", "bench"):
        assert command in result.stdout
