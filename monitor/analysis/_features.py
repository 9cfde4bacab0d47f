"""Per-response format features: lengths, thinking, truncation, and the answer's language.

Language identification uses lingua (a real detector, not a heuristic) restricted to the languages
probes are written in and models commonly switch to; a model that starts answering an English
question in Chinese is format drift worth a metric. Building the detector (its n-gram models for
every language) takes seconds, so with a ``TextCache`` prose already seen is not detected again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.analysis._split import Split, split_reasoning

if TYPE_CHECKING:
    from monitor.analysis._text_cache import TextCache

__all__ = ["LANGUAGES", "ResponseFeatures", "detect_language", "detect_languages", "detector_id", "response_features"]

#: ISO 639-1 codes the detector chooses among.
#: (Each language costs load time in high-accuracy mode, which short answers need.)
LANGUAGES = ("en", "zh", "es", "fr", "de", "ja", "ru", "ko", "pt", "it", "nl", "ar", "tr", "vi", "pl", "id")
_DETECT_CHARS = 1200
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)|\\[a-zA-Z]+|```.*?```|`[^`]*`", re.DOTALL)
_LETTER = re.compile(r"[^\W\d_]")
_detector: Any = None
_detector_lock = threading.Lock()


@dataclass(frozen=True)
class ResponseFeatures:
    """Format facts about one response (``language_matches`` is None when either language is unknown)."""

    chars: int
    answer_chars: int
    think_chars: int
    think_present: bool
    truncated: bool
    language: str | None
    prompt_language: str | None
    language_matches: bool | None


def _get_detector() -> Any:
    global _detector
    with _detector_lock:
        if _detector is None:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            codes = [getattr(IsoCode639_1, code.upper()) for code in LANGUAGES]
            _detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
        return _detector


def _clean(text: str) -> str | None:
    """The prose of a text: formulas and code removed, clipped; None when too little is left."""
    prose = _MATH.sub(" ", text[: _DETECT_CHARS * 2])[:_DETECT_CHARS]
    if len(_LETTER.findall(prose)) < 3:
        return None
    return prose


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None when it has too little prose to tell."""
    return detect_languages([text])[0]


def detector_id() -> str:
    """What a cached language is keyed by: the detector's version, mode and languages."""
    from importlib.metadata import version

    return f"lingua-{version('lingua-language-detector')}-high:{','.join(LANGUAGES)}:{_DETECT_CHARS}"


def detect_languages(texts: Sequence[str], *, cache: TextCache | None = None) -> list[str | None]:
    """``detect_language`` for many texts at once (lingua runs them in parallel); ``cache`` skips known prose."""
    distinct = list(dict.fromkeys(texts))
    cleaned = {text: _clean(text) for text in distinct}
    todo = list(dict.fromkeys(prose for prose in cleaned.values() if prose is not None))
    if not todo:
        return [None] * len(texts)
    key = detector_id() if cache is not None else ""
    by_prose = cache.languages(key, todo) if cache is not None else {}
    missing = [prose for prose in todo if prose not in by_prose]
    if missing:
        found = _get_detector().detect_languages_in_parallel_of(missing)
        detected = {
            prose: language.iso_code_639_1.name.lower() if language is not None else None
            for prose, language in zip(missing, found, strict=True)
        }
        if cache is not None:
            cache.put_languages(key, detected)
        by_prose.update(detected)
    return [by_prose[prose] if (prose := cleaned[text]) is not None else None for text in texts]


def response_features(
    text: str,
    *,
    prompt: str | None,
    finish_reason: str | None,
    split: Split | None = None,
    language: str | None = None,
    prompt_language: str | None = None,
) -> ResponseFeatures:
    """Features of one raw response; ``language``/``prompt_language`` skip detection when already known."""
    split = split or split_reasoning(text, finish_reason=finish_reason)
    if language is None and split.answer:
        language = detect_language(split.answer)
    if prompt_language is None and prompt:
        prompt_language = detect_language(prompt)
    matches = None if language is None or prompt_language is None else language == prompt_language
    return ResponseFeatures(
        chars=len(text),
        answer_chars=len(split.answer),
        think_chars=len(split.reasoning or ""),
        think_present=split.think_state in ("present", "forced_open", "unterminated"),
        truncated=split.truncated,
        language=language,
        prompt_language=prompt_language,
        language_matches=matches,
    )
