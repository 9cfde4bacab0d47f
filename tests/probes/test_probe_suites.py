"""The installed suites: they load, meet their counts, and their content hash is a faithful identity."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from monitor.engines._protocol import Message, Sampling
from monitor.errors import ProbeSuiteError, UnknownSuiteError
from monitor.probes import (
    REASONING_INSTRUCTION,
    Suite,
    SuiteSampling,
    list_suites,
    load_suite,
    suite_files,
    suite_from_content,
    suite_to_yaml,
    suites_dirs,
)

REPO_PROBES = Path(__file__).resolve().parents[2] / "probes"

SMALL = """\
name: small
version: 3
description: two probes
sampling: {temperature: 0.7, top_p: 0.9, max_tokens: 64, samples: 2, greedy: true}
probes:
  - id: a
    category: identity
    language: en
    tags: [direct]
    system: You are a helpful assistant.
    prompt: Who are you?
  - id: b
    category: reasoning
    language: en
    prompt: What is 1 + 1?
    expected: "2"
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_suites_dirs_are_the_repository_then_the_data_dir(tmp_path: Path) -> None:
    assert suites_dirs() == [REPO_PROBES, tmp_path / "data" / "probes"]


def test_every_installed_suite_loads() -> None:
    suites = {suite.name: suite for suite in list_suites()}
    assert {"identity", "reasoning", "format"} <= set(suites)
    for name, suite in suites.items():
        assert suite_files()[name] == REPO_PROBES / f"{name}.yaml"
        assert load_suite(name) == suite


def test_identity_suite_covers_kinds_languages_system_prompts_and_multiturn() -> None:
    suite = load_suite("identity")
    assert len(suite.probes) >= 40
    assert {probe.category for probe in suite.probes} == {"identity"}
    languages = Counter(probe.language for probe in suite.probes)
    assert {"en", "zh"} <= set(languages)
    assert len(languages) >= 5
    tags = Counter(tag for probe in suite.probes for tag in probe.tags)
    assert {"direct", "leading", "indirect", "system", "multiturn"} <= set(tags)
    for probe in suite.probes:
        has_system = probe.messages[0].role == "system"
        assert has_system == ("system" in probe.tags), probe.id
        assert ("multiturn" in probe.tags) == any(m.role == "assistant" for m in probe.messages), probe.id
        assert probe.id.endswith(f"-{probe.language}"), probe.id
    prompts = {probe.prompt for probe in suite.probes}
    assert {"Who are you?", "Which company trained you?", "What model are you?", "Are you ChatGPT?"} <= prompts
    assert suite.sampling == SuiteSampling(temperature=0.6, top_p=0.95, max_tokens=2048, samples=8, greedy=True)


def test_reasoning_suite_has_gold_answers_and_the_boxed_instruction() -> None:
    suite = load_suite("reasoning")
    assert len(suite.probes) >= 60
    for probe in suite.probes:
        assert probe.category == "reasoning"
        assert probe.expected, probe.id
        assert [m.role for m in probe.messages] == ["user"], probe.id
        assert probe.prompt.endswith(REASONING_INSTRUCTION), probe.id
    assert len({tag for probe in suite.probes for tag in probe.tags}) >= 7


def test_format_suite() -> None:
    suite = load_suite("format")
    assert len(suite.probes) >= 8
    assert {probe.category for probe in suite.probes} == {"format"}
    tags = {tag for probe in suite.probes for tag in probe.tags}
    assert {"think", "one-word", "language", "json"} <= tags
    assert "zh" in {probe.language for probe in suite.probes}


def test_content_hash_is_sha256_of_canonical_json() -> None:
    suite = load_suite("identity")
    canonical = json.dumps(suite.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert suite.content_hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert len(suite.content_hash) == 64
    assert load_suite("identity").content_hash == suite.content_hash


def test_content_hash_ignores_formatting_but_not_content(tmp_path: Path) -> None:
    base = load_suite(str(write(tmp_path, "small", SMALL)))
    # comments, flow vs block style and the prompt/system shorthand vs explicit messages: same content
    reformatted = SMALL.replace(
        "    system: You are a helpful assistant.\n    prompt: Who are you?\n",
        "    messages:  # explicit form\n"
        "      - {role: system, content: You are a helpful assistant.}\n"
        "      - role: user\n        content: Who are you?\n",
    ).replace(
        "sampling: {temperature: 0.7, top_p: 0.9, max_tokens: 64, samples: 2, greedy: true}",
        "sampling:\n  greedy: true\n  samples: 2\n  max_tokens: 64\n  top_p: 0.9\n  temperature: 0.7",
    )
    assert reformatted != SMALL
    assert load_suite(str(write(tmp_path / "b", "small", reformatted))).content_hash == base.content_hash

    changes = {
        "prompt": SMALL.replace("Who are you?", "Who are you ?"),
        "expected": SMALL.replace('expected: "2"', 'expected: "3"'),
        "temperature": SMALL.replace("temperature: 0.7", "temperature: 0.8"),
        "samples": SMALL.replace("samples: 2", "samples: 3"),
        "version": SMALL.replace("version: 3", "version: 4"),
        "tags": SMALL.replace("tags: [direct]", "tags: [direct, system]"),
        "order": SMALL.replace("id: a", "id: c"),
    }
    hashes = {base.content_hash}
    for what, text in changes.items():
        assert text != SMALL, what
        hashes.add(load_suite(str(write(tmp_path / what, "small", text))).content_hash)
    assert len(hashes) == len(changes) + 1


def test_integer_sampling_values_hash_like_floats(tmp_path: Path) -> None:
    one = load_suite(str(write(tmp_path / "a", "small", SMALL.replace("top_p: 0.9", "top_p: 1"))))
    other = load_suite(str(write(tmp_path / "b", "small", SMALL.replace("top_p: 0.9", "top_p: 1.0"))))
    assert one.sampling.top_p == 1.0 and isinstance(one.sampling.top_p, float)
    assert one.content_hash == other.content_hash


@pytest.mark.parametrize("name", ["identity", "reasoning", "format"])
def test_content_round_trips_through_stored_json(name: str) -> None:
    suite = load_suite(name)
    stored = json.loads(json.dumps(suite.content()))  # what a JSON column gives back
    again = suite_from_content(stored)
    assert again == suite
    assert again.content_hash == suite.content_hash
    assert isinstance(again.probes[0].messages[0], Message)


@pytest.mark.parametrize("name", ["identity", "reasoning", "format"])
def test_suite_to_yaml_loads_back_equal(name: str, tmp_path: Path) -> None:
    suite = load_suite(name)
    text = suite_to_yaml(suite, header="a header\nover two lines")
    assert text.startswith("# a header\n# over two lines\n")
    assert load_suite(str(write(tmp_path, name, text))) == suite


def test_stored_content_that_no_longer_validates_says_so() -> None:
    content = load_suite("format").content()
    content["probes"][0]["messages"] = []
    with pytest.raises(ProbeSuiteError, match=r"stored suite content: probe 'think-short-en': field 'messages'"):
        suite_from_content(content)


def test_sample_indices_and_sampling() -> None:
    sampling = SuiteSampling(temperature=0.6, top_p=0.95, max_tokens=100, samples=3, greedy=True)
    assert list(sampling.sample_indices()) == [0, 1, 2, 3]
    assert sampling.sampling_for(0) == Sampling(temperature=0.0, top_p=1.0, max_tokens=100)
    assert sampling.sampling_for(0).greedy
    assert sampling.sampling_for(3) == Sampling(temperature=0.6, top_p=0.95, max_tokens=100)
    no_greedy = dataclasses.replace(sampling, greedy=False)
    assert list(no_greedy.sample_indices()) == [1, 2, 3]
    with pytest.raises(ValueError, match="outside"):
        no_greedy.sampling_for(0)
    with pytest.raises(ValueError, match="outside"):
        sampling.sampling_for(4)


def test_unknown_suite_lists_the_available_ones() -> None:
    with pytest.raises(UnknownSuiteError) as caught:
        load_suite("identiti")
    message = str(caught.value)
    assert "unknown suite 'identiti'" in message
    assert "format, identity, reasoning" in message


def test_missing_suite_file(tmp_path: Path) -> None:
    with pytest.raises(UnknownSuiteError, match=r"suite file .*nothing\.yaml does not exist"):
        load_suite(str(tmp_path / "nothing.yaml"))


def test_data_dir_suites_are_found_and_cannot_shadow_builtin_ones(tmp_path: Path) -> None:
    data_probes = tmp_path / "data" / "probes"
    write(data_probes, "small", SMALL)
    write(data_probes, "identity", SMALL.replace("name: small", "name: identity"))
    assert load_suite("small").version == 3
    assert suite_files()["identity"] == REPO_PROBES / "identity.yaml"
    assert len(load_suite("identity").probes) >= 40
    assert [suite.name for suite in list_suites()] == sorted(
        {"small", "identity", "reasoning", "format"} | set(path.stem for path in REPO_PROBES.glob("*.yaml"))
    )


def test_installed_suite_name_must_match_its_file(tmp_path: Path) -> None:
    path = write(tmp_path / "data" / "probes", "other", SMALL)
    with pytest.raises(ProbeSuiteError, match=r"other\.yaml: field 'name': 'small' does not match the file name"):
        load_suite("other")
    with pytest.raises(ProbeSuiteError, match="does not match"):
        list_suites()
    assert load_suite(str(path)).name == "small"  # by path, the name inside the file is what counts


def test_suite_is_hashable_and_frozen() -> None:
    suite = load_suite("format")
    assert isinstance(suite, Suite)
    assert hash(suite) == hash(load_suite("format"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        suite.name = "other"  # type: ignore[misc]
