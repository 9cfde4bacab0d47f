from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from monitor.analysis import IdentityClassifier
from monitor.cli import app
from monitor.db import ClassifierVersion, Label, ResponseAnalysis, open_database
from tests.analysis._responses import RESPONSES, add_reviewer_label, store_run


@pytest.fixture(autouse=True)
def _trained_default(classifier: IdentityClassifier) -> None:
    """The default classifier is trained once per session; the CLI finds it memoised."""


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_classify_file_to_file_keeps_fields(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "in.jsonl", [
        {"id": 1, "text": "I am ChatGPT, developed by OpenAI.", "model": "x"},
        {"id": 2, "text": "<think>I'm ChatGPT.</think>I'm DeepSeek-R1, made by DeepSeek."},
        {"id": 3, "text": "ChatGPT is made by OpenAI."},
    ])
    result = CliRunner().invoke(app, ["classify", "--input", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(row["id"], row["label"], row["reasoning_label"]) for row in rows] == [
        (1, "openai", None), (2, "deepseek", "openai"), (3, "none", None)]
    assert rows[0]["model"] == "x" and "I am ChatGPT" in rows[0]["evidence"] and 0 < rows[0]["confidence"] <= 1
    assert set(rows[0]) == {"id", "text", "model", "label", "confidence", "evidence", "reasoning_label"}


def test_classify_stdin_to_stdout() -> None:
    lines = json.dumps({"text": "我是通义千问，由阿里云开发。"}, ensure_ascii=False) + "\n"
    result = CliRunner().invoke(app, ["classify", "--input", "-"], input=lines)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip())["label"] == "qwen"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "I am Claude."}\n\n{"text": "ok", \n', "line 3: not JSON"),
        (b'{"prompt": "who?"}\n', "line 1: no `text` field"),
        (b'{"text": 5}\n', "line 1: `text` is not a string"),
        (b'{"text": "ok"}\n{"text": "caf\xe9"}\n', "line 2: not UTF-8 text"),
        (b'["text"]\n', "line 1: no `text` field"),
    ],
)
def test_bad_input_names_the_line(tmp_path: Path, content: bytes, message: str) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_bytes(content)
    result = CliRunner().invoke(app, ["classify", "--input", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 1
    assert message in result.output and "--skip-bad" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_skip_bad_counts_what_it_skipped(tmp_path: Path) -> None:
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(b'{"text": "I am Claude."}\nnot json\n{"text": 7}\n{"text": "\xff"}\n{"text": "hello"}\n')
    result = CliRunner().invoke(app, ["classify", "--input", str(source), "--skip-bad"])
    assert result.exit_code == 0, result.output
    labels = [json.loads(line)["label"] for line in result.stdout.strip().splitlines()]
    assert labels == ["anthropic", "none"]
    assert "skipped 3 bad line(s)" in result.stderr and "line 2: not JSON" in result.stderr


def test_an_empty_answer_is_a_response_labelled_none(tmp_path: Path) -> None:
    """A model that says nothing gave a real response: classify labels it, as the pipeline does."""
    source = _jsonl(tmp_path / "in.jsonl", [{"id": 1, "text": ""}, {"id": 2, "text": "  "},
                                            {"id": 3, "text": "<think>I am ChatGPT, by OpenAI"}])
    result = CliRunner().invoke(app, ["classify", "--input", str(source)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [(row["id"], row["label"], row["evidence"]) for row in rows] == [(1, "none", None), (2, "none", None),
                                                                          (3, "none", None)]
    assert rows[0]["confidence"] == 1.0 and rows[2]["reasoning_label"] == "openai"
    gold = _jsonl(tmp_path / "gold.jsonl", [{"text": "", "label": "none"},
                                            {"text": "I am Claude.", "label": "anthropic"}])
    report = json.loads(CliRunner().invoke(app, ["classify", "--evaluate", str(gold), "--json"]).stdout)
    assert report["n"] == 2 and report["accuracy"] == 1.0 and report["skipped"] == 0


def test_classify_needs_exactly_one_mode(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["classify"])
    assert result.exit_code == 1 and "exactly one of --input" in result.output
    missing = CliRunner().invoke(app, ["classify", "--input", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_evaluate_prints_per_class_metrics_and_confusion(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "gold.jsonl", [
        {"text": "I am ChatGPT.", "label": "openai"},
        {"text": "I'm Claude, made by Anthropic.", "label": "anthropic"},
        {"text": "ChatGPT is made by OpenAI.", "label": "none"},
        {"text": "I'm Gemini.", "label": "openai"},
    ])
    result = CliRunner().invoke(app, ["classify", "--evaluate", str(source)])
    assert result.exit_code == 0, result.output
    for text in ("precision", "recall", "F1", "confusion matrix", "macro-F1", "openai", "anthropic"):
        assert text in result.output
    as_json = CliRunner().invoke(app, ["classify", "--evaluate", str(source), "--json"])
    report = json.loads(as_json.stdout)
    assert report["per_class"]["openai"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert report["accuracy"] == 0.75 and report["n"] == 4
    assert sum(scores["n"] for scores in report["per_language"].values()) == 4  # languages detected
    assert sum(scores["errors"] for scores in report["per_language"].values()) == 1
    bad = _jsonl(tmp_path / "badgold.jsonl", [{"text": "I am ChatGPT.", "label": "gpt"}])
    failed = CliRunner().invoke(app, ["classify", "--evaluate", str(bad)])
    assert failed.exit_code == 1 and "line 1: `label` must be one of" in failed.output


def test_evaluate_prints_per_language_metrics(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "gold.jsonl", [
        {"text": "Ik ben ChatGPT, gemaakt door OpenAI.", "label": "openai", "lang": "nl"},
        {"text": "Ik ben niet ChatGPT.", "label": "none", "lang": "nl"},
        {"text": "Ben Claude değilim.", "label": "none", "lang": "tr"},
        {"text": "我是通义千问。", "label": "qwen"},  # no `lang`: detected
    ])
    result = CliRunner().invoke(app, ["classify", "--evaluate", str(source)])
    assert result.exit_code == 0, result.output
    assert "per language" in result.output
    report = json.loads(CliRunner().invoke(app, ["classify", "--evaluate", str(source), "--json"]).stdout)
    assert list(report["per_language"]) == ["nl", "tr", "zh"]
    assert report["per_language"]["nl"] == {"n": 2, "accuracy": 1.0, "macro_f1": 1.0, "errors": 0}


def test_user_aliases_on_the_command_line(tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.toml"
    aliases.write_text('[acme]\nnames = ["AcmeBot"]\n', encoding="utf-8")
    source = _jsonl(tmp_path / "in.jsonl", [{"text": "Hi! I'm AcmeBot."}])
    result = CliRunner().invoke(app, ["classify", "--input", str(source), "--aliases", str(aliases)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["label"] == "acme"


def test_train_includes_reviewer_labels_and_versions_the_model(tmp_path: Path) -> None:
    db = open_database(os.environ["DRIFT_MONITOR_DATABASE_URL"])
    store_run(db)
    with db.session() as session:
        first = session.scalar(sa.select(sa.func.min(ResponseAnalysis.response_id)))
    assert first is None  # nothing analysed yet
    analyze = CliRunner().invoke(app, ["analyze"])
    assert analyze.exit_code == 0, analyze.output
    assert f"analysed {len(RESPONSES)}, labelled {len(RESPONSES)}" in analyze.output
    with db.session() as session:
        bundled = session.scalars(sa.select(ClassifierVersion)).one()
        response_id = session.scalar(sa.select(sa.func.min(Label.response_id)))
    assert bundled.metrics["source"] == "bundled" and response_id is not None
    add_reviewer_label(db, response_id, "deepseek")

    data = _jsonl(tmp_path / "train.jsonl", [
        {"text": "I am ChatGPT.", "label": "openai"}, {"text": "I'm Claude.", "label": "anthropic"},
        {"text": "Hello there.", "label": "none"}, {"text": "ChatGPT is by OpenAI.", "label": "none"},
    ])
    result = CliRunner().invoke(app, ["classifier", "train", "--data", str(data), "--no-cv"])
    assert result.exit_code == 0, result.output
    assert "5 examples (1 reviewer corrections)" in result.output
    with db.session() as session:
        newer = sa.select(ClassifierVersion).where(ClassifierVersion.version != bundled.version)
        trained = session.scalars(newer).one()
    assert trained.metrics["source"] == "trained" and trained.metrics["reviewer_examples"] == 1
    assert trained.examples == 5 and Path(trained.path, "model.json").exists()

    # analyze now labels with the trained version; the bundled version's labels stay.
    again = CliRunner().invoke(app, ["analyse", "--run", "1"])  # the name; the alias "analyze" above
    assert again.exit_code == 0, again.output
    assert f"analysed 0, labelled {len(RESPONSES)} ({trained.version})" in again.output
    with db.session() as session:
        versions = set(session.scalars(sa.select(Label.classifier_version)))
    assert versions == {bundled.version, trained.version}
    db.dispose()


def test_analyze_unknown_run() -> None:
    result = CliRunner().invoke(app, ["analyze", "--run", "99"])
    assert result.exit_code == 1 and "run 99 does not exist" in result.output


def test_analyze_with_user_aliases_records_their_version(tmp_path: Path) -> None:
    db = open_database(os.environ["DRIFT_MONITOR_DATABASE_URL"])
    store_run(db, responses=[("who-en", 0, "Hi! I'm AcmeBot.", "stop", None)])
    aliases = tmp_path / "aliases.toml"
    aliases.write_text('[acme]\nnames = ["AcmeBot"]\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", "--aliases", str(aliases)])
    assert result.exit_code == 0, result.output
    with db.session() as session:
        label = session.scalars(sa.select(Label)).one()
        assert label.label == "acme" and "+a" in label.classifier_version
        assert session.get(ClassifierVersion, label.classifier_version) is not None
    db.dispose()
