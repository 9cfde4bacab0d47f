"""``drift-monitor compare``: did behaviour change between two revisions (export files or the database)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli import _common
from monitor.cli._app import app
from monitor.errors import InputError

if TYPE_CHECKING:
    from monitor.drift import DriftReport

__all__ = ["compare_command", "print_report"]

DRIFT_EXIT_CODE = 3


@app.command("compare")
def compare_command(
    baseline: Annotated[
        list[str],
        typer.Option(
            "--baseline",
            help="Baseline: an export JSONL file (repeat it for reruns of the same revision), or with --model a "
            "revision sha (a unique prefix will do).",
        ),
    ],
    candidate: Annotated[
        list[str],
        typer.Option("--candidate", help="Candidate: export JSONL file(s), or with --model a revision sha."),
    ],
    model: Annotated[
        str | None,
        typer.Option("--model", help="Repository id: compare the stored, analysed runs of two revisions."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON document.")] = False,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the report as Markdown here.")] = None,
    expect: Annotated[
        str | None,
        typer.Option("--expect", help="File mode: the identity the model should claim (e.g. deepseek)."),
    ] = None,
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="Database mode: store the report as a comparison.")
    ] = True,
    no_embeddings: Annotated[
        bool, typer.Option("--no-embeddings", help="File mode: skip the answer-embedding test (faster).")
    ] = False,
    fail_on_drift: Annotated[
        bool, typer.Option("--fail-on-drift", help=f"Exit with code {DRIFT_EXIT_CODE} when drift is found.")
    ] = False,
) -> None:
    """Compare a candidate revision's behaviour with a baseline's and give an honest verdict.

    File mode classifies and scores the export files itself; database mode (--model) reads stored,
    analysed runs of the same suite and sampling and stores the report. The exit code is 0 whether or
    not drift was found (1 on an error); with --fail-on-drift a drift verdict exits with 3.
    """
    if model is not None:
        from monitor.pipeline import compare_revisions  # the database and Hub stack: not for file mode

        if len(baseline) != 1 or len(candidate) != 1:
            raise InputError("with --model give exactly one --baseline SHA and one --candidate SHA")
        report, comparison_id = compare_revisions(_common.database(), model, baseline[0], candidate[0], store=store)
    else:
        for path in (*baseline, *candidate):
            if not Path(path).is_file():
                raise InputError(
                    f"{path} is not a file; give export JSONL files (drift-monitor export RUN_ID -o FILE), "
                    "or revision shas together with --model REPO"
                )
        from monitor.pipeline import compare_files

        report = compare_files(
            [Path(p) for p in baseline],
            [Path(p) for p in candidate],
            expected_identity=expect,
            embed=not no_embeddings,
        )
        comparison_id = None
    if markdown is not None:
        markdown.write_text(report.to_markdown(), encoding="utf-8")
    if as_json:
        _common.print_json(report.to_json())
    else:
        print_report(report)
        if comparison_id is not None:
            typer.echo(f"stored as comparison {comparison_id}", err=True)
    if markdown is not None and not as_json:
        typer.echo(f"wrote {markdown}", err=True)
    if fail_on_drift and report.drift:
        raise typer.Exit(code=DRIFT_EXIT_CODE)


def print_report(report: DriftReport) -> None:
    """The report as a table on the terminal: verdict first, flagged metrics first, then the notes."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=False)
    verdict = f"[bold red]{report.severity} drift[/]" if report.drift else "[bold green]no drift[/]"
    baseline = report.baseline.get("name") or "baseline"
    candidate = report.candidate.get("name") or "candidate"
    console.print(f"{verdict}: {escape(str(candidate))} against {escape(str(baseline))}", markup=True)
    table = Table(show_lines=False, pad_edge=False)
    for column in ("metric", "baseline", "candidate", "difference", "95% CI", "p adj.", "effect/min", "flagged"):
        table.add_column(column, no_wrap=column == "metric")
    ordered = sorted(report.metrics, key=lambda m: (not m.flagged, not m.in_family, m.name))
    for metric in ordered:
        table.add_row(
            Text(metric.name),
            metric.format_value(metric.baseline),
            metric.format_value(metric.candidate),
            metric.format_difference(metric.difference),
            f"{metric.format_difference(metric.ci[0])} … {metric.format_difference(metric.ci[1])}",
            f"{metric.p_adjusted:.2g}" if metric.in_family else "-",
            f"{metric.effect:.3f}/{metric.min_effect:.3f}",
            "[bold red]yes[/]" if metric.flagged else ("significant" if metric.significant else ""),
        )
    console.print(table)
    for note in report.notes:
        console.print(f"note: {note}", markup=False)
