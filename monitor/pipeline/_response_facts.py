"""Analysing one response's text: the one rule the analysis step and ``compare`` on export files share.

Split the reasoning from the answer, detect the answer's and the prompt's language (one batched call
each), measure the features and score the answer against the gold one. Labels and embeddings are the
callers' (the database caches them; a file comparison computes them for its records only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the analysis stack loads models' code: imported by the step that needs it
    from monitor.analysis import ResponseFeatures, Score, Split, TextCache

__all__ = ["ResponseFacts", "ResponseText", "analyse_texts", "prompt_text"]


@dataclass(frozen=True)
class ResponseText:
    """One response as generated, with what is known about its question."""

    raw_text: str
    finish_reason: str | None = None
    server_reasoning: str | None = None
    prompt: str | None = None
    prompt_language: str | None = None
    expected: str | None = None


@dataclass(frozen=True)
class ResponseFacts:
    """What the text says: its split, features and score (None without a gold answer)."""

    split: Split
    features: ResponseFeatures
    score: Score | None


def prompt_text(prompt: Any) -> str | None:
    """The last user turn of a prompt given as text or as chat messages (the question itself)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        turns = [m.get("content") for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        return str(turns[-1] or "") if turns else None
    return None


def analyse_texts(items: Sequence[ResponseText], *, cache: TextCache | None = None) -> list[ResponseFacts]:
    """The facts of every response, with language detection batched over all of them (``cache``: known prose)."""
    from monitor.analysis import detect_languages, response_features, score_answer, split_reasoning

    splits = [
        split_reasoning(item.raw_text, finish_reason=item.finish_reason, server_reasoning=item.server_reasoning)
        for item in items
    ]
    languages = detect_languages([split.answer for split in splits], cache=cache)
    unknown = [i for i, item in enumerate(items) if not item.prompt_language and item.prompt]
    detected = dict(zip(unknown, detect_languages([items[i].prompt or "" for i in unknown], cache=cache), strict=True))
    facts = []
    for i, (item, split) in enumerate(zip(items, splits, strict=True)):
        features = response_features(
            item.raw_text,
            prompt=None,
            finish_reason=item.finish_reason,
            split=split,
            language=languages[i],
            prompt_language=item.prompt_language or detected.get(i),
        )
        score = score_answer(split.answer, item.expected) if item.expected is not None else None
        facts.append(ResponseFacts(split, features, score))
    return facts
