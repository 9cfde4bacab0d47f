"""The embedded default (``make run``): the whole monitor, offline, on CPU, with no token.

It builds a local git repository of SmolLM2-135M-Instruct whose history holds real silent changes
(see ``monitor._demo_repo``), then plays that history forward one push at a time. After each push it
runs exactly what ``drift-monitor serve --once`` runs (poll through the git source, run the suites in
the worker, analyse, compare with the baseline, raise and deliver alerts to a file and the console),
and at the end prints what the monitor concluded and how to open the dashboard on it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from monitor._demo_repo import DemoRevision, build_demo_repo, set_main
from monitor.alerts import build_channels
from monitor.config import Settings, load_config
from monitor.db import Alert, ChangeEvent, Comparison, Database, Label, Response, ResponseAnalysis, Run, open_database

__all__ = ["DemoOptions", "DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoOptions:
    """How much work the demo does per revision: sized so the whole story fits a few minutes on 2 CPU cores.

    Six probes with a greedy answer and two samples each (18 answers per suite, one batch) are enough
    for the fine-tuned revision's identity drift to be significant, and a model names itself in its
    first sentence, so 32 tokens tell the identity story; longer answers only cost time.
    """

    samples: int = 2
    limit: int = 6
    max_tokens: int = 32
    revisions: int | None = None  # play only the first N pushes (tests use fewer)


@dataclass(frozen=True)
class DemoResult:
    """Where the demo left its state."""

    database_url: str
    config_path: Path
    alerts_file: Path
    revisions: list[DemoRevision]
    alerts: int


def run_demo(
    settings: Settings,
    *,
    options: DemoOptions | None = None,
    echo: Callable[[str], None] = print,
    models_dir: Path | None = None,
) -> DemoResult:
    """Build the demo repository (cached), replay its pushes through the service cycle, summarise.

    ``models_dir`` is where the model and its repository are built and cached (default: the data
    directory's ``demo`` folder); the database, config and alerts always go to the data directory.
    """
    from transformers.utils import logging as transformers_logging

    from monitor.service import Service, ServiceOptions

    transformers_logging.disable_progress_bar()
    options = options or DemoOptions()
    started = time.monotonic()
    root = (settings.data_dir / "demo").resolve()
    root.mkdir(parents=True, exist_ok=True)
    models_root = (models_dir or root).resolve()
    revisions = build_demo_repo(models_root, progress=echo)[: options.revisions]
    repo = models_root / "repo"
    database_path = root / "demo.db"
    for stale in root.glob("demo.db*"):
        stale.unlink()  # every demo tells the story from the first push; model builds stay cached
    alerts_file = root / "alerts.jsonl"
    alerts_file.unlink(missing_ok=True)
    config_path = _write_config(root, repo, alerts_file, options)
    config = load_config(config_path)
    database_url = f"sqlite:///{database_path}"
    db = open_database(database_url)
    channels = build_channels(list(config.channels), base_dir=root)
    embedder: Any = None
    for number, revision in enumerate(revisions, start=1):
        set_main(repo, revision.sha)
        echo(f'\n[{number}/{len(revisions)}] upstream pushed {revision.sha[:12]} "{revision.title}" ({revision.story})')
        # ``once`` is one service's whole life (it stops the service at the end), so every push gets a
        # new one; they share the first one's embedder, loaded once as a long-running service's would be.
        service = Service(db, config, channels, data_dir=settings.data_dir, options=ServiceOptions(port=None))
        if embedder is None:
            embedder = service.ctx.embedder
        service.ctx.embedder = embedder
        report = service.once()
        echo(
            f"    cycle: {report.changes} change(s), {report.runs_completed} run(s), {report.responses} responses, "
            f"{report.comparisons} comparison(s), {report.alerts_raised} alert(s)"
        )
        for error in report.errors:
            echo(f"    error: {error}")
    alerts = _summarise(db, revisions, echo)
    echo(f"\ndemo finished in {time.monotonic() - started:.0f} s")
    echo(f"database:    {database_url}")
    echo(f"config:      {config_path}")
    echo(f"alerts file: {alerts_file}")
    echo("open the dashboard on the demo's data with:")
    echo(
        f"    DRIFT_MONITOR_DATABASE_URL={database_url} DRIFT_MONITOR_CONFIG={config_path} "
        ".venv/bin/drift-monitor dashboard --allow-unverified-writes"
    )
    echo("then browse http://127.0.0.1:8501")
    db.dispose()
    return DemoResult(database_url, config_path, alerts_file, revisions, alerts)


def _write_config(root: Path, repo: Path, alerts_file: Path, options: DemoOptions) -> Path:
    """The demo's TOML: the same file format a user writes for a real model."""
    path = root / "demo.toml"
    path.write_text(
        f"""# Written by `drift-monitor demo`: the demo repository watched through the git source.
[[models]]
repo = "{repo}"
name = "SmolLM2 demo"           # what the dashboard calls it (default: the folder's name)
ref = "main"
source = "git"
expect = "other"                # SmolLM names itself; anything else it claims is drift
suites = ["identity", "reasoning"]
samples = {options.samples}
limit = {options.limit}
max_tokens = {options.max_tokens}

[models.engine]
kind = "transformers"
options = {{ device = "cpu" }}

[[channels]]
name = "file"
url = "file://{alerts_file}"

[[channels]]
name = "console"
url = "console://"
""",
        encoding="utf-8",
    )
    return path


def _summarise(db: Database, revisions: list[DemoRevision], echo: Callable[[str], None]) -> int:
    """Per revision: change kinds, identity labels, reasoning accuracy, verdict; then the alerts."""
    echo("\nwhat the monitor concluded, per revision:")
    with db.session() as session:
        for revision in revisions:
            event = session.scalar(sa.select(ChangeEvent).where(ChangeEvent.to_sha == revision.sha))
            kinds = ", ".join(event.kinds) if event else "-"
            silent = " (silent)" if event and event.silent else ""
            labels = Counter(
                session.scalars(
                    sa.select(Label.label)
                    .join(Response, Response.id == Label.response_id)
                    .join(Run, Run.id == Response.run_id)
                    .where(Run.revision_sha == revision.sha, Response.category == "identity")
                )
            )
            scored = (
                session.execute(
                    sa.select(ResponseAnalysis.correct)
                    .join(Response, Response.id == ResponseAnalysis.response_id)
                    .join(Run, Run.id == Response.run_id)
                    .where(Run.revision_sha == revision.sha, Response.category == "reasoning")
                )
                .scalars()
                .all()
            )
            judged = [c for c in scored if c is not None]
            accuracy = f"{sum(judged)}/{len(judged)}" if judged else "-"
            comparison = session.scalar(
                sa.select(Comparison).where(Comparison.candidate_sha == revision.sha).order_by(Comparison.id.desc())
            )
            verdict = (
                "baseline"
                if comparison is None
                else (f"drift={comparison.drift} severity={comparison.severity}" + _flagged(comparison.report))
            )
            label_text = ", ".join(f"{label} {count}" for label, count in labels.most_common()) or "-"
            echo(f"  {revision.sha[:12]} {revision.title}")
            echo(f"      change: {kinds}{silent}")
            echo(f"      identity labels: {label_text}; reasoning correct: {accuracy}")
            echo(f"      verdict vs baseline: {verdict}")
        alerts = session.scalars(sa.select(Alert).order_by(Alert.id)).all()
        echo(f"\nalerts raised: {len(alerts)}")
        for alert in alerts:
            echo(f"  #{alert.id} [{alert.severity}] {alert.kind}: {alert.title} ({alert.status})")
        return len(alerts)


def _flagged(report: dict[str, Any]) -> str:
    metrics = report.get("metrics", [])
    names = [m["name"] for m in metrics if isinstance(m, dict) and m.get("flagged", m.get("significant"))]
    return f"; flagged: {', '.join(names[:4])}" if names else ""
