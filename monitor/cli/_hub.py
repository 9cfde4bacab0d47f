"""``drift-monitor watch | check | revisions | webhook``: what is watched, polling it, and its history.

A contract other tools parse: ``check --json`` prints one document
``{"models": [{"repo_id", "ref", "head", "error", "changes": [{"from", "to", "kinds", "silent", "title",
"committed_at"}]}]}`` and exits 0 when every poll succeeded, 2 when any failed (after printing).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from monitor._redact import redact
from monitor.cli import _common
from monitor.cli._app import app, error_line
from monitor.errors import ConfigError, ModelNotFoundError

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.db import WatchedModel
    from monitor.pipeline import PollResult

__all__ = ["watch_app"]

watch_app = typer.Typer(help="Which repositories are watched: add, list, remove.", no_args_is_help=True)
app.add_typer(watch_app, name="watch")

FAILED_EXIT_CODE = 2


def _console() -> Console:
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200, no_color=True)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "-"


def _location(repo: str, source: str) -> str:
    """Validate REPO for its source; a local git path is stored absolute so any working directory finds it."""
    from monitor.hub import is_remote_location, store_credentials

    if source == "hf":
        from huggingface_hub.errors import HFValidationError
        from huggingface_hub.utils import validate_repo_id

        try:
            validate_repo_id(repo)
        except HFValidationError:
            raise typer.BadParameter(f"{redact(repo)!r} is not a Hub repository id (expected owner/name)") from None
        if repo.count("/") != 1:
            raise typer.BadParameter(f"{redact(repo)!r} is not a Hub repository id (expected owner/name)")
        return repo
    if is_remote_location(repo):
        return store_credentials(repo)  # the database keeps the URL without its credentials
    path = Path(repo).expanduser().resolve()
    if not ((path / ".git").exists() or (path / "HEAD").is_file()):
        raise typer.BadParameter(f"{repo} is not a git repository (give a path to one, or a git URL)")
    return str(path)


def _candidates(repo: str) -> list[str]:
    """The ids REPO may be stored under: as given, without URL credentials, or as an absolute path."""
    from monitor.hub import is_remote_location, public_location

    candidates = [repo, public_location(repo)]
    if not is_remote_location(repo) and Path(repo).expanduser().exists():
        candidates.append(str(Path(repo).expanduser().resolve()))
    return candidates


@watch_app.command("add")
def watch_add(
    repo: str = typer.Argument(..., help="Hub repo id (owner/name), or a git path or URL with --source git."),
    ref: str = typer.Option("main", "--ref", help="Branch, tag or commit sha to follow."),
    source: str = typer.Option("hf", "--source", help="Where revisions come from: hf or git."),
    expect: str | None = typer.Option(None, "--expect", help="The identity the model should claim, e.g. deepseek."),
) -> None:
    """Start watching a repository (the first poll, `drift-monitor check`, records its current head)."""
    import sqlalchemy as sa

    from monitor.db import WatchedModel

    if source not in ("hf", "git"):
        raise typer.BadParameter(f"--source must be hf or git, not {source!r}")
    repo_id = _location(repo, source)
    db = _common.database()
    with db.session() as session:
        row = session.scalar(sa.select(WatchedModel).where(WatchedModel.repo_id == repo_id))
        if row is not None:
            same = (row.ref, row.source, row.expected_identity) == (ref, source, expect)
            if not same:
                raise ConfigError(
                    f"{repo_id} is already watched (ref {row.ref}, source {row.source}); "
                    f"remove it first with: drift-monitor watch remove {repo_id}"
                )
            typer.echo(f"{repo_id}@{ref} is already watched")
            return
        session.add(WatchedModel(repo_id=repo_id, ref=ref, source=source, expected_identity=expect))
    typer.echo(f"watching {repo_id}@{ref} ({source}); poll it now with: drift-monitor check --model {repo_id}")


def _model_json(model: WatchedModel) -> dict[str, Any]:
    return {
        "repo_id": model.repo_id,
        "ref": model.ref,
        "source": model.source,
        "expected_identity": model.expected_identity,
        "status": model.status,
        "head": model.head_sha,
        "last_polled_at": _iso(model.last_polled_at),
        "last_poll_error": model.last_poll_error,
        "consecutive_poll_failures": model.consecutive_poll_failures,
    }


@watch_app.command("list")
def watch_list(
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """List watched repositories with their last seen head and poll state."""
    import sqlalchemy as sa
    from rich.table import Table

    from monitor.db import WatchedModel

    db = _common.database()
    with db.session() as session:
        models = list(session.scalars(sa.select(WatchedModel).order_by(WatchedModel.repo_id)))
        rows = [_model_json(model) for model in models]
    if json_output:
        _common.print_json({"models": rows})
        return
    if not rows:
        typer.echo("nothing is watched yet; add a model with: drift-monitor watch add OWNER/NAME")
        return
    table = Table("repo", "ref", "source", "expect", "status", "head", "last polled", "failures")
    for row in rows:
        table.add_row(
            row["repo_id"],
            row["ref"],
            row["source"],
            row["expected_identity"] or "-",
            row["status"],
            _short(row["head"]),
            (row["last_polled_at"] or "never")[:19],
            str(row["consecutive_poll_failures"]),
        )
    _console().print(table)


@watch_app.command("remove")
def watch_remove(repo: str = typer.Argument(..., help="The repository as it was added.")) -> None:
    """Stop watching a repository and delete its recorded history (revisions, events, polls, runs)."""
    import sqlalchemy as sa

    from monitor.db import WatchedModel
    from monitor.hub import forget_credentials, is_remote_location, public_location

    db = _common.database()
    candidates = _candidates(repo)
    with db.session() as session:
        result = session.execute(sa.delete(WatchedModel).where(WatchedModel.repo_id.in_(candidates)))
        removed = int(getattr(result, "rowcount", 0) or 0)
    if not removed:
        raise ModelNotFoundError(f"{redact(repo)} is not watched (see: drift-monitor watch list)")
    if is_remote_location(repo):
        forget_credentials(repo)
    typer.echo(f"stopped watching {public_location(repo)}")


def _print_result(result: PollResult) -> None:
    if result.error:
        typer.secho(f"{result.repo_id}@{result.ref}: FAILED ({result.status}): {result.error}", fg=typer.colors.RED)
        return
    count = len(result.changes)
    summary = "no change" if not count else f"{count} change{'s' if count != 1 else ''}"
    typer.echo(f"{result.repo_id}@{result.ref}: head {_short(result.head)}, {summary}")
    for change in result.changes:
        silent = "  SILENT" if change.silent else ""
        typer.echo(
            f"  {_short(change.from_sha)} -> {_short(change.to_sha)}  {', '.join(change.kinds) or '(no files)'}"
            f"{silent}  {change.title!r}"
        )


@app.command("check")
def check(
    model: str | None = typer.Option(None, "--model", help="Poll only this watched repository."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document (the documented contract)."),
) -> None:
    """Poll every watched repository once (or one) and report what changed; exit 2 when a poll failed.

    Watched means added with `watch add` or listed in the config file. Alerts for what a poll finds are
    written to the outbox as the service would write them (delivered by the service or `alerts deliver`).
    """
    import sqlalchemy as sa

    from monitor.db import WatchedModel

    # The service's own poll step (config sync, hub, git and endpoint sources, alerts in the poll's transaction).
    from monitor.pipeline import CycleContext, poll_step, sync_watched_models

    settings = _common.settings()
    config = _common.config(settings)
    db = _common.database(settings)
    _common.note_running_service(db)
    ids = sync_watched_models(db, config)
    if model is not None:
        candidates = _candidates(model)
        with db.session() as session:
            found = session.scalar(sa.select(WatchedModel.id).where(WatchedModel.repo_id.in_(candidates)))
        if found is None:
            raise ModelNotFoundError(f"{model} is not watched (add it with: drift-monitor watch add {model})")
        ids = [found]
    report = poll_step(CycleContext(db=db, config=config, data_dir=settings.data_dir), ids, trigger="manual")
    for error in report.errors:
        error_line(error)
    results = report.polled
    if json_output:
        _common.print_json({"models": [result.to_json() for result in results]})
    elif not results:
        typer.echo("nothing is watched yet; add a model with: drift-monitor watch add OWNER/NAME")
    else:
        for result in results:
            _print_result(result)
    if any(not result.ok for result in results):
        raise typer.Exit(code=FAILED_EXIT_CODE)


@app.command("revisions")
def revisions(
    repo: str = typer.Argument(..., help="A watched repository."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """Show the recorded history of a watched repository: every revision with its change kinds."""
    import sqlalchemy as sa
    from rich.table import Table

    from monitor.db import ChangeEvent, Revision, WatchedModel

    db = _common.database()
    candidates = _candidates(repo)
    with db.session() as session:
        model = session.scalar(sa.select(WatchedModel).where(WatchedModel.repo_id.in_(candidates)))
        if model is None:
            raise ModelNotFoundError(f"{repo} is not watched (see: drift-monitor watch list)")
        revs = list(session.scalars(sa.select(Revision).where(Revision.model_id == model.id).order_by(Revision.seq)))
        events = list(
            session.scalars(sa.select(ChangeEvent).where(ChangeEvent.model_id == model.id).order_by(ChangeEvent.id))
        )
        by_target: dict[str, ChangeEvent] = {}
        for event in events:
            if event.to_sha and not any(kind in ("repo_gone", "repo_gated") for kind in event.kinds):
                by_target[event.to_sha] = event
        document = {
            **_model_json(model),
            "revisions": [
                {
                    "seq": rev.seq,
                    "sha": rev.sha,
                    "parent": rev.parent_sha,
                    "title": rev.title,
                    "committed_at": _iso(rev.committed_at),
                    "tags": list(rev.tags or []),
                    "kinds": list(by_target[rev.sha].kinds) if rev.sha in by_target else [],
                    "silent": bool(by_target[rev.sha].silent) if rev.sha in by_target else False,
                    "weights": (rev.fingerprints or {}).get("weights"),
                    "chat_template": (rev.fingerprints or {}).get("chat_template"),
                }
                for rev in revs
            ],
            "events": [
                {
                    "id": event.id,
                    "from": event.from_sha,
                    "to": event.to_sha or None,
                    "kinds": list(event.kinds),
                    "silent": event.silent,
                    "title": event.title,
                    "committed_at": _iso(event.committed_at),
                    "detected_at": _iso(event.detected_at),
                }
                for event in events
            ],
        }
    if json_output:
        _common.print_json(document)
        return
    typer.echo(f"{document['repo_id']}@{document['ref']} ({document['source']}, {document['status']})")
    if not document["revisions"]:
        typer.echo("no revisions recorded yet; poll with: drift-monitor check --model " + str(document["repo_id"]))
    table = Table("seq", "sha", "committed", "kinds", "silent", "tags", "title")
    for rev in document["revisions"]:
        table.add_row(
            str(rev["seq"]),
            _short(rev["sha"]),
            (rev["committed_at"] or "-")[:19],
            ", ".join(rev["kinds"]) or "-",
            "SILENT" if rev["silent"] else "",
            ", ".join(rev["tags"]) or "",
            rev["title"] or "",
        )
    _console().print(table)
    for event in document["events"]:
        if any(kind in ("repo_gone", "repo_gated") for kind in event["kinds"]):
            typer.echo(f"{(event['detected_at'] or '')[:19]}  {', '.join(event['kinds'])}: {event['title']}")


@app.command("webhook")
def webhook(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8765, "--port", help="Port to listen on."),
) -> None:
    """Serve the Hub webhook endpoint: a valid POST triggers an immediate poll of the named repository.

    The poll is the service's poll step (Hub, git and endpoint models alike, alerts written with it).
    The secret comes from the environment (DRIFT_MONITOR_WEBHOOK_SECRET, or the variable the config's
    webhook_secret_env names); without one the command refuses to start.
    """
    import sqlalchemy as sa

    from monitor.db import WatchedModel
    from monitor.hub import make_webhook_handler, make_webhook_server
    from monitor.pipeline import BackgroundPoller, CycleContext, poll_step, sync_watched_models

    settings = _common.settings()
    config = _common.config(settings)
    secret = os.environ.get(config.webhook_secret_env, "")
    if not secret:
        raise ConfigError(f"set {config.webhook_secret_env} to the webhook's secret (the Hub sends it back)")
    db = _common.database(settings)
    _common.note_running_service(db)
    sync_watched_models(db, config)
    ctx = CycleContext(db=db, config=config, data_dir=settings.data_dir)

    def poll(repo_id: str) -> PollResult:
        with db.session() as session:
            model_id = session.scalar(sa.select(WatchedModel.id).where(WatchedModel.repo_id == repo_id))
        if model_id is None:
            raise ModelNotFoundError(f"{repo_id} is not watched")
        report = poll_step(ctx, [model_id], trigger="webhook")
        if not report.polled:
            raise ModelNotFoundError(f"{repo_id}: {'; '.join(report.errors) or 'not polled'}")
        return report.polled[0]

    poller = BackgroundPoller(poll)
    server = make_webhook_server(make_webhook_handler(db, secret, poller), host, port)
    address = f"http://{host}:{server.server_port}/webhook"
    typer.echo(f"listening for Hub webhooks on {address} (Ctrl-C to stop)")

    def _stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Installed explicitly: a process started in the background inherits SIGINT ignored, and SIGTERM
    # (how service managers stop things) should stop the server just as cleanly.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        poller.wait_idle(10.0)  # a poll still running after that is abandoned: the next poll catches up
