"""Split an R1-style response into its reasoning and its final answer.

Reasoning models wrap their chain of thought in ``<think>...</think>``. The identity label and the
reasoning score are judged on the final answer only, so the split decides what every later step sees.
Four shapes occur in practice, and the state is recorded so that format drift (a model that stops
thinking, or never finishes) is visible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Split", "ThinkState", "split_reasoning"]

ThinkState = Literal["present", "forced_open", "unterminated", "absent"]

_OPEN = re.compile(r"<think>", re.IGNORECASE)
_CLOSE = re.compile(r"</think>", re.IGNORECASE)


@dataclass(frozen=True)
class Split:
    """A response cut into reasoning and answer.

    ``think_state`` is ``present`` (both tags), ``forced_open`` (only ``</think>``: the chat template
    already emitted ``<think>``), ``unterminated`` (a think block that never closes; there is no answer)
    or ``absent`` (no tags; the whole text is the answer). ``truncated`` is true when generation hit the
    token limit or the think block never closed.
    """

    reasoning: str | None
    answer: str
    think_state: ThinkState
    truncated: bool


def split_reasoning(
    text: str, *, finish_reason: str | None = None, server_reasoning: str | None = None
) -> Split:
    """Split ``text`` into reasoning and final answer.

    ``server_reasoning`` is the reasoning a server already separated (vLLM's reasoning parser, the
    OpenAI ``reasoning_content`` field): then ``text`` is the answer, tags left in it are still split.
    """
    hit_limit = finish_reason == "length"
    if server_reasoning is not None:
        inner = split_reasoning(text, finish_reason=finish_reason)
        reasoning = server_reasoning.strip()
        if inner.reasoning:
            reasoning = f"{reasoning}\n{inner.reasoning}".strip()
        state: ThinkState = "unterminated" if inner.think_state == "unterminated" else "present"
        return Split(reasoning=reasoning, answer=inner.answer, think_state=state, truncated=inner.truncated)

    opening = _OPEN.search(text)
    closing = _CLOSE.search(text, opening.end() if opening else 0)
    if opening and closing:
        reasoning = text[opening.end() : closing.start()]
        answer = text[: opening.start()] + text[closing.end() :]
        return Split(_clean_reasoning(reasoning), _clean_answer(answer), "present", hit_limit)
    if closing:
        reasoning = text[: closing.start()]
        return Split(_clean_reasoning(reasoning), _clean_answer(text[closing.end() :]), "forced_open", hit_limit)
    if opening:
        before = text[: opening.start()]
        return Split(_clean_reasoning(text[opening.end() :]), _clean_answer(before), "unterminated", True)
    return Split(None, _clean_answer(text), "absent", hit_limit)


def _clean_reasoning(text: str) -> str:
    return _OPEN.sub("", text).strip()


def _clean_answer(text: str) -> str:
    """The answer without stray tags (a second ``</think>`` is noise, not content)."""
    return _CLOSE.sub("", _OPEN.sub("", text)).strip()
