"""Probe suites: the questions a model is asked, as data, validated, with a content hash as identity.

A suite is a YAML file in the repository's ``probes/`` directory (the built-in suites) or in
``<data_dir>/probes/`` (suites a user imported). Two runs are comparable only when they ran the same
suite content, so a suite is identified by the sha256 of its canonical JSON content, not by its name.

The file format (every key except ``name``, ``version`` and ``probes`` is optional)::

    name: identity                 # must equal the file name (identity.yaml)
    version: 1                     # bump by hand when the questions change meaning
    description: Who does the model say it is?
    sampling:                      # defaults shown
      temperature: 0.6             # >= 0
      top_p: 0.95                  # 0 < top_p <= 1
      max_tokens: 2048             # >= 1
      samples: 8                   # sampled responses per probe (sample_index 1..samples), >= 0
      greedy: true                 # plus one greedy response at sample_index 0
    defaults:                      # fill a probe's category / language when it has none
      category: identity           # identity | reasoning | format
      language: en                 # ISO 639-1
    probes:
      - id: direct-who-en          # unique in the suite: letters, digits, . _ : -
        tags: [direct]
        system: You are a helpful assistant.   # optional system prompt ...
        prompt: Who are you?                   # ... and one user turn, or instead:
      - id: multiturn-creator-en
        messages:                  # optional system first, then user/assistant turns ending on user
          - {role: user, content: Hi!}
          - {role: assistant, content: Hello! How can I help?}
          - {role: user, content: Who made you?}
        expected: null             # gold answer; required for category reasoning

Validation errors name the file, the probe and the field, e.g.
``probes/identity.yaml: probe 'direct-who-en': field 'messages': must be a non-empty list``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TypeGuard, get_args

import yaml

import monitor
from monitor.config import load_settings
from monitor.engines._protocol import Message, Sampling
from monitor.errors import InputError, ProbeSuiteError, UnknownSuiteError

__all__ = [
    "IMPORT_SAMPLING",
    "REASONING_INSTRUCTION",
    "BenchmarkFormat",
    "Probe",
    "ProbeCategory",
    "Suite",
    "SuiteSampling",
    "import_benchmark",
    "list_suites",
    "load_suite",
    "suite_files",
    "suite_from_content",
    "suite_to_yaml",
    "suites_dirs",
]

ProbeCategory = Literal["identity", "reasoning", "format"]
BenchmarkFormat = Literal["math500", "gsm8k", "aime"]

#: The instruction DeepSeek uses for math evaluation; every reasoning prompt ends with it.
REASONING_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

_CATEGORIES: tuple[str, ...] = get_args(ProbeCategory)
_ROLES = ("system", "user", "assistant")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
_SUITE_KEYS = ("name", "version", "description", "sampling", "defaults", "probes")
_DEFAULTS_KEYS = ("category", "language")
_PROBE_KEYS = ("id", "category", "language", "tags", "system", "prompt", "messages", "expected")
_SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "samples", "greedy")


@dataclass(frozen=True)
class Probe:
    """One question: the chat messages sent to the model, and what is known about the right answer."""

    id: str
    category: ProbeCategory
    messages: tuple[Message, ...]
    language: str
    tags: tuple[str, ...] = ()
    expected: str | None = None

    @property
    def prompt(self) -> str:
        """The last user message: the question itself, for tables and exports."""
        return next(message.content for message in reversed(self.messages) if message.role == "user")

    def content(self) -> dict[str, Any]:
        """Canonical JSON-able form (part of the suite's content)."""
        return {
            "id": self.id,
            "category": self.category,
            "language": self.language,
            "tags": list(self.tags),
            "messages": [{"role": message.role, "content": message.content} for message in self.messages],
            "expected": self.expected,
        }


@dataclass(frozen=True)
class SuiteSampling:
    """How each probe is sampled: ``samples`` sampled responses (indices 1..samples) plus one greedy (index 0)."""

    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 2048
    samples: int = 8
    greedy: bool = True

    def sample_indices(self) -> range:
        """The sample indices a run generates for every probe: 0 when greedy, then 1..samples."""
        return range(0 if self.greedy else 1, self.samples + 1)

    def sampling_for(self, sample_index: int) -> Sampling:
        """Engine sampling for one sample index: temperature 0 (argmax) for index 0, the suite's otherwise."""
        if sample_index not in self.sample_indices():
            raise ValueError(f"sample index {sample_index} is outside {self.sample_indices()}")
        if sample_index == 0:
            return Sampling(temperature=0.0, top_p=1.0, max_tokens=self.max_tokens)
        return Sampling(temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens)


@dataclass(frozen=True)
class Suite:
    """A named, versioned set of probes with its sampling; its identity is :attr:`content_hash`."""

    name: str
    version: int
    description: str
    sampling: SuiteSampling
    probes: tuple[Probe, ...]

    def content(self) -> dict[str, Any]:
        """Canonical JSON-able content: what is stored in ``probe_suites.content`` and hashed."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "sampling": asdict(self.sampling),
            "probes": [probe.content() for probe in self.probes],
        }

    @functools.cached_property
    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON of :meth:`content`; equal hashes mean comparable runs."""
        canonical = json.dumps(
            self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def category_counts(self) -> dict[str, int]:
        """Number of probes per category, in a fixed order, omitting empty categories."""
        counts = {category: 0 for category in _CATEGORIES}
        for probe in self.probes:
            counts[probe.category] += 1
        return {category: count for category, count in counts.items() if count}


# --------------------------------------------------------------------------------------------------
# Validation: raw (YAML or stored JSON) -> Suite, every error naming file, probe and field


class _Where:
    """Where a value came from, for error messages."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, message: str, *, probe: str | None = None, field: str | None = None) -> ProbeSuiteError:
        parts = [self.source]
        if probe is not None:
            parts.append(f"probe {probe}")
        if field is not None:
            parts.append(f"field {field!r}")
        parts.append(message)
        return ProbeSuiteError(": ".join(parts))

    def check_keys(self, raw: dict[Any, Any], allowed: Iterable[str], *, probe: str | None, prefix: str = "") -> None:
        allowed = tuple(allowed)
        for key in raw:
            if key not in allowed:
                raise self.fail(
                    f"unknown key; allowed keys are {', '.join(allowed)}", probe=probe, field=f"{prefix}{key}"
                )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _parse_suite(raw: Any, source: str) -> Suite:
    where = _Where(source)
    if not isinstance(raw, dict):
        raise where.fail(f"must be a mapping with keys name, version, probes; got {type(raw).__name__}")
    where.check_keys(raw, _SUITE_KEYS, probe=None)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise where.fail(f"must be a lowercase name (letters, digits, - and _), got {name!r}", field="name")
    version = raw.get("version")
    if not _is_int(version) or version < 1:
        raise where.fail(f"must be an integer >= 1, got {version!r}", field="version")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise where.fail(f"must be a string, got {description!r}", field="description")
    sampling = _parse_sampling(raw.get("sampling", {}), where)
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        raise where.fail(f"must be a mapping of {', '.join(_DEFAULTS_KEYS)}", field="defaults")
    where.check_keys(defaults, _DEFAULTS_KEYS, probe=None, prefix="defaults.")
    items = raw.get("probes")
    if not isinstance(items, list) or not items:
        raise where.fail("must be a non-empty list of probes", field="probes")
    probes: list[Probe] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        probe = _parse_probe(item, number, defaults, where)
        if probe.id in seen:
            raise where.fail(f"duplicate id (also probe #{seen[probe.id]})", probe=repr(probe.id), field="id")
        seen[probe.id] = number
        probes.append(probe)
    return Suite(name=name, version=version, description=description, sampling=sampling, probes=tuple(probes))


def _parse_sampling(raw: Any, where: _Where) -> SuiteSampling:
    if not isinstance(raw, dict):
        raise where.fail(f"must be a mapping of {', '.join(_SAMPLING_KEYS)}", field="sampling")
    where.check_keys(raw, _SAMPLING_KEYS, probe=None, prefix="sampling.")
    default = SuiteSampling()
    temperature = raw.get("temperature", default.temperature)
    if not _is_number(temperature) or temperature < 0:
        raise where.fail(f"must be a number >= 0, got {temperature!r}", field="sampling.temperature")
    top_p = raw.get("top_p", default.top_p)
    if not _is_number(top_p) or not 0 < top_p <= 1:
        raise where.fail(f"must be a number with 0 < top_p <= 1, got {top_p!r}", field="sampling.top_p")
    max_tokens = raw.get("max_tokens", default.max_tokens)
    if not _is_int(max_tokens) or max_tokens < 1:
        raise where.fail(f"must be an integer >= 1, got {max_tokens!r}", field="sampling.max_tokens")
    greedy = raw.get("greedy", default.greedy)
    if not isinstance(greedy, bool):
        raise where.fail(f"must be true or false, got {greedy!r}", field="sampling.greedy")
    samples = raw.get("samples", default.samples)
    if not _is_int(samples) or samples < 0:
        raise where.fail(f"must be an integer >= 0, got {samples!r}", field="sampling.samples")
    if samples == 0 and not greedy:
        raise where.fail("must be >= 1 when greedy is false (no response would be generated)", field="sampling.samples")
    return SuiteSampling(
        temperature=float(temperature), top_p=float(top_p), max_tokens=max_tokens, samples=samples, greedy=greedy
    )


def _parse_probe(item: Any, number: int, defaults: dict[str, Any], where: _Where) -> Probe:
    label = f"#{number}"
    if not isinstance(item, dict):
        raise where.fail(f"must be a mapping with id, prompt or messages, ...; got {item!r}", probe=label)
    probe_id = item.get("id")
    if not isinstance(probe_id, str) or not _ID_RE.match(probe_id):
        raise where.fail(
            f"must be a string of letters, digits, '.', '_', ':' or '-' (at most 200), got {probe_id!r}",
            probe=label,
            field="id",
        )
    label = repr(probe_id)
    where.check_keys(item, _PROBE_KEYS, probe=label)

    category = item.get("category", defaults.get("category"))
    if category not in _CATEGORIES:
        raise where.fail(f"must be one of {', '.join(_CATEGORIES)}, got {category!r}", probe=label, field="category")
    language = item.get("language", defaults.get("language"))
    if not isinstance(language, str) or not _LANGUAGE_RE.match(language):
        raise where.fail(f"must be an ISO 639-1 code such as en or zh, got {language!r}", probe=label, field="language")

    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag and not tag.isspace() for tag in tags):
        raise where.fail(f"must be a list of non-empty strings, got {tags!r}", probe=label, field="tags")
    if len(set(tags)) != len(tags):
        raise where.fail(f"has a duplicate tag: {tags!r}", probe=label, field="tags")

    messages = _parse_messages(item, label, where)

    expected = item.get("expected")
    if _is_int(expected):
        expected = str(expected)
    if expected is not None and (not isinstance(expected, str) or not expected.strip()):
        raise where.fail(f"must be a non-empty string (quote numbers), got {expected!r}", probe=label, field="expected")
    if category == "reasoning" and expected is None:
        raise where.fail("is required for a reasoning probe (the gold answer)", probe=label, field="expected")

    return Probe(
        id=probe_id,
        category=category,
        messages=messages,
        language=language,
        tags=tuple(tags),
        expected=expected,
    )


def _parse_messages(item: dict[str, Any], label: str, where: _Where) -> tuple[Message, ...]:
    if "messages" in item:
        for key in ("prompt", "system"):
            if key in item:
                raise where.fail(
                    "give either 'prompt' (with an optional 'system') or 'messages', not both", probe=label, field=key
                )
        raw = item["messages"]
        if not isinstance(raw, list) or not raw:
            raise where.fail("must be a non-empty list", probe=label, field="messages")
        messages: list[Message] = []
        for index, entry in enumerate(raw):
            field = f"messages[{index}]"
            if not isinstance(entry, dict):
                raise where.fail(f"must be a mapping with role and content, got {entry!r}", probe=label, field=field)
            where.check_keys(entry, ("role", "content"), probe=label, prefix=f"{field}.")
            role = entry.get("role")
            if role not in _ROLES:
                raise where.fail(
                    f"must be one of {', '.join(_ROLES)}, got {role!r}", probe=label, field=f"{field}.role"
                )
            content = entry.get("content")
            if not isinstance(content, str) or not content.strip():
                raise where.fail(f"must be a non-empty string, got {content!r}", probe=label, field=f"{field}.content")
            messages.append(Message(role=role, content=content))
    else:
        prompt = item.get("prompt")
        if prompt is None:
            raise where.fail(
                "is missing: give 'prompt' (with an optional 'system') or 'messages'", probe=label, field="prompt"
            )
        if not isinstance(prompt, str) or not prompt.strip():
            raise where.fail(f"must be a non-empty string, got {prompt!r}", probe=label, field="prompt")
        messages = [Message(role="user", content=prompt)]
        if "system" in item:
            system = item["system"]
            if not isinstance(system, str) or not system.strip():
                raise where.fail(f"must be a non-empty string, got {system!r}", probe=label, field="system")
            messages.insert(0, Message(role="system", content=system))
    _check_turns(messages, label, where)
    return tuple(messages)


def _check_turns(messages: list[Message], label: str, where: _Where) -> None:
    """A system message only first; then user and assistant alternate, starting and ending with user."""
    start = 1 if messages[0].role == "system" else 0
    for index, message in enumerate(messages[start:], start=start):
        wanted = "user" if (index - start) % 2 == 0 else "assistant"
        if message.role != wanted:
            where_system = " (a system message may only come first)" if message.role == "system" else ""
            raise where.fail(
                f"must be {wanted!r} here, got {message.role!r}{where_system}",
                probe=label,
                field=f"messages[{index}].role",
            )
    if len(messages) == start:
        raise where.fail("has only a system message; add a user message", probe=label, field="messages")
    if messages[-1].role != "user":
        raise where.fail("must end with a user message", probe=label, field="messages")


def suite_from_content(content: dict[str, Any]) -> Suite:
    """Rebuild a suite from stored content (the inverse of :meth:`Suite.content`), validating it again."""
    return _parse_suite(content, "stored suite content")


# --------------------------------------------------------------------------------------------------
# YAML: strict loading (duplicate keys are errors, with their line) and a compact, readable dump


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable: the base class reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return dict(super().construct_mapping(node, deep=deep))


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _load_file(path: Path) -> Suite:
    source = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UnknownSuiteError(f"suite file {source} does not exist") from None
    except UnicodeDecodeError:
        raise ProbeSuiteError(f"{source}: not UTF-8 text") from None
    except OSError as exc:
        raise ProbeSuiteError(f"{source}: cannot be read: {exc.strerror}") from None
    return _parse_suite(_load_yaml(text, source), source)


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        if exc.problem and exc.context and exc.context_mark is not None and exc.context_mark is not mark:
            problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise ProbeSuiteError(f"{source}: {position}invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ProbeSuiteError(f"{source}: invalid YAML: {exc}") from None


class _Flow(list[str]):
    """A list dumped inline, ``[a, b]`` (tags)."""


class _Dumper(yaml.SafeDumper):
    """Block style, sequences indented under their key, multi-line strings as ``|`` literals, tags inline."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Flow, _represent_flow)


def suite_to_yaml(suite: Suite, *, header: str = "") -> str:
    """A suite as a compact YAML file (``prompt``/``system`` shorthand, shared ``defaults``) that loads back equal.

    ``header`` becomes a comment block at the top of the file.
    """
    document: dict[str, Any] = {
        "name": suite.name,
        "version": suite.version,
        "description": suite.description,
        "sampling": asdict(suite.sampling),
    }
    defaults: dict[str, str] = {}
    categories = {probe.category for probe in suite.probes}
    languages = {probe.language for probe in suite.probes}
    if len(categories) == 1:
        defaults["category"] = next(iter(categories))
    if len(languages) == 1:
        defaults["language"] = next(iter(languages))
    if defaults:
        document["defaults"] = defaults
    probes: list[dict[str, Any]] = []
    for probe in suite.probes:
        item: dict[str, Any] = {"id": probe.id}
        if "category" not in defaults:
            item["category"] = probe.category
        if "language" not in defaults:
            item["language"] = probe.language
        if probe.tags:
            item["tags"] = _Flow(probe.tags)
        roles = [message.role for message in probe.messages]
        if roles in (["user"], ["system", "user"]):
            if roles[0] == "system":
                item["system"] = probe.messages[0].content
            item["prompt"] = probe.messages[-1].content
        else:
            item["messages"] = [{"role": m.role, "content": m.content} for m in probe.messages]
        if probe.expected is not None:
            item["expected"] = probe.expected
        probes.append(item)
    document["probes"] = probes
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) if header else ""
    return comment + body


# --------------------------------------------------------------------------------------------------
# Finding suites


def suites_dirs() -> list[Path]:
    """Where suites are looked up, in order: the repository's ``probes/``, then ``<data_dir>/probes``."""
    return [Path(monitor.__file__).resolve().parents[1] / "probes", load_settings().data_dir / "probes"]


def suite_files() -> dict[str, Path]:
    """Installed suite names and their files; a built-in suite shadows an imported one of the same name."""
    found: dict[str, Path] = {}
    for directory in suites_dirs():
        if directory.is_dir():
            for path in sorted(directory.glob("*.yaml")):
                found.setdefault(path.stem, path)
    return found


def _load_installed(name: str, path: Path) -> Suite:
    suite = _load_file(path)
    if suite.name != name:
        raise ProbeSuiteError(
            f"{_display(path)}: field 'name': {suite.name!r} does not match the file name; rename one so they agree"
        )
    return suite


def load_suite(name_or_path: str) -> Suite:
    """Load an installed suite by name, or any suite file by path (anything with a / or ending in .yaml)."""
    if os.sep in name_or_path or "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        return _load_file(Path(name_or_path))
    files = suite_files()
    if name_or_path not in files:
        available = ", ".join(sorted(files)) or "none"
        raise UnknownSuiteError(
            f"unknown suite {name_or_path!r}; available suites: {available} (or give the path of a YAML file)"
        )
    return _load_installed(name_or_path, files[name_or_path])


def list_suites() -> list[Suite]:
    """Every installed suite, sorted by name; an invalid file raises (naming it) rather than hiding."""
    return [_load_installed(name, path) for name, path in sorted(suite_files().items())]


# --------------------------------------------------------------------------------------------------
# Importing benchmarks (JSONL with id, problem, answer)

_BENCHMARK_TITLES: dict[str, str] = {"math500": "MATH-500", "gsm8k": "GSM8K", "aime": "AIME"}

#: Imported suites sample like DeepSeek's evaluation (temperature 0.6, top_p 0.95, 32k tokens), 4 per problem.
IMPORT_SAMPLING = SuiteSampling(temperature=0.6, top_p=0.95, max_tokens=32768, samples=4, greedy=False)


def _benchmark_probe(fmt: BenchmarkFormat, record: Any, line: int, source: str, name: str) -> Probe:
    where = f"{source}: line {line}"
    if not isinstance(record, dict):
        raise InputError(f"{where}: must be a JSON object with problem and answer")
    problem = record.get("problem")
    if not isinstance(problem, str) or not problem.strip():
        raise InputError(f"{where}: field 'problem' must be a non-empty string")
    answer = record.get("answer")
    if _is_int(answer):
        answer = str(answer)
    if not isinstance(answer, str) or not answer.strip():
        raise InputError(f"{where}: field 'answer' must be a non-empty string or integer")
    answer = answer.strip()
    tags: list[str] = [fmt]
    if fmt == "aime":
        if not re.fullmatch(r"\d{1,3}", answer):
            raise InputError(f"{where}: field 'answer' must be an integer 0-999 for AIME, got {answer!r}")
        answer = str(int(answer))  # "025" -> "25": what a model writes in \boxed{}
    if fmt == "math500":
        subject, level = record.get("subject"), record.get("level")
        if isinstance(subject, str) and subject.strip():
            tags.append("subject:" + re.sub(r"\s+", "-", subject.strip().lower()))
        if _is_int(level):
            tags.append(f"level:{level}")
    raw_id = record.get("id", f"{name}-{line:05d}")
    probe_id = str(raw_id) if _is_int(raw_id) or isinstance(raw_id, str) else ""
    if not _ID_RE.match(probe_id):
        raise InputError(f"{where}: field 'id' must use letters, digits, '.', '_', ':' or '-', got {raw_id!r}")
    prompt = f"{problem.strip()}\n\n{REASONING_INSTRUCTION}"
    return Probe(
        id=probe_id,
        category="reasoning",
        messages=(Message(role="user", content=prompt),),
        language="en",
        tags=tuple(tags),
        expected=answer,
    )


def import_benchmark(
    fmt: BenchmarkFormat,
    path: Path,
    name: str,
    *,
    limit: int | None = None,
    sampling: SuiteSampling | None = None,
) -> Path:
    """Turn a benchmark JSONL (fields id, problem, answer) into a reasoning suite in ``<data_dir>/probes``.

    Each problem becomes one probe whose prompt ends with :data:`REASONING_INSTRUCTION` and whose
    expected answer is the dataset's. The file is written atomically; returns its path.
    """
    if fmt not in _BENCHMARK_TITLES:
        raise InputError(f"unknown benchmark format {fmt!r}; use one of {', '.join(_BENCHMARK_TITLES)}")
    if not _NAME_RE.match(name):
        raise InputError(f"suite name {name!r} must be lowercase letters, digits, - and _ (at most 100)")
    builtin = suites_dirs()[0] / f"{name}.yaml"
    if builtin.exists():
        raise InputError(f"{name!r} is a built-in suite; choose another --name")
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be >= 1, got {limit}")
    source = _display(Path(path))
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{source} does not exist") from None
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{source} cannot be read: {exc.strerror}") from None

    probes: list[Probe] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if limit is not None and len(probes) >= limit:
            break
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        probe = _benchmark_probe(fmt, record, number, source, name)
        if probe.id in seen:
            raise InputError(f"{source}: line {number}: id {probe.id!r} repeats line {seen[probe.id]}")
        seen[probe.id] = number
        probes.append(probe)
    if not probes:
        raise InputError(f"{source} holds no problems (expected one JSON object per line)")

    suite = Suite(
        name=name,
        version=1,
        description=f"{_BENCHMARK_TITLES[fmt]}: {len(probes)} problems imported from {Path(path).name}",
        sampling=sampling or IMPORT_SAMPLING,
        probes=tuple(probes),
    )
    text = suite_to_yaml(
        suite, header=f"Imported by `drift-monitor probes import --format {fmt}` from {Path(path).name}."
    )
    if _parse_suite(_load_yaml(text, name), name) != suite:  # the file must load back as exactly this suite
        raise InputError(f"{source}: the suite does not survive a YAML round trip; please report this")
    target_dir = suites_dirs()[1]
    target = target_dir / f"{name}.yaml"
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target_dir, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"cannot write {_display(target)}: {exc.strerror or exc}") from None
    return target
