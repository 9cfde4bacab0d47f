"""Change kinds between two revisions, and whether anybody said so: pure rules, no I/O.

Kinds (DESIGN.md): ``first_seen``, ``docs_only``, ``weights_changed``, ``tokenizer_changed``,
``chat_template_changed``, ``generation_config_changed``, ``config_changed``, ``remote_code_changed``,
``pickle_weights_added``, ``history_rewritten``. A change is *silent* when it affects behaviour (weights,
tokenizer, chat template, generation config, config) and carries no version signal: no tag on the new
commit and no version such as ``v1.2`` in its title. ``docs_only`` and ``first_seen`` are never silent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.hub._manifest import (
    SMALL_FILES,
    Manifest,
    category,
    chat_template_of,
    is_pickle,
    tokenizer_config_rest,
)

__all__ = [
    "ALL_KINDS",
    "BEHAVIOUR_KINDS",
    "SECURITY_KINDS",
    "STATUS_KINDS",
    "STORED_TEXT_MAX_BYTES",
    "ChangeKinds",
    "classify_change",
    "version_signal",
]

# Canonical order, used for every ``kinds`` list the monitor writes.
ALL_KINDS = (
    "first_seen",
    "history_rewritten",
    "weights_changed",
    "tokenizer_changed",
    "chat_template_changed",
    "generation_config_changed",
    "config_changed",
    "remote_code_changed",
    "pickle_weights_added",
    "docs_only",
)
BEHAVIOUR_KINDS = frozenset(
    {"weights_changed", "tokenizer_changed", "chat_template_changed", "generation_config_changed", "config_changed"}
)
SECURITY_KINDS = frozenset({"remote_code_changed", "pickle_weights_added"})
# Not revision changes: the repository became unreachable (recorded as events of their own, see the poll).
STATUS_KINDS = ("repo_gone", "repo_gated")

# The small files' text kept with a change event (``details["file_contents"]``), so a reviewer can read the
# diff of a chat template or a generation config; larger files are named, not stored.
STORED_TEXT_MAX_BYTES = 256 * 1024

# "v1", "v1.2", "V3.1-Terminus", "version 2", "release 1.0", "revision 3": a title that names a version.
_VERSION_IN_TITLE = re.compile(r"(?i)(?<![\w.])v\d+(?:\.\d+)*\b|\b(?:version|release|revision)\s+v?\d+(?:\.\d+)*\b")


@dataclass(frozen=True)
class ChangeKinds:
    """What one change did: its kinds (canonical order), silence, and the evidence (files, signal)."""

    kinds: tuple[str, ...]
    silent: bool
    version_signal: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)

    def __contains__(self, kind: object) -> bool:
        return kind in self.kinds

    @property
    def security(self) -> bool:
        """Remote code or pickle weights appeared: a high-severity event whatever else happened."""
        return any(kind in SECURITY_KINDS for kind in self.kinds)

    def details(self) -> dict[str, Any]:
        """The evidence stored with the event (``ChangeEvent.details``)."""
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "modified": list(self.modified),
            "version_signal": self.version_signal,
            **self.notes,
        }


def version_signal(title: str, tags: Iterable[str] = ()) -> str | None:
    """How a commit announced itself, or None: a tag on it, or a version in its title."""
    tag_list = sorted(tags)
    if tag_list:
        return f"tag {tag_list[0]}"
    match = _VERSION_IN_TITLE.search(title or "")
    return f"title {match.group(0)}" if match else None


def _ordered(kinds: set[str]) -> tuple[str, ...]:
    return tuple(kind for kind in ALL_KINDS if kind in kinds)


def _json_equal(old: bytes | None, new: bytes | None) -> bool | None:
    """True/False when both sides parse as JSON, None when that cannot be said."""
    if old is None or new is None:
        return None
    try:
        return bool(json.loads(old) == json.loads(new))
    except (ValueError, UnicodeDecodeError):
        return None


def classify_change(
    old: Manifest | None,
    new: Manifest,
    old_files: Mapping[str, bytes | None] | None = None,
    new_files: Mapping[str, bytes | None] | None = None,
    *,
    title: str = "",
    tags: Iterable[str] = (),
    history_rewritten: bool = False,
) -> ChangeKinds:
    """Classify the change from ``old`` to ``new`` (``old`` None: the first sighting).

    ``old_files`` / ``new_files`` hold the contents of the small files (see ``SMALL_FILES``) that were
    read on each side; with them a chat-template edit inside tokenizer_config.json is told apart from
    a tokenizer change, and a re-formatted JSON config is not a change. Without them the rule falls
    back to blob ids and says ``tokenizer_changed`` for any tokenizer_config.json edit.
    """
    old_files = old_files or {}
    new_files = new_files or {}
    signal = version_signal(title, tags)
    if old is None:
        present = {
            "remote_code": sorted(p for p in new.paths if category(p) == "code"),
            "pickle_weights": sorted(p for p in new.paths if is_pickle(p)),
        }
        return ChangeKinds(("first_seen",), silent=False, version_signal=signal, notes=present)

    added = sorted(new.paths - old.paths)
    removed = sorted(old.paths - new.paths)
    modified = sorted(
        path
        for path in new.paths & old.paths
        if (o := old.get(path)) is not None and (n := new.get(path)) is not None and o.digest != n.digest
    )
    kinds: set[str] = {"history_rewritten"} if history_rewritten else set()
    notes: dict[str, Any] = {}
    content_changed = False
    for path in (*added, *removed, *modified):
        kind = category(path)
        if kind in ("docs", "other"):
            continue
        content_changed = True
        if kind == "weights":
            kinds.add("weights_changed")
            if is_pickle(path) and path not in removed:
                kinds.add("pickle_weights_added")
        elif kind == "tokenizer":
            kinds.add("tokenizer_changed")
        elif kind == "chat_template":
            kinds.add("chat_template_changed")
        elif kind == "code":
            if path not in removed:
                kinds.add("remote_code_changed")
        elif kind == "tokenizer_config":
            kinds.update(
                _tokenizer_config_kinds(
                    path, old_files, new_files, added=path in added, removed=path in removed, notes=notes
                )
            )
        elif kind in ("generation_config", "config"):
            same = _json_equal(old_files.get(path), new_files.get(path)) if path in modified else None
            if not same:
                kinds.add("generation_config_changed" if kind == "generation_config" else "config_changed")
    if not content_changed and (added or removed or modified):
        kinds.add("docs_only")
    silent = bool(kinds & BEHAVIOUR_KINDS) and signal is None
    contents = _file_contents([*added, *removed, *modified], set(added), set(removed), old_files, new_files)
    if contents:
        notes["file_contents"] = contents
    return ChangeKinds(
        _ordered(kinds),
        silent=silent,
        version_signal=signal,
        added=tuple(added),
        removed=tuple(removed),
        modified=tuple(modified),
        notes=notes,
    )


def _tokenizer_config_kinds(
    path: str,
    old_files: Mapping[str, bytes | None],
    new_files: Mapping[str, bytes | None],
    *,
    added: bool,
    removed: bool,
    notes: dict[str, Any],
) -> set[str]:
    """Split a tokenizer_config.json change into its chat-template part and the rest."""
    known_old = added or path in old_files
    known_new = removed or path in new_files
    if path != "tokenizer_config.json" or not (known_old and known_new):
        notes["unread"] = sorted({*notes.get("unread", []), path})
        return {"tokenizer_changed"}
    old_bytes = None if added else old_files[path]
    new_bytes = None if removed else new_files[path]
    kinds: set[str] = set()
    # chat_template.jinja is judged as a file of its own; here only the field inside the config counts.
    if chat_template_of(old_bytes, None) != chat_template_of(new_bytes, None):
        kinds.add("chat_template_changed")
    old_rest, new_rest = tokenizer_config_rest(old_bytes), tokenizer_config_rest(new_bytes)
    unparsable = (old_bytes is not None and old_rest is None) or (new_bytes is not None and new_rest is None)
    if old_rest != new_rest or (unparsable and old_bytes != new_bytes):
        kinds.add("tokenizer_changed")
    return kinds


def _text(data: bytes | None) -> tuple[str | None, str | None]:
    """(text, why not) of one side: None with a reason when it was not read or is too large to keep."""
    if data is None:
        return None, "not read"
    if len(data) > STORED_TEXT_MAX_BYTES:
        return None, f"{len(data):,} bytes, larger than the {STORED_TEXT_MAX_BYTES // 1024} KiB kept"
    return data.decode("utf-8", "replace"), None


def _file_contents(
    paths: Iterable[str],
    added: set[str],
    removed: set[str],
    old_files: Mapping[str, bytes | None],
    new_files: Mapping[str, bytes | None],
) -> dict[str, dict[str, str | None]]:
    """Both sides' text of every changed small file (SMALL_FILES), for the dashboard's side-by-side diff.

    A side that does not exist (the file was added or removed) is ``""``; a side that exists but was not
    read (a gated download, an unreadable old history) or is too large is None, with the reason in
    ``before_note`` / ``after_note``.
    """
    contents: dict[str, dict[str, str | None]] = {}
    for path in sorted(set(paths)):
        if path not in SMALL_FILES:
            continue
        before, before_note = ("", None) if path in added else _text(old_files.get(path))
        after, after_note = ("", None) if path in removed else _text(new_files.get(path))
        if before is None and after is None:
            continue
        entry: dict[str, str | None] = {"before": before, "after": after}
        if before_note:
            entry["before_note"] = before_note
        if after_note:
            entry["after_note"] = after_note
        contents[path] = entry
    return contents
