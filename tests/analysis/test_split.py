from __future__ import annotations

import pytest

from monitor.analysis import Split, split_reasoning


@pytest.mark.parametrize(
    ("text", "finish", "expected"),
    [
        ("<think>\nhmm\n</think>\n\nI am DeepSeek-R1.", "stop", Split("hmm", "I am DeepSeek-R1.", "present", False)),
        ("hmm, let me see\n</think>\n\n42", "stop", Split("hmm, let me see", "42", "forced_open", False)),
        ("<think>\nstill thinking about", "length", Split("still thinking about", "", "unterminated", True)),
        ("<think>\nstopped early", "stop", Split("stopped early", "", "unterminated", True)),
        ("Just an answer.", "stop", Split(None, "Just an answer.", "absent", False)),
        ("Just an answer that ran out", "length", Split(None, "Just an answer that ran out", "absent", True)),
        ("<think></think>Answer", None, Split("", "Answer", "present", False)),
        ("<THINK>a</THINK>b", None, Split("a", "b", "present", False)),
    ],
)
def test_split_shapes(text: str, finish: str | None, expected: Split) -> None:
    assert split_reasoning(text, finish_reason=finish) == expected


def test_stray_closing_tag_is_not_content() -> None:
    split = split_reasoning("<think>a</think>answer</think>", finish_reason="stop")
    assert split.answer == "answer"
    assert split.think_state == "present"


def test_server_split_reasoning_is_used() -> None:
    split = split_reasoning("I am Qwen.", finish_reason="stop", server_reasoning="the user asks who I am")
    assert split == Split("the user asks who I am", "I am Qwen.", "present", False)


def test_server_split_with_truncation() -> None:
    split = split_reasoning("", finish_reason="length", server_reasoning="long thoughts")
    assert split.truncated
    assert split.answer == ""
