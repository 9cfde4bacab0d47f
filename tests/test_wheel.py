"""The installable product: a wheel built from the sources, installed in a fresh venv outside the checkout.

It must migrate a new database and find its built-in suites without the repository beside it (the
top-level ``migrations/`` and ``probes/`` ship inside the wheel). The dependencies come from the test
interpreter's site-packages through a ``.pth`` file (no network), but ``monitor`` itself only from the
wheel: the test checks that the installed package, not the checkout, answered.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SOURCES = ("pyproject.toml", "setup.py", "README.md", "monitor", "migrations", "probes")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a venv holding only the wheel of this checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in _SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    dist = work / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), "."]
    subprocess.run(build, cwd=source, check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("drift_monitor-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q"]
    subprocess.run([*install, str(wheel)], check=True, capture_output=True, timeout=300)
    shutil.rmtree(source)  # nothing of the checkout is left to fall back on
    return venv / "bin"


def _run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["DRIFT_MONITOR_DATABASE_URL"] = f"sqlite:///{cwd / 'new.db'}"  # a new file: nothing migrated it yet
    return subprocess.run(
        [str(bin_dir / "drift-monitor"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_installed_wheel_migrates_and_finds_its_suites(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import monitor, monitor.db as d; print(monitor.__file__, d.MIGRATIONS_DIR)"],
        cwd=tmp_path,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(str(installed.parent) in line for line in where), where  # the wheel answers, not the checkout

    assert not (tmp_path / "new.db").exists()
    upgrade = _run(installed, "db", "upgrade", cwd=tmp_path)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "is at schema 0" in upgrade.stdout, upgrade.stdout
    current = _run(installed, "db", "current", cwd=tmp_path)
    assert current.returncode == 0 and "up to date" in current.stdout, current.stdout + current.stderr

    listed = _run(installed, "probes", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = {suite["name"] for suite in json.loads(listed.stdout)}
    assert {"identity", "reasoning", "format"} <= names

    shown = _run(installed, "probes", "show", "identity", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "identity" in shown.stdout and "direct-who-en" in shown.stdout
