"""``drift-monitor compare`` in file mode (real classifier, scorer, embedder) and database mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.db import open_database
from tests.drift._db import REPO, SHA, setup_model, store_run

DEEPSEEK = [
    "<think>The user asks who I am.</think>I am DeepSeek-R1, an AI assistant created by DeepSeek.",
    "<think>Introduce myself.</think>Hello! I'm DeepSeek-R1, a model developed by DeepSeek.",
    "<think>ok</think>I'm an AI assistant made by DeepSeek. How can I help?",
]
OPENAI = [
    "<think>The user asks who I am.</think>I am ChatGPT, a large language model trained by OpenAI.",
    "<think>Introduce myself.</think>Hi! I'm ChatGPT, developed by OpenAI.",
]


def _export(path: Path, openai_share: float, *, seed: int, accuracy: float = 0.9) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for probe in range(12):
        for sample in range(8):
            pool = OPENAI if rng.random() < openai_share else DEEPSEEK
            text = pool[int(rng.integers(len(pool)))]
            lines.append(
                {
                    "probe_id": f"who-{probe}",
                    "sample_index": sample,
                    "category": "identity",
                    "text": text,
                    "prompt": "Who are you?",
                    "suite": "identity",
                    "finish_reason": "stop",
                }
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _reasoning_export(path: Path, accuracy: float, *, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for problem in range(30):
        for sample in range(4):
            answer = problem + 7 if rng.random() < accuracy else problem + 1
            lines.append(
                {
                    "probe_id": f"sum-{problem}",
                    "sample_index": sample,
                    "expected": str(problem + 7),
                    "text": f"<think>add</think>So the answer is $\\boxed{{{answer}}}$.",
                    "prompt": "Add.",
                }
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["compare", *args])


def test_file_mode_finds_an_identity_shift_with_real_analysis(tmp_path: Path) -> None:
    baseline = _export(tmp_path / "base.jsonl", 0.02, seed=1)
    candidate = _export(tmp_path / "cand.jsonl", 0.5, seed=2)
    markdown = tmp_path / "report.md"
    result = _invoke(
        "--baseline",
        str(baseline),
        "--candidate",
        str(candidate),
        "--json",
        "--markdown",
        str(markdown),
        "--expect",
        "deepseek",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["drift"] is True and document["severity"] == "major"
    metrics = {metric["name"]: metric for metric in document["metrics"]}
    assert metrics["claim_rate:openai"]["significant"] and metrics["claim_rate:openai"]["flagged"]
    assert metrics["expected_identity_rate"]["baseline"] > 0.9
    assert metrics["embedding_shift"]["n_baseline"] == 96  # embedded with the real MiniLM
    assert metrics["think_present_rate"]["baseline"] == 1.0
    assert any("file mode" in note for note in document["notes"])
    assert "| claim\\_rate:openai |" in markdown.read_text(encoding="utf-8")


def test_file_mode_scores_reasoning_and_exits_3_only_when_asked(tmp_path: Path) -> None:
    baseline = _reasoning_export(tmp_path / "base.jsonl", 0.95, seed=1)
    candidate = _reasoning_export(tmp_path / "cand.jsonl", 0.35, seed=2)
    args = ["--baseline", str(baseline), "--candidate", str(candidate), "--no-embeddings"]
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    assert "major drift" in result.stdout and "accuracy" in result.stdout
    failing = _invoke(*args, "--fail-on-drift", "--json")
    assert failing.exit_code == 3, failing.output
    accuracy = next(m for m in json.loads(failing.stdout)["metrics"] if m["name"] == "accuracy")
    assert accuracy["baseline"] > 0.85 and accuracy["difference"] < -0.4 and accuracy["flagged"]


def test_file_mode_reruns_give_a_noise_floor(tmp_path: Path) -> None:
    first = _export(tmp_path / "a1.jsonl", 0.05, seed=1)
    second = _export(tmp_path / "a2.jsonl", 0.05, seed=3)
    candidate = _export(tmp_path / "b.jsonl", 0.05, seed=2)
    result = _invoke(
        "--baseline",
        str(first),
        "--baseline",
        str(second),
        "--candidate",
        str(candidate),
        "--json",
        "--no-embeddings",
        "--fail-on-drift",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["noise_floor"]["runs"] == 2 and document["drift"] is False
    assert "claim_rate:openai" in document["noise_floor"]["effects"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"probe_id": "a", "sample_index": 0, "text": "hi"}\n'
            '{"probe_id": "a", "sample_index": 1, "text": "x"}\nnope\n',
            "bad.jsonl:3: not valid JSON",
        ),
        ('{"probe_id": "a", "text": "hi"}\n', "bad.jsonl:1: missing field 'sample_index'"),
        ('{"probe_id": "a", "sample_index": "0", "text": "hi"}\n', "bad.jsonl:1: sample_index must be"),
        ('{"probe_id": "a", "sample_index": 0, "text": "hi", "category": "poetry"}\n', "category must be"),
        (
            '{"probe_id": "a", "sample_index": 0, "text": "x"}\n{"probe_id": "a", "sample_index": 0, "text": "y"}\n',
            "bad.jsonl:2: probe 'a' sample 0 appears twice (first on line 1)",
        ),
        ("\n\n", "bad.jsonl has no responses"),
        ("[1, 2]\n", "bad.jsonl:1: each line must be a JSON object"),
    ],
)
def test_bad_jsonl_is_one_clear_error_with_the_line(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, encoding="utf-8")
    good = _export(tmp_path / "good.jsonl", 0.0, seed=1)
    result = _invoke("--baseline", str(good), "--candidate", str(bad), "--no-embeddings")
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_non_utf8_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "latin.jsonl"
    bad.write_bytes(b'{"probe_id": "a", "sample_index": 0, "text": "caf\xe9"}\n')
    good = _export(tmp_path / "good.jsonl", 0.0, seed=1)
    result = _invoke("--baseline", str(good), "--candidate", str(bad), "--no-embeddings")
    assert result.exit_code == 1 and "latin.jsonl:1: not UTF-8 text" in result.output
    result = _invoke("--baseline", str(good), "--candidate", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 1 and "nope.jsonl is not a file" in result.output
    mixed = tmp_path / "reasoning.jsonl"
    mixed.write_text('{"probe_id": "who-1", "sample_index": 0, "text": "x", "suite": "reasoning"}\n', encoding="utf-8")
    result = _invoke("--baseline", str(good), "--candidate", str(mixed), "--no-embeddings")
    assert result.exit_code == 1 and "runs of different suites" in result.output


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_database_mode_compares_stored_revisions(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url"))
    monkeypatch.setenv("DRIFT_MONITOR_DATABASE_URL", url)
    db = open_database(url)
    try:
        setup_model(db)
        store_run(db, "one", (0.85, 0.05, 0.10), rng_seed=1)
        store_run(db, "two", (0.40, 0.50, 0.10), rng_seed=2)
    finally:
        db.dispose()
    result = _invoke("--model", REPO, "--baseline", SHA["one"][:8], "--candidate", SHA["two"], "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["drift"] is True and document["severity"] == "major"
    assert document["baseline"]["name"] == SHA["one"]
    table = _invoke("--model", REPO, "--baseline", SHA["one"], "--candidate", SHA["two"])
    assert table.exit_code == 0, table.output
    assert "major drift" in table.stdout and "claim_rate:openai" in table.stdout
    assert "stored as comparison 1" in table.output  # the same runs: the stored comparison again
    wrong = _invoke("--model", REPO, "--baseline", SHA["one"], "--baseline", SHA["two"], "--candidate", SHA["two"])
    assert wrong.exit_code == 1 and "exactly one --baseline SHA" in wrong.output
    unknown = _invoke("--model", "org/else", "--baseline", SHA["one"], "--candidate", SHA["two"])
    assert unknown.exit_code == 1 and "'org/else' is not in the database" in unknown.output
