"""The script-independent structure layer: places the names the per-language patterns could not.

Names and makers are written the same way in every script (ChatGPT, OpenAI, DeepSeek, Claude), so
whether an occurrence is a claim is decided by the structure around it, not by its language:

- **structured fields**: a key/value line or a two-cell table row whose value starts with a name
  ("**Naam:** ChatGPT", "| Developer | OpenAI |"). When every such field names one identity and
  there are two of them (or the answer speaks in the first person), the fields are a claim; a list
  or table of several identities is a comparison and stays a mention;
- **clauses**: a sentence is cut into clauses at commas, semicolons, colons and dashes; a name inside
  quotes or in a question is a mention; a negation cue next to it ("niet", "değil", "לא") negates
  it; a comparison cue right before or after it ("net als", "gibi", "على عكس") makes it compared;
  a reporting verb before it ("vraagt", "hỏi") makes it a mention; otherwise a first-person cue in
  its clause ("ik", "jestem", "أنا", "मैं") makes it a claim;
- **sentences**: an occurrence of the same identity as a claim in its sentence is a maker claim
  ("Ik ben ChatGPT, een model van OpenAI"), of the same identity as a negation is negated;
- **personas**: a capitalised word after "my name is" that is no known name ("Nazywam się Ola",
  "اسمي Nour") is a specific identity the table does not know, so ``other``.

The cue words are closed-class function words for 40 languages in ``data/cues.toml``, read all at
once (no language detection). The layer runs only when the rule layer found no claim, so it can add
recall where the patterns do not reach and cannot overturn what they decided.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from monitor.analysis._aliases import AliasHit

__all__ = ["Placement", "named_unknowns", "place_unplaced"]

_CATEGORIES = (
    "copula", "naming", "self", "object", "about", "agent", "negation", "comparison", "subordinator", "conjunction",
)
_SELF_KINDS = ("copula", "self", "object", "about")
_QUOTED = re.compile(r'"[^"\n]*"|«[^»\n]*»|„[^"\n]*"|「[^」\n]*」|『[^』\n]*』|‹[^›\n]*›')
_SENTENCE = re.compile(r"(?<=[.!?。！？।؟])\s+|\n+")
_CLAUSE = re.compile(r"[,;:·،؛，；：()\[\]]")
_QUESTION = re.compile(r"[?？؟]")
_GREEK = re.compile(r"[\u0370-\u03ff]")
# Combining vowel signs (Devanagari, Bengali, Arabic, Hebrew points) are not \w, yet belong to the word:
# "ने" must not match the cue "न".
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
    "\u0900-\u0963\u0966-\u0dff\u0e31-\u0e4e"  # Indic scripts (less the danda, a full stop), Thai
)
_WORD = re.compile(rf"[\w{_MARKS}]+")
_WORD_CHAR = re.compile(rf"[\w{_MARKS}]")
_KEY_VALUE = re.compile(
    r"^\s*(?:[-+•]|\d{1,2}[.)])?\s*(?P<key>[^\W\d_][^:=|\n]{0,28}?)\s*[:=]\s*(?P<value>\S.*)$"
)
_TABLE_RULE = re.compile(r"^\s*\|[\s:|-]+\|\s*$")
_TABLE_ROW = re.compile(r"^\s*\|\s*(?P<key>[^|\n]{1,30}?)\s*\|\s*(?P<value>[^|\n]+?)\s*\|\s*$")
_NEGATION_BEFORE = 4  # words between a negation and the name it negates ("nie mam nic wspólnego z OpenAI")
_NEGATION_AFTER = 3  # words between a name and a negation after it ("ChatGPT değilim", "OpenAI से कोई संबंध नहीं")
_COMPARISON_GAP = 2  # words between a comparison cue and its name (articles: "net als de", "όπως το")
_COPULA_GAP = 3  # words between "I am" and the name: "Jestem asystentem AI firmy Anthropic"
_OBJECT_GAP = 2  # words between "me" and the name: "Мене розробила компанія DeepSeek"
_AGENT_GAP = 3  # words between "I" and "by": "Saya dilatih oleh", "Tôi được phát triển bởi"


Placed = Literal["name", "creator", "negated", "compared"]


@dataclass(frozen=True)
class Placement:
    """The role this layer gives one name occurrence, with the span of text that decided it."""

    role: Placed
    evidence: str


class _Matcher:
    """One category's cues, found fast.

    The plain words are one case-sensitive alternation over the lower-cased text (so the regex engine
    skips ahead on first characters), with word edges checked after a match; cues with ``*``, ``re:``
    or ``=`` have patterns of their own.
    """

    def __init__(self, cues: set[str]) -> None:
        plain = sorted({c.lower() for c in cues if not c.startswith(("*", "re:", "=")) and not c.endswith("*")},
                       key=len, reverse=True)
        free = [c for c in cues if c.startswith(("*", "re:")) or c.endswith("*")]
        exact = [c[1:] for c in cues if c.startswith("=")]
        self._plain = re.compile("|".join(r"\s+".join(map(re.escape, c.split())) for c in plain)) if plain else None
        self._free = re.compile("|".join(_free_pattern(c) for c in free)) if free else None
        self._exact = re.compile("|".join(rf"(?<![\w{_MARKS}]){re.escape(c)}(?![\w{_MARKS}])" for c in exact)) \
            if exact else None

    def spans(self, text: str, folded: str) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        if self._plain is not None:
            position = 0
            while (match := self._plain.search(folded, position)) is not None:
                begin, stop = match.span()
                if begin == stop:
                    break
                if (begin and _WORD_CHAR.match(text, begin - 1)) or _WORD_CHAR.match(text, stop):
                    position = begin + 1  # inside a word: look again from the next character
                    continue
                found.append((begin, stop))
                position = stop
        if self._free is not None:
            found.extend(match.span() for match in self._free.finditer(folded))
        if self._exact is not None:
            found.extend(match.span() for match in self._exact.finditer(text))
        return sorted(found)


def _free_pattern(cue: str) -> str:
    if cue.startswith("re:"):
        return f"(?:{cue[3:]})"
    left = "" if cue.startswith("*") else rf"(?<![\w{_MARKS}])"
    right = "" if cue.endswith("*") else rf"(?![\w{_MARKS}])"
    return left + r"\s+".join(re.escape(word) for word in cue.strip("*").lower().split()) + right


@functools.lru_cache(maxsize=1)
def _matchers() -> dict[str, _Matcher]:
    raw = tomllib.loads(resources.files("monitor.analysis").joinpath("data/cues.toml").read_text(encoding="utf-8"))
    words: dict[str, set[str]] = {category: set() for category in _CATEGORIES}
    for table in raw.values():
        for category in _CATEGORIES:
            words[category].update(table.get(category, []))
    return {category: _Matcher(found) for category, found in words.items()}


class _Cues:
    """The cue words of one text, found once per category and then queried by window."""

    def __init__(self, text: str) -> None:
        self.text = text
        folded = text.lower()
        # Lower-casing keeps offsets except for a few letters ("İ"): keep those as they are.
        self._folded = folded if len(folded) == len(text) else "".join(
            low if len(low := char.lower()) == 1 else char for char in text)
        self._spans: dict[str, list[tuple[int, int]]] = {}

    def spans(self, category: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
        if category not in self._spans:
            self._spans[category] = _matchers()[category].spans(self.text, self._folded)
        stop = len(self.text) if end is None else end
        return [(a, b) for a, b in self._spans[category] if start <= a and b <= stop]

    def first(self, category: str, start: int, end: int) -> tuple[int, int] | None:
        found = self.spans(category, start, end)
        return found[0] if found else None

    def last_within(self, category: str, start: int, end: int, gap: int) -> bool:
        """Whether the last cue in ``[start, end)`` is followed by at most ``gap`` words before ``end``."""
        found = self.spans(category, start, end)
        return bool(found) and _words(self.text[found[-1][1] : end]) <= gap

    def after_within(self, category: str, start: int, end: int, gap: int) -> bool:
        """Whether the first cue in ``[start, end)`` comes after at most ``gap`` words from ``start``."""
        found = self.first(category, start, end)
        return found is not None and _words(self.text[start : found[0]]) <= gap


def _spans(pattern: re.Pattern[str], text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The pieces of ``text[start:end]`` between matches of ``pattern`` (sentences, clauses)."""
    bounds, cursor = [], start
    for match in pattern.finditer(text, start, end):
        if match.start() > cursor:
            bounds.append((cursor, match.start()))
        cursor = match.end()
    if cursor < end:
        bounds.append((cursor, end))
    return bounds


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def place_unplaced(text: str, hits: list[AliasHit], roles: list[str], *, first_person: bool) -> dict[int, Placement]:
    """New roles for the occurrences (by index) the rules left as mentions; see the module docstring.

    ``text`` is the normalised answer, ``hits`` every name occurrence in it with ``roles`` their rule
    roles; ``first_person`` is the rule layer's finding that the text speaks as "I" (English included).
    Only occurrences whose rule role is ``mention`` can be placed anew.
    """
    cues = _Cues(text)
    placed: dict[int, Placement] = {}
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    open_hits = [i for i, role in enumerate(roles) if role == "mention"]
    if not open_hits:
        return placed
    _place_fields(text, hits, open_hits, placed, cues, first_person)
    for sentence_start, sentence_end in _spans(_SENTENCE, text, 0, len(text)):
        inside = [i for i in open_hits if sentence_start <= hits[i].start < sentence_end and i not in placed]
        if not inside:
            continue
        sentence = text[sentence_start:sentence_end]
        question = bool(_QUESTION.search(_unquote(sentence, sentence_start, quoted))) or (
            ";" in sentence and bool(_GREEK.search(sentence))
        )
        clauses = _spans(_CLAUSE, text, sentence_start, sentence_end)
        decided: dict[int, Placed] = {}
        for i in inside:
            hit = hits[i]
            if any(a <= hit.start < b for a, b in quoted) or question:
                continue
            clause = next(((a, b) for a, b in clauses if a <= hit.start < b), (sentence_start, sentence_end))
            role = _clause_role(text, hit, clause, hits, cues)
            if role is not None:
                decided[i] = role
        claims = {hits[i].label for i, role in decided.items() if role == "name"}
        denied = {hits[i].label for i, role in decided.items() if role == "negated"}
        denied |= {hits[j].label for j, role in enumerate(roles) if role == "negated"
                   and sentence_start <= hits[j].start < sentence_end}
        for i in inside:
            if i in decided or any(a <= hits[i].start < b for a, b in quoted):
                continue
            if hits[i].label in denied:
                decided[i] = "negated"
            elif hits[i].label in claims:
                decided[i] = "creator"
        for i, role in decided.items():
            placed[i] = Placement(role, _evidence(text, sentence_start, sentence_end, hits[i]))
    return placed


def _unquote(sentence: str, offset: int, quoted: list[tuple[int, int]]) -> str:
    chars = list(sentence)
    for a, b in quoted:
        for k in range(max(a, offset), min(b, offset + len(sentence))):
            chars[k - offset] = " "
    return "".join(chars)


def _clause_role(text: str, hit: AliasHit, clause: tuple[int, int], hits: list[AliasHit],
                 cues: _Cues) -> Placed | None:
    start, end = clause
    # The clause around this name only: other names cut the windows a cue may reach over.
    left = max([h.end for h in hits if start <= h.end <= hit.start] or [start])
    right = min([h.start for h in hits if hit.end <= h.start <= end] or [end])
    if cues.last_within("negation", left, hit.start, _NEGATION_BEFORE):
        return "negated"
    stops = [found[0] for kind in ("conjunction", "self") if (found := cues.first(kind, hit.end, right))]
    if cues.after_within("negation", hit.end, min(stops or [right]), _NEGATION_AFTER):
        return "negated"
    if cues.last_within("comparison", left, hit.start, _COMPARISON_GAP) or cues.after_within(
        "comparison", hit.end, right, 1
    ):
        return "compared"
    if cues.spans("subordinator", start, hit.start):
        return None  # "Ik weet dat ChatGPT ...", "Je vraagt of ik ChatGPT ben": reported, not claimed
    if cues.last_within("copula", left, hit.start, _COPULA_GAP) or cues.after_within(
        "copula", hit.end, right, _COPULA_GAP
    ):
        return "name"  # "Ik ben ChatGPT", "ChatGPT vagyok", "OpenAI tarafından eğitildim"
    if cues.last_within("self", left, hit.start, 0) or cues.last_within("object", left, hit.start, _OBJECT_GAP):
        return "name"  # "Ben ChatGPT", "أنا Claude"; "Vytvořila mě společnost Anthropic", "मुझे OpenAI ने"
    agents = cues.spans("agent", left, hit.start)
    if agents and _words(text[agents[-1][1] : hit.start]) <= 1:
        lead = agents[-1][0]
        if any(cues.last_within(kind, left, lead, _AGENT_GAP) for kind in ("self", "copula", "object")):
            return "name"  # "Saya dilatih oleh Google", "Tôi được phát triển bởi Anthropic"
    return None


def _place_fields(text: str, hits: list[AliasHit], open_hits: list[int], placed: dict[int, Placement],
                  cues: _Cues, first_person: bool) -> None:
    """Key/value lines and two-cell table rows that name one identity: a structured self-description."""
    fields: list[int] = []
    labels: set[str] = set()
    position = 0
    only_fields = True  # nothing but fields, table rows and blank lines: a bare self-description card
    for line in text.split("\n"):
        line_start, position = position, position + len(line) + 1
        match = _TABLE_ROW.match(line) or _KEY_VALUE.match(line)
        if match is None:
            only_fields = only_fields and (not line.strip() or bool(_TABLE_RULE.match(line)))
            continue
        key_start, value_start = line_start + match.start("key"), line_start + match.start("value")
        in_line = [i for i, hit in enumerate(hits) if line_start <= hit.start < line_start + len(line)]
        if any(hits[i].start < value_start for i in in_line if hits[i].start >= key_start):
            continue  # a name in the key ("ChatGPT (OpenAI): good at code") is a list of models
        first = [i for i in in_line if hits[i].start - value_start <= 2]
        if first:
            fields.append(first[0])
            labels.add(hits[first[0]].label)
    if len(labels) != 1:
        return
    if len(fields) < 2:
        return  # one field is a sentence, not a self-description
    if not only_fields and not (first_person or any(cues.spans(kind) for kind in _SELF_KINDS)):
        return  # "Recommended tool:\n- Model: GPT-4\n- Provider: OpenAI" is advice, not a self-description
    for i in fields:
        if i in open_hits:
            line_start = text.rfind("\n", 0, hits[i].start) + 1
            line_end = text.find("\n", hits[i].end)
            placed[i] = Placement("name", text[line_start : line_end if line_end >= 0 else len(text)].strip())


# A name after "my name is": capitalised in cased scripts, or a Latin name in a caseless one ("اسمي Nour").
_PERSONA = re.compile(r"\s*[:—–-]?\s*(?P<name>[A-ZÀ-ÖØ-ÞĀ-ŽА-ЯЁΑ-ΩΆ-Ώ][\w'-]{1,24})")
_GENERIC_PERSONAS = {"ai", "ki", "ia", "ии", "шi", "llm", "gpt", "assistant", "asistent", "assistent", "asystent",
                     "chatbot", "bot", "none", "null", "unknown"}


def named_unknowns(text: str, hits: list[AliasHit]) -> list[str]:
    """Personas the name table does not know, after "my name is" in any language: "Nazywam się Ola"."""
    found = []
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    for cue_start, cue_end in _Cues(text).spans("naming"):
        match = _PERSONA.match(text, cue_end)
        if match is None or match.group("name").casefold() in _GENERIC_PERSONAS:
            continue
        start = match.start("name")
        if any(hit.start <= start < hit.end for hit in hits) or any(a <= start < b for a, b in quoted):
            continue  # a known name decides through its role; a quoted one is not said of oneself
        sentence_end = _SENTENCE.search(text, match.end())
        if _QUESTION.search(text, cue_start, sentence_end.start() if sentence_end else len(text)):
            continue
        line_start = max(text.rfind("\n", 0, cue_start) + 1, cue_start - 60)
        found.append(text[line_start : match.end()].strip())
    return found


def _evidence(text: str, start: int, end: int, hit: AliasHit) -> str:
    left, right = max(start, hit.start - 80), min(end, hit.end + 40)
    snippet = text[left:right].strip()
    return ("…" if left > start else "") + snippet + ("…" if right < end else "")
