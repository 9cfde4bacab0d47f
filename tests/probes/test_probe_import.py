"""Importing the real benchmark files (../shared/data) as reasoning suites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.errors import InputError
from monitor.probes import IMPORT_SAMPLING, REASONING_INSTRUCTION, SuiteSampling, import_benchmark, load_suite
from tests._shared_data import SHARED_DATA

DATA = SHARED_DATA


def records(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_import_math500(tmp_path: Path) -> None:
    path = import_benchmark("math500", DATA / "math500.jsonl", "math500")
    assert path == tmp_path / "data" / "probes" / "math500.yaml"
    assert [p.name for p in path.parent.iterdir()] == ["math500.yaml"]  # no temporary file left behind
    suite = load_suite("math500")
    rows = records("math500.jsonl")
    assert len(suite.probes) == len(rows) == 500
    assert suite.sampling == IMPORT_SAMPLING
    for probe, row in zip(suite.probes, rows, strict=True):
        assert probe.id == row["id"]
        assert probe.category == "reasoning"
        assert probe.expected == row["answer"]
        assert probe.prompt == f"{str(row['problem']).strip()}\n\n{REASONING_INSTRUCTION}"
        assert probe.tags[0] == "math500"
        assert f"level:{row['level']}" in probe.tags
    assert "subject:intermediate-algebra" in {tag for probe in suite.probes for tag in probe.tags}
    assert suite.description == "MATH-500: 500 problems imported from math500.jsonl"


def test_import_gsm8k_with_limit(tmp_path: Path) -> None:
    import_benchmark("gsm8k", DATA / "gsm8k_test.jsonl", "gsm8k-100", limit=100)
    suite = load_suite("gsm8k-100")
    rows = records("gsm8k_test.jsonl")[:100]
    assert [(p.id, p.expected) for p in suite.probes] == [(r["id"], r["answer"]) for r in rows]


def test_import_gsm8k_whole_file(tmp_path: Path) -> None:
    path = import_benchmark("gsm8k", DATA / "gsm8k_test.jsonl", "gsm8k")
    assert len(load_suite(str(path)).probes) == 1319


def test_import_aime_normalises_zero_padded_answers(tmp_path: Path) -> None:
    sampling = SuiteSampling(temperature=0.6, top_p=0.95, max_tokens=1000, samples=16, greedy=False)
    import_benchmark("aime", DATA / "aime2024.jsonl", "aime2024", sampling=sampling)
    suite = load_suite("aime2024")
    assert len(suite.probes) == 30
    assert suite.sampling == sampling
    answers = {row["id"]: row["answer"] for row in records("aime2024.jsonl")}
    assert answers["aime2024-67"] == "025"
    by_id = {probe.id: probe for probe in suite.probes}
    assert by_id["aime2024-67"].expected == "25"
    assert all(probe.expected == str(int(str(answers[probe.id]))) for probe in suite.probes)


def test_reimport_replaces_the_suite(tmp_path: Path) -> None:
    import_benchmark("math500", DATA / "math500.jsonl", "m", limit=3)
    first = load_suite("m")
    import_benchmark("math500", DATA / "math500.jsonl", "m", limit=5)
    second = load_suite("m")
    assert (len(first.probes), len(second.probes)) == (3, 5)
    assert first.content_hash != second.content_hash


def bad_file(tmp_path: Path, bad_line: str) -> Path:
    lines = (DATA / "gsm8k_test.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([*lines[:2], "", bad_line, lines[2]]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ('{"id": "x", "problem": "1+1?", "answer": "2"', r"line 4: not valid JSON \(Expecting ',' delimiter"),
        ('["a list"]', "line 4: must be a JSON object with problem and answer"),
        ('{"id": "x", "answer": "2"}', "line 4: field 'problem' must be a non-empty string"),
        ('{"id": "x", "problem": "1+1?"}', "line 4: field 'answer' must be a non-empty string or integer"),
        ('{"id": "x y", "problem": "1+1?", "answer": "2"}', "line 4: field 'id' must use letters"),
        ('{"id": "gsm8k-0000", "problem": "1+1?", "answer": "2"}', "line 4: id 'gsm8k-0000' repeats line 1"),
    ],
)
def test_malformed_jsonl_names_the_line(tmp_path: Path, bad_line: str, expected: str) -> None:
    path = bad_file(tmp_path, bad_line)
    with pytest.raises(InputError, match=rf"bad\.jsonl: {expected}"):
        import_benchmark("gsm8k", path, "bad")
    assert not (tmp_path / "data" / "probes" / "bad.yaml").exists()


def test_limit_stops_before_a_bad_line(tmp_path: Path) -> None:
    path = bad_file(tmp_path, "not json")
    import_benchmark("gsm8k", path, "ok", limit=2)
    assert len(load_suite("ok").probes) == 2


def test_integer_answers_and_missing_ids(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text('{"problem": "What is 6 times 7?", "answer": 42}\n{"problem": "And 2+2?", "answer": "4"}\n')
    suite = load_suite(str(import_benchmark("gsm8k", path, "plain")))
    assert [(p.id, p.expected) for p in suite.probes] == [("plain-00001", "42"), ("plain-00002", "4")]


def test_aime_answer_must_be_an_integer(tmp_path: Path) -> None:
    path = tmp_path / "aime.jsonl"
    path.write_text('{"id": "a1", "problem": "Find N.", "answer": "\\\\frac{1}{2}"}\n')
    with pytest.raises(InputError, match=r"aime\.jsonl: line 1: field 'answer' must be an integer 0-999 for AIME"):
        import_benchmark("aime", path, "aime")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("identity", "'identity' is a built-in suite"), ("Math 500", "suite name 'Math 500' must be lowercase")],
)
def test_bad_suite_names(name: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        import_benchmark("math500", DATA / "math500.jsonl", name)


def test_missing_or_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nothing\.jsonl does not exist"):
        import_benchmark("math500", tmp_path / "nothing.jsonl", "x")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match=r"empty\.jsonl holds no problems"):
        import_benchmark("math500", empty, "x")


def test_limit_must_be_positive() -> None:
    with pytest.raises(InputError, match="--limit must be >= 1"):
        import_benchmark("math500", DATA / "math500.jsonl", "x", limit=0)
