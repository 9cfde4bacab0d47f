"""Validation: raw (YAML or stored JSON) -> Suite, every error naming file, probe and field."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, TypeGuard

from monitor.engines._protocol import Message
from monitor.errors import ProbeSuiteError
from monitor.probes._model import (
    _CATEGORIES,
    _DEFAULTS_KEYS,
    _ID_RE,
    _LANGUAGE_RE,
    _NAME_RE,
    _PROBE_KEYS,
    _ROLES,
    _SAMPLING_KEYS,
    _SUITE_KEYS,
    Probe,
    Suite,
    SuiteSampling,
)

__all__ = ["suite_from_content"]



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
