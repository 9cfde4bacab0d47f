"""``drift-monitor run``, ``runs list`` and ``export``: run suites on a model and get the responses out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from monitor.cli import _common
from monitor.cli._app import app
from monitor.errors import EngineError, InputError

if TYPE_CHECKING:
    from monitor.db import Database

runs_app = typer.Typer(help="Runs stored in the database.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

EXPORT_FIELDS = (
    "run_id",
    "model",
    "revision",
    "suite",
    "probe_id",
    "category",
    "language",
    "prompt",
    "messages",
    "sample_index",
    "text",
    "expected",
    "finish_reason",
    "completion_tokens",
)


@app.command("run")
def run_command(
    model: Annotated[str, typer.Option("--model", help="A model folder, a .gguf file, a git repository or org/name.")],
    suite: Annotated[list[str], typer.Option("--suite", help="Suite name or YAML path; repeat for several.")],
    revision: Annotated[str | None, typer.Option("--revision", help="Branch, tag or sha (git and Hub).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="transformers, vllm or openai.")] = "transformers",
    samples: Annotated[int | None, typer.Option("--samples", min=0, help="Sampled responses per probe.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N probes of each suite.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Override the suite's.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 8,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda (transformers).")] = "auto",
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds before the worker is stopped.")] = None,
    new: Annotated[bool, typer.Option("--new", help="Start a new run even if an identical one completed.")] = False,
    allow_pickle: Annotated[bool, typer.Option("--allow-pickle", help="Allow *.bin/*.pt weights.")] = False,
) -> None:
    """Run probe suites on one revision of a model; an interrupted identical run is resumed."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from monitor.pipeline import engine_spec, ensure_watched_model, plan_run, resolve_model, run_suite
    from monitor.probes import load_suite

    settings = _common.settings()
    db = _common.database(settings)
    suites = [load_suite(name) for name in suite]
    resolved = resolve_model(model, revision, data_dir=settings.data_dir, allow_pickle=allow_pickle)
    options: dict[str, Any] = {}
    if engine == "transformers":
        options |= {"device": device, "allow_pickle": allow_pickle}
    elif engine not in ("vllm", "openai"):
        raise EngineError(f"unknown engine {engine!r}: use transformers, vllm or openai")
    spec = engine_spec(engine, str(resolved.path), resolved.sha, options=options, batch_size=batch_size)
    _common.note_running_service(db)
    with db.session() as session:
        model_id = ensure_watched_model(session, resolved.repo_id, source=resolved.source).id
    console = Console(stderr=True)
    failed = 0
    for current in suites:
        plan = plan_run(current, samples=samples, limit=limit, max_tokens=max_tokens, seed=seed)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task(f"{current.name} @ {resolved.sha[:12]}", total=len(plan.items))

            def started(run_id: int, missing: int, expected: int, task: Any = task, name: str = current.name) -> None:
                progress.update(task, completed=expected - missing, description=f"run {run_id}: {name}")

            def advanced(count: int, task: Any = task, progress: Progress = progress) -> None:
                progress.advance(task, count)

            outcome = run_suite(
                db,
                model_id=model_id,
                revision_sha=resolved.sha,
                plan=plan,
                engine=spec,
                seed=seed,
                timeout_s=timeout,
                new=new,
                on_start=started,
                on_progress=advanced,
            )
        if outcome.status == "completed":
            how = (
                "already complete (use --new for a fresh run)"
                if outcome.resumed and not outcome.generated
                else (f"{outcome.generated} generated in {outcome.elapsed_s:.1f} s")
            )
            typer.echo(f"run {outcome.run_id}: {current.name} completed, {outcome.expected} responses; {how}")
        else:
            failed += 1
            _error(f"run {outcome.run_id}: {current.name} failed: {outcome.error}")
    if failed:
        raise typer.Exit(code=1)


def _error(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)


@runs_app.command("list")
def runs_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    model: Annotated[str | None, typer.Option("--model", help="Only this model's runs.")] = None,
) -> None:
    """List runs, newest first, with their progress and status."""
    from rich.console import Console
    from rich.table import Table

    from monitor.executors import task_counts, tasks_of_runs

    db = _common.database()
    rows = _run_rows(db, model)
    tasks = tasks_of_runs(db, [row["id"] for row in rows])
    for row in rows:
        row["tasks"] = tasks.get(row["id"], [])
    counts = {repo: states for repo, states in task_counts(db).items() if model is None or repo == model}
    if as_json:
        _common.print_json({"runs": rows, "tasks_by_model": counts})
        return
    table = Table("id", "model", "revision", "suite", "engine", "status", "responses", "where", "created", "error")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["model"],
            row["revision"][:12],
            row["suite"],
            row["engine"],
            row["status"],
            f"{row['responses']}/{row['expected_responses']}",
            _where(row),
            row["created_at"][:19],
            (row["error"] or "")[:60],
        )
    console = Console(width=200 if not sys.stdout.isatty() else None)
    console.print(table)
    if counts:
        summary = Table("model", "queued", "running", "done", "failed", title="executor tasks")
        for repo, states in sorted(counts.items()):
            queued = states["new"] + states["queued"] + states["interrupted"]
            summary.add_row(repo, str(queued), str(states["running"]), str(states["done"]), str(states["failed"]))
        console.print(summary)


def _where(row: dict[str, Any]) -> str:
    """Where a run was generated: its tasks' nodes (Ray), else the device the local worker reported."""
    nodes = sorted({task["node"] for task in row["tasks"] if task["node"]})
    if nodes:
        return ", ".join(nodes)
    return str(row["device"] or "")


def _run_rows(db: Database, model: str | None) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from monitor.db import ProbeSuite, Response, Run, WatchedModel

    counts = sa.select(Response.run_id, sa.func.count().label("n")).group_by(Response.run_id).subquery()
    query = (
        sa.select(Run, WatchedModel.repo_id, ProbeSuite.name, sa.func.coalesce(counts.c.n, 0))
        .join(WatchedModel, WatchedModel.id == Run.model_id)
        .join(ProbeSuite, ProbeSuite.id == Run.suite_id)
        .outerjoin(counts, counts.c.run_id == Run.id)
        .order_by(Run.id.desc())
    )
    if model:
        query = query.where(WatchedModel.repo_id == model)
    with db.session() as session:
        return [
            {
                "id": run.id,
                "model": repo_id,
                "revision": run.revision_sha,
                "suite": suite_name,
                "engine": run.engine,
                "engine_version": run.engine_version,
                "device": run.device,
                "status": run.status,
                "responses": int(n),
                "expected_responses": run.expected_responses,
                "sampling": run.sampling,
                "created_at": run.created_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "error": run.error,
            }
            for run, repo_id, suite_name, n in session.execute(query)
        ]


@app.command("export")
def export_command(
    run_id: Annotated[int, typer.Argument(help="The run to export (see: drift-monitor runs list).")],
    fmt: Annotated[Literal["jsonl"], typer.Option("--format", help="Output format.")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; stdout by default.")] = None,
) -> None:
    """Export a run's responses as JSONL, one record per response (the format ``compare`` reads)."""
    db = _common.database()
    records = export_records(db, run_id)
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if output is None:
        sys.stdout.write(lines)
    else:
        output.write_text(lines, encoding="utf-8")
        typer.echo(f"wrote {len(records)} responses of run {run_id} to {output}", err=True)


def export_records(db: Database, run_id: int) -> list[dict[str, Any]]:
    """The export records of one run, ordered by probe and sample (stable for diffs)."""
    import sqlalchemy as sa

    from monitor.db import Response, Run

    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise InputError(f"there is no run {run_id} (see: drift-monitor runs list)")
        probes = {probe["id"]: probe for probe in run.suite.content.get("probes", [])}
        responses = session.scalars(
            sa.select(Response).where(Response.run_id == run_id).order_by(Response.probe_id, Response.sample_index)
        ).all()
        records = []
        for response in responses:
            probe = probes.get(response.probe_id, {})
            user_turns = [m["content"] for m in response.prompt if m.get("role") == "user"]
            record = {
                "run_id": run.id,
                "model": run.model.repo_id,
                "revision": run.revision_sha,
                "suite": run.suite.name,
                "probe_id": response.probe_id,
                "category": response.category,
                "language": probe.get("language"),
                "prompt": user_turns[-1] if user_turns else "",
                "messages": response.prompt,
                "sample_index": response.sample_index,
                "text": response.raw_text,
                "expected": probe.get("expected"),
                "finish_reason": response.finish_reason,
                "completion_tokens": response.completion_tokens,
            }
            records.append({key: record[key] for key in EXPORT_FIELDS})
        return records


@app.command("demo")
def demo_command(
    samples: Annotated[int, typer.Option("--samples", min=1, help="Sampled responses per probe.")] = 3,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Probes per suite.")] = 8,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 48,
) -> None:
    """The embedded default: watch a local SmolLM2 repository through silent changes, offline, on CPU."""
    from monitor.demo import DemoOptions, run_demo

    run_demo(
        _common.settings(),
        options=DemoOptions(samples=samples, limit=limit, max_tokens=max_tokens),
        echo=typer.echo,
    )
