"""Every way a suite file can be wrong gives one error naming the file, the probe and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ProbeSuiteError
from monitor.probes import load_suite

HEADER = """\
name: bad
version: 1
sampling:
  temperature: 0.6
  top_p: 0.95
  max_tokens: 128
  samples: 2
  greedy: true
probes:
"""

GOOD_PROBE = """\
  - id: good
    category: identity
    language: en
    prompt: Who are you?
"""


def suite_text(probe: str, header: str = HEADER) -> str:
    return header + GOOD_PROBE + probe


PROBE_CASES = {
    "empty messages": (
        "  - {id: p1, category: identity, language: en, messages: []}\n",
        "probe 'p1': field 'messages': must be a non-empty list",
    ),
    "messages not a list": (
        "  - {id: p1, category: identity, language: en, messages: Who are you?}\n",
        "probe 'p1': field 'messages': must be a non-empty list",
    ),
    "no prompt at all": (
        "  - {id: p1, category: identity, language: en}\n",
        "probe 'p1': field 'prompt': is missing",
    ),
    "blank prompt": (
        "  - {id: p1, category: identity, language: en, prompt: '  '}\n",
        "probe 'p1': field 'prompt': must be a non-empty string",
    ),
    "prompt and messages": (
        "  - {id: p1, category: identity, language: en, prompt: Hi, messages: [{role: user, content: Hi}]}\n",
        "probe 'p1': field 'prompt': give either 'prompt'",
    ),
    "duplicate id": (
        "  - {id: good, category: identity, language: en, prompt: Who made you?}\n",
        "probe 'good': field 'id': duplicate id (also probe #1)",
    ),
    "missing id": (
        "  - {category: identity, language: en, prompt: Hi}\n",
        "probe #2: field 'id': must be a string",
    ),
    "id with spaces": (
        "  - {id: 'my probe', category: identity, language: en, prompt: Hi}\n",
        "probe #2: field 'id': must be a string of letters",
    ),
    "unknown key": (
        "  - {id: p1, category: identity, language: en, promt: Hi}\n",
        "probe 'p1': field 'promt': unknown key; allowed keys are id, category",
    ),
    "bad role": (
        "  - id: p1\n    category: identity\n    language: en\n    messages:\n      - {role: robot, content: Hi}\n",
        "probe 'p1': field 'messages[0].role': must be one of system, user, assistant, got 'robot'",
    ),
    "unknown message key": (
        "  - id: p1\n    category: identity\n    language: en\n    messages:\n"
        "      - {role: user, content: Hi, name: bob}\n",
        "probe 'p1': field 'messages[0].name': unknown key",
    ),
    "empty content": (
        "  - id: p1\n    category: identity\n    language: en\n    messages:\n      - {role: user, content: ''}\n",
        "probe 'p1': field 'messages[0].content': must be a non-empty string",
    ),
    "system not first": (
        "  - id: p1\n    category: identity\n    language: en\n    messages:\n"
        "      - {role: user, content: Hi}\n      - {role: system, content: Be nice.}\n"
        "      - {role: user, content: Who are you?}\n",
        "probe 'p1': field 'messages[1].role': must be 'assistant' here, got 'system' (a system message may only",
    ),
    "two user turns in a row": (
        "  - id: p1\n    category: identity\n    language: en\n    messages:\n"
        "      - {role: user, content: Hi}\n      - {role: user, content: Who are you?}\n",
        "probe 'p1': field 'messages[1].role': must be 'assistant' here, got 'user'",
    ),
    "ends with assistant": (
        "  - id: p1\n    category: identity\n    language: en\n    messages:\n"
        "      - {role: user, content: Hi}\n      - {role: assistant, content: Hello}\n",
        "probe 'p1': field 'messages': must end with a user message",
    ),
    "only a system message": (
        "  - id: p1\n    category: identity\n    language: en\n    messages:\n      - {role: system, content: Hi}\n",
        "probe 'p1': field 'messages': has only a system message",
    ),
    "blank system": (
        "  - {id: p1, category: identity, language: en, system: '', prompt: Hi}\n",
        "probe 'p1': field 'system': must be a non-empty string",
    ),
    "reasoning without expected": (
        "  - {id: p1, category: reasoning, language: en, prompt: What is 2 + 2?}\n",
        "probe 'p1': field 'expected': is required for a reasoning probe",
    ),
    "expected as a float": (
        "  - {id: p1, category: reasoning, language: en, prompt: What is 1/2?, expected: 0.5}\n",
        "probe 'p1': field 'expected': must be a non-empty string (quote numbers), got 0.5",
    ),
    "unknown category": (
        "  - {id: p1, category: identiy, language: en, prompt: Hi}\n",
        "probe 'p1': field 'category': must be one of identity, reasoning, format, got 'identiy'",
    ),
    "missing category": (
        "  - {id: p1, language: en, prompt: Hi}\n",
        "probe 'p1': field 'category': must be one of identity, reasoning, format, got None",
    ),
    "language not ISO 639-1": (
        "  - {id: p1, category: identity, language: english, prompt: Hi}\n",
        "probe 'p1': field 'language': must be an ISO 639-1 code",
    ),
    "tags not a list": (
        "  - {id: p1, category: identity, language: en, tags: direct, prompt: Hi}\n",
        "probe 'p1': field 'tags': must be a list of non-empty strings",
    ),
    "duplicate tag": (
        "  - {id: p1, category: identity, language: en, tags: [direct, direct], prompt: Hi}\n",
        "probe 'p1': field 'tags': has a duplicate tag",
    ),
    "probe not a mapping": (
        "  - Who are you?\n",
        "probe #2: must be a mapping",
    ),
}


@pytest.mark.parametrize("case", sorted(PROBE_CASES))
def test_probe_errors_name_file_probe_and_field(case: str, tmp_path: Path) -> None:
    probe, expected = PROBE_CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(suite_text(probe), encoding="utf-8")
    with pytest.raises(ProbeSuiteError) as caught:
        load_suite(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message
    assert "\n" not in message


SUITE_CASES = {
    "negative temperature": (
        ("temperature: 0.6", "temperature: -0.1"),
        "field 'sampling.temperature': must be a number >= 0",
    ),
    "top_p zero": (("top_p: 0.95", "top_p: 0"), "field 'sampling.top_p': must be a number with 0 < top_p <= 1, got 0"),
    "top_p above one": (("top_p: 0.95", "top_p: 1.5"), "field 'sampling.top_p': must be a number with 0 < top_p <= 1"),
    "top_p not a number": (("top_p: 0.95", "top_p: high"), "field 'sampling.top_p'"),
    "temperature nan": (("temperature: 0.6", "temperature: .nan"), "field 'sampling.temperature'"),
    "max_tokens zero": (("max_tokens: 128", "max_tokens: 0"), "field 'sampling.max_tokens': must be an integer >= 1"),
    "max_tokens float": (("max_tokens: 128", "max_tokens: 12.5"), "field 'sampling.max_tokens'"),
    "negative samples": (("samples: 2", "samples: -1"), "field 'sampling.samples': must be an integer >= 0"),
    "samples bool": (("samples: 2", "samples: true"), "field 'sampling.samples': must be an integer >= 0"),
    "nothing to generate": (
        ("samples: 2\n  greedy: true", "samples: 0\n  greedy: false"),
        "field 'sampling.samples': must be >= 1 when greedy is false",
    ),
    "greedy not a bool": (("greedy: true", "greedy: sometimes"), "field 'sampling.greedy': must be true or false"),
    "unknown sampling key": (("samples: 2", "samples: 2\n  top_k: 20"), "field 'sampling.top_k': unknown key"),
    "unknown top-level key": (("version: 1", "version: 1\nauthor: me"), "field 'author': unknown key"),
    "version zero": (("version: 1", "version: 0"), "field 'version': must be an integer >= 1"),
    "version string": (("version: 1", "version: one"), "field 'version': must be an integer >= 1"),
    "bad name": (("name: bad", "name: Bad Suite"), "field 'name': must be a lowercase name"),
    "missing name": (("name: bad\n", ""), "field 'name': must be a lowercase name"),
    "unknown default": (("version: 1", "version: 1\ndefaults: {tags: [x]}"), "field 'defaults.tags': unknown key"),
}


@pytest.mark.parametrize("case", sorted(SUITE_CASES))
def test_suite_level_errors_name_the_field(case: str, tmp_path: Path) -> None:
    (old, new), expected = SUITE_CASES[case]
    header = HEADER.replace(old, new, 1)
    assert header != HEADER
    path = tmp_path / "bad.yaml"
    path.write_text(suite_text("", header=header), encoding="utf-8")
    with pytest.raises(ProbeSuiteError) as caught:
        load_suite(str(path))
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_no_probes(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(ProbeSuiteError, match=r"empty\.yaml: field 'probes': must be a non-empty list of probes"):
        load_suite(str(path))


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "just a string\n"])
def test_document_must_be_a_mapping(text: str, tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProbeSuiteError, match=r"odd\.yaml: must be a mapping with keys name, version, probes"):
        load_suite(str(path))


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    text = suite_text("  - id: p1\n    prompt: [unclosed\n    language: en\n")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProbeSuiteError) as caught:
        load_suite(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: line ")
    assert "invalid YAML" in message
    line = int(message.split("line ", 1)[1].split(",", 1)[0])
    assert 14 <= line <= 16  # the unclosed flow sequence starts on line 15


def test_bad_indentation_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "indent.yaml"
    path.write_text("name: bad\nversion: 1\n  probes: []\n", encoding="utf-8")
    with pytest.raises(ProbeSuiteError, match=r"indent\.yaml: line 3, column \d+: invalid YAML"):
        load_suite(str(path))


def test_duplicate_yaml_keys_are_errors_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(suite_text("  - id: p1\n    category: identity\n    language: en\n    prompt: A\n    prompt: B\n"))
    with pytest.raises(
        ProbeSuiteError, match=r"dup\.yaml: line 18, column 5: invalid YAML: found duplicate key 'prompt'"
    ):
        load_suite(str(path))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(
        suite_text("  - {id: p1, category: identity, language: fr, prompt: Qui êtes-vous ?}\n").encode("latin-1")
    )
    with pytest.raises(ProbeSuiteError, match=r"latin1\.yaml: not UTF-8 text"):
        load_suite(str(path))


def test_defaults_fill_category_and_language(tmp_path: Path) -> None:
    path = tmp_path / "defaults.yaml"
    header = HEADER.replace("probes:\n", "defaults: {category: format, language: de}\nprobes:\n")
    path.write_text(suite_text("  - {id: p1, prompt: Wer bist du?}\n", header=header), encoding="utf-8")
    suite = load_suite(str(path))
    assert [(p.id, p.category, p.language) for p in suite.probes] == [
        ("good", "identity", "en"),
        ("p1", "format", "de"),
    ]


def test_integer_expected_becomes_a_string(tmp_path: Path) -> None:
    path = tmp_path / "int.yaml"
    path.write_text(suite_text("  - {id: p1, category: reasoning, language: en, prompt: 6*7?, expected: 42}\n"))
    assert load_suite(str(path)).probes[1].expected == "42"
