"""The layering written in pyproject.toml ([tool.importlinter]) holds: `lint-imports` passes.

Contracts: the layers (command line > views > rooms' state > training engine > render > latent >
metrics > models | data), Qt only in facestudio.ui, and the engine without the views.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    command = str(exe) if exe.exists() else shutil.which("lint-imports")
    assert command, "lint-imports is missing: pip install -e '.[test]'"
    return subprocess.run([command, "--no-cache", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_import_contracts_hold():
    out = lint_imports()
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "3 kept, 0 broken" in out.stdout


def test_the_qt_contract_covers_every_module_outside_the_views():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "qt-only-in-ui")
    present = {f"facestudio.{p.stem}" for p in (ROOT / "facestudio").glob("*.py") if p.stem != "__init__"}
    present |= {f"facestudio.{p.parent.name}" for p in (ROOT / "facestudio").glob("*/__init__.py")}
    assert present - {"facestudio.ui", "facestudio.cli"} <= set(contract["source_modules"]) and "trainer" in contract["source_modules"]
    # the command line: every subcommand but the two that start Qt on purpose
    cli = {f"facestudio.cli.{p.stem}" for p in (ROOT / "facestudio" / "cli").glob("*.py") if p.stem != "__init__"}
    cli |= {f"facestudio.cli.{p.parent.name}" for p in (ROOT / "facestudio" / "cli").glob("*/__init__.py")}
    assert cli - {"facestudio.cli.open_app", "facestudio.cli.bench"} <= set(contract["source_modules"])


def test_a_contract_an_existing_import_breaks_makes_lint_imports_fail(tmp_path):
    config = tmp_path / "contracts.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    facestudio\n    trainer\n\n"
        "[importlinter:contract:engine-without-models]\nname = engine without models\ntype = forbidden\n"
        "source_modules =\n    trainer\nforbidden_modules =\n    facestudio.models\n"
    )
    out = lint_imports(str(config))
    assert out.returncode != 0 and "BROKEN" in out.stdout
