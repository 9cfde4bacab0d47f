"""``drift-monitor probes``: list the installed suites, show one, import a benchmark as a suite."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from monitor.cli._app import app
from monitor.cli._common import print_json

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.probes import Suite, SuiteSampling

# Kept here so that building the CLI does not import monitor.probes (yaml, pydantic, the engines); a
# test checks they equal monitor.probes' BenchmarkFormat and IMPORT_SAMPLING.
ImportFormat = Literal["math500", "gsm8k", "aime"]
IMPORT_SAMPLES = 4
IMPORT_MAX_TOKENS = 32768

__all__ = ["IMPORT_MAX_TOKENS", "IMPORT_SAMPLES", "ImportFormat", "probes_app"]

probes_app = typer.Typer(
    help="Probe suites: list the installed ones, show one, import a benchmark (MATH-500, GSM8K, AIME) as one.",
    no_args_is_help=True,
)
app.add_typer(probes_app, name="probes")


def _console() -> Console:
    """A console that does not squeeze tables to 80 columns when the output is a pipe or a file."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200, no_color=True)


def _sampling(sampling: SuiteSampling) -> str:
    greedy = " + greedy" if sampling.greedy else ""
    return f"{sampling.samples}{greedy} @ T={sampling.temperature:g} p={sampling.top_p:g} ≤{sampling.max_tokens} tok"


def _display(path: Path | None) -> str:
    if path is None:
        return "-"
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _first_user(messages: tuple[Any, ...]) -> str:
    return next((message.content for message in messages if message.role == "user"), "")


def _one_line(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@probes_app.command("list")
def probes_list(
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """List the installed suites (repository probes/ and <data_dir>/probes) with their content hashes."""
    from rich.table import Table

    from monitor.probes import list_suites, suite_files

    files = suite_files()
    suites = list_suites()
    if json_output:
        print_json(
            [
                {
                    "name": suite.name,
                    "version": suite.version,
                    "probes": len(suite.probes),
                    "categories": suite.category_counts(),
                    "sampling": dataclasses.asdict(suite.sampling),
                    "content_hash": suite.content_hash,
                    "file": str(files.get(suite.name)),
                }
                for suite in suites
            ]
        )
        return
    if not suites:
        typer.echo("no suites installed (looked in probes/ and <data_dir>/probes)")
        return
    table = Table("name", "version", "probes", "categories", "sampling", "hash", "file")
    for suite in suites:
        categories = ", ".join(f"{category} {count}" for category, count in suite.category_counts().items())
        table.add_row(
            suite.name,
            str(suite.version),
            str(len(suite.probes)),
            categories,
            _sampling(suite.sampling),
            suite.content_hash[:12],
            _display(files.get(suite.name)),
        )
    _console().print(table)


@probes_app.command("show")
def probes_show(
    name: str = typer.Argument(..., help="An installed suite name, or the path of a suite YAML file."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """Show a suite's probes (id, category, language, tags, first user message) and its content hash."""
    from rich.table import Table

    from monitor.probes import load_suite, suite_files

    suite = load_suite(name)
    file = suite_files().get(name) if name == suite.name else Path(name)
    if json_output:
        print_json(_show_document(suite, file))
        return
    console = _console()
    console.print(f"{suite.name} v{suite.version}: {suite.description}", markup=False, highlight=False)
    console.print(f"content hash: {suite.content_hash}", markup=False, highlight=False)
    console.print(f"sampling:     {_sampling(suite.sampling)}", markup=False, highlight=False)
    console.print(f"file:         {_display(file)}", markup=False, highlight=False)
    table = Table("id", "category", "lang", "tags", "first user message")
    for probe in suite.probes:
        table.add_row(
            probe.id,
            probe.category,
            probe.language,
            ", ".join(probe.tags),
            _one_line(_first_user(probe.messages)),
        )
    console.print(table)
    console.print(f"{len(suite.probes)} probes", markup=False, highlight=False)


def _show_document(suite: Suite, file: Path | None) -> dict[str, Any]:
    return {
        "name": suite.name,
        "version": suite.version,
        "description": suite.description,
        "content_hash": suite.content_hash,
        "file": str(file) if file else None,
        "sampling": dataclasses.asdict(suite.sampling),
        "probes": [
            {
                "id": probe.id,
                "category": probe.category,
                "language": probe.language,
                "tags": list(probe.tags),
                "first_user_message": _first_user(probe.messages),
                "messages": [dataclasses.asdict(message) for message in probe.messages],
                "expected": probe.expected,
            }
            for probe in suite.probes
        ],
    }


@probes_app.command("import")
def probes_import(
    file: Path = typer.Argument(..., help="Benchmark JSONL: one object per line with id, problem, answer."),
    fmt: ImportFormat = typer.Option(..., "--format", help="Which benchmark the file holds."),
    name: str = typer.Option(..., "--name", help="Name of the new suite (lowercase letters, digits, - and _)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Import only the first N problems."),
    samples: int = typer.Option(IMPORT_SAMPLES, "--samples", min=1, help="Sampled responses per problem."),
    max_tokens: int = typer.Option(
        IMPORT_MAX_TOKENS, "--max-tokens", min=1, help="Token budget per response (thinking included)."
    ),
) -> None:
    """Turn a benchmark JSONL into a suite of reasoning probes in <data_dir>/probes/NAME.yaml."""
    from monitor.probes import IMPORT_SAMPLING, import_benchmark, load_suite

    sampling = dataclasses.replace(IMPORT_SAMPLING, samples=samples, max_tokens=max_tokens)
    path = import_benchmark(fmt, file, name, limit=limit, sampling=sampling)
    suite = load_suite(str(path))
    typer.echo(
        f"imported {len(suite.probes)} {fmt} problems into suite {suite.name!r} "
        f"(content hash {suite.content_hash[:12]}): {_display(path)}"
    )
    typer.echo(f"run it with: drift-monitor run --model MODEL --suite {suite.name}")
