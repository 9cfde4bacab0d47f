"""Vendor and model names, per identity label, found in text.

The built-in table lives in ``data/aliases.toml``; a user file in the same format adds names to the
built-in labels or adds new identities. Latin names match at word edges (with an optional version
suffix: "Qwen2.5", "GPT-4o", "Llama 3.1"; long names also a case ending: "Googlem"), Cyrillic ones
allow case endings ("Гугла"), names in CJK scripts match anywhere (Chinese and Japanese have no
spaces; Korean attaches particles).
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

__all__ = ["BUILTIN_LABELS", "AliasHit", "Aliases"]

BUILTIN_LABELS = ("deepseek", "qwen", "openai", "anthropic", "google", "meta", "microsoft", "mistral")
_LATIN = re.compile(r"[A-Za-z0-9]")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_JOINER = re.compile(r"\s?(?:'s\s)?|\s?的\s?|\s?の\s?|\s?-\s?")
_VARIANTS = (
    "Sonnet|Opus|Haiku|Pro|Flash|Ultra|Nano|Mini|Max|Plus|Turbo|Large|Small|Medium|Instruct|Chat|Coder|Lite|"
    "Preview|Vision|VL|Math|Distill|Base|Omni|Next|Thinking|Reasoner|Reasoning|Instant|LLM|Core|Air|Nemo|Edge|Online"
)
_SUFFIX = rf"(?:\.\d+)*(?:[-_ ]?(?:v?\d+(?:\.\d+)*[A-Za-z]{{0,2}}|(?i:{_VARIANTS}))(?![A-Za-z]))*"


@dataclass(frozen=True)
class AliasHit:
    """One occurrence of a known name: where it is, what it says, whose it is."""

    start: int
    end: int
    text: str
    identity: str
    label: str


@dataclass(frozen=True)
class _Entry:
    name: str
    identity: str
    label: str
    exact: bool


class Aliases:
    """A compiled table of names; ``find`` returns every occurrence, longest name first at a position."""

    def __init__(self, entries: Iterable[_Entry]) -> None:
        self._entries = sorted(set(entries), key=lambda entry: (-len(entry.name), entry.name))
        # One small pattern per name, tried only when a cheap substring test passes: a single
        # alternation of hundreds of names costs milliseconds per text, this costs microseconds.
        # Each is compiled when its token first occurs (compiling them all is a third of a second).
        self._tokens = [(entry, max(re.split(r"\s+", entry.name.casefold()), key=len)) for entry in self._entries]
        self._compiled: dict[_Entry, re.Pattern[str]] = {}
        digest = hashlib.sha256(
            "\n".join(f"{e.identity}\t{e.label}\t{e.exact}\t{e.name}" for e in self._entries).encode()
        )
        self.fingerprint = digest.hexdigest()[:12]

    @classmethod
    def builtin(cls) -> Aliases:
        """The table shipped with the package (parsed once per process)."""
        return _builtin()

    @classmethod
    def load(cls, path: Path | None = None) -> Aliases:
        """The built-in table, extended by the user file at ``path`` (same TOML format) when given."""
        builtin = cls.builtin()
        if path is None:
            return builtin
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"aliases file {path} does not exist") from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"aliases file {path} is not valid UTF-8 TOML: {exc}") from None
        return cls([*builtin._entries, *_parse(raw, source=f"aliases file {path}")])

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label a name in this table can report (built-in labels first)."""
        extra = sorted({entry.label for entry in self._entries} - set(BUILTIN_LABELS) - {"other"})
        return (*BUILTIN_LABELS, "other", *extra)

    def find(self, text: str) -> list[AliasHit]:
        """Every occurrence of a name in ``text``, left to right, without overlaps (longest name wins)."""
        folded = text.casefold()
        candidates = []
        for entry, token in self._tokens:
            if token in folded:
                pattern = self._compiled.get(entry)
                if pattern is None:
                    pattern = self._compiled.setdefault(entry, re.compile(_pattern(entry)))
                for match in pattern.finditer(text):
                    candidates.append((match.start(), -(match.end() - match.start()), entry, match.group(0)))
        candidates.sort(key=lambda item: (item[0], item[1]))
        hits: list[AliasHit] = []
        for start, negative_length, entry, matched in candidates:
            if hits and start < hits[-1].end:
                continue
            hit = AliasHit(start, start - negative_length, matched, entry.identity, entry.label)
            # "Microsoft Copilot", "OpenAI's GPT-4", "Google Gemini": one name, not two.
            if hits and hits[-1].label == hit.label and _JOINER.fullmatch(text[hits[-1].end : hit.start]):
                previous = hits.pop()
                hit = AliasHit(previous.start, hit.end, text[previous.start : hit.end], hit.identity, hit.label)
            hits.append(hit)
        return hits


def _pattern(entry: _Entry) -> str:
    body = re.escape(entry.name).replace(r"\ ", r"[\s-]?")
    if not entry.exact:
        body = f"(?i:{body})"
    first, last = entry.name[0], entry.name[-1]
    left = r"(?<![A-Za-z0-9])" if _LATIN.match(first) else r"(?<![А-Яа-яЁё])" if _CYRILLIC.match(first) else ""
    if _LATIN.match(last) and len(entry.name) >= 6 and entry.name[-1].islower():
        # Case endings on a long name: Czech "Googlem", "od Anthropicu", Finnish "Googlen".
        right = rf"(?:{_SUFFIX}|[a-zà-öø-ÿā-ž]{{1,2}})(?![A-Za-zÀ-ÖØ-öø-ÿĀ-ž])"
    elif _LATIN.match(last):
        right = _SUFFIX + r"(?![A-Za-z])"
    elif _CYRILLIC.match(last):
        right = r"[а-яё]{0,3}(?![А-Яа-яЁё])"
    else:
        right = ""
    return f"{left}{body}{right}"


def _parse(raw: Mapping[str, Any], *, source: str) -> list[_Entry]:
    entries: list[_Entry] = []
    for identity, table in raw.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"{source}: [{identity}] must be a table with `names` and/or `exact` lists")
        unknown = set(table) - {"names", "exact", "label"}
        if unknown:
            raise ConfigError(f"{source}: [{identity}] has unknown key(s) {sorted(unknown)}; use names, exact, label")
        label = str(table.get("label", identity))
        if identity in BUILTIN_LABELS and label != identity:
            raise ConfigError(f"{source}: [{identity}] is a built-in label and cannot be relabelled to {label!r}")
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,29}", label):
            raise ConfigError(f"{source}: label {label!r} must be lower-case letters, digits or _ (max 30)")
        for key, exact in (("names", False), ("exact", True)):
            names = table.get(key, [])
            if not isinstance(names, list) or not all(isinstance(name, str) and name.strip() for name in names):
                raise ConfigError(f"{source}: [{identity}].{key} must be a list of non-empty strings")
            entries.extend(_Entry(name.strip(), identity, label, exact) for name in names)
    return entries


@functools.lru_cache(maxsize=1)
def _builtin() -> Aliases:
    text = resources.files("monitor.analysis").joinpath("data/aliases.toml").read_text(encoding="utf-8")
    return Aliases(_parse(tomllib.loads(text), source="the built-in aliases"))
