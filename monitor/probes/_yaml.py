"""YAML: strict loading (duplicate keys are errors, with their line), a compact dump, and finding suites.

The built-in suites ship inside the package (``monitor/_bundled/probes`` in a wheel, built from the
repository's top-level ``probes/``); a checkout reads the top-level folder itself.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from monitor._resources import bundled_dir
from monitor.config import load_settings
from monitor.errors import ProbeSuiteError, UnknownSuiteError
from monitor.probes._model import Suite
from monitor.probes._parsing import _parse_suite

__all__ = ["list_suites", "load_suite", "suite_files", "suite_to_yaml", "suites_dirs"]


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
    """Where suites are looked up, in order: the built-in ``probes/`` (shipped in the package), then imported ones."""
    return [bundled_dir("probes"), load_settings().data_dir / "probes"]


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


