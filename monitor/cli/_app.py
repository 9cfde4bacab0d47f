"""The typer app and its error boundary: a MonitorError becomes one red line and exit code 1."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from monitor._redact import redact
from monitor.errors import MonitorError

__all__ = ["app", "error_line"]


def error_line(message: str) -> None:
    """Print one red ``error:`` line on stderr (how every user-facing failure is reported)."""
    typer.secho(f"error: {redact(message)}", err=True, fg=typer.colors.RED)


class _MonitorGroup(TyperGroup):
    """Root group: maps the domain errors of every subcommand to a clean CLI error."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as exc:
            error_line(str(exc))
            raise typer.Exit(code=1) from None


app = typer.Typer(
    cls=_MonitorGroup,
    name="drift-monitor",
    help="Watch open-weight LLM repositories and report, with evidence, when a model silently changes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
