"""``drift-monitor serve`` and ``drift-monitor alerts``: the long-running service and the alert outbox."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import typer

from monitor.cli import _common
from monitor.cli._app import app, error_line
from monitor.errors import AlertError

if TYPE_CHECKING:
    from monitor.db import AlertDelivery

__all__ = ["alerts_app"]

alerts_app = typer.Typer(help="The alert outbox: list, acknowledge, test the channels.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@app.command("serve")
def serve(
    once: bool = typer.Option(
        False, "--once", help="Do one full cycle (poll, run, analyse, compare, alert), then exit."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface for /healthz, /metrics and /webhook."),
    port: int = typer.Option(8787, "--port", help="Port for /healthz, /metrics and /webhook (0: any free port)."),
    no_http: bool = typer.Option(False, "--no-http", help="Serve no HTTP port (no health, metrics or webhook)."),
    lease_ttl: float = typer.Option(60.0, "--lease-ttl", min=1.0, help="Seconds the service lease lasts unrenewed."),
    process_interval: float = typer.Option(
        300.0, "--process-interval", min=1.0, help="Seconds between looks for pending work (also woken by polls)."
    ),
    delivery_interval: float = typer.Option(30.0, "--delivery-interval", min=0.5, help="Seconds between deliveries."),
) -> None:
    """Run the monitor: poll on schedule, run suites on new revisions, compare, alert. Stop with SIGTERM or Ctrl-C.

    One service per database: a second one refuses to start. Logs are one line per event on stderr
    (JSON with DRIFT_MONITOR_LOG_JSON=1).
    """
    from monitor._logging import configure_logging
    from monitor.alerts import build_channels
    from monitor.service import Service, ServiceOptions

    settings = _common.settings()
    configure_logging(json_lines=settings.log_json, level=settings.log_level)
    # Progress bars (model loading, downloads) would break "one line per event"; the worker inherits this.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()  # this process imported huggingface_hub before the variable was set
    config = _common.config(settings)
    channels = build_channels(config.channels, base_dir=settings.config.parent if settings.config else None)
    db = _common.database(settings)
    secret = os.environ.get(config.webhook_secret_env, "")
    webhook_factory = None
    if secret:
        from monitor.hub import make_webhook_handler

        def webhook_factory(trigger: Any) -> Any:
            return make_webhook_handler(db, secret, trigger)

    options = ServiceOptions(
        host=host,
        port=None if (no_http or once) else port,
        lease_ttl_s=lease_ttl,
        process_interval_s=process_interval,
        delivery_interval_s=delivery_interval,
    )
    service = Service(
        db, config, channels, data_dir=settings.data_dir, options=options, webhook_factory=webhook_factory
    )
    if once:
        report = service.once()
        summary = (
            f"cycle done: {report.polls} polls ({report.poll_failures} failed), {report.changes} changes, "
            f"{report.runs_completed} runs completed, {report.runs_failed} failed, {report.responses} responses, "
            f"{report.comparisons} comparisons, {report.alerts_raised} alerts raised, {report.delivered} deliveries "
            f"sent, {report.alerts_pending} alerts pending"
        )
        typer.echo(summary)
        for error in report.errors:
            error_line(error)
        return
    if not secret:
        typer.echo(f"webhook endpoint off: set {config.webhook_secret_env} to enable it", err=True)
    service.serve()


def _delivery_summary(deliveries: list[AlertDelivery]) -> str:
    return (
        ", ".join(f"{d.channel}:{d.status}({d.attempts})" for d in sorted(deliveries, key=lambda d: d.channel)) or "-"
    )


@alerts_app.command("list")
def alerts_list(
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
    status: str | None = typer.Option(None, "--status", help="Only alerts with this status (pending, delivered, ...)."),
    unacknowledged: bool = typer.Option(False, "--unacked", help="Only alerts nobody acknowledged yet."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many, newest first."),
) -> None:
    """The newest alerts with their delivery status per channel and who acknowledged them."""
    import sqlalchemy as sa

    from monitor.alerts import list_alerts
    from monitor.db import AlertDelivery

    db = _common.database()
    with db.session() as session:
        rows = list_alerts(session, status=status, unacknowledged=unacknowledged, limit=limit)
        ids = [alert.id for alert, _ in rows]
        deliveries: dict[int, list[AlertDelivery]] = {}
        if ids:
            for delivery in session.scalars(sa.select(AlertDelivery).where(AlertDelivery.alert_id.in_(ids))):
                deliveries.setdefault(delivery.alert_id, []).append(delivery)
        documents: list[dict[str, Any]] = [
            {
                "id": alert.id,
                "created_at": alert.created_at.isoformat(),
                "kind": alert.kind,
                "severity": alert.severity,
                "model": repo,
                "title": alert.title,
                "status": alert.status,
                "attempts": alert.attempts,
                "last_error": alert.last_error,
                "acknowledged_by": alert.acknowledged_by,
                "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
                "ack_comment": alert.ack_comment,
                "deliveries": [
                    {
                        "channel": d.channel,
                        "status": d.status,
                        "attempts": d.attempts,
                        "last_error": d.last_error,
                        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
                    }
                    for d in sorted(deliveries.get(alert.id, []), key=lambda d: d.channel)
                ],
                "payload": alert.payload,
                "_summary": _delivery_summary(deliveries.get(alert.id, [])),
            }
            for alert, repo in rows
        ]
    if json_output:
        for document in documents:
            document.pop("_summary")
        _common.print_json({"alerts": documents})
        return
    if not documents:
        typer.echo("no alerts")
        return
    for document in documents:
        ack = f"acked by {document['acknowledged_by']}" if document["acknowledged_by"] else "unacked"
        typer.echo(
            f"#{document['id']:<5} {str(document['created_at'])[:19]}  {document['severity']:<6} "
            f"{document['kind']:<28} {document['status']:<9} {ack:<16} {document['title']}"
        )
        typer.echo(f"       deliveries: {document['_summary']}")


@alerts_app.command("ack")
def alerts_ack(
    alert_id: int = typer.Argument(..., help="The alert's id (see: drift-monitor alerts list)."),
    by: str = typer.Option(..., "--by", help="Who acknowledges it."),
    comment: str | None = typer.Option(None, "--comment", help="Why, or what was done."),
) -> None:
    """Acknowledge an alert: a reviewer has seen it (recorded with name, time and comment)."""
    from monitor.alerts import acknowledge

    db = _common.database()
    with db.session() as session:
        alert = acknowledge(session, alert_id, by=by, comment=comment)
        typer.echo(f"alert #{alert.id} acknowledged by {alert.acknowledged_by}: {alert.title}")


@alerts_app.command("test")
def alerts_test() -> None:
    """Send a test message to every configured channel; exit 1 if any channel failed."""
    from monitor.alerts import build_channels, send_test

    settings = _common.settings()
    config = _common.config(settings)
    if not config.channels:
        raise AlertError("no alert channels configured: add [[channels]] entries (name, url) to the config file")
    channels = build_channels(config.channels, base_dir=settings.config.parent if settings.config else None)
    results = send_test(channels)
    for name, error in results.items():
        if error is None:
            typer.echo(f"{name}: ok")
        else:
            error_line(error)
    if any(error is not None for error in results.values()):
        raise typer.Exit(code=1)
