"""What changed inside a small file, side by side: the first question after a silent template alert.

Pure functions over the two texts a change event keeps (``details["file_contents"]``, written at poll
time by monitor/hub/_classify.py). A JSON config is compared pretty-printed, and the chat template
inside tokenizer_config.json is taken out as a section of its own with its real line breaks: in the
file it is one escaped string on one line, and a one-line diff tells a reviewer nothing.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Section", "sections", "side_by_side", "unified"]

_TEMPLATE_KEY = "chat_template"


@dataclass(frozen=True)
class Section:
    """One comparable text: a file, or the chat template inside tokenizer_config.json."""

    title: str
    before: str
    after: str


def _json_sections(path: str, before: str, after: str) -> list[Section] | None:
    try:
        old: Any = json.loads(before) if before else {}
        new: Any = json.loads(after) if after else {}
    except ValueError:
        return None
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    found: list[Section] = []
    old_template, new_template = old.pop(_TEMPLATE_KEY, None), new.pop(_TEMPLATE_KEY, None)
    if old_template != new_template:
        found.append(Section(f"{path} → {_TEMPLATE_KEY}", _template_text(old_template), _template_text(new_template)))
    old_rest = json.dumps(old, indent=2, ensure_ascii=False) if before else ""
    new_rest = json.dumps(new, indent=2, ensure_ascii=False) if after else ""
    if old_rest != new_rest:
        found.append(Section(path if not found else f"{path} (without the chat template)", old_rest, new_rest))
    return found


def _template_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # named templates: [{"name": ..., "template": ...}]
        parts = [f"# {item.get('name')}\n{item.get('template', '')}" for item in value if isinstance(item, dict)]
        return "\n".join(parts)
    return json.dumps(value, indent=2, ensure_ascii=False)


def sections(path: str, before: str, after: str) -> list[Section]:
    """The texts worth comparing for one changed file (only those that differ)."""
    if path.endswith(".json"):
        found = _json_sections(path, before, after)
        if found is not None:
            return found
    return [Section(path, before, after)] if before != after else []


def side_by_side(before: str, after: str, *, context: int = 3) -> pd.DataFrame:
    """Rows of a side-by-side diff: line numbers and text of each side, and what happened to the line.

    Unchanged lines further than ``context`` from a change are folded into one ``…`` row.
    """
    old, new = before.splitlines(), after.splitlines()
    rows: list[tuple[int | None, str, int | None, str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append((None, "…", None, "…", ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    (i + 1, old[i], j + 1, new[j], "") for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            for offset in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + offset, j1 + offset
                change = "changed" if i < i2 and j < j2 else ("removed" if i < i2 else "added")
                rows.append(
                    (
                        i + 1 if i < i2 else None,
                        old[i] if i < i2 else "",
                        j + 1 if j < j2 else None,
                        new[j] if j < j2 else "",
                        change,
                    )
                )
    frame = pd.DataFrame(rows, columns=["before_line", "before", "after_line", "after", "change"])
    return frame.astype({"before_line": "Int64", "after_line": "Int64"})


def unified(before: str, after: str, title: str) -> str:
    """The same change as a unified diff (to copy into a ticket)."""
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), fromfile=f"a/{title}", tofile=f"b/{title}", lineterm=""
    )
    return "\n".join(lines)
