"""The CLI starts fast: heavy libraries are imported by the commands that use them, not by the CLI itself.

Each check runs in a fresh interpreter (this test process has long imported everything), and names
what was imported, so a regression says which import to move.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "sklearn", "scipy", "pandas", "streamlit", "sentence_transformers", "lingua")


def imported_after(statement: str) -> list[str]:
    """The heavy top-level packages a fresh interpreter has in sys.modules after ``statement``."""
    probe = f"import json, sys\n{statement}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    return sorted(loaded.intersection(HEAVY))


def test_importing_the_cli_imports_no_heavy_library() -> None:
    assert imported_after("import monitor.cli") == []


def test_building_every_command_imports_no_heavy_library() -> None:
    # --help builds the whole click tree (every option's type and default) and renders it.
    statement = (
        "from typer.testing import CliRunner\nfrom monitor.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "assert CliRunner().invoke(app, ['probes', 'import', '--help']).exit_code == 0"
    )
    assert imported_after(statement) == []


def test_the_poll_path_imports_no_ml_library() -> None:
    # `check` polls through the pipeline package: no classifier, statistics or model code on that path.
    assert imported_after("from monitor.pipeline import CycleContext, poll_step, sync_watched_models") == []


def test_probes_import_defaults_match_the_probes_module() -> None:
    from monitor.cli import _probes
    from monitor.probes import IMPORT_SAMPLING, BenchmarkFormat

    assert get_args(_probes.ImportFormat) == get_args(BenchmarkFormat)
    assert (IMPORT_SAMPLING.samples, IMPORT_SAMPLING.max_tokens) == (_probes.IMPORT_SAMPLES, _probes.IMPORT_MAX_TOKENS)
    result = CliRunner().invoke(_probes.probes_app, ["import", "--help"])
    assert "math500|gsm8k|aime" in result.output


@pytest.mark.parametrize("package", ["monitor.pipeline", "monitor.service"])
def test_packages_import_their_names_on_first_use(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module._EXPORTS) == sorted(module.__all__)
    for name in module.__all__:  # each resolves to the defining module's object
        assert getattr(module, name) is getattr(sys.modules[module._EXPORTS[name]], name)


def test_compare_on_files_and_the_lease_check_import_only_what_they_use() -> None:
    # compare on files: the file reader and the drift statistics, no database or Hub stack; asking
    # for the lease holder (every command that writes does): no scheduler, metrics or HTTP server.
    statement = (
        "import sys\nfrom monitor.pipeline import compare_files\n"
        "assert 'monitor.db' not in sys.modules and 'monitor.hub' not in sys.modules, 'compare_files'\n"
        "from monitor.service import lease_holder\n"
        "assert 'apscheduler' not in sys.modules and 'prometheus_client' not in sys.modules, 'lease_holder'"
    )
    assert imported_after(statement) == []
