"""``drift-monitor probes list | show | import``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.probes import load_suite
from tests._shared_data import SHARED_DATA

DATA = SHARED_DATA


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_list_shows_every_suite_with_counts_and_hash() -> None:
    code, output = invoke("probes", "list")
    assert code == 0, output
    for name in ("identity", "reasoning", "format"):
        suite = load_suite(name)
        row = next(line for line in output.splitlines() if f" {name} " in line)
        assert suite.content_hash[:12] in row
        assert f" {len(suite.probes)} " in row
        assert f"{name} {len(suite.probes)}" in row  # category counts
        assert f"probes/{name}.yaml" in row
    assert "8 + greedy @ T=0.6 p=0.95 ≤2048 tok" in output


def test_list_json() -> None:
    code, output = invoke("probes", "list", "--json")
    assert code == 0, output
    rows = {row["name"]: row for row in json.loads(output)}
    identity = load_suite("identity")
    assert rows["identity"]["content_hash"] == identity.content_hash
    assert rows["identity"]["probes"] == len(identity.probes)
    assert rows["identity"]["categories"] == {"identity": len(identity.probes)}
    assert rows["identity"]["sampling"]["samples"] == 8
    assert rows["identity"]["file"].endswith("probes/identity.yaml")


def test_show_lists_probes_and_hash() -> None:
    code, output = invoke("probes", "show", "identity")
    assert code == 0, output
    suite = load_suite("identity")
    assert f"content hash: {suite.content_hash}" in output
    assert "direct-who-en" in output and "Who are you?" in output
    assert "你是谁？" in output
    # a multi-turn probe shows its first user message
    assert "Hi! Can you help me plan a weekend trip to Lisbon?" in output
    assert f"{len(suite.probes)} probes" in output


def test_show_json() -> None:
    code, output = invoke("probes", "show", "reasoning", "--json")
    assert code == 0, output
    document = json.loads(output)
    suite = load_suite("reasoning")
    assert document["content_hash"] == suite.content_hash
    assert len(document["probes"]) == len(suite.probes)
    first = document["probes"][0]
    assert first["id"] == suite.probes[0].id
    assert first["expected"] == suite.probes[0].expected
    assert first["first_user_message"] == suite.probes[0].prompt
    assert set(first) >= {"id", "category", "language", "tags", "first_user_message"}


def test_show_a_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nversion: 2\nprobes:\n  - {id: q, category: format, language: en, prompt: Hello}\n")
    code, output = invoke("probes", "show", str(path))
    assert code == 0, output
    assert "mine v2" in output and str(path) in output


def test_show_unknown_suite_fails_with_one_line() -> None:
    code, output = invoke("probes", "show", "identiti")
    assert code == 1
    assert output.strip().splitlines() == [
        "error: unknown suite 'identiti'; available suites: format, identity, reasoning "
        "(or give the path of a YAML file)"
    ]


def test_show_invalid_suite_file_fails_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nversion: 1\nprobes:\n  - {id: p, category: identity, language: en, messages: []}\n")
    code, output = invoke("probes", "show", str(path))
    assert code == 1
    assert f"error: {path}: probe 'p': field 'messages': must be a non-empty list" in output


def test_import_math500_then_list_and_show(tmp_path: Path) -> None:
    code, output = invoke("probes", "import", "--format", "math500", str(DATA / "math500.jsonl"), "--name", "math500")
    assert code == 0, output
    target = tmp_path / "data" / "probes" / "math500.yaml"
    assert target.is_file()
    suite = load_suite("math500")
    assert f"imported 500 math500 problems into suite 'math500' (content hash {suite.content_hash[:12]})" in output
    assert str(target) in output

    code, output = invoke("probes", "list")
    assert code == 0, output
    row = next(line for line in output.splitlines() if " math500 " in line)
    assert "reasoning 500" in row and suite.content_hash[:12] in row and "4 @ T=0.6" in row

    code, output = invoke("probes", "show", "math500")
    assert code == 0, output
    assert "math500-000" in output and "Convert the point $(0,3)$" in output


def test_import_with_limit_and_sampling_options() -> None:
    code, output = invoke(
        "probes", "import", str(DATA / "aime2024.jsonl"), "--format", "aime", "--name", "aime",
        "--limit", "5", "--samples", "16", "--max-tokens", "8192",
    )  # fmt: skip
    assert code == 0, output
    assert "imported 5 aime problems" in output
    suite = load_suite("aime")
    assert (len(suite.probes), suite.sampling.samples, suite.sampling.max_tokens) == (5, 16, 8192)


def test_import_bad_jsonl_line_fails_naming_the_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    lines = (DATA / "gsm8k_test.jsonl").read_text(encoding="utf-8").splitlines()[:2]
    source.write_text("\n".join([*lines, '{"id": "x", "problem": "unterminated']) + "\n", encoding="utf-8")
    code, output = invoke("probes", "import", "--format", "gsm8k", str(source), "--name", "bad")
    assert code == 1
    assert "bad.jsonl: line 3: not valid JSON" in output
    assert output.startswith("error: ")
    assert not (tmp_path / "data" / "probes" / "bad.yaml").exists()


def test_import_refuses_unknown_format_and_missing_name() -> None:
    code, output = invoke("probes", "import", "--format", "mmlu", str(DATA / "math500.jsonl"), "--name", "x")
    assert code == 2
    assert "mmlu" in output
    code, output = invoke("probes", "import", "--format", "math500", str(DATA / "math500.jsonl"))
    assert code == 2
    assert "--name" in output


def test_import_missing_file(tmp_path: Path) -> None:
    code, output = invoke("probes", "import", "--format", "gsm8k", str(tmp_path / "none.jsonl"), "--name", "x")
    assert code == 1
    assert "none.jsonl does not exist" in output
