"""``drift-monitor db``: schema migration commands."""

from __future__ import annotations

import typer

from monitor.cli import _common
from monitor.cli._app import app

db_app = typer.Typer(help="Database schema: upgrade it or show where it stands.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the configured database to the newest schema (other commands also do this on their own)."""
    from monitor.db import current_revision, make_engine, upgrade

    settings = _common.settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    typer.echo(f"database {engine.url.render_as_string(hide_password=True)} is at schema {current_revision(engine)}")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the configured database and the newest one this code knows."""
    from monitor.db import current_revision, head_revision, make_engine

    settings = _common.settings()
    engine = make_engine(settings.database_url)
    current = current_revision(engine)
    head = head_revision()
    state = "up to date" if current == head else "needs upgrade (run: drift-monitor db upgrade)"
    typer.echo(f"current: {current or 'empty (never migrated)'}\nhead:    {head}\n{state}")
