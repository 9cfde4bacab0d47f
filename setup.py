"""Build step that puts the top-level ``migrations/`` and ``probes/`` inside the wheel.

Both folders stay at the top of the repository, where they are edited; the wheel carries copies under
``monitor/_bundled/`` so an installed drift-monitor can migrate a database and find its built-in suites
(``monitor._resources.bundled_dir``). An editable install reads the top-level folders directly.
Everything else about the build is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

_ROOT = Path(__file__).resolve().parent
_BUNDLED = {"migrations": ("env.py", "script.py.mako", "versions/*.py"), "probes": ("*.yaml",)}


class BuildWithBundledData(build_py):
    """``build_py`` plus the copies of ``migrations/`` and ``probes/`` under ``monitor/_bundled``."""

    def run(self) -> None:
        """Build the package, then copy the bundled folders next to it (not for editable installs)."""
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target_root = Path(self.build_lib) / "monitor" / "_bundled"
        for folder, patterns in _BUNDLED.items():
            for pattern in patterns:
                for source in sorted((_ROOT / folder).glob(pattern)):
                    target = target_root / folder / source.relative_to(_ROOT / folder)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)


setup(cmdclass={"build_py": BuildWithBundledData})
