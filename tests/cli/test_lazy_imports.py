"""The CLI starts and exits fast: heavy libraries are imported by the commands that use them, not by the
CLI itself, and the interpreter's exit does not collect the heap a command built.

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

from monitor.cli import app
from tests.hub._hub_server import HubServer
from tests.hub._scenarios import base_files

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "sklearn", "scipy", "pandas", "streamlit", "sentence_transformers", "lingua")


def imported_after(statement: str, *, env: dict[str, str] | None = None) -> list[str]:
    """The heavy top-level packages a fresh interpreter has in sys.modules after ``statement`` (``env`` added)."""
    probe = f"import json, sys\n{statement}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
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


# What `check` must not import: the run machinery, the other sources, the webhook server, the snapshot
# download stack, the alert channels and delivery, and the other database's dialect.
NOT_ON_THE_POLL_PATH = (
    "monitor.engines",
    "monitor.executors",
    "monitor.probes",
    "monitor.pipeline._pending",
    "monitor.pipeline._run",
    "monitor.pipeline._endpoint",
    "monitor.hub._git",
    "monitor.hub._webhook",
    "monitor.alerts._channels",
    "monitor.alerts._delivery",
    "huggingface_hub._snapshot_download",
    "sqlalchemy.dialects.postgresql",
)


def test_a_quiet_check_imports_only_the_poll_path(hub: HubServer) -> None:
    # A real `check` of a watched repository on the loopback Hub, polled once before: the quiet poll
    # asks the Hub for the head and records it; what it ran is checked, not only what it imported.
    hub.repo("owner/model").commit("initial commit", base_files())
    for args in (["watch", "add", "owner/model"], ["check"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    statement = (
        "import sys\nfrom typer.testing import CliRunner\nfrom monitor.cli import app\n"
        "result = CliRunner().invoke(app, ['check', '--json'])\n"
        "assert result.exit_code == 0 and '\"changes\": []' in result.output, result.output\n"
        "assert 'monitor.hub._hf' in sys.modules\n"
        f"loaded = sorted(m for m in {NOT_ON_THE_POLL_PATH!r} if m in sys.modules)\n"
        "assert not loaded, loaded"
    )
    assert imported_after(statement) == []


def test_the_entry_point_leaves_the_heap_to_the_os_at_exit() -> None:
    # main() freezes what survives a command, so the exit's collections skip it (atexit runs after).
    probe = (
        "import atexit, gc, sys\nfrom monitor.cli import main\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count()))\n"
        "sys.argv = ['drift-monitor', '--help']\nmain()"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) > 10_000, result.stdout[-200:]


def test_probes_import_defaults_match_the_probes_module() -> None:
    from monitor.cli import _probes
    from monitor.probes import IMPORT_SAMPLING, BenchmarkFormat

    assert get_args(_probes.ImportFormat) == get_args(BenchmarkFormat)
    assert (IMPORT_SAMPLING.samples, IMPORT_SAMPLING.max_tokens) == (_probes.IMPORT_SAMPLES, _probes.IMPORT_MAX_TOKENS)
    result = CliRunner().invoke(_probes.probes_app, ["import", "--help"])
    assert "math500|gsm8k|aime" in result.output


@pytest.mark.parametrize("package", ["monitor.alerts", "monitor.hub", "monitor.pipeline", "monitor.service"])
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
