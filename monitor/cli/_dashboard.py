"""``drift-monitor dashboard``: the reviewers' Streamlit app on the configured database.

Safe defaults: bound to 127.0.0.1 (reviewers reach a shared deployment through a proxy or a tunnel,
never by accident), headless (no browser is opened, no e-mail prompt), no usage statistics sent, and no
file watcher (nothing to reload in production).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from monitor.cli import _common
from monitor.cli._app import app
from monitor.errors import ConfigError

__all__ = ["DASHBOARD_APP", "dashboard", "streamlit_command"]

DASHBOARD_APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def streamlit_command(*, host: str, port: int, app_path: Path = DASHBOARD_APP) -> list[str]:
    """The ``streamlit run`` command line the dashboard command executes."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",
        # A viewer sees one clear message, never a traceback; the dashboard logs it (dashboard/app.py).
        "--client.showErrorDetails",
        "none",
    ]


@app.command("dashboard")
def dashboard(
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="TCP port to listen on."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind; 127.0.0.1 keeps it local, 0.0.0.0 exposes it to the network."
    ),
    user_header: str | None = typer.Option(
        None,
        "--user-header",
        metavar="HEADER",
        help="Take the reviewer from this header, set by a trusted proxy in front (oauth2-proxy: "
        "X-Forwarded-Email); sets DRIFT_MONITOR_DASHBOARD_USER_HEADER.",
    ),
    allow_unverified_writes: bool = typer.Option(
        False,
        "--allow-unverified-writes",
        help="Without a proxy header or st.login, let anyone who reaches the dashboard acknowledge and relabel "
        "under a typed name, stored marked '(unverified)'. Off: read-only.",
    ),
) -> None:
    """Open the reviewers' dashboard (Streamlit) on the configured database."""
    settings = _common.settings()
    if not DASHBOARD_APP.is_file():
        raise ConfigError(f"dashboard app not found at {DASHBOARD_APP}; run drift-monitor from its repository checkout")
    database = _common.database(settings)  # fails early, with one line, when the database is unusable
    where = database.url
    database.dispose()
    shown_host = "localhost" if host in {"127.0.0.1", "localhost"} else host
    typer.echo(f"dashboard on {where}: open http://{shown_host}:{port}  (Ctrl-C to stop)")
    environment = dict(os.environ)
    environment["DRIFT_MONITOR_DATABASE_URL"] = settings.database_url
    environment["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    if user_header:
        environment["DRIFT_MONITOR_DASHBOARD_USER_HEADER"] = user_header
    if allow_unverified_writes:
        environment["DRIFT_MONITOR_DASHBOARD_UNVERIFIED_WRITES"] = "true"
    root = str(DASHBOARD_APP.parents[1])
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (root, environment.get("PYTHONPATH", "")) if p)
    sys.stdout.flush()
    # Replace this process with Streamlit: signals (Ctrl-C, SIGTERM from a supervisor) reach the server
    # directly and no child is left behind.
    os.execve(sys.executable, streamlit_command(host=host, port=port), environment)
