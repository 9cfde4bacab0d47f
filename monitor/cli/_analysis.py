"""``drift-monitor classify``, ``classifier train`` and ``analyse``: the identity classifier and analysis step."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.cli import _common
from monitor.cli._app import app
from monitor.errors import DatabaseError, InputError

if TYPE_CHECKING:
    from monitor.analysis import IdentityClassifier

classifier_app = typer.Typer(help="The identity classifier: train and version it.", no_args_is_help=True)
app.add_typer(classifier_app, name="classifier")

_BATCH = 512


def _read_jsonl(
    data: bytes, source: str, *, skip_bad: bool, need_label: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse JSONL records with a string ``text`` (and a valid ``label``); every bad line is reported.

    An empty ``text`` is a real response (the model said nothing, label ``none``), as in the pipeline.
    """
    from monitor.analysis import IDENTITY_LABELS

    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        problem = None
        row: Any = None
        try:
            row = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            problem = "not UTF-8 text"
        except json.JSONDecodeError as exc:
            problem = f"not JSON ({exc.msg})"
        if problem is None:
            if not isinstance(row, dict) or "text" not in row:
                problem = "no `text` field"
            elif not isinstance(row["text"], str):
                problem = "`text` is not a string"
            elif need_label and row.get("label") not in IDENTITY_LABELS:
                problem = f"`label` must be one of {', '.join(IDENTITY_LABELS)}"
        if problem is not None:
            message = f"{source} line {number}: {problem}"
            if not skip_bad:
                raise InputError(message + " (fix it, or pass --skip-bad to skip bad lines)")
            problems.append(message)
            continue
        rows.append(row)
    return rows, problems


def _read_input(path: str) -> tuple[bytes, str]:
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    try:
        return Path(path).read_bytes(), path
    except FileNotFoundError:
        raise InputError(f"input file {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"input {path} is a directory, not a JSONL file") from None


def _classifier(model: Path | None, aliases: Path | None) -> IdentityClassifier:
    from monitor.analysis import Aliases, IdentityClassifier
    from monitor.pipeline import current_classifier

    if model is not None:
        return IdentityClassifier.load(model, aliases=aliases)
    try:
        classifier = current_classifier(_common.database())
    except DatabaseError:
        classifier = IdentityClassifier.load()  # no database needed to classify a file
    return classifier.with_aliases(Aliases.load(aliases)) if aliases else classifier


def _report_skipped(problems: list[str]) -> None:
    if problems:
        more = f" (first: {problems[0]})"
        typer.secho(f"skipped {len(problems)} bad line(s){more}", err=True, fg=typer.colors.YELLOW)


@app.command("classify")
def classify_command(
    input_path: Annotated[
        str | None, typer.Option("--input", help="JSONL with a `text` field per line; - reads stdin.")
    ] = None,
    output: Annotated[str, typer.Option("--output", help="Where to write JSONL; - is stdout.")] = "-",
    evaluate_path: Annotated[
        Path | None,
        typer.Option("--evaluate", help="Score against a `label` field: per-class and per-language P/R/F1, "
                     "confusion. The language is a `lang` field, else detected."),
    ] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip bad lines (and count them) instead of failing.")]
    = False,
    model: Annotated[Path | None, typer.Option("--model", help="A trained classifier directory.")] = None,
    aliases: Annotated[Path | None, typer.Option("--aliases", help="A TOML file of extra names and identities.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --evaluate: print the metrics as JSON.")] = False,
) -> None:
    """Label responses with the identity they claim (deepseek, qwen, openai, ..., other, none).

    Output lines keep every input field and add label, confidence, evidence and reasoning_label.
    """
    from monitor.analysis import evaluate

    if (input_path is None) == (evaluate_path is None):
        raise InputError("give exactly one of --input FILE (classify) or --evaluate FILE (score against labels)")
    classifier = _classifier(model, aliases)
    if evaluate_path is not None:
        data, source = _read_input(str(evaluate_path))
        rows, problems = _read_jsonl(data, source, skip_bad=skip_bad, need_label=True)
        if not rows:
            raise InputError(f"{source} has no labelled lines to evaluate")
        results = classifier.classify([row["text"] for row in rows])
        report = evaluate([row["label"] for row in rows], [result.label for result in results],
                          languages=_languages(rows))
        report["classifier_version"] = classifier.version
        report["skipped"] = len(problems)
        if as_json:
            _common.print_json(report)
        else:
            _print_evaluation(report)
        _report_skipped(problems)
        return
    assert input_path is not None
    data, source = _read_input(input_path)
    rows, problems = _read_jsonl(data, source, skip_bad=skip_bad, need_label=False)
    lines = []
    for start in range(0, len(rows), _BATCH):
        chunk = rows[start : start + _BATCH]
        for row, result in zip(chunk, classifier.classify([row["text"] for row in chunk]), strict=True):
            row.update(label=result.label, confidence=result.confidence, evidence=result.evidence,
                       reasoning_label=result.reasoning_label)
            lines.append(json.dumps(row, ensure_ascii=False))
    text = "".join(line + "\n" for line in lines)
    if output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        target = Path(output)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        typer.echo(f"classified {len(lines)} response(s) with {classifier.version} -> {target}", err=True)
    _report_skipped(problems)


def _languages(rows: list[dict[str, Any]]) -> list[str | None]:
    """Each row's language: its ``lang`` (or ``language``) field, else detected from the answer."""
    given = [row.get("lang") or row.get("language") for row in rows]
    missing = [i for i, language in enumerate(given) if not isinstance(language, str)]
    if missing:
        from monitor.analysis import detect_languages, split_reasoning

        found = detect_languages([split_reasoning(rows[i]["text"]).answer for i in missing])
        for i, language in zip(missing, found, strict=True):
            given[i] = language
    return [str(language) if language else None for language in given]


def _print_evaluation(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"identity classifier {report['classifier_version']} on {report['n']} examples")
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, scores in report["per_class"].items():
        table.add_row(label, f"{scores['precision']:.3f}", f"{scores['recall']:.3f}", f"{scores['f1']:.3f}",
                      str(scores["support"]))
    console.print(table)
    console.print(f"macro-F1 {report['macro_f1']:.3f}   accuracy {report['accuracy']:.3f}")
    if report.get("per_language"):
        languages = Table(title="per language")
        for column in ("language", "n", "accuracy", "macro-F1", "errors"):
            languages.add_column(column, justify="left" if column == "language" else "right")
        for language, scores in report["per_language"].items():
            languages.add_row(language, str(scores["n"]), f"{scores['accuracy']:.3f}", f"{scores['macro_f1']:.3f}",
                              str(scores["errors"]))
        console.print(languages)
    matrix = Table(title="confusion matrix (rows: gold, columns: predicted)")
    matrix.add_column("gold \\ predicted")
    for label in report["labels"]:
        matrix.add_column(label, justify="right")
    for label, row in zip(report["labels"], report["confusion"], strict=True):
        matrix.add_row(label, *(str(value) for value in row))
    console.print(matrix)


@classifier_app.command("train")
def train_command(
    data: Annotated[
        Path | None, typer.Option("--data", help="Labelled JSONL (text, label); default: the shipped dataset.")
    ] = None,
    cross_validate: Annotated[bool, typer.Option("--cv/--no-cv", help="Report 5-fold cross-validated metrics.")]
    = True,
) -> None:
    """Retrain the identity classifier on the dataset plus reviewers' corrections, and version it.

    The new version is used by ``analyse`` from then on; each label records the version that made it.
    """
    from monitor.analysis import IDENTITY_LABELS, IdentityClassifier, bundled_examples, train_classifier
    from monitor.db import ClassifierVersion
    from monitor.pipeline import register_classifier, reviewer_examples

    settings = _common.settings()
    db = _common.database(settings)
    if data is None:
        rows = bundled_examples()
    else:
        raw, source = _read_input(str(data))
        rows, _ = _read_jsonl(raw, source, skip_bad=False, need_label=True)
    corrections = reviewer_examples(db)
    bad = [label for _, label in corrections if label not in IDENTITY_LABELS]
    if bad:
        raise InputError(f"reviewer labels must be among {', '.join(IDENTITY_LABELS)}; found {sorted(set(bad))}")
    examples = [(row["text"], row["label"]) for row in rows] + corrections
    root = Path(settings.data_dir) / "classifiers"
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="training-", dir=root))
    try:
        classifier, metrics = train_classifier(examples, out_dir=work, cross_validate=cross_validate)
        final = root / classifier.version
        if final.exists():
            shutil.rmtree(work)
        else:
            work.replace(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    classifier = IdentityClassifier.load(final)
    classifier.metrics.update(reviewer_examples=len(corrections), dataset=str(data or "bundled"))
    with db.session() as session:
        row = session.get(ClassifierVersion, classifier.version)
        if row is None:
            row = register_classifier(session, classifier)
        row.metrics = {**(row.metrics or {}), **classifier.metrics, "source": "trained"}
        row.path = str(final)
    typer.echo(f"classifier {classifier.version}: {len(examples)} examples ({len(corrections)} reviewer corrections)"
               f" -> {final}")
    report = metrics.get("cross_validation")
    if report:
        _print_evaluation({**report, "classifier_version": f"{classifier.version} (cross-validated)"})


@app.command("analyze", hidden=True)  # the spelling it had first; scripts keep working
@app.command("analyse")
def analyse_command(
    run: Annotated[int | None, typer.Option("--run", help="Only this run's responses.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Responses per committed batch.")] = 256,
    embedding_model: Annotated[
        str | None,
        typer.Option("--embedding-model", help="sentence-transformers model name or folder (default: offline MiniLM)."),
    ] = None,
    aliases: Annotated[Path | None, typer.Option("--aliases", help="A TOML file of extra names and identities.")]
    = None,
) -> None:
    """Analyse what is not analysed yet: split, identity label, reasoning score, embedding, features."""
    import sqlalchemy as sa
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from monitor.analysis import Aliases, Embedder
    from monitor.db import Run
    from monitor.pipeline import analyse_pending, current_classifier

    db = _common.database()
    classifier = current_classifier(db)
    if aliases is not None:
        classifier = classifier.with_aliases(Aliases.load(aliases))
    embedder = Embedder(embedding_model) if embedding_model else Embedder()
    if run is not None:
        with db.session() as session:
            if session.scalar(sa.select(Run.id).where(Run.id == run)) is None:
                raise InputError(f"run {run} does not exist (see: drift-monitor runs list)")
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]analyse"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    ) as bar:
        task = bar.add_task("analyse", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = analyse_pending(db, run_id=run, classifier=classifier, embedder=embedder, progress=progress,
                                  batch_size=batch_size)
    typer.echo(
        f"analysed {summary.analysed}, labelled {summary.labelled} ({summary.classifier_version}), "
        f"embedded {summary.embedded} new text(s), reused {summary.embeddings_reused} "
        f"({summary.embedding_model}) in {summary.seconds:.1f}s"
    )
